"""The Spotify sandbox's seeded catalog: artists, albums, tracks, shows, episodes, audiobooks.

`build_catalog(seed)` is deterministic and cached per seed, so every sandbox started with the same
seed shares one read-only `CatalogData` (building it costs a few tens of milliseconds once).
Artists fall into taste clusters with a popularity curve inside each cluster; seeded users draw
their tastes from the same curves, which is what makes their tastes overlap.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 22
_ID_RE = re.compile(r"[0-9A-Za-z]{22}")
_BASE62_OF_BYTE = bytes(ord(BASE62[byte % 62]) for byte in range(256))

#: The sandbox's "now" for seeded data: every seeded `added_at` lies before it.
SEED_EPOCH = datetime(2026, 5, 1, tzinfo=UTC)

GENRES = (
    "indie rock",
    "synthpop",
    "jazz",
    "hip hop",
    "techno",
    "folk",
    "metal",
    "soul",
)
ARTISTS_PER_GENRE = 30
SHOW_COUNT = 24
EPISODES_PER_SHOW = 8
AUDIOBOOK_COUNT = 30
CHAPTERS_PER_AUDIOBOOK = 6
EDITORIAL_PLAYLIST_COUNT = 20
EDITORIAL_OWNER = "spotify"

_ADJECTIVES = (
    "Velvet", "Electric", "Silent", "Golden", "Hollow", "Neon", "Crimson", "Wild", "Paper",
    "Midnight", "Lunar", "Broken", "Silver", "Frozen", "Burning", "Gentle", "Restless", "Distant",
    "Secret", "Glass", "Violet", "Amber", "Quiet", "Savage", "Cosmic", "Faded", "Bright", "Lonely",
    "Rapid", "Sunny", "Hidden", "Northern", "Tender", "Static", "Emerald", "Sleepless",
)  # fmt: skip
_NOUNS = (
    "Lanterns", "Harbor", "Echoes", "Rivers", "Ghosts", "Satellites", "Wolves", "Mirrors",
    "Gardens", "Engines", "Tides", "Comets", "Foxes", "Cathedrals", "Horizons", "Parades",
    "Shadows", "Lights", "Islands", "Machines", "Letters", "Signals", "Summers", "Oceans",
    "Forests", "Bridges", "Dreams", "Hearts", "Stars", "Roads", "Windows", "Fires", "Anchors",
)  # fmt: skip
_FIRST_NAMES = (
    "Ada", "Milo", "Nora", "Theo", "Iris", "Jonah", "Luna", "Felix", "Maya", "Otis", "Ruby",
    "Ezra", "Cleo", "Hugo", "Vera", "Leo", "Zara", "Arlo", "Nina", "Silas", "Elif", "Kenji",
)  # fmt: skip
_LAST_NAMES = (
    "Hart", "Vale", "Moreno", "Okafor", "Lindqvist", "Sato", "Novak", "Reyes", "Quinn", "Marlowe",
    "Ivers", "Castell", "Brandt", "Kowal", "Achebe", "Fontaine", "Haldane", "Ruiz", "Sorensen",
    "Wilde",
)  # fmt: skip


def make_id(seed: int, kind: str, key: object) -> str:
    """A valid 22-character base62 Spotify ID derived from (seed, kind, key)."""
    digest = hashlib.blake2b(f"{seed}/{kind}/{key}".encode(), digest_size=ID_LENGTH).digest()
    return digest.translate(_BASE62_OF_BYTE).decode()


def is_spotify_id(text: str) -> bool:
    return _ID_RE.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class Artist:
    id: str
    name: str
    genre: str
    cluster: int
    appeal: float

    @property
    def uri(self) -> str:
        return f"spotify:artist:{self.id}"


@dataclass(frozen=True, slots=True)
class Album:
    id: str
    name: str
    artist_ids: tuple[str, ...]
    album_type: str
    release_date: str
    release_date_precision: str
    track_ids: tuple[str, ...]
    label: str
    upc: str

    @property
    def uri(self) -> str:
        return f"spotify:album:{self.id}"


@dataclass(frozen=True, slots=True)
class Track:
    id: str
    name: str
    album_id: str
    artist_ids: tuple[str, ...]
    duration_ms: int
    explicit: bool
    track_number: int
    isrc: str
    appeal: float

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.id}"


@dataclass(frozen=True, slots=True)
class Show:
    id: str
    name: str
    publisher: str
    description: str
    explicit: bool
    episode_ids: tuple[str, ...]

    @property
    def uri(self) -> str:
        return f"spotify:show:{self.id}"


@dataclass(frozen=True, slots=True)
class Episode:
    id: str
    name: str
    show_id: str
    description: str
    duration_ms: int
    release_date: str
    explicit: bool

    @property
    def uri(self) -> str:
        return f"spotify:episode:{self.id}"


@dataclass(frozen=True, slots=True)
class Audiobook:
    id: str
    name: str
    authors: tuple[str, ...]
    narrators: tuple[str, ...]
    publisher: str
    description: str
    edition: str
    chapter_ids: tuple[str, ...]

    @property
    def uri(self) -> str:
        return f"spotify:audiobook:{self.id}"


@dataclass(frozen=True, slots=True)
class Chapter:
    id: str
    name: str
    audiobook_id: str
    chapter_number: int
    duration_ms: int
    release_date: str


@dataclass(frozen=True, slots=True)
class PlaylistTemplate:
    """An editorial playlist as seeded; each sandbox turns it into its own mutable playlist."""

    id: str
    name: str
    description: str
    track_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CatalogData:
    """Everything generated from one seed. Shared between sandboxes: never mutate it."""

    seed: int
    artists: dict[str, Artist]
    albums: dict[str, Album]
    tracks: dict[str, Track]
    shows: dict[str, Show]
    episodes: dict[str, Episode]
    audiobooks: dict[str, Audiobook]
    chapters: dict[str, Chapter]
    editorial_playlists: tuple[PlaylistTemplate, ...]
    clusters: tuple[tuple[str, ...], ...]
    artist_tracks: dict[str, tuple[str, ...]]
    artist_albums: dict[str, tuple[str, ...]]
    search_text: dict[str, tuple[tuple[str, str], ...]]
    """Per search type: (lower-cased searchable text, id), most popular first."""


def _pick(rng: random.Random, words: tuple[str, ...]) -> str:
    return words[int(rng.random() * len(words))]


class _Namer:
    """Fills name patterns from the word lists; `unique` avoids repeats within one kind."""

    def __init__(self, rng: random.Random, patterns: tuple[str, ...], *, unique: bool) -> None:
        self._rng = rng
        self._patterns = patterns
        self._used: set[str] | None = set() if unique else None

    def __call__(self) -> str:
        rng = self._rng
        for _ in range(20):
            name = _pick(rng, self._patterns).format(
                adj=_pick(rng, _ADJECTIVES),
                noun=_pick(rng, _NOUNS),
                first=_pick(rng, _FIRST_NAMES),
                last=_pick(rng, _LAST_NAMES),
            )
            if self._used is None or name not in self._used:
                break
        if self._used is not None:
            self._used.add(name)
        return name


_ARTIST_PATTERNS = ("The {adj} {noun}", "{first} {last}", "{adj} {noun}", "{first} & the {noun}")
_ALBUM_PATTERNS = ("{adj} {noun}", "{noun} of {first}", "The {adj} Sessions", "{last} {noun}")
_TRACK_PATTERNS = (
    "{adj} {noun}",
    "{noun} in the Rain",
    "{adj} Heart",
    "Song for {first}",
    "{noun}",
)
_SHOW_PATTERNS = ("The {adj} Hour", "{noun} Weekly", "Talking {noun}", "{adj} Minds")
_BOOK_PATTERNS = ("The {adj} {noun}", "A History of {noun}", "{first} and the {noun}")
_PLAYLIST_PATTERNS = ("{adj} Mix", "{noun} Radio", "This Is {adj}", "{adj} {noun} Essentials")


def _person(rng: random.Random) -> str:
    return f"{_pick(rng, _FIRST_NAMES)} {_pick(rng, _LAST_NAMES)}"


def _day(rng: random.Random, first_year: int, last_year: int) -> date:
    start = date(first_year, 1, 1)
    return start + timedelta(days=rng.randrange((date(last_year, 12, 31) - start).days))


@lru_cache(maxsize=8)
def build_catalog(seed: int) -> CatalogData:
    rng = random.Random(f"encore-sandbox-catalog/{seed}")
    artists: dict[str, Artist] = {}
    clusters: list[tuple[str, ...]] = []
    artist_name = _Namer(rng, _ARTIST_PATTERNS, unique=True)
    for cluster, genre in enumerate(GENRES):
        members = []
        for rank in range(ARTISTS_PER_GENRE):
            artist_id = make_id(seed, "artist", (cluster, rank))
            name = artist_name()
            artists[artist_id] = Artist(artist_id, name, genre, cluster, 1 / (1 + rank) ** 0.8)
            members.append(artist_id)
        clusters.append(tuple(members))

    albums: dict[str, Album] = {}
    tracks: dict[str, Track] = {}
    artist_tracks: dict[str, list[str]] = {artist_id: [] for artist_id in artists}
    artist_albums: dict[str, list[str]] = {artist_id: [] for artist_id in artists}
    album_name = _Namer(rng, _ALBUM_PATTERNS, unique=False)
    track_name = _Namer(rng, _TRACK_PATTERNS, unique=False)
    for artist in artists.values():
        for number in range(rng.choice((1, 2, 2, 3))):
            album_id = make_id(seed, "album", (artist.id, number))
            single = rng.random() < 0.35
            album_type = "single" if single else "album"
            count = rng.randint(1, 2) if single else rng.randint(5, 10)
            track_ids = []
            for position in range(1, count + 1):
                track_id = make_id(seed, "track", (album_id, position))
                performers = [artist.id]
                if rng.random() < 0.1:
                    guest = _pick(rng, clusters[artist.cluster])
                    if guest != artist.id:
                        performers.append(guest)
                tracks[track_id] = Track(
                    id=track_id,
                    name=track_name(),
                    album_id=album_id,
                    artist_ids=tuple(performers),
                    duration_ms=120_000 + int(rng.random() * 300_000),
                    explicit=rng.random() < 0.15,
                    track_number=position,
                    isrc=f"SBX{seed % 100:02d}{len(tracks):07d}",
                    appeal=artist.appeal * rng.uniform(0.3, 1.0),
                )
                track_ids.append(track_id)
                for performer in performers:
                    artist_tracks[performer].append(track_id)
            precise = rng.random() < 0.85
            released = _day(rng, 1975, 2025)
            albums[album_id] = Album(
                id=album_id,
                name=track_name() if single else album_name(),
                artist_ids=(artist.id,),
                album_type=album_type,
                release_date=released.isoformat() if precise else str(released.year),
                release_date_precision="day" if precise else "year",
                track_ids=tuple(track_ids),
                label=f"{rng.choice(_NOUNS)} Records",
                upc=f"{seed % 1000:03d}{len(albums):09d}",
            )
            artist_albums[artist.id].append(album_id)

    shows: dict[str, Show] = {}
    episodes: dict[str, Episode] = {}
    show_name = _Namer(rng, _SHOW_PATTERNS, unique=True)
    for number in range(SHOW_COUNT):
        show_id = make_id(seed, "show", number)
        name = show_name()
        episode_ids = []
        first_day = _day(rng, 2023, 2025)
        for index in range(EPISODES_PER_SHOW):
            episode_id = make_id(seed, "episode", (show_id, index))
            topic = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
            episodes[episode_id] = Episode(
                id=episode_id,
                name=f"Episode {index + 1}: {topic}",
                show_id=show_id,
                description=f"{name} talks about {topic.lower()}.",
                duration_ms=rng.randint(900_000, 5_400_000),
                release_date=(first_day + timedelta(days=7 * index)).isoformat(),
                explicit=rng.random() < 0.1,
            )
            episode_ids.append(episode_id)
        shows[show_id] = Show(
            id=show_id,
            name=name,
            publisher=_person(rng),
            description=f"A weekly show about {rng.choice(_NOUNS).lower()}.",
            explicit=rng.random() < 0.1,
            episode_ids=tuple(episode_ids),
        )

    audiobooks: dict[str, Audiobook] = {}
    chapters: dict[str, Chapter] = {}
    book_name = _Namer(rng, _BOOK_PATTERNS, unique=True)
    for number in range(AUDIOBOOK_COUNT):
        book_id = make_id(seed, "audiobook", number)
        published = _day(rng, 2015, 2025).isoformat()
        chapter_ids = []
        for index in range(CHAPTERS_PER_AUDIOBOOK):
            chapter_id = make_id(seed, "chapter", (book_id, index))
            chapters[chapter_id] = Chapter(
                id=chapter_id,
                name=f"Chapter {index + 1}",
                audiobook_id=book_id,
                chapter_number=index,
                duration_ms=rng.randint(600_000, 2_400_000),
                release_date=published,
            )
            chapter_ids.append(chapter_id)
        name = book_name()
        audiobooks[book_id] = Audiobook(
            id=book_id,
            name=name,
            authors=tuple(_person(rng) for _ in range(rng.choice((1, 1, 2)))),
            narrators=(_person(rng),),
            publisher=f"{rng.choice(_ADJECTIVES)} House",
            description=f"{name}, read in full.",
            edition=rng.choice(("Unabridged", "Abridged")),
            chapter_ids=tuple(chapter_ids),
        )

    playlist_name = _Namer(rng, _PLAYLIST_PATTERNS, unique=True)
    editorial = []
    for number in range(EDITORIAL_PLAYLIST_COUNT):
        genre_tracks = [
            track_id
            for artist_id in clusters[number % len(GENRES)][:15]
            for track_id in artist_tracks[artist_id]
        ]
        picked = rng.sample(genre_tracks, min(len(genre_tracks), rng.randint(30, 60)))
        editorial.append(
            PlaylistTemplate(
                id=make_id(seed, "playlist", ("editorial", number)),
                name=playlist_name(),
                description=f"The best of {GENRES[number % len(GENRES)]}.",
                track_ids=tuple(picked),
            )
        )

    frozen_artist_tracks = {key: tuple(value) for key, value in artist_tracks.items()}
    return CatalogData(
        seed=seed,
        artists=artists,
        albums=albums,
        tracks=tracks,
        shows=shows,
        episodes=episodes,
        audiobooks=audiobooks,
        chapters=chapters,
        editorial_playlists=tuple(editorial),
        clusters=tuple(clusters),
        artist_tracks=frozen_artist_tracks,
        artist_albums={key: tuple(value) for key, value in artist_albums.items()},
        search_text=_search_text(artists, albums, tracks, shows, episodes, audiobooks),
    )


def _search_text(
    artists: dict[str, Artist],
    albums: dict[str, Album],
    tracks: dict[str, Track],
    shows: dict[str, Show],
    episodes: dict[str, Episode],
    audiobooks: dict[str, Audiobook],
) -> dict[str, tuple[tuple[str, str], ...]]:
    def names(artist_ids: tuple[str, ...]) -> str:
        return " ".join(artists[artist_id].name for artist_id in artist_ids)

    def appeal(artist_ids: tuple[str, ...]) -> float:
        return max(artists[artist_id].appeal for artist_id in artist_ids)

    by_track = sorted(tracks.values(), key=lambda track: -track.appeal)
    by_artist = sorted(artists.values(), key=lambda artist: -artist.appeal)
    by_album = sorted(albums.values(), key=lambda album: -appeal(album.artist_ids))
    return {
        "artist": tuple((artist.name.lower(), artist.id) for artist in by_artist),
        "album": tuple(
            (f"{album.name} {names(album.artist_ids)}".lower(), album.id) for album in by_album
        ),
        "track": tuple(
            (
                f"{track.name} {names(track.artist_ids)} {albums[track.album_id].name}".lower(),
                track.id,
            )
            for track in by_track
        ),
        "show": tuple(
            (f"{show.name} {show.publisher}".lower(), show.id) for show in shows.values()
        ),
        "episode": tuple(
            (f"{episode.name} {shows[episode.show_id].name}".lower(), episode.id)
            for episode in episodes.values()
        ),
        "audiobook": tuple(
            (f"{book.name} {' '.join(book.authors)}".lower(), book.id)
            for book in audiobooks.values()
        ),
    }


def search_terms(query: str) -> list[str]:
    """Lower-cased words of a search query; field filters (`artist:abba`) keep their value."""
    return [word.split(":", 1)[-1] for word in query.lower().split() if word.split(":", 1)[-1]]


def matches(index: tuple[tuple[str, str], ...], terms: list[str]) -> list[str]:
    return [item_id for text, item_id in index if all(term in text for term in terms)]

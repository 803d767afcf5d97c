"""Sandbox users and playlists: each user's tastes, library and playlists, drawn from the catalog.

A user's data is generated on first use (`SandboxUser.library`, `.top_artists`, ...), so creating
a thousand users for a benchmark costs almost nothing until they are read. Generation depends
only on the catalog seed and the user id, so it is deterministic.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox.spotify_catalog import SEED_EPOCH, CatalogData, make_id
from sandbox.spotify_history import Listening

TIME_RANGES = ("short_term", "medium_term", "long_term")
TOP_ITEMS = 50

_DISPLAY_FIRST = (
    "Alex", "Sam", "Robin", "Kim", "Charlie", "Jamie", "Morgan", "Taylor", "Jordan", "Casey",
    "Riley", "Avery", "Quinn", "Rowan", "Sasha", "Noor", "Mika", "Yuki", "Ines", "Tomas",
)  # fmt: skip
# How much of the medium-term taste each range re-draws: short term drifts most.
_RANGE_DRIFT = {"short_term": 0.45, "medium_term": 0.0, "long_term": 0.25}


@dataclass
class PlaylistEntry:
    uri: str
    added_at: datetime
    added_by: str


@dataclass
class Playlist:
    id: str
    name: str
    description: str
    owner_id: str
    public: bool
    collaborative: bool = False
    entries: list[PlaylistEntry] = field(default_factory=list)
    version: int = 1

    @property
    def uri(self) -> str:
        return f"spotify:playlist:{self.id}"

    @property
    def snapshot_id(self) -> str:
        return make_id(self.version, "snapshot", self.id)

    def add(self, uris: Sequence[str], added_by: str, at: datetime, position: int | None) -> None:
        new = [PlaylistEntry(uri, at, added_by) for uri in uris]
        index = len(self.entries) if position is None else max(0, min(position, len(self.entries)))
        self.entries[index:index] = new
        self.version += 1


@dataclass
class UserData:
    library: dict[str, datetime]
    top_artists: dict[str, list[str]]
    top_tracks: dict[str, list[str]]
    playlists: list[str]


class SandboxUser:
    """A Spotify account of the sandbox.

    `library` maps URIs (saved tracks, albums, shows, episodes, audiobooks; followed artists,
    users and playlists) to when they were added, oldest first. `top_artists` / `top_tracks`
    map each time range to 50 ids, best first. `playlists` lists the ids of the playlists the
    user owns. All four are generated on first access and may then be changed by tests.
    """

    def __init__(
        self,
        id: str,
        *,
        account_id: str,
        display_name: str,
        allow_listed: bool,
        load: Callable[[SandboxUser], UserData],
    ) -> None:
        self.id = id
        self.account_id = account_id
        self.display_name = display_name
        self.allow_listed = allow_listed
        self._load = load
        self._data: UserData | None = None
        self.listening = Listening()
        """The last plays and what plays now (see `SpotifySandbox.play`)."""

    def __repr__(self) -> str:
        return f"SandboxUser({self.id!r}, allow_listed={self.allow_listed})"

    @property
    def uri(self) -> str:
        return f"spotify:user:{self.id}"

    @property
    def data(self) -> UserData:
        if self._data is None:
            self._data = self._load(self)
        return self._data

    @property
    def library(self) -> dict[str, datetime]:
        return self.data.library

    @property
    def top_artists(self) -> dict[str, list[str]]:
        return self.data.top_artists

    @property
    def top_tracks(self) -> dict[str, list[str]]:
        return self.data.top_tracks

    @property
    def playlists(self) -> list[str]:
        return self.data.playlists


def display_name_for(seed: int, user_id: str) -> str:
    rng = random.Random(f"encore-sandbox-name/{seed}/{user_id}")
    return f"{rng.choice(_DISPLAY_FIRST)} {rng.choice('ABCDEFGHJKLMNPRSTVW')}."


def account_id_for(seed: int, user_id: str) -> str:
    return make_id(seed, "account", user_id)[:16]


def _weighted_order(items: list[str], weights: list[float], draws: list[float]) -> list[str]:
    """The first `TOP_ITEMS` of a weighted sample without replacement (Efraimidis–Spirakis)."""
    keys = [draw ** (1 / weight) for draw, weight in zip(draws, weights, strict=True)]
    best = heapq.nlargest(TOP_ITEMS, range(len(items)), key=keys.__getitem__)
    return [items[index] for index in best]


def generate_user(catalog: CatalogData, user_id: str) -> tuple[UserData, list[Playlist]]:
    """A user's tastes, library and owned playlists; deterministic in (catalog seed, user id)."""
    rng = random.Random(f"encore-sandbox-user/{catalog.seed}/{user_id}")
    chance = rng.random
    favourites = rng.sample(range(len(catalog.clusters)), 3)
    cluster_weight = dict(zip(favourites, (6.0, 3.0, 1.5), strict=True))
    artists = list(catalog.artists.values())
    artist_ids = [artist.id for artist in artists]
    artist_weights = [cluster_weight.get(artist.cluster, 0.2) * artist.appeal for artist in artists]
    base_draws = [chance() for _ in artists]

    top_artists: dict[str, list[str]] = {}
    top_tracks: dict[str, list[str]] = {}
    for time_range in TIME_RANGES:
        drift = _RANGE_DRIFT[time_range]
        draws = [chance() if chance() < drift else draw for draw in base_draws]
        ranked = _weighted_order(artist_ids, artist_weights, draws)
        top_artists[time_range] = ranked
        track_weight: dict[str, float] = {}
        for rank, artist_id in enumerate(ranked[:30]):
            factor = (1 + rank) ** -0.5
            for track_id in catalog.artist_tracks[artist_id]:
                track_weight.setdefault(track_id, catalog.tracks[track_id].appeal * factor)
        track_draws = [chance() for _ in track_weight]
        top_tracks[time_range] = _weighted_order(
            list(track_weight), list(track_weight.values()), track_draws
        )

    loved = top_artists["long_term"]
    candidates = list(dict.fromkeys(top_tracks["medium_term"] + top_tracks["long_term"]))
    candidates += [
        track_id for artist_id in loved[:20] for track_id in catalog.artist_tracks[artist_id]
    ]
    candidates = list(dict.fromkeys(candidates))
    saved_tracks = rng.sample(candidates, min(len(candidates), rng.randint(110, 130)))
    albums = list(dict.fromkeys(a for artist in loved[:25] for a in catalog.artist_albums[artist]))
    saved_albums = rng.sample(albums, min(len(albums), rng.randint(12, 24)))
    followed = rng.sample(loved, rng.randint(26, 34))
    shows = rng.sample(list(catalog.shows), 3)
    episodes = rng.sample(list(catalog.episodes), 5)
    audiobooks = rng.sample(list(catalog.audiobooks), 2)
    editorial = rng.sample(catalog.editorial_playlists, 2)

    when = SEED_EPOCH
    owned: list[Playlist] = []
    for number in range(rng.randint(2, 3)):
        playlist = Playlist(
            id=make_id(catalog.seed, "playlist", (user_id, number)),
            name=f"{('Favourites', 'Road trip', 'Late night')[number]} ({user_id})",
            description="",
            owner_id=user_id,
            public=number != 1,
        )
        picks = rng.sample(saved_tracks, min(len(saved_tracks), rng.randint(15, 40)))
        for track_id in picks:
            when -= timedelta(minutes=60 + int(chance() * 2800))
            playlist.entries.append(PlaylistEntry(f"spotify:track:{track_id}", when, user_id))
        playlist.entries.reverse()
        owned.append(playlist)

    uris = (
        [f"spotify:track:{item}" for item in saved_tracks]
        + [f"spotify:album:{item}" for item in saved_albums]
        + [f"spotify:artist:{item}" for item in followed]
        + [f"spotify:show:{item}" for item in shows]
        + [f"spotify:episode:{item}" for item in episodes]
        + [f"spotify:audiobook:{item}" for item in audiobooks]
        + [playlist.uri for playlist in owned]
        + [f"spotify:playlist:{template.id}" for template in editorial]
    )
    rng.shuffle(uris)
    newest_first = []
    when = SEED_EPOCH
    for uri in uris:
        when -= timedelta(minutes=30 + int(chance() * 4000))
        newest_first.append((uri, when))
    library = dict(reversed(newest_first))
    data = UserData(
        library=library,
        top_artists=top_artists,
        top_tracks=top_tracks,
        playlists=[playlist.id for playlist in owned],
    )
    return data, owned

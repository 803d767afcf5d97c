"""Typed views of the Web API's answers (shapes from the OpenAPI description).

Unknown fields are ignored and fields Spotify has dropped for new apps (popularity, followers,
genres, email, country, ...) are optional, so a shrinking API does not break parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SpotifyModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ExternalUrls(SpotifyModel):
    spotify: str | None = None


class Image(SpotifyModel):
    url: str
    height: int | None = None
    width: int | None = None


class Followers(SpotifyModel):
    total: int | None = None


def largest_image(images: list[Image]) -> str | None:
    if not images:
        return None
    return max(images, key=lambda image: (image.width or 0) * (image.height or 0)).url


class Item(SpotifyModel):
    """Anything with an id, a name, a URI, a Spotify link and perhaps images."""

    id: str
    name: str
    uri: str
    href: str | None = None
    external_urls: ExternalUrls = ExternalUrls()
    images: list[Image] = []

    @field_validator("images", mode="before")
    @classmethod
    def _no_images(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("external_urls", mode="before")
    @classmethod
    def _no_urls(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def image_url(self) -> str | None:
        return largest_image(self.images)


class SimpleArtist(Item):
    pass


class Artist(SimpleArtist):
    genres: list[str] | None = None
    popularity: int | None = None
    followers: Followers | None = None


class SimpleAlbum(Item):
    album_type: str | None = None
    total_tracks: int | None = None
    release_date: str | None = None
    release_date_precision: str | None = None
    artists: list[SimpleArtist] = []


class SimpleTrack(Item):
    artists: list[SimpleArtist] = []
    duration_ms: int | None = None
    explicit: bool | None = None
    disc_number: int | None = None
    track_number: int | None = None
    is_local: bool = False


class Track(SimpleTrack):
    album: SimpleAlbum | None = None
    popularity: int | None = None

    @property
    def image_url(self) -> str | None:
        return largest_image(self.images) or (self.album.image_url if self.album else None)


class SavedTrack(SpotifyModel):
    added_at: datetime
    track: Track


class PublicUser(SpotifyModel):
    id: str
    display_name: str | None = None
    uri: str | None = None
    href: str | None = None
    external_urls: ExternalUrls = ExternalUrls()
    images: list[Image] = []
    followers: Followers | None = None

    @field_validator("images", mode="before")
    @classmethod
    def _no_images(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def name(self) -> str:
        return self.display_name or self.id

    @property
    def image_url(self) -> str | None:
        return largest_image(self.images)


class PrivateUser(PublicUser):
    account_id: str | None = None
    email: str | None = None
    country: str | None = None
    product: str | None = None

    @property
    def link_id(self) -> str:
        """The stable identity to link a member to: `account_id`, or `id` where it is absent."""
        return self.account_id or self.id


class PlaylistOwner(SpotifyModel):
    id: str
    display_name: str | None = None
    uri: str | None = None
    external_urls: ExternalUrls = ExternalUrls()


class PlaylistItemsRef(SpotifyModel):
    """`{href, total}` (simplified playlists) or a full page: only the count is kept."""

    href: str | None = None
    total: int = 0


class SimplePlaylist(Item):
    description: str | None = None
    public: bool | None = None
    collaborative: bool | None = None
    owner: PlaylistOwner | None = None
    snapshot_id: str | None = None
    items: PlaylistItemsRef | None = None
    tracks: PlaylistItemsRef | None = None

    @property
    def total_items(self) -> int | None:
        """Size of the playlist, which Spotify reports under `items` or the older `tracks`."""
        ref = self.items or self.tracks
        return ref.total if ref else None


class Playlist(SimplePlaylist):
    followers: Followers | None = None


class Show(Item):
    publisher: str | None = None
    description: str | None = None
    total_episodes: int | None = None
    media_type: str | None = None
    explicit: bool | None = None


class SavedShow(SpotifyModel):
    added_at: datetime
    show: Show


class Episode(Item):
    description: str | None = None
    duration_ms: int | None = None
    release_date: str | None = None
    explicit: bool | None = None
    show: Show | None = None


class SavedEpisode(SpotifyModel):
    added_at: datetime
    episode: Episode


class Person(SpotifyModel):
    name: str


class Audiobook(Item):
    authors: list[Person] = []
    narrators: list[Person] = []
    publisher: str | None = None
    description: str | None = None
    total_chapters: int | None = None
    explicit: bool | None = None


class SavedAudiobook(SpotifyModel):
    added_at: datetime
    audiobook: Audiobook


T = TypeVar("T", bound=BaseModel)


def _drop_nulls(value: Any) -> Any:
    """Spotify pads some lists (search results, playlists) with `null` for unavailable items."""
    return [item for item in value if item is not None] if isinstance(value, list) else value


class Page(SpotifyModel, Generic[T]):
    items: list[T]
    total: int = 0
    limit: int = 0
    offset: int = 0
    next: str | None = None
    previous: str | None = None
    href: str | None = None

    @field_validator("items", mode="before")
    @classmethod
    def _items(cls, value: Any) -> Any:
        return _drop_nulls(value)


class Cursors(SpotifyModel):
    after: str | None = None
    before: str | None = None


class CursorPage(SpotifyModel, Generic[T]):
    items: list[T]
    next: str | None = None
    cursors: Cursors = Field(default_factory=Cursors)
    total: int | None = None
    limit: int | None = None
    href: str | None = None

    @field_validator("items", mode="before")
    @classmethod
    def _items(cls, value: Any) -> Any:
        return _drop_nulls(value)

    @field_validator("cursors", mode="before")
    @classmethod
    def _cursors(cls, value: Any) -> Any:
        return {} if value is None else value


class SearchResults(SpotifyModel):
    tracks: Page[Track] | None = None
    albums: Page[SimpleAlbum] | None = None
    artists: Page[Artist] | None = None
    playlists: Page[SimplePlaylist] | None = None
    shows: Page[Show] | None = None
    episodes: Page[Episode] | None = None
    audiobooks: Page[Audiobook] | None = None


class Album(SimpleAlbum):
    tracks: Page[SimpleTrack] | None = None
    label: str | None = None
    popularity: int | None = None
    genres: list[str] | None = None


class SavedAlbum(SpotifyModel):
    added_at: datetime
    album: Album


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def epoch_ms(moment: datetime) -> int:
    """Unix milliseconds, the unit of recently-played's cursors (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


class PlayContext(SpotifyModel):
    """Where a track was played from (an album, artist, playlist or show)."""

    type: str | None = None
    uri: str | None = None
    href: str | None = None


class PlayHistory(SpotifyModel):
    track: Track
    played_at: datetime
    context: PlayContext | None = None

    @property
    def played_at_ms(self) -> int:
        return epoch_ms(self.played_at)


def _track_only(value: Any) -> Any:
    """An episode (or anything not a track) playing is treated as no track."""
    if isinstance(value, dict) and value.get("type", "track") != "track":
        return None
    return value


class CurrentlyPlaying(SpotifyModel):
    item: Track | None = None
    """None while an ad, an episode or something unknown plays."""
    is_playing: bool = False
    progress_ms: int | None = None
    timestamp: int | None = None
    currently_playing_type: str | None = None
    context: PlayContext | None = None

    @field_validator("item", mode="before")
    @classmethod
    def _item(cls, value: Any) -> Any:
        return _track_only(value)


@dataclass(frozen=True)
class RecentPlays:
    plays: list[PlayHistory]
    """Plays after the cursor asked for, oldest first, each once."""
    cursor_ms: int | None
    """Where the next poll starts: the newest `played_at` seen (Unix ms), else the cursor asked
    for."""

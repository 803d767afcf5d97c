"""JSON shapes of the Web API (as in the OpenAPI description) for the sandbox's objects.

Fields the description marks deprecated are left out unless it still requires them (albums keep
`genres`, `label`, `popularity`, `available_markets`), as Development-Mode apps see them in 2026.
Catalog objects are rendered once per sandbox and reused; playlists and users change and are
rendered on every request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sandbox.spotify_catalog import CatalogData
from sandbox.spotify_users import Playlist, PlaylistEntry, SandboxUser

Json = dict[str, Any]

IMAGE_SIZES = (300, 64)
MARKETS = ["DE", "GB", "JP", "SE", "US"]
EMBEDDED_PAGE = 100


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def paging(
    href: str,
    items: Sequence[Any],
    total: int,
    limit: int,
    offset: int,
    page_url: Callable[[int], str] | None = None,
) -> Json:
    """A PagingObject; `page_url(offset)` builds the `next`/`previous` links (None: no links)."""
    has_next = offset + limit < total
    return {
        "href": href,
        "items": list(items),
        "limit": limit,
        "next": page_url(offset + limit) if page_url and has_next else None,
        "offset": offset,
        "previous": page_url(max(0, offset - limit)) if page_url and offset > 0 else None,
        "total": total,
    }


class Renderer:
    def __init__(
        self,
        catalog: CatalogData,
        *,
        base_url: str,
        users: Mapping[str, SandboxUser],
        playlists: Mapping[str, Playlist],
    ) -> None:
        self.catalog = catalog
        self.base_url = base_url
        self.api_url = f"{base_url}/v1"
        self._users = users
        self._playlists = playlists
        self._cache: dict[tuple[str, str], Json] = {}

    def _cached(self, kind: str, item_id: str, build: Callable[[str], Json]) -> Json:
        key = (kind, item_id)
        if key not in self._cache:
            self._cache[key] = build(item_id)
        return self._cache[key]

    def _identity(self, kind: str, item_id: str, collection: str | None = None) -> Json:
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/{kind}/{item_id}"},
            "href": f"{self.api_url}/{collection or kind + 's'}/{item_id}",
            "id": item_id,
            "type": kind,
            "uri": f"spotify:{kind}:{item_id}",
        }

    def images(self, item_id: str) -> list[Json]:
        return [
            {
                "url": f"{self.base_url}/images/{item_id}.png?size={size}",
                "height": size,
                "width": size,
            }
            for size in IMAGE_SIZES
        ]

    # Music

    def simple_artist(self, artist_id: str) -> Json:
        return self._cached("simple_artist", artist_id, self._simple_artist)

    def _simple_artist(self, artist_id: str) -> Json:
        return {**self._identity("artist", artist_id), "name": self.catalog.artists[artist_id].name}

    def artist(self, artist_id: str) -> Json:
        return self._cached(
            "artist",
            artist_id,
            lambda item_id: {**self.simple_artist(item_id), "images": self.images(item_id)},
        )

    def simple_album(self, album_id: str) -> Json:
        return self._cached("simple_album", album_id, self._simple_album)

    def _simple_album(self, album_id: str) -> Json:
        album = self.catalog.albums[album_id]
        return {
            **self._identity("album", album_id),
            "album_type": album.album_type,
            "total_tracks": len(album.track_ids),
            "available_markets": MARKETS,
            "images": self.images(album_id),
            "name": album.name,
            "release_date": album.release_date,
            "release_date_precision": album.release_date_precision,
            "artists": [self.simple_artist(artist_id) for artist_id in album.artist_ids],
        }

    def album(self, album_id: str) -> Json:
        return self._cached("album", album_id, self._album)

    def _album(self, album_id: str) -> Json:
        album = self.catalog.albums[album_id]
        lead = self.catalog.artists[album.artist_ids[0]]
        tracks = [self.simple_track(track_id) for track_id in album.track_ids]
        return {
            **self.simple_album(album_id),
            "tracks": paging(
                f"{self.api_url}/albums/{album_id}/tracks?offset=0&limit=50",
                tracks,
                len(tracks),
                50,
                0,
            ),
            "copyrights": [{"text": f"© {album.release_date[:4]} {album.label}", "type": "C"}],
            "external_ids": {"upc": album.upc},
            "genres": [],
            "label": album.label,
            "popularity": round(100 * lead.appeal**0.3),
        }

    def simple_track(self, track_id: str) -> Json:
        return self._cached("simple_track", track_id, self._simple_track)

    def _simple_track(self, track_id: str) -> Json:
        track = self.catalog.tracks[track_id]
        return {
            **self._identity("track", track_id),
            "artists": [self.simple_artist(artist_id) for artist_id in track.artist_ids],
            "disc_number": 1,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            "is_local": False,
            "is_playable": True,
            "name": track.name,
            "track_number": track.track_number,
        }

    def track(self, track_id: str) -> Json:
        return self._cached(
            "track",
            track_id,
            lambda item_id: {
                **self.simple_track(item_id),
                "album": self.simple_album(self.catalog.tracks[item_id].album_id),
            },
        )

    # Podcasts and audiobooks

    def simple_show(self, show_id: str) -> Json:
        return self._cached("simple_show", show_id, self._simple_show)

    def _simple_show(self, show_id: str) -> Json:
        show = self.catalog.shows[show_id]
        return {
            **self._identity("show", show_id),
            "available_markets": MARKETS,
            "copyrights": [],
            "description": show.description,
            "html_description": f"<p>{show.description}</p>",
            "explicit": show.explicit,
            "images": self.images(show_id),
            "is_externally_hosted": False,
            "languages": ["en"],
            "media_type": "audio",
            "name": show.name,
            "publisher": show.publisher,
            "total_episodes": len(show.episode_ids),
        }

    def show(self, show_id: str) -> Json:
        return self._cached("show", show_id, self._show)

    def _show(self, show_id: str) -> Json:
        episodes = [self.simple_episode(item) for item in self.catalog.shows[show_id].episode_ids]
        href = f"{self.api_url}/shows/{show_id}/episodes?offset=0&limit=50"
        return {
            **self.simple_show(show_id),
            "episodes": paging(href, episodes, len(episodes), 50, 0),
        }

    def simple_episode(self, episode_id: str) -> Json:
        return self._cached("simple_episode", episode_id, self._simple_episode)

    def _simple_episode(self, episode_id: str) -> Json:
        episode = self.catalog.episodes[episode_id]
        return {
            **self._identity("episode", episode_id),
            "audio_preview_url": None,
            "description": episode.description,
            "html_description": f"<p>{episode.description}</p>",
            "duration_ms": episode.duration_ms,
            "explicit": episode.explicit,
            "images": self.images(episode.show_id),
            "is_externally_hosted": False,
            "is_playable": True,
            "languages": ["en"],
            "name": episode.name,
            "release_date": episode.release_date,
            "release_date_precision": "day",
        }

    def episode(self, episode_id: str) -> Json:
        return self._cached(
            "episode",
            episode_id,
            lambda item_id: {
                **self.simple_episode(item_id),
                "show": self.simple_show(self.catalog.episodes[item_id].show_id),
            },
        )

    def simple_audiobook(self, audiobook_id: str) -> Json:
        return self._cached("simple_audiobook", audiobook_id, self._simple_audiobook)

    def _simple_audiobook(self, audiobook_id: str) -> Json:
        book = self.catalog.audiobooks[audiobook_id]
        return {
            **self._identity("audiobook", audiobook_id),
            "authors": [{"name": name} for name in book.authors],
            "available_markets": MARKETS,
            "copyrights": [],
            "description": book.description,
            "html_description": f"<p>{book.description}</p>",
            "edition": book.edition,
            "explicit": False,
            "images": self.images(audiobook_id),
            "languages": ["en"],
            "media_type": "audio",
            "name": book.name,
            "narrators": [{"name": name} for name in book.narrators],
            "publisher": book.publisher,
            "total_chapters": len(book.chapter_ids),
        }

    def audiobook(self, audiobook_id: str) -> Json:
        return self._cached("audiobook", audiobook_id, self._audiobook)

    def _audiobook(self, audiobook_id: str) -> Json:
        chapters = [
            self._chapter(item) for item in self.catalog.audiobooks[audiobook_id].chapter_ids
        ]
        href = f"{self.api_url}/audiobooks/{audiobook_id}/chapters?offset=0&limit=50"
        return {
            **self.simple_audiobook(audiobook_id),
            "chapters": paging(href, chapters, len(chapters), 50, 0),
        }

    def _chapter(self, chapter_id: str) -> Json:
        chapter = self.catalog.chapters[chapter_id]
        # The description types chapters as "episode" (and so do their URIs).
        return {
            **self._identity("episode", chapter_id, "chapters"),
            "audio_preview_url": None,
            "chapter_number": chapter.chapter_number,
            "description": chapter.name,
            "html_description": f"<p>{chapter.name}</p>",
            "duration_ms": chapter.duration_ms,
            "explicit": False,
            "images": self.images(chapter.audiobook_id),
            "is_playable": True,
            "languages": ["en"],
            "name": chapter.name,
            "release_date": chapter.release_date,
            "release_date_precision": "day",
        }

    # Users and playlists

    def display_name(self, user_id: str) -> str:
        user = self._users.get(user_id)
        return user.display_name if user else user_id.capitalize()

    def user_ref(self, user_id: str) -> Json:
        return self._identity("user", user_id)

    def private_user(self, user: SandboxUser) -> Json:
        return {
            **self._identity("user", user.id),
            "account_id": user.account_id,
            "display_name": user.display_name,
            "images": self.images(user.account_id)[:1],
        }

    def simple_playlist(self, playlist: Playlist) -> Json:
        return {
            **self._playlist_head(playlist),
            "description": playlist.description,
            "items": {
                "href": f"{self.api_url}/playlists/{playlist.id}/items",
                "total": len(playlist.entries),
            },
        }

    def playlist(self, playlist: Playlist, viewer_id: str | None) -> Json:
        """The full playlist; its items only for the owner, as Spotify does for new apps."""
        rendered = {**self._playlist_head(playlist), "description": playlist.description or None}
        if viewer_id == playlist.owner_id:
            items = [self.playlist_item(entry) for entry in playlist.entries[:EMBEDDED_PAGE]]
            href = f"{self.api_url}/playlists/{playlist.id}/items?offset=0&limit={EMBEDDED_PAGE}"
            rendered["items"] = paging(href, items, len(playlist.entries), EMBEDDED_PAGE, 0)
        return rendered

    def _playlist_head(self, playlist: Playlist) -> Json:
        return {
            **self._identity("playlist", playlist.id),
            "collaborative": playlist.collaborative,
            "images": self.images(playlist.id) if playlist.entries else [],
            "name": playlist.name,
            "owner": {
                **self.user_ref(playlist.owner_id),
                "display_name": self.display_name(playlist.owner_id),
            },
            "public": playlist.public,
            "snapshot_id": playlist.snapshot_id,
        }

    def playlist_item(self, entry: PlaylistEntry) -> Json:
        _, kind, item_id = entry.uri.split(":")
        item = self.track(item_id) if kind == "track" else self.episode(item_id)
        return {
            "added_at": timestamp(entry.added_at),
            "added_by": self.user_ref(entry.added_by),
            "is_local": False,
            "item": item,
        }

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.spotify.models import (
    Album,
    Artist,
    Audiobook,
    CursorPage,
    Episode,
    Item,
    Page,
    Playlist,
    PrivateUser,
    SavedAlbum,
    SavedAudiobook,
    SavedEpisode,
    SavedShow,
    SavedTrack,
    SearchResults,
    Show,
    SimplePlaylist,
    Track,
)
from tests.helpers import spotify_samples as samples


def test_track_with_album_and_artists() -> None:
    track = Track.model_validate(samples.track(3))

    assert track.id == samples.sid(3, "tr")
    assert track.uri == f"spotify:track:{track.id}"
    assert track.external_urls.spotify == f"https://open.spotify.com/track/{track.id}"
    assert track.album is not None and track.album.name == "Album 3"
    assert [a.name for a in track.artists] == ["Artist 3"]
    assert track.popularity is None
    assert track.image_url == "https://i.scdn.co/image/640"


def test_artist_without_dropped_fields_and_with_them() -> None:
    lean = Artist.model_validate(samples.artist(1))
    full = Artist.model_validate(
        {
            **samples.artist(1),
            "popularity": 70,
            "genres": ["prog rock"],
            "followers": {"href": None, "total": 5},
        }
    )

    assert (lean.popularity, lean.genres, lean.followers) == (None, None, None)
    assert (full.popularity, full.genres) == (70, ["prog rock"])
    assert full.followers is not None and full.followers.total == 5


def test_image_url_is_the_largest_image_or_none() -> None:
    small_first = {
        **samples.artist(1),
        "images": [
            {"url": "small", "height": 64, "width": 64},
            {"url": "big", "height": 640, "width": 640},
            {"url": "unknown", "height": None, "width": None},
        ],
    }
    assert Artist.model_validate(small_first).image_url == "big"
    assert Artist.model_validate({**samples.artist(1), "images": []}).image_url is None
    assert Artist.model_validate({**samples.artist(1), "images": None}).image_url is None


def test_saved_items() -> None:
    added = "2024-05-01T10:00:00Z"
    when = datetime(2024, 5, 1, 10, tzinfo=UTC)

    assert (
        SavedTrack.model_validate({"added_at": added, "track": samples.track(1)}).added_at == when
    )
    album = SavedAlbum.model_validate({"added_at": added, "album": samples.album(1)}).album
    assert isinstance(album, Album)
    assert album.tracks is not None and album.tracks.items[0].name == "Track 1"
    assert SavedShow.model_validate({"added_at": added, "show": samples.show(1)}).show.publisher
    episode = SavedEpisode.model_validate({"added_at": added, "episode": samples.episode(1)})
    assert episode.episode.show is not None and episode.episode.show.name == "Show 1"
    book = SavedAudiobook.model_validate({"added_at": added, "audiobook": samples.audiobook(1)})
    assert [a.name for a in book.audiobook.authors] == ["An Author"]


def test_playlist_size_under_items_or_tracks() -> None:
    new_style = SimplePlaylist.model_validate(samples.simple_playlist(4, size_field="items"))
    old_style = SimplePlaylist.model_validate(samples.simple_playlist(5, size_field="tracks"))
    no_size = {k: v for k, v in samples.simple_playlist(6).items() if k != "items"}

    assert new_style.total_items == 4
    assert old_style.total_items == 5
    assert SimplePlaylist.model_validate(no_size).total_items is None
    assert new_style.owner is not None and new_style.owner.display_name == "Owner"


def test_full_playlist_with_a_page_of_items() -> None:
    body = {
        **samples.simple_playlist(1),
        "items": samples.page([{"added_at": None, "track": samples.track(1)}], total=31),
        "followers": {"href": None, "total": 2},
    }

    playlist = Playlist.model_validate(body)

    assert playlist.total_items == 31
    assert playlist.image_url == "https://i.scdn.co/image/300"


def test_private_user_links_by_account_id_then_id() -> None:
    with_account = PrivateUser.model_validate(samples.private_user("jane", "acc-jane"))
    without = PrivateUser.model_validate(samples.private_user("jane", None))

    assert with_account.link_id == "acc-jane"
    assert without.link_id == "jane"
    assert with_account.name == "User jane"
    assert (with_account.email, with_account.country) == (None, None)


def test_pages_ignore_null_items_and_extra_fields() -> None:
    body = samples.page([samples.artist(1), None, samples.artist(2)], total=3)

    page = Page[Artist].model_validate({**body, "something_new": True})

    assert [a.name for a in page.items] == ["Artist 1", "Artist 2"]
    assert (page.total, page.limit, page.offset, page.next) == (3, 50, 0, None)


def test_cursor_pages() -> None:
    page = CursorPage[Artist].model_validate(
        samples.cursor_page([samples.artist(1)], after="cursor-1")
    )
    last = CursorPage[Artist].model_validate({"items": [], "next": None, "cursors": None})

    assert page.cursors.after == "cursor-1"
    assert page.next is not None
    assert page.total == 100
    assert last.cursors.after is None


def test_search_results_with_some_types() -> None:
    results = SearchResults.model_validate(
        {
            "artists": samples.page([samples.artist(1)]),
            "playlists": samples.page([None, samples.simple_playlist(1)]),
            "shows": samples.page([samples.show(1)]),
            "episodes": samples.page([samples.episode(1)]),
            "audiobooks": samples.page([samples.audiobook(1)]),
        }
    )

    assert results.tracks is None and results.albums is None
    assert results.playlists is not None and len(results.playlists.items) == 1
    assert results.shows is not None and isinstance(results.shows.items[0], Show)
    assert results.episodes is not None and isinstance(results.episodes.items[0], Episode)
    assert results.audiobooks is not None and isinstance(results.audiobooks.items[0], Audiobook)


def test_every_item_model_has_the_common_fields() -> None:
    cases: list[tuple[type[Item], dict[str, Any]]] = [
        (Artist, samples.artist(1)),
        (Album, samples.album(1)),
        (Track, samples.track(1)),
        (Show, samples.show(1)),
        (Episode, samples.episode(1)),
        (Audiobook, samples.audiobook(1)),
        (Playlist, samples.simple_playlist(1)),
    ]
    for model, body in cases:
        item = model.model_validate(body)
        assert (item.id, item.name, item.uri) == (body["id"], body["name"], body["uri"])
        assert item.external_urls.spotify == body["external_urls"]["spotify"]
        assert item.image_url is not None

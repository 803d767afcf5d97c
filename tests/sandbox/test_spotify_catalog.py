from sandbox.spotify_catalog import (
    BASE62,
    build_catalog,
    is_spotify_id,
    make_id,
    matches,
    search_terms,
)


def test_ids_are_22_base62_characters_and_depend_on_every_input() -> None:
    ids = {make_id(seed, kind, key) for seed in (1, 2) for kind in ("a", "b") for key in (1, 2)}

    assert len(ids) == 8
    assert all(len(item) == 22 and set(item) <= set(BASE62) for item in ids)
    assert make_id(1, "track", 5) == make_id(1, "track", 5)


def test_is_spotify_id() -> None:
    assert is_spotify_id(make_id(1, "track", 1))
    assert not is_spotify_id("too-short")
    assert not is_spotify_id("4iV5W9uYEdYUVa79Axb7R!")


def test_the_same_seed_builds_the_same_catalog() -> None:
    first, again = build_catalog(1), build_catalog.__wrapped__(1)

    assert list(first.tracks.values()) == list(again.tracks.values())
    assert list(first.artists.values()) == list(again.artists.values())
    assert first.editorial_playlists == again.editorial_playlists
    assert set(build_catalog(2).tracks).isdisjoint(first.tracks)


def test_catalog_has_a_few_hundred_of_each_and_consistent_references() -> None:
    catalog = build_catalog(1)

    assert len(catalog.artists) >= 200
    assert 300 <= len(catalog.albums) <= len(catalog.tracks)
    assert catalog.shows and catalog.episodes and catalog.audiobooks and catalog.chapters
    every_id = [
        *catalog.artists,
        *catalog.albums,
        *catalog.tracks,
        *catalog.shows,
        *catalog.episodes,
        *catalog.audiobooks,
    ]
    assert all(is_spotify_id(item) for item in every_id)
    for album in catalog.albums.values():
        assert all(catalog.tracks[track].album_id == album.id for track in album.track_ids)
    for track in catalog.tracks.values():
        assert all(track.id in catalog.artist_tracks[artist] for artist in track.artist_ids)
    assert all(book.authors and book.narrators for book in catalog.audiobooks.values())


def test_search_terms_keep_field_filter_values() -> None:
    assert search_terms("  Heart artist:Nora ") == ["heart", "nora"]
    assert search_terms("album:") == []


def test_matches_needs_every_term_and_keeps_index_order() -> None:
    index = (("golden heart nora", "a"), ("heart of glass", "b"), ("golden hour", "c"))

    assert matches(index, ["heart"]) == ["a", "b"]
    assert matches(index, ["golden", "heart"]) == ["a"]
    assert matches(index, []) == ["a", "b", "c"]

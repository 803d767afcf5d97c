from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.spotify.ids import (
    InvalidSpotifyRef,
    SpotifyKind,
    SpotifyRef,
    looks_like_spotify_ref,
    parse_spotify_ref,
)

TRACK_ID = "4iV5W9uYEdYUVa79Axb7Rh"
ALL = frozenset(SpotifyKind)
TRACK_OR_ALBUM = (SpotifyKind.TRACK, SpotifyKind.ALBUM)

base62_ids = st.text(
    alphabet="0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    min_size=22,
    max_size=22,
)
user_ids = st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz._-", min_size=1, max_size=40)
refs = st.one_of(
    st.builds(
        SpotifyRef,
        st.sampled_from([k for k in SpotifyKind if k is not SpotifyKind.USER]),
        base62_ids,
    ),
    st.builds(SpotifyRef, st.just(SpotifyKind.USER), user_ids),
)


@pytest.mark.parametrize(
    "text",
    [
        f"https://open.spotify.com/track/{TRACK_ID}",
        f"https://open.spotify.com/track/{TRACK_ID}?si=abc123&context=x",
        f"https://open.spotify.com/track/{TRACK_ID}/",
        f"https://open.spotify.com/intl-de/track/{TRACK_ID}",
        f"https://open.spotify.com/intl-pt_br/track/{TRACK_ID}?si=1",
        f"http://open.spotify.com/embed/track/{TRACK_ID}",
        f"open.spotify.com/track/{TRACK_ID}",
        f"  <https://open.spotify.com/track/{TRACK_ID}>  ",
        f"spotify:track:{TRACK_ID}",
        TRACK_ID,
    ],
)
def test_track_forms(text: str) -> None:
    assert parse_spotify_ref(text, TRACK_OR_ALBUM, SpotifyKind.TRACK) == SpotifyRef(
        SpotifyKind.TRACK, TRACK_ID
    )


def test_bare_ids_take_the_given_kind() -> None:
    ref = parse_spotify_ref(TRACK_ID, [SpotifyKind.ARTIST], bare_id_kind=SpotifyKind.ARTIST)
    assert ref.kind is SpotifyKind.ARTIST


def test_user_links_and_uris_accept_non_base62_ids() -> None:
    assert (
        parse_spotify_ref("https://open.spotify.com/user/jane.doe-1?si=x", ALL).id == "jane.doe-1"
    )
    assert parse_spotify_ref("spotify:user:1186927391", ALL) == SpotifyRef(
        SpotifyKind.USER, "1186927391"
    )


def test_legacy_user_playlist_links() -> None:
    playlist = parse_spotify_ref(f"https://open.spotify.com/user/bob/playlist/{TRACK_ID}", ALL)
    assert playlist == SpotifyRef(SpotifyKind.PLAYLIST, TRACK_ID)
    assert parse_spotify_ref(f"spotify:user:bob:playlist:{TRACK_ID}", ALL) == playlist


def test_uri_and_url() -> None:
    ref = SpotifyRef(SpotifyKind.EPISODE, TRACK_ID)
    assert ref.uri == f"spotify:episode:{TRACK_ID}"
    assert ref.url == f"https://open.spotify.com/episode/{TRACK_ID}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "never gonna give you up",
        TRACK_ID,  # no bare_id_kind
        TRACK_ID[:-1],
        f"https://example.com/track/{TRACK_ID}",
        f"https://open.spotify.com/track/{TRACK_ID}x",
        f"https://open.spotify.com/podcast/{TRACK_ID}",
        f"https://open.spotify.com/track/{TRACK_ID}/extra",
        f"spotify:track:{TRACK_ID}:more",
        "spotify:track:",
        "https://[broken",
    ],
)
def test_rejects_what_is_not_a_reference(text: str) -> None:
    with pytest.raises(InvalidSpotifyRef, match="a link or a spotify: URI"):
        parse_spotify_ref(text, TRACK_OR_ALBUM)


def test_the_message_names_what_was_expected() -> None:
    with pytest.raises(InvalidSpotifyRef) as caught:
        parse_spotify_ref("hello", TRACK_OR_ALBUM, SpotifyKind.TRACK)
    assert (
        str(caught.value) == "Expected a Spotify track or album: a link, a spotify: URI or an ID."
    )


def test_a_kind_not_allowed_is_named() -> None:
    with pytest.raises(InvalidSpotifyRef) as caught:
        parse_spotify_ref(f"spotify:playlist:{TRACK_ID}", [SpotifyKind.ARTIST, SpotifyKind.USER])
    assert str(caught.value) == "That is a Spotify playlist; expected a Spotify artist or user."


@given(refs)
def test_uri_round_trip(ref: SpotifyRef) -> None:
    assert parse_spotify_ref(ref.uri, ALL) == ref


@given(refs, st.sampled_from(["", "/", "?si=abc", "/?si=a&b=c"]), st.sampled_from(["", "intl-fr/"]))
def test_url_round_trip(ref: SpotifyRef, suffix: str, locale: str) -> None:
    url = ref.url.replace("spotify.com/", f"spotify.com/{locale}") + suffix
    assert parse_spotify_ref(url, ALL) == ref
    assert looks_like_spotify_ref(url)


@given(base62_ids, st.sampled_from(sorted(SpotifyKind)))
def test_bare_id_round_trip(item_id: str, kind: SpotifyKind) -> None:
    assert parse_spotify_ref(item_id, ALL, bare_id_kind=kind) == SpotifyRef(kind, item_id)


@given(st.text(max_size=60).filter(lambda t: ":" not in t and "/" not in t and "." not in t))
def test_free_text_is_never_parsed_without_a_bare_kind(text: str) -> None:
    with pytest.raises(InvalidSpotifyRef):
        parse_spotify_ref(text, ALL)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"https://open.spotify.com/album/{TRACK_ID}", True),
        ("https://spotify.link/AbCdEf", True),
        (f"spotify:artist:{TRACK_ID}", True),
        (TRACK_ID, True),
        ("daft punk", False),
        ("https://example.com/x", False),
        ("AC.DC", False),
        ("", False),
    ],
)
def test_looks_like_spotify_ref(text: str, expected: bool) -> None:
    assert looks_like_spotify_ref(text) is expected

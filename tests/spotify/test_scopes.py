from __future__ import annotations

from bot.spotify.oauth import SCOPES
from bot.spotify.scopes import (
    ENDPOINT_SCOPES,
    LISTENING_SCOPES,
    has_listening_scopes,
    library_needs,
    missing_scopes,
    playlist_create_needs,
)


def test_every_needed_scope_is_requested() -> None:
    needed = {scope for needs in ENDPOINT_SCOPES.values() for need in needs for scope in need}
    assert needed <= set(SCOPES)


def test_library_needs_follow_the_uri_kinds() -> None:
    uris = ["spotify:track:a", "spotify:artist:b", "spotify:playlist:c", "garbage"]

    assert library_needs(uris, write=True) == (
        frozenset({"playlist-modify-public"}),
        frozenset({"user-follow-modify"}),
        frozenset({"user-library-modify"}),
    )
    assert library_needs(uris[:1], write=False) == (frozenset({"user-library-read"}),)


def test_missing_scopes() -> None:
    either = (frozenset({"playlist-modify-public", "playlist-modify-private"}),)

    assert missing_scopes(either, frozenset({"playlist-modify-private"})) == ()
    assert missing_scopes(either, frozenset()) == (
        "playlist-modify-private",
        "playlist-modify-public",
    )
    assert missing_scopes(playlist_create_needs(False), None) == ()
    assert missing_scopes(playlist_create_needs(True), frozenset()) == ("playlist-modify-public",)


def test_the_listening_scopes_are_asked_for() -> None:
    assert set(LISTENING_SCOPES) == {"user-read-currently-playing", "user-read-recently-played"}
    assert set(LISTENING_SCOPES) <= set(SCOPES)


def test_a_stored_grant_has_the_listening_scopes_only_with_both() -> None:
    linked_before = " ".join(scope for scope in SCOPES if scope not in LISTENING_SCOPES)

    assert has_listening_scopes(" ".join(SCOPES))
    assert has_listening_scopes(frozenset(SCOPES))
    assert not has_listening_scopes(linked_before)
    assert not has_listening_scopes(linked_before + " user-read-recently-played")
    assert not has_listening_scopes("")
    assert not has_listening_scopes(None)

import pytest

from bot import domain as service
from bot.spotify import errors as spotify
from bot.spotify.ids import InvalidSpotifyRef
from bot.ui.failures import (
    NOT_ALLOW_LISTED,
    NOT_LINKED,
    RELINK,
    SPOTIFY_TROUBLE,
    describe_failure,
    human_wait,
)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "1 s"),
        (0.2, "1 s"),
        (1.5, "2 s"),
        (59, "59 s"),
        (60, "1 min"),
        (61, "2 min"),
        (3599, "60 min"),
        (3600, "1 h"),
        (5400, "2 h"),
    ],
)
def test_human_wait_rounds_up(seconds: float, expected: str) -> None:
    assert human_wait(seconds) == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (service.NotLinked(), NOT_LINKED),
        (service.LinkBroken(), RELINK),
        (spotify.InvalidGrant(status=400, reason="invalid_grant"), RELINK),
        (spotify.Unauthorized(status=401), RELINK),
        (spotify.NotAllowListed(status=403), NOT_ALLOW_LISTED),
        (spotify.SpotifyUnavailable(status=503), SPOTIFY_TROUBLE),
        (TimeoutError(), SPOTIFY_TROUBLE),
    ],
)
def test_fixed_texts(error: BaseException, expected: str) -> None:
    assert describe_failure(error) == expected


def test_relink_and_not_linked_point_to_link() -> None:
    assert "`/link`" in NOT_LINKED
    assert "`/link`" in RELINK


def test_not_allow_listed_tells_the_admin_what_to_do() -> None:
    assert "User Management" in NOT_ALLOW_LISTED
    assert "Developer Dashboard" in NOT_ALLOW_LISTED
    assert "5" in NOT_ALLOW_LISTED


def test_not_allow_listed_says_what_still_works() -> None:
    assert "`/import`" in NOT_ALLOW_LISTED
    assert "Spotify status in Discord" in NOT_ALLOW_LISTED


def test_member_errors() -> None:
    assert "private" in (describe_failure(service.MemberHidden()) or "")
    assert "hasn't linked" in (describe_failure(service.MemberNotLinked()) or "")


def test_input_errors_show_their_message() -> None:
    assert (
        describe_failure(service.InvalidInput("Pick 3x3, 4x4 or 5x5.")) == "Pick 3x3, 4x4 or 5x5."
    )
    ref_error = InvalidSpotifyRef("Expected a track or album link.")
    assert describe_failure(ref_error) == "Expected a track or album link."


@pytest.mark.parametrize(("retry_after", "wait"), [(4.5, "5 s"), (540, "9 min")])
def test_a_member_over_their_limit_is_told_when_to_try_again(retry_after: float, wait: str) -> None:
    assert describe_failure(service.TooFast(retry_after)) == (
        f"You're doing that too often. Try again in {wait}."
    )


@pytest.mark.parametrize(("retry_after", "wait"), [(12.2, "13 s"), (600, "10 min"), (3600, "1 h")])
def test_rate_limited_says_when_to_try_again(retry_after: float, wait: str) -> None:
    assert describe_failure(spotify.RateLimited(retry_after)) == (
        f"Spotify asked us to slow down. Try again in {wait}."
    )


def test_quota_exceeded() -> None:
    assert "in 2 min" in (describe_failure(spotify.QuotaExceeded(retry_after=90)) or "")
    text = describe_failure(spotify.QuotaExceeded()) or ""
    assert "quota" in text
    assert "later" in text


def test_missing_scope_names_what_to_grant() -> None:
    error = spotify.MissingScope(scopes=("user-library-modify", "playlist-modify-private"))
    text = describe_failure(error) or ""
    assert "saving to your library" in text
    assert "creating playlists" in text
    assert "`/link` again" in text
    assert "`/link` again" in (describe_failure(spotify.MissingScope()) or "")


def test_operator_and_lookup_errors() -> None:
    assert "operator" in (describe_failure(spotify.InvalidClient(status=401)) or "")
    assert describe_failure(spotify.NotFound(status=404)) == "Spotify couldn't find that."


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("boom"),
        KeyError("x"),
        spotify.BadRequest(status=400),
        spotify.Forbidden(status=403),
        spotify.OAuthError(status=400),
        spotify.SpotifyError("?"),
    ],
)
def test_unexpected_errors_are_not_described(error: BaseException) -> None:
    assert describe_failure(error) is None


@pytest.mark.parametrize(
    "error",
    [
        service.NotLinked(),
        spotify.NotAllowListed(),
        spotify.RateLimited(30),
        spotify.MissingScope(scopes=("user-top-read",)),
        spotify.QuotaExceeded(),
    ],
)
def test_texts_are_short_and_free_of_internals(error: BaseException) -> None:
    text = describe_failure(error) or ""
    assert 0 < len(text) <= 400
    assert type(error).__name__ not in text
    assert "Traceback" not in text

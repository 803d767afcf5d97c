import pytest

from sandbox.spotify_faults import SandboxFaults, path_matches


@pytest.mark.parametrize(
    ("path", "prefix", "expected"),
    [
        ("/v1/me/top/artists", None, True),
        ("/api/token", None, False),
        ("/images/x.png", None, False),
        ("/v1/me/top/artists", "/me/top", True),
        ("/v1/me/top/artists", "/v1/me/top", True),
        ("/v1/me", "/me/top", False),
        ("/api/token", "/api/token", True),
        ("/api/token", "/token", False),
    ],
)
def test_path_matches(path: str, prefix: str | None, expected: bool) -> None:
    assert path_matches(path, prefix) is expected


def test_failures_are_consumed_in_the_order_they_were_set() -> None:
    faults = SandboxFaults()
    faults.rate_limit(2, count=2, reason="QUOTA_EXCEEDED", path="/me/top")
    faults.server_error(status=502)

    first = faults.take_failure("/v1/me/top/tracks")
    assert first is not None and (first.status, first.reason, first.retry_after) == (
        429,
        "QUOTA_EXCEEDED",
        2,
    )
    other = faults.take_failure("/v1/me")
    assert other is not None and other.status == 502
    assert faults.take_failure("/v1/me") is None
    again = faults.take_failure("/v1/me/top/artists")
    assert again is not None and again.status == 429
    assert faults.take_failure("/v1/me/top/artists") is None


def test_latency_takes_the_longest_match_and_counts_down() -> None:
    faults = SandboxFaults()
    faults.latency(0.5, path="/search", count=1)
    faults.latency(0.2)

    assert faults.take_delay("/v1/search") == 0.5
    assert faults.take_delay("/v1/search") == 0.2
    assert faults.take_delay("/api/token") == 0.0
    faults.clear()
    assert faults.take_delay("/v1/search") == 0.0

"""Fault injection for the Spotify sandbox: rate limits, server errors and latency.

A fault's `path` is a prefix of the request path, given either in full (`/v1/me/top`,
`/api/token`) or relative to the Web API (`/me/top`); without a path a fault applies to every
Web API request (not to the accounts service nor to images).
"""

from __future__ import annotations

from dataclasses import dataclass

API_PREFIX = "/v1"


def path_matches(path: str, prefix: str | None) -> bool:
    """Whether a full request path falls under a fault's or a query's path prefix."""
    is_api = path == API_PREFIX or path.startswith(API_PREFIX + "/")
    if prefix is None:
        return is_api
    return path.startswith(prefix) or (is_api and path[len(API_PREFIX) :].startswith(prefix))


@dataclass(frozen=True)
class FaultAnswer:
    """An error the sandbox gives instead of handling the request."""

    status: int
    message: str
    reason: str | None = None
    retry_after: float | None = None


@dataclass
class _Failure:
    answer: FaultAnswer
    path: str | None
    remaining: int


@dataclass
class _Latency:
    seconds: float
    path: str | None
    remaining: int | None


class SandboxFaults:
    def __init__(self) -> None:
        self._failures: list[_Failure] = []
        self._latencies: list[_Latency] = []

    def rate_limit(
        self,
        retry_after: float,
        count: int = 1,
        reason: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next `count` matching requests with 429 and `Retry-After`.

        `reason` goes into the error body (Spotify sends `QUOTA_EXCEEDED` for quota blocks).
        """
        answer = FaultAnswer(429, "API rate limit exceeded", reason, retry_after)
        self._failures.append(_Failure(answer, path, count))

    def server_error(self, count: int = 1, status: int = 503, path: str | None = None) -> None:
        answer = FaultAnswer(status, "Service unavailable" if status == 503 else "Server error")
        self._failures.append(_Failure(answer, path, count))

    def latency(self, seconds: float, path: str | None = None, count: int | None = None) -> None:
        """Delay matching requests by `seconds`: the next `count` of them, or all until cleared."""
        self._latencies.append(_Latency(seconds, path, count))

    def clear(self) -> None:
        self._failures.clear()
        self._latencies.clear()

    def take_delay(self, path: str) -> float:
        """The longest delay among the latency faults matching `path`, consuming one use each."""
        delay = 0.0
        for latency in self._latencies:
            if path_matches(path, latency.path):
                delay = max(delay, latency.seconds)
                if latency.remaining is not None:
                    latency.remaining -= 1
        self._latencies = [item for item in self._latencies if item.remaining != 0]
        return delay

    def take_failure(self, path: str) -> FaultAnswer | None:
        """The first failure matching `path` (in the order they were set), consuming one use."""
        for failure in self._failures:
            if path_matches(path, failure.path):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure.answer
        return None

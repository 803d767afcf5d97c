"""HTTP plumbing shared by the sandbox's accounts service and Web API: JSON answers that
remember their body for the request log, and the Web API's error shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

RESPONSE_JSON = web.ResponseKey("sandbox_response_json", object)
"""The JSON body a sandbox response carries, kept for the request log."""


def json_response(
    data: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    logged: Any = None,
) -> web.Response:
    """A JSON response; `logged` replaces the body in the request log (to keep secrets out)."""
    response = web.json_response(data, status=status, headers=headers)
    response[RESPONSE_JSON] = data if logged is None else logged
    return response


class ApiError(Exception):
    """A Web API error, answered as `{"error": {"status", "message"[, "reason"]}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        reason: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.reason = reason
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        error: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.reason is not None:
            error["reason"] = self.reason
        return json_response({"error": error}, self.status, self.headers)

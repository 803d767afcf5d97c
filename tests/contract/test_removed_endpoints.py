"""Endpoints closed to Development-Mode apps answer 403/404 like the real service, in the Web
API's error shape, and the `spotify_sandbox` fixture flags any test that calls them.

These tests call removed endpoints on purpose, so they use a sandbox outside the fixture."""

from collections.abc import AsyncIterator

import aiohttp
import pytest

from sandbox.openapi_check import SpotifyOpenApi
from sandbox.spotify import SpotifySandbox
from sandbox.spotify_removed import REMOVED_ENDPOINTS, RemovedEndpoint
from tests.helpers.spotify_sandbox import bearer, exchange_problems


@pytest.fixture
async def unchecked_sandbox() -> AsyncIterator[SpotifySandbox]:
    async with SpotifySandbox(users=1) as sandbox:
        yield sandbox


@pytest.mark.parametrize(
    "endpoint", REMOVED_ENDPOINTS, ids=[f"{e.method} {e.path}" for e in REMOVED_ENDPOINTS]
)
async def test_removed_endpoints_are_refused(
    unchecked_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    spotify_openapi: SpotifyOpenApi,
    endpoint: RemovedEndpoint,
) -> None:
    path = endpoint.path.replace("{id}", unchecked_sandbox.artist_ids()[0])

    async with sandbox_http.request(
        endpoint.method, unchecked_sandbox.api_url + path, headers=bearer(unchecked_sandbox)
    ) as response:
        status, body = response.status, await response.json()

    assert status == endpoint.status
    assert body["error"]["status"] == endpoint.status
    [record] = unchecked_sandbox.requests
    assert spotify_openapi.problems(record) == []
    assert exchange_problems(spotify_openapi, [record]) == [
        f"{endpoint.method} /v1{path} -> {status}: endpoint removed for Development-Mode apps"
    ]


async def test_removed_endpoints_still_need_a_valid_token(
    unchecked_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    async with sandbox_http.get(unchecked_sandbox.api_url + "/recommendations") as response:
        assert response.status == 401

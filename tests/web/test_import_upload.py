"""Receiving an upload: streamed to files under the job's folder, limited, CSRF first."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.web.import_upload import UploadProblem, UploadRefused, receive_upload, safe_name

CSRF = "the-csrf-token"
MAX = 4096

Upload = Callable[[aiohttp.MultipartWriter | aiohttp.FormData | bytes], Awaitable[object]]


@pytest.fixture
async def upload(tmp_path: Path) -> AsyncIterator[Upload]:
    async def handler(request: web.Request) -> web.Response:
        folder = tmp_path / "job"
        folder.mkdir(exist_ok=True)
        try:
            paths = await receive_upload(request, folder, max_bytes=MAX, csrf=CSRF)
        except UploadRefused as exc:
            return web.json_response({"refused": exc.problem.value})
        return web.json_response(
            {
                "files": [str(p.relative_to(folder)) for p in paths],
                "sizes": [p.stat().st_size for p in paths],
            }
        )

    app = web.Application()
    app.router.add_post("/", handler)
    async with TestClient(TestServer(app)) as client:

        async def post(body: aiohttp.MultipartWriter | aiohttp.FormData | bytes) -> object:
            response = await client.post("/", data=body)
            return await response.json()

        yield post


def form(*files: tuple[str, bytes], csrf: str | None = CSRF) -> aiohttp.FormData:
    data = aiohttp.FormData()
    if csrf is not None:
        data.add_field("csrf", csrf)
    for name, content in files:
        data.add_field("files", content, filename=name)
    return data


async def test_files_land_in_numbered_folders_under_their_cleaned_names(upload: Upload) -> None:
    result = await upload(
        form(("Streaming_History_Audio_2020.json", b"[]"), ("../../etc/passwd", b"x" * 10))
    )
    assert isinstance(result, dict)
    first, second = result["files"]
    assert first == "0/Streaming_History_Audio_2020.json"
    folder, name = second.split("/")
    assert folder == "1" and name not in (".", "..")
    assert result["sizes"] == [2, 10]


async def test_past_the_limit_the_upload_is_refused_even_without_a_length(
    upload: Upload,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"y" * 1024

    writer = aiohttp.MultipartWriter("form-data")
    writer.append("the-csrf-token").set_content_disposition("form-data", name="csrf")
    part = writer.append(chunks())  # streamed: the request has no Content-Length
    part.set_content_disposition("form-data", name="files", filename="big.json")
    assert await upload(writer) == {"refused": UploadProblem.TOO_LARGE.value}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (form(("h.json", b"[]"), csrf="wrong"), UploadProblem.FORBIDDEN),
        (form(("h.json", b"[]"), csrf=None), UploadProblem.FORBIDDEN),
        (form(("", b"")), UploadProblem.NO_FILES),
        (b"files=not-multipart", UploadProblem.MALFORMED),
    ],
)
async def test_what_is_refused(
    upload: Upload, body: aiohttp.FormData | bytes, problem: UploadProblem
) -> None:
    assert await upload(body) == {"refused": problem.value}


async def test_the_csrf_field_must_come_before_the_files(upload: Upload) -> None:
    late = aiohttp.FormData()
    late.add_field("files", b"[]", filename="h.json")
    late.add_field("csrf", CSRF)
    assert await upload(late) == {"refused": UploadProblem.FORBIDDEN.value}


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("my_spotify_data.zip", "my_spotify_data.zip"),
        ("C:\\Users\\me\\Streaming_History_Audio_2020.json", "Streaming_History_Audio_2020.json"),
        ("..", "upload"),
        ("", "upload"),
        ("a/b/.hidden", "hidden"),
        ("naïve<script>.json", "na_ve_script_.json"),
        ("x" * 300, "x" * 100),
    ],
)
def test_safe_name(given: str, kept: str) -> None:
    assert safe_name(given) == kept

"""Item uploads: accepted inputs, the multipart wire format, memory, and retry rules."""

from __future__ import annotations

import hashlib
import io
import json
import tracemalloc
from pathlib import Path
from typing import IO, Any, cast

import aiohttp
import pytest
from aiohttp import web
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch._files import upload_form
from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async

ITEMS = f"/client/v4/accounts/{ACCOUNT}/ai-search/namespaces/default/instances/docs/items"
ITEM = {
    "id": "it-1",
    "key": "a.txt",
    "status": "queued",
    "source_id": "builtin",
    "checksum": "0",
    "file_size": 5,
    "namespace": "default",
    "created_at": "2026-01-01T00:00:00Z",
    "last_seen_at": "2026-01-01T00:00:00Z",
    "next_action": None,
}


class Capture:
    """An upload endpoint that records each request's parts (name, filename, type, body)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [200]
        self.requests: list[list[tuple[str | None, str | None, str | None, bytes]]] = []
        self.headers: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        parts = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            assert isinstance(part, aiohttp.BodyPartReader)
            parts.append(
                (part.name, part.filename, part.headers.get("Content-Type"), await part.read())
            )
        self.requests.append(parts)
        status = self.statuses[min(len(self.requests), len(self.statuses)) - 1]
        if status == 429:
            return web.json_response(
                {"success": False, "errors": [{"code": 971, "message": "slow down"}]},
                status=429,
                headers={"retry-after-ms": "1"},
            )
        if status >= 400:
            return web.json_response(
                {"success": False, "errors": [{"code": 1, "message": "boom"}]}, status=status
            )
        return web.json_response(envelope(ITEM))


async def start(serve: ServeFn, capture: Capture) -> str:
    app = web.Application()
    app.router.add_post(ITEMS, capture.handle)
    return await serve(app)


def file_parts(parts: list[Any]) -> list[Any]:
    return [p for p in parts if p[0] == "file"]


# -- wire format ------------------------------------------------------------------------


async def test_tuple_form_sends_the_parts_in_the_official_order(serve: ServeFn) -> None:
    capture = Capture()
    base = await start(serve, capture)
    async with make_async(base_url=base) as client:
        result = await client.aisearch.namespaces.instances.items.upload(
            "docs",
            name="default",
            file={
                "file": ("a.txt", b"hello", "text/plain"),
                "metadata": '{"a":1}',
                "wait_for_completion": True,
            },
        )
    assert result.key == "a.txt"
    [parts] = capture.requests
    assert [(name, filename) for name, filename, _, _ in parts] == [
        ("metadata", None),
        ("wait_for_completion", None),
        ("file", "a.txt"),
    ]
    assert parts[0][3] == b'{"a":1}'
    assert parts[1][3] == b"true"
    assert parts[2][2:] == ("text/plain", b"hello")
    content_type = capture.headers[0]["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    assert int(capture.headers[0]["Content-Length"]) > 5  # sizes known: no chunked encoding


@pytest.mark.parametrize("key", ["guides/setup notes.md", 'odd "quoted" name.txt', "café.txt"])
async def test_file_names_arrive_as_written(serve: ServeFn, key: str) -> None:
    # The file name is the item's key (folders included), so it must not be percent-encoded.
    capture = Capture()
    base = await start(serve, capture)
    async with make_async(base_url=base) as client:
        await client.aisearch.namespaces.instances.items.upload(
            "docs", name="default", file={"file": (key, b"x", "text/plain")}
        )
    assert file_parts(capture.requests[0])[0][1] == key


async def test_dict_metadata_is_sent_as_a_json_string(serve: ServeFn) -> None:
    capture = Capture()
    base = await start(serve, capture)
    async with make_async(base_url=base) as client:
        await client.aisearch.namespaces.instances.items.upload(
            "docs",
            name="default",
            file={
                "file": ("a.txt", b"x"),
                "metadata": {"category": "onboarding", "version": 2},
                "wait_for_completion": False,
            },
        )
    parts = dict((name, body) for name, _, _, body in capture.requests[0])
    assert json.loads(parts["metadata"]) == {"category": "onboarding", "version": 2}
    assert parts["wait_for_completion"] == b"false"


async def test_paths_files_and_bytes_are_accepted(serve: ServeFn, tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_bytes(b"# Guide")
    capture = Capture()
    base = await start(serve, capture)
    async with make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        await items.upload("docs", name="default", file={"file": path})
        with path.open("rb") as handle:
            await items.upload("docs", name="default", file={"file": handle})
            assert not handle.closed  # the caller's file stays the caller's
        await items.upload("docs", name="default", file={"file": ("notes.pdf", path)})
        await items.upload("docs", name="default", file={"file": b"raw bytes"})
    sent = [file_parts(parts)[0] for parts in capture.requests]
    assert sent == [
        ("file", "guide.md", "text/markdown", b"# Guide"),
        ("file", "guide.md", "text/markdown", b"# Guide"),
        ("file", "notes.pdf", "application/pdf", b"# Guide"),
        ("file", "upload", "application/octet-stream", b"raw bytes"),  # as the official SDK
    ]


async def test_extra_body_becomes_form_fields(serve: ServeFn) -> None:
    capture = Capture()
    base = await start(serve, capture)
    async with make_async(base_url=base) as client:
        await client.aisearch.namespaces.instances.items.upload(
            "docs",
            name="default",
            file={"file": ("a.txt", b"x")},
            extra_body={"note": "hi", "flags": {"a": True}},
        )
    parts = dict((name, body) for name, _, _, body in capture.requests[0])
    assert parts["note"] == b"hi"
    assert json.loads(parts["flags"]) == {"a": True}


# -- validation, before any request ----------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "error", "match"),
    [
        ({}, ValueError, r"`file\['file'\]` is required"),
        ({"metadata": "{}"}, ValueError, r"`file\['file'\]` is required"),
        ({"file": ("x" * 129 + ".txt", b"x")}, ValueError, "at most 128 characters"),
        ({"file": ("", b"x")}, ValueError, "needs a file name"),
        ({"file": ("a\r\nX-Evil: 1.txt", b"x")}, ValueError, "control characters"),
        ({"file": ("a.txt", "text")}, TypeError, "got a str"),
        ({"file": 42}, TypeError, "got int"),
        ({"file": b"x", "wait_for_completion": "yes"}, TypeError, "must be a bool"),
        ({"file": b"x", "metadata": 3}, TypeError, "mapping or a JSON string"),
        ({"file": b"x", "metadata": {"a": object()}}, TypeError, "not JSON-serialisable"),
        ({"file": b"x", "wait": True}, TypeError, "unknown key"),
        ("a.txt", TypeError, "must be a mapping"),
    ],
)
async def test_bad_input_fails_before_any_request(file: Any, error: type, match: str) -> None:
    with aioresponses() as mocked:
        async with make_async() as client:
            with pytest.raises(error, match=match):
                await client.aisearch.namespaces.instances.items.upload(
                    "docs", name="default", file=file
                )
        assert not mocked.requests


def test_a_missing_path_is_reported_with_the_parameter(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"`file\['file'\]`: cannot read"):
        upload_form({"file": tmp_path / "missing.txt"})


# -- memory --------------------------------------------------------------------------------


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    with path.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: costs no disk and no time
    return path


async def test_a_100_mb_upload_streams_in_bounded_memory(serve: ServeFn, big_file: Path) -> None:
    received = 0
    announced = 0

    async def discard(request: web.Request) -> web.Response:
        nonlocal received, announced
        announced = int(request.headers["Content-Length"])
        async for chunk in request.content.iter_any():
            received += len(chunk)
        return web.json_response(envelope({**ITEM, "key": "big.bin"}))

    app = web.Application(client_max_size=200 * 1024 * 1024)
    app.router.add_post(ITEMS, discard)
    base = await serve(app)
    async with make_async(base_url=base) as client:
        tracemalloc.start()
        try:
            result = await client.aisearch.namespaces.instances.items.upload(
                "docs", name="default", file={"file": big_file}
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.key == "big.bin"
    assert received == announced > 100 * 1024 * 1024
    # The whole process (client and server) never held more than a few chunks.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# -- retries -----------------------------------------------------------------------------


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_a_rate_limited_upload_is_retried_from_the_start_of_its_source(
    serve: ServeFn, tmp_path: Path
) -> None:
    content = bytes(range(256)) * 1000
    path = tmp_path / "doc.bin"
    path.write_bytes(content)
    handle = io.BytesIO(b"HEADER" + content)
    handle.seek(6)  # the upload starts where the caller left the file
    capture = Capture(429, 200, 429, 200, 429, 200)
    base = await start(serve, capture)
    async with make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        await items.upload("docs", name="default", file={"file": path})
        await items.upload("docs", name="default", file={"file": ("doc.bin", handle)})
        await items.upload("docs", name="default", file={"file": ("doc.bin", content)})
    assert len(capture.requests) == 6
    assert {digest(file_parts(parts)[0][3]) for parts in capture.requests} == {digest(content)}


def pipe(data: bytes) -> IO[bytes]:
    """A :class:`Pipe`, typed as the file object it reads like (RawIOBase is not IO[bytes])."""
    return cast(IO[bytes], Pipe(data))


class Pipe(io.RawIOBase):
    """A readable stream that cannot seek (like a socket or a pipe)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


async def test_an_unrewindable_source_is_not_sent_twice(serve: ServeFn) -> None:
    capture = Capture(429, 200)
    base = await start(serve, capture)
    async with make_async(base_url=base) as client:
        with pytest.raises(cf.RateLimitError, match="slow down"):
            await client.aisearch.namespaces.instances.items.upload(
                "docs", name="default", file={"file": ("a.txt", pipe(b"only once"))}
            )
    assert len(capture.requests) == 1
    assert file_parts(capture.requests[0])[0][3] == b"only once"


async def test_a_server_error_is_not_retried_for_an_upload(serve: ServeFn) -> None:
    capture = Capture(500, 200)
    base = await start(serve, capture)
    async with make_async(base_url=base) as client:
        with pytest.raises(cf.InternalServerError):
            await client.aisearch.namespaces.instances.items.upload(
                "docs", name="default", file={"file": ("a.txt", b"x")}
            )
    assert len(capture.requests) == 1  # it may have been stored: no blind replay


async def test_an_upload_that_never_reached_the_server_is_retried() -> None:
    url = f"https://api.cloudflare.com{ITEMS}"
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey(
            "api.cloudflare.com", 443, True, True, None, None, None
        ),
        ConnectionRefusedError(111, "Connection refused"),
    )
    with aioresponses() as mocked:
        mocked.post(url, exception=refused)
        mocked.post(url, payload=envelope(ITEM))
        async with make_async() as client:
            result = await client.aisearch.namespaces.instances.items.upload(
                "docs", name="default", file={"file": ("a.txt", pipe(b"x"))}
            )
    assert result.key == "a.txt"
    assert len(next(iter(mocked.requests.values()))) == 2


def test_a_closed_or_write_only_file_is_refused_before_sending(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    with (
        path.open("wb") as handle,
        pytest.raises(ValueError, match=r"`file\['file'\]` is not open for reading"),
    ):
        upload_form({"file": ("a.txt", handle)})
    with pytest.raises(ValueError, match=r"`file\['file'\]` is a closed file"):
        upload_form({"file": ("a.txt", handle)})

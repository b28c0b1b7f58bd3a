"""Hostile servers and careless callers against streams, downloads and uploads.

Rules 7 (stream part), 14 (SSE part), 16 and 17 of the reliability issue. The
servers are raw asyncio sockets on 127.0.0.1, so each test controls every byte
and exactly when the connection ends (or does not).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch import _binary
from cfaisearch._binary import AsyncBinaryResponse
from cfaisearch._streaming import MAX_EVENT_SIZE, ChatCompletionChunk, SSEDecoder
from cfaisearch.types.params import MessageParam
from tests.support.clients import make_async, make_sync

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

MESSAGES: list[MessageParam] = [{"role": "user", "content": "Hi?"}]
CHUNK = {"id": "c1", "type": "text", "score": 0.9, "text": "Welcome.", "item": {"key": "a.md"}}
SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    b"Transfer-Encoding: chunked\r\ncf-ray: raw-1\r\n\r\n"
)


def http_chunk(data: bytes) -> bytes:
    """One chunk of a chunked HTTP body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def delta(text: str) -> bytes:
    choice = {"index": 0, "delta": {"content": text}}
    return json.dumps({"object": "chat.completion.chunk", "choices": [choice]}).encode()


Script = Callable[[asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """A loopback HTTP/1.1 server: reads one request per connection, then runs ``script``.

    After the script it keeps the socket open until the client closes it;
    ``client_closed`` is set when the client does.
    """

    def __init__(self, script: Script) -> None:
        self.script = script
        self.client_closed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/client/v4"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        # End the handlers by dropping their connections, never by cancelling them.
        for writer in self._connections.values():
            writer.transport.abort()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            await self.script(writer)
            await writer.drain()
            while await reader.read(65536):
                pass  # hold the connection open until the client lets it go
            self.client_closed.set()
        except (ConnectionError, asyncio.IncompleteReadError):
            self.client_closed.set()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def sends(*parts: bytes, pause: float = 0.0) -> Script:
    """A script writing ``parts`` one by one, flushed, ``pause`` seconds apart."""

    async def script(writer: asyncio.StreamWriter) -> None:
        for part in parts:
            writer.write(part)
            await writer.drain()
            if pause:
                await asyncio.sleep(pause)

    return script


async def open_stream(client: cf.AsyncCloudflare) -> cf.AsyncChatCompletionStream[Any]:
    return await client.aisearch.instances.chat_completions(
        "docs", messages=MESSAGES, stream=True, timeout=10
    )


ANSWER = (
    b"event: chunks\ndata: " + json.dumps([CHUNK]).encode() + b"\n\n"
    b"data: " + delta("Hello") + b"\n\n"
    b"data: " + delta(" world") + b"\n\n"
    b"data: [DONE]\n\n"
)


# -- rule 7: [DONE] ends the stream at once ------------------------------------------------


@pytest.mark.parametrize(
    "ending",
    [b"", b"data: after the end\n\n"],
    ids=["silent", "chatty"],
)
async def test_done_ends_the_async_stream_while_the_server_holds_the_connection(
    ending: bytes,
) -> None:
    """Rule 7: after [DONE] the loop ends and the connection is let go, server or not."""
    server = RawServer(sends(SSE_HEAD, http_chunk(ANSWER + ending)))
    async with server as base, make_async(base_url=base) as client:
        stream = await open_stream(client)
        started = time.monotonic()
        texts = [text async for text in stream.text_deltas()]
        elapsed = time.monotonic() - started
        # The server never ends the body: only our side can close the connection.
        await asyncio.wait_for(server.client_closed.wait(), 5)
    assert texts == ["Hello", " world"]
    assert stream.done
    assert elapsed < 3, f"the loop waited {elapsed:.1f} s for a server that never closes"


async def test_done_ends_the_sync_stream_while_the_server_holds_the_connection() -> None:
    """Rule 7: the same for the sync facade's stream."""
    server = RawServer(sends(SSE_HEAD, http_chunk(ANSWER)))

    def read_all(base: str) -> tuple[object, float]:
        with make_sync(base_url=base) as client:
            stream = client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True, timeout=10
            )
            started = time.monotonic()
            final = stream.get_final_completion()
            return final.choices[0].message.content, time.monotonic() - started

    async with server as base:
        text, elapsed = await asyncio.to_thread(read_all, base)
        await asyncio.wait_for(server.client_closed.wait(), 5)
    assert text == "Hello world"
    assert elapsed < 3, f"the loop waited {elapsed:.1f} s for a server that never closes"


# -- rule 14: bounded memory ------------------------------------------------------------------


def endless(unit: bytes, head: bytes = b"") -> Script:
    """A body of ``head`` then ``unit`` over and over (up to 4x the limit, then silence)."""

    async def script(writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + (http_chunk(head) if head else b""))
        sent = 0
        while sent < 4 * MAX_EVENT_SIZE:
            writer.write(http_chunk(unit))
            await writer.drain()
            sent += len(unit)

    return script


@pytest.mark.parametrize(
    ("head", "unit", "message"),
    [
        (b"data: ", b"x" * 65536, "a line is longer than"),
        (b"", b"data: " + b"x" * 65530 + b"\n", "an event's data is longer than"),
    ],
    ids=["endless-line", "endless-event"],
)
async def test_a_line_or_event_that_never_ends_is_a_stream_error_not_gigabytes(
    head: bytes, unit: bytes, message: str
) -> None:
    """Rule 14: past MAX_EVENT_SIZE a line or a pending event raises StreamError."""
    server = RawServer(endless(unit, head))
    async with server as base, make_async(base_url=base) as client:
        stream = await open_stream(client)
        tracemalloc.start()
        try:
            with pytest.raises(cf.StreamError, match=message) as info:
                await stream.get_final_completion()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "cf-ray raw-1" in str(info.value)
    assert peak < 3 * MAX_EVENT_SIZE, f"peak {peak / 1e6:.1f} MB"


async def test_events_before_an_oversized_line_are_delivered_first() -> None:
    """Rule 14 and 16: each event is yielded as parsed, before a later line breaks a limit."""
    decoder = SSEDecoder(max_size=64)
    events = decoder.events(b"data: one\n\ndata: two\n\n" + b"x" * 65)
    assert next(events).data == "one"
    assert next(events).data == "two"
    with pytest.raises(ValueError, match="a line is longer than 64 bytes"):
        next(events)


# -- rule 16: line endings ------------------------------------------------------------------


async def test_cr_and_crlf_line_ends_work_even_split_between_reads() -> None:
    """Rule 16: CR, LF and CRLF all end lines; a CRLF may straddle two reads; bare CR at the end."""
    script = sends(
        SSE_HEAD,
        http_chunk(b"event: chunks\r\ndata: " + json.dumps([CHUNK]).encode() + b"\r"),
        http_chunk(b"\n\r\ndata: " + delta("Hello") + b"\r\r"),
        http_chunk(b"data: " + delta(" world") + b"\n\r"),
        http_chunk(b"\ndata: [DONE]\r\r"),
        pause=0.05,  # so each chunk arrives in a read of its own
    )
    server = RawServer(script)
    async with server as base, make_async(base_url=base) as client:
        stream = await open_stream(client)
        events = [event async for event in stream]
    assert stream.chunks is not None
    assert stream.chunks[0].id == "c1"
    assert [e.text for e in events if isinstance(e, ChatCompletionChunk)] == ["Hello", " world"]


# -- rule 17: files --------------------------------------------------------------------------


async def test_a_failed_download_leaves_the_old_file_and_no_partial_file(tmp_path: Path) -> None:
    """Rule 17: write_to_file replaces the target only once the whole body has arrived."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 1000000\r\n\r\n"

    async def broken(writer: asyncio.StreamWriter) -> None:
        writer.write(head + b"%PDF" + b"x" * 100_000)
        await writer.drain()
        writer.transport.abort()  # half way through

    target = tmp_path / "report.pdf"
    target.write_bytes(b"the old report")
    async with RawServer(broken) as base, make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        download = await items.download("it-1", name="default", id="docs")
        with pytest.raises(cf.APIConnectionError):
            await download.write_to_file(target)
    assert target.read_bytes() == b"the old report"
    assert os.listdir(tmp_path) == ["report.pdf"]


async def test_a_cancelled_download_leaves_no_partial_file(tmp_path: Path) -> None:
    """Rule 17: cancellation mid-download removes the temporary file too."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 1000000\r\n\r\n"
    server = RawServer(sends(head + b"%PDF"))  # then silence
    async with server as base, make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        download = await items.download("it-1", name="default", id="docs")
        task = asyncio.create_task(download.write_to_file(tmp_path / "report.pdf"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert os.listdir(tmp_path) == []


async def test_a_download_cancelled_while_creating_its_file_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 17: the temporary file is removed even if cancellation beats its creation."""
    entered, go_on, created = threading.Event(), threading.Event(), threading.Event()
    create = _binary._create_beside

    def slow_create(path: Path) -> Any:
        entered.set()
        go_on.wait(10)
        try:
            return create(path)
        finally:
            created.set()

    monkeypatch.setattr(_binary, "_create_beside", slow_create)
    response = AsyncBinaryResponse(Trickle(10))  # type: ignore[arg-type]
    task = asyncio.create_task(response.write_to_file(tmp_path / "report.pdf"))
    await asyncio.to_thread(entered.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    go_on.set()
    await asyncio.to_thread(created.wait, 10)
    for _ in range(100):  # removed by a callback once the thread is done
        if not os.listdir(tmp_path):
            break
        await asyncio.sleep(0.05)
    assert os.listdir(tmp_path) == []


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda tmp, fifo: tmp, r"`file\['file'\]`: '.*' is a directory"),
        (lambda tmp, fifo: ("a.txt", tmp), r"`file\['file'\]`: '.*' is a directory"),
        (lambda tmp, fifo: fifo, r"`file\['file'\]`: '.*' is not a regular file"),
    ],
    ids=["directory", "directory-in-tuple", "named-pipe"],
)
async def test_an_unreadable_upload_path_fails_before_any_request(
    tmp_path: Path, fifo: Path, make: Callable[[Path, Path], Any], match: str
) -> None:
    """Rule 17: a directory (or a pipe) is a ValueError naming the parameter, not a failed send."""
    with aioresponses() as mocked:
        async with make_async() as client:
            with pytest.raises(ValueError, match=match):
                await client.aisearch.namespaces.instances.items.upload(
                    "docs", name="default", file={"file": make(tmp_path, fifo)}
                )
        assert not mocked.requests


class Trickle:
    """A download body arriving 16 bytes per read, as a slow or hostile server might send it."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.reads = 0

    async def read_chunk(self, max_size: int | None = None) -> bytes:
        self.reads += 1
        if self.reads % 1024 == 0:
            await asyncio.sleep(0)  # let a timeout fire
        size = min(16, self.left, max_size or 16)
        self.left -= size
        return b"x" * size

    def close(self) -> None:
        pass


async def test_a_large_chunk_size_is_assembled_in_linear_time() -> None:
    """Rule 17 (bonus): iter_bytes gathers small reads without copying what it already has."""
    size = 8 * 1024 * 1024  # 512 Ki reads: re-copying the pending bytes each time is ~2 TB
    response = AsyncBinaryResponse(Trickle(size + 5))  # type: ignore[arg-type]

    async def sizes() -> list[int]:
        return [len(chunk) async for chunk in response.iter_bytes(size)]

    assert await asyncio.wait_for(sizes(), 60) == [size, 5]

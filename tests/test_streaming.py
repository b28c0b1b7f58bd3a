"""Streamed chat completions: SSE parsing, typed events, connection release, errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import cfaisearch as cf
from cfaisearch._streaming import (
    MAX_EVENT_SIZE,
    ChatCompletionChunk,
    RetrievedChunks,
    ServerSentEvent,
    SSEDecoder,
    SSEError,
)
from cfaisearch.types import NamespaceChatCompletion, NamespaceSearchChunk, SearchChunk
from cfaisearch.types.params import MessageParam
from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async, make_sync

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

V4 = f"/client/v4/accounts/{ACCOUNT}/ai-search"
CHAT = f"{V4}/instances/docs/chat/completions"
NS_CHAT = f"{V4}/namespaces/default/chat/completions"
JOB = f"{V4}/instances/docs/jobs/j1"
MESSAGES: list[MessageParam] = [{"role": "user", "content": "What is this about?"}]
CHUNK = {
    "id": "chunk-001",
    "type": "text",
    "score": 0.85,
    "text": "Welcome to the docs.",
    "item": {"key": "about.md", "timestamp": 1775925540000},
    "scoring_details": {"vector_score": 0.85},
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def sse(data: object, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    text = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {text}\n\n".encode()


def delta(text: str, finish_reason: str | None = None) -> bytes:
    return sse(
        {
            "id": "id-1776072781845",
            "created": 1776072781,
            "model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish_reason}],
        }
    )


DONE = b"data: [DONE]\n\n"
ANSWER = [sse([CHUNK], event="chunks"), delta("Hello"), delta(" world"), delta("", "stop"), DONE]


async def open_sse(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "cf-ray": "r-1"})
    await response.prepare(request)
    return response


def scripted(*parts: bytes) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = await open_sse(request)
        for part in parts:
            await response.write(part)
        return response

    return handler


async def get_job(request: web.Request) -> web.Response:
    return web.json_response(envelope({"id": "j1", "source": "user"}))


async def start(serve: ServeFn, chat: Handler, path: str = CHAT) -> str:
    app = web.Application()
    app.router.add_post(path, chat)
    app.router.add_get(JOB, get_job)
    return await serve(app)


def one_connection() -> aiohttp.ClientSession:
    """A session with a single connection: a request waits until the last one is released."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))


# -- the sans-I/O decoder --------------------------------------------------------------


def decode_all(data: bytes, step: int) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for start in range(0, len(data), step):
        events += decoder.feed(data[start : start + step])
    return events


@pytest.mark.parametrize("step", [1, 2, 3, 7, 1000])
def test_decoder_handles_any_split_and_line_ending(step: int) -> None:
    data = (
        b"\xef\xbb\xbf: a comment\r\n"
        b"event: chunks\r\ndata: [1,\r\ndata:2]\r\n\r\n"
        b"data: caf\xc3\xa9\rid: 7\r\r"
        b"event: ignored\n\n"
        b"data:  two spaces\n\n"
        b"data: [DONE]\n\n"
    )
    assert decode_all(data, step) == [
        ServerSentEvent("chunks", "[1,\n2]"),
        ServerSentEvent(None, "café", "7"),
        ServerSentEvent(None, " two spaces", "7"),
        ServerSentEvent(None, "[DONE]", "7"),
    ]


def test_decoder_keeps_an_unfinished_event_until_its_blank_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: {}\n") == []
    assert decoder.feed(b"\n") == [ServerSentEvent(None, "{}")]


# -- streaming through the client ------------------------------------------------------------


async def test_events_arrive_while_the_answer_is_still_being_written(serve: ServeFn) -> None:
    release = asyncio.Event()
    sent: list[str] = []
    seen: dict[str, Any] = {}

    async def chat(request: web.Request) -> web.StreamResponse:
        seen["body"] = await request.json()
        seen["accept"] = request.headers["Accept"]
        response = await open_sse(request)
        await response.write(ANSWER[0])
        sent.append("chunks")
        await release.wait()
        for part in ANSWER[1:]:
            await response.write(part)
            sent.append("delta")
        return response

    base = await start(serve, chat)
    async with make_async(base_url=base) as client:
        stream = await client.aisearch.instances.chat_completions(
            "docs", messages=MESSAGES, stream=True
        )
        async with stream:
            events = aiter(stream)
            first = await anext(events)
            # The server has not written a single delta yet: parsing is incremental.
            assert sent == ["chunks"]
            assert isinstance(first, RetrievedChunks)
            assert isinstance(first.chunks[0], SearchChunk)
            assert first.chunks[0].item is not None
            assert first.chunks[0].item.key == "about.md"
            assert stream.chunks == first.chunks
            release.set()
            rest = [event async for event in events]
        assert all(isinstance(e, ChatCompletionChunk) for e in rest)
        assert [e.text for e in rest if isinstance(e, ChatCompletionChunk)] == [
            "Hello",
            " world",
            "",
        ]
        assert stream.done
        assert stream.status_code == 200
        assert stream.request_id == "r-1"
        final = await stream.get_final_completion()
    assert seen["body"]["stream"] is True
    assert seen["body"]["messages"] == MESSAGES
    assert seen["accept"] == "text/event-stream"
    assert isinstance(final, cf.types.ChatCompletion)
    assert final.choices[0].message.content == "Hello world"
    assert final.choices[0].message.role == "assistant"
    assert final.choices[0].finish_reason == "stop"
    assert final.chunks == first.chunks
    assert final.id == "id-1776072781845"
    assert final.model == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


async def test_text_deltas_and_final_completion(serve: ServeFn) -> None:
    base = await start(serve, scripted(*ANSWER))
    async with make_async(base_url=base) as client:
        stream = await client.aisearch.instances.chat_completions(
            "docs", messages=MESSAGES, stream=True
        )
        assert [text async for text in stream.text_deltas()] == ["Hello", " world"]
        final = await stream.get_final_completion()
        assert final.choices[0].message.content == "Hello world"
        # Unread: get_final_completion reads the whole stream itself.
        stream = await client.aisearch.instances.chat_completions(
            "docs", messages=MESSAGES, stream=True
        )
        assert (await stream.get_final_completion()) == final


async def test_a_finished_stream_gives_its_connection_back_for_reuse(serve: ServeFn) -> None:
    ports: list[int] = []

    async def chat(request: web.Request) -> web.StreamResponse:
        ports.append(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
        return await scripted(*ANSWER)(request)

    base = await start(serve, chat)
    async with make_async(base_url=base) as client:
        for _ in range(2):
            stream = await client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True
            )
            async for _event in stream:
                pass
    assert ports[0] == ports[1]


async def test_break_releases_the_connection(serve: ServeFn) -> None:
    never = asyncio.Event()

    async def chat(request: web.Request) -> web.StreamResponse:
        response = await open_sse(request)
        await response.write(ANSWER[0] + ANSWER[1])
        await never.wait()  # the model "keeps thinking": the stream stays open
        return response

    base = await start(serve, chat)
    session = one_connection()
    try:
        async with make_async(base_url=base, http_session=session) as client:
            stream = await client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True
            )
            async for event in stream:
                if isinstance(event, ChatCompletionChunk):
                    break
            # The only pooled connection must be free again for this to proceed.
            job = await asyncio.wait_for(client.aisearch.instances.jobs.get("j1", id="docs"), 10)
            assert job.id == "j1"
            with pytest.raises(cf.StreamError, match="closed before it ended"):
                async for _event in stream:
                    pass
    finally:
        never.set()
        await session.close()


async def test_cancellation_releases_the_connection(serve: ServeFn) -> None:
    never = asyncio.Event()

    async def chat(request: web.Request) -> web.StreamResponse:
        response = await open_sse(request)
        await response.write(ANSWER[0])
        await never.wait()
        return response

    base = await start(serve, chat)
    session = one_connection()
    try:
        async with make_async(base_url=base, http_session=session) as client:
            stream = await client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True
            )
            first_event = asyncio.Event()

            async def consume() -> None:
                async for _event in stream:
                    first_event.set()

            task = asyncio.create_task(consume())
            await first_event.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            job = await asyncio.wait_for(client.aisearch.instances.jobs.get("j1", id="docs"), 10)
            assert job.id == "j1"
    finally:
        never.set()
        await session.close()


@pytest.mark.parametrize(
    "error",
    [
        sse({"error": {"message": "model overloaded"}}, event="error"),
        sse({"error": {"message": "model overloaded", "type": "server_error"}}),
        sse({"errors": [{"code": 7010, "message": "model overloaded"}]}),
    ],
    ids=["error-event", "openai-error", "v4-errors"],
)
async def test_an_error_event_raises_stream_error(serve: ServeFn, error: bytes) -> None:
    base = await start(serve, scripted(ANSWER[0], ANSWER[1], error))
    async with make_async(base_url=base) as client:
        stream = await client.aisearch.instances.chat_completions(
            "docs", messages=MESSAGES, stream=True
        )
        received: list[object] = []

        async def consume() -> None:
            async for event in stream:
                received.append(event)

        with pytest.raises(cf.StreamError, match=r"model overloaded .*cf-ray r-1") as info:
            await consume()
    assert len(received) == 2  # the events before the error were delivered
    assert info.value.url.endswith("/chat/completions")
    assert "closed" in repr(stream)


async def test_a_stream_that_ends_before_done_raises_and_is_not_retried(serve: ServeFn) -> None:
    calls = 0

    async def chat(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        return await scripted(ANSWER[0], ANSWER[1])(request)

    base = await start(serve, chat)
    async with make_async(base_url=base) as client:
        stream = await client.aisearch.instances.chat_completions(
            "docs", messages=MESSAGES, stream=True
        )
        with pytest.raises(cf.StreamError, match=r"ended before \[DONE\]"):
            await stream.get_final_completion()
    assert calls == 1


async def test_a_connection_lost_mid_stream_raises_stream_error(serve: ServeFn) -> None:
    async def chat(request: web.Request) -> web.StreamResponse:
        response = await open_sse(request)
        await response.write(ANSWER[0])
        assert request.transport is not None
        request.transport.close()
        return response

    base = await start(serve, chat)
    async with make_async(base_url=base) as client:
        stream = await client.aisearch.instances.chat_completions(
            "docs", messages=MESSAGES, stream=True
        )
        with pytest.raises(cf.StreamError, match="broke off") as info:
            async for _event in stream:
                pass
    assert isinstance(info.value.__cause__, cf.APIConnectionError)


async def test_an_error_status_raises_before_streaming_and_opening_is_retried(
    serve: ServeFn,
) -> None:
    answers = [
        web.json_response({"error": "busy"}, status=503),
        web.json_response(
            {"success": False, "errors": [{"code": 7001, "message": "bad messages"}]}, status=400
        ),
    ]
    calls = 0

    async def chat(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        await request.read()
        return answers[min(calls, 2) - 1]

    base = await start(serve, chat)
    async with make_async(base_url=base) as client:
        with pytest.raises(cf.BadRequestError, match=r"\[7001\] bad messages"):
            await client.aisearch.instances.chat_completions("docs", messages=MESSAGES, stream=True)
    assert calls == 2  # the 503 was retried: nothing had been delivered yet


async def test_a_json_answer_to_a_stream_request_is_a_stream_error(serve: ServeFn) -> None:
    async def chat(request: web.Request) -> web.StreamResponse:
        return web.json_response({"success": False, "errors": [{"message": "no stream here"}]})

    base = await start(serve, chat)
    async with make_async(base_url=base) as client:
        with pytest.raises(cf.StreamError, match=r"expected an event stream.*no stream here"):
            await client.aisearch.instances.chat_completions("docs", messages=MESSAGES, stream=True)


async def test_the_timeout_bounds_each_read_not_the_whole_stream(serve: ServeFn) -> None:
    async def steady(request: web.Request) -> web.StreamResponse:
        response = await open_sse(request)
        await response.write(ANSWER[0])
        for _ in range(6):  # 6 x 0.1 s: longer than the timeout, but never silent for long
            await asyncio.sleep(0.1)
            await response.write(delta("."))
        await response.write(DONE)
        return response

    base = await start(serve, steady)
    async with make_async(base_url=base) as client:
        stream = await client.aisearch.instances.chat_completions(
            "docs", messages=MESSAGES, stream=True, timeout=0.4
        )
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == "......"


async def test_a_stalled_stream_times_out_as_a_stream_error(serve: ServeFn) -> None:
    never = asyncio.Event()

    async def stalled(request: web.Request) -> web.StreamResponse:
        response = await open_sse(request)
        await response.write(ANSWER[0])
        await never.wait()
        return response

    base = await start(serve, stalled)
    try:
        async with make_async(base_url=base) as client:
            stream = await client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True, timeout=0.2
            )
            with pytest.raises(cf.StreamError, match="broke off") as info:
                await stream.get_final_completion()
        assert isinstance(info.value.__cause__, cf.APITimeoutError)
    finally:
        never.set()


async def test_namespace_streams_carry_instance_ids(serve: ServeFn) -> None:
    chunk = {**CHUNK, "instance_id": "docs"}
    errors = [{"instance_id": "blog", "message": "unavailable"}]
    base = await start(
        serve,
        scripted(sse({"chunks": [chunk], "errors": errors}, event="chunks"), *ANSWER[1:]),
        NS_CHAT,
    )
    async with make_async(base_url=base) as client:
        stream = await client.aisearch.namespaces.chat_completions(
            "default",
            messages=MESSAGES,
            aisearch_options={"instance_ids": ["docs", "blog"]},
            stream=True,
        )
        events = aiter(stream)
        first = await anext(events)
        assert isinstance(first, RetrievedChunks)
        assert isinstance(first.chunks[0], NamespaceSearchChunk)
        assert first.errors is not None
        assert first.errors[0].instance_id == "blog"
        # Takes over from the suspended loop and reads the rest.
        final = await stream.get_final_completion()
        del events
    assert isinstance(final, NamespaceChatCompletion)
    assert final.chunks[0].instance_id == "docs"
    assert final.errors is not None
    assert final.errors[0].message == "unavailable"
    assert final.choices[0].message.content == "Hello world"


async def test_events_of_unknown_types_are_skipped(serve: ServeFn) -> None:
    base = await start(
        serve, scripted(ANSWER[0], b": keep-alive\n\n", sse({"x": 1}, event="usage"), *ANSWER[1:])
    )
    async with make_async(base_url=base) as client:
        stream = await client.aisearch.instances.chat_completions(
            "docs", messages=MESSAGES, stream=True
        )
        events = [event async for event in stream]
    assert [type(e).__name__ for e in events] == ["RetrievedChunks"] + ["ChatCompletionChunk"] * 3


async def test_the_sync_facade_streams_one_event_per_hop(serve: ServeFn) -> None:
    base = await start(serve, scripted(*ANSWER))

    def use_sync_client() -> None:
        with make_sync(base_url=base) as client:
            with client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True
            ) as stream:
                events = list(stream)
            assert isinstance(events[0], RetrievedChunks)
            assert stream.done
            assert stream.get_final_completion().choices[0].message.content == "Hello world"

            stream = client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True
            )
            for text in stream.text_deltas():
                assert text == "Hello"
                break
            # Leaving the loop closed the stream on the spot.
            assert "closed" in repr(stream)
            assert repr(stream).startswith("<ChatCompletionStream")

            stream = client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True
            )
            assert stream.get_final_completion().chunks[0].id == "chunk-001"

    await asyncio.to_thread(use_sync_client)


def test_a_bare_cr_ends_a_line_at_once() -> None:
    # Waiting for a possible LF would lose the last event of a CR-only stream.
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n") == []  # the LF completes "\r\n": still one line end
    assert decoder.feed(b"\r") == [ServerSentEvent(None, "a")]
    assert decoder.feed(b"\ndata: [DONE]\r\r") == [ServerSentEvent(None, "[DONE]")]


def test_the_decoder_yields_each_event_as_soon_as_it_is_parsed() -> None:
    decoder = SSEDecoder(max_size=32)
    events = decoder.events(b"data: 1\n\ndata: 2\n\n" + b"x" * 33)
    assert next(events) == ServerSentEvent(None, "1")
    assert next(events) == ServerSentEvent(None, "2")
    with pytest.raises(SSEError, match="a line is longer than 32 bytes"):
        next(events)


@pytest.mark.parametrize(
    ("reads", "message"),
    [
        ([b"data: " + b"x" * 27], "a line is longer than 32 bytes"),  # still unfinished
        ([b"data: " + b"x" * 27 + b"\n"], "a line is longer than 32 bytes"),
        ([b"data: " + b"x" * 6 + b"\n"] * 3, "an event's data is longer than 32 bytes"),
    ],
)
def test_a_line_or_an_event_over_the_limit_raises(reads: list[bytes], message: str) -> None:
    decoder = SSEDecoder(max_size=32)
    *within, beyond = reads
    for read in within:
        decoder.feed(read)
    with pytest.raises(SSEError, match=message):
        decoder.feed(beyond)


def test_limits_are_generous_enough_for_a_large_chunks_event() -> None:
    big = b"x" * (MAX_EVENT_SIZE - 6)
    assert SSEDecoder().feed(b"data: " + big + b"\n\n") == [ServerSentEvent(None, big.decode())]


def test_retry_takes_only_ascii_digits() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"retry: 3000\n\n")
    assert decoder.retry == 3000
    decoder.feed(b"retry: 3s\nretry: \xd9\xa3\n\n")  # not digits, or not ASCII ones
    assert decoder.retry == 3000


async def test_an_endless_line_from_the_server_is_a_stream_error(serve: ServeFn) -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = await open_sse(request)
        await response.write(ANSWER[0] + b"data: ")
        with contextlib.suppress(ConnectionError):
            for _ in range(4 * MAX_EVENT_SIZE // 65536):
                await response.write(b"x" * 65536)
        return response

    base = await start(serve, endless)
    async with make_async(base_url=base) as client:
        stream = await client.aisearch.instances.chat_completions(
            "docs", messages=MESSAGES, stream=True
        )
        received: list[object] = []

        async def consume() -> None:
            async for event in stream:
                received.append(event)

        with pytest.raises(cf.StreamError, match=r"malformed event stream: a line is longer"):
            await consume()
    assert len(received) == 1  # the chunks event came first
    assert "closed" in repr(stream)

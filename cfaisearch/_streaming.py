"""Streamed chat completions: Server-Sent Events parsed as they arrive, typed.

AI Search streams a chat answer as SSE: first an ``event: chunks`` whose data
is the retrieved chunks, then OpenAI-style ``chat.completion.chunk`` deltas,
then ``data: [DONE]``. :class:`SSEDecoder` is sans-I/O (bytes in, events out);
:class:`AsyncChatCompletionStream` reads the socket piece by piece, so the
first event reaches the caller while the model is still writing.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import weakref
from collections.abc import AsyncGenerator, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeAlias, TypeVar

import attrs
import orjson

from ._converter import structure
from ._envelope import ResponseFacts, status_error
from ._exceptions import APIConnectionError, StreamError
from .types.chat import ChatCompletion, ChatUsage, NamespaceChatCompletion
from .types.search import InstanceError, NamespaceSearchChunk, SearchChunk

if TYPE_CHECKING:
    from ._portal import Portal
    from ._transport import StreamedResponse

__all__ = [
    "AsyncChatCompletionStream",
    "ChatCompletionStream",
    "CompletionT",
    "open_chat_stream",
    "ChatCompletionChunk",
    "ChatStreamEvent",
    "ChunkChoice",
    "ChunkDelta",
    "RetrievedChunks",
    "MAX_EVENT_SIZE",
    "SSEDecoder",
    "SSEError",
    "ServerSentEvent",
]

_V = TypeVar("_V")
CompletionT = TypeVar("CompletionT", ChatCompletion, NamespaceChatCompletion)
"""What a stream assembles: an instance's or a namespace's chat completion."""

_DONE: Final = "[DONE]"

MAX_EVENT_SIZE: Final = 8 * 1024 * 1024
"""The longest SSE line, and the most one event's ``data:`` lines may add up to, in bytes.

Generous (the largest event, the retrieved chunks, is typically a few hundred
KiB): it only stops a broken server from filling memory with a line or an
event that never ends.
"""
_BOM: Final = b"\xef\xbb\xbf"
_CR: Final = 0x0D
_LF: Final = 0x0A
_SPACE: Final = 0x20
_LINE_END: Final = re.compile(rb"[\r\n]")


# -- wire events ------------------------------------------------------------------


@attrs.frozen
class ServerSentEvent:
    """One dispatched SSE event: its name (None if unnamed), data and id."""

    event: str | None
    data: str
    id: str | None = None


class SSEError(ValueError):
    """The stream broke a limit of :class:`SSEDecoder` (a line or an event too long)."""


class SSEDecoder:
    """Incremental SSE parser (WHATWG rules); feed it bytes as they arrive.

    Lines may end in CR, LF or CRLF, even when a CRLF is split between two
    reads. Work is linear in the bytes fed: each byte is scanned once, and each
    event is produced as soon as its blank line is parsed. Memory is bounded: a
    line, or the data of one event, longer than ``max_size`` bytes raises
    :class:`SSEError` rather than being buffered.
    """

    def __init__(self, *, max_size: int = MAX_EVENT_SIZE) -> None:
        self.max_size: Final = max_size
        self.retry: int | None = None
        """The last ``retry:`` value (reconnection time in ms); informational only."""
        self._buffer = bytearray()
        self._line_start = 0  # where the line being parsed begins in the buffer
        self._scanned = 0  # the buffer holds no line end from _line_start up to here
        self._after_cr = False  # the last line ended in CR: an LF next completes a CRLF
        self._started = False  # the BOM check is done
        self._event: str | None = None
        self._data: list[str] = []
        self._data_size = 0
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by ``chunk`` (a line may span several chunks)."""
        return list(self.events(chunk))

    def events(self, chunk: bytes) -> Iterator[ServerSentEvent]:
        """Add ``chunk``; iterate the events it completes, each as soon as it is parsed.

        An :class:`SSEError` is raised while iterating. An iterator left
        unfinished loses nothing: the next one continues where it stopped.
        """
        buffer = self._buffer
        dropped = self._line_start
        if dropped:  # drop the parsed lines (cheap: a bytearray moves its start)
            del buffer[:dropped]
            self._scanned -= dropped
            self._line_start = 0
        buffer += chunk
        return self._parse()

    def _parse(self) -> Iterator[ServerSentEvent]:
        buffer = self._buffer
        if not self._started:
            if len(buffer) < len(_BOM) and _BOM.startswith(buffer):
                return  # perhaps a BOM arriving a byte at a time
            self._started = True
            if buffer.startswith(_BOM):
                self._line_start = self._scanned = len(_BOM)
        max_size = self.max_size
        startswith = buffer.startswith
        while True:
            start = self._line_start
            if self._after_cr:
                if start == len(buffer):
                    return
                self._after_cr = False
                if buffer[start] == _LF:
                    start = self._line_start = self._scanned = start + 1
            found = _LINE_END.search(buffer, self._scanned)
            if found is None:
                self._scanned = len(buffer)
                if len(buffer) - start > max_size:
                    raise SSEError(f"a line is longer than {max_size} bytes")
                return
            end = found.start()
            size = end - start
            if size > max_size:
                raise SSEError(f"a line is longer than {max_size} bytes")
            self._after_cr = buffer[end] == _CR
            self._line_start = self._scanned = end + 1
            if not size:
                if self._data:
                    yield self._dispatch()
                else:
                    self._event = None
            elif startswith(b"data:", start, end):
                # The usual line, handled without splitting it into field and value.
                self._data_size += size
                if self._data_size > max_size:
                    raise SSEError(f"an event's data is longer than {max_size} bytes")
                value = start + 5
                if value < end and buffer[value] == _SPACE:
                    value += 1
                self._data.append(buffer[value:end].decode("utf-8", "replace"))
            else:
                self._field(buffer[start:end].decode("utf-8", "replace"), size)

    def _dispatch(self) -> ServerSentEvent:
        data = self._data
        event = _new_sse(self._event, data[0] if len(data) == 1 else "\n".join(data), self._id)
        self._event, self._data, self._data_size = None, [], 0
        return event

    def _field(self, line: str, size: int) -> None:
        field, colon, value = line.partition(":")
        if not field and colon:
            return  # a comment
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data_size += size
            if self._data_size > self.max_size:
                raise SSEError(f"an event's data is longer than {self.max_size} bytes")
            self._data.append(value)
        elif field == "event":
            self._event = value or None
        elif field == "id":
            if "\0" not in value:
                self._id = value or None
        elif field == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)


# -- typed events -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RetrievedChunks:
    """The first event of a stream: the chunks the answer is grounded on.

    For namespace (multi-instance) chat the chunks are
    :class:`~cfaisearch.types.NamespaceSearchChunk`, carrying their instance.
    """

    chunks: list[SearchChunk]
    errors: list[InstanceError] | None = None
    """Namespace chat only: instances that failed (the others still answered)."""


@attrs.frozen(kw_only=True)
class ChunkDelta:
    """What one event adds to the answer."""

    content: str | None = None
    role: str | None = None


@attrs.frozen(kw_only=True)
class ChunkChoice:
    delta: ChunkDelta
    index: int | None = None
    finish_reason: str | None = None


@attrs.frozen(kw_only=True)
class ChatCompletionChunk:
    """One ``chat.completion.chunk`` event (OpenAI's streaming shape)."""

    choices: list[ChunkChoice] = attrs.field(factory=list)
    id: str | None = None
    created: int | None = None
    model: str | None = None
    object: str | None = None
    usage: ChatUsage | None = None

    @property
    def text(self) -> str:
        """The text this event adds to the first choice ("" if none)."""
        # A tolerant client keeps values of the wrong type: read only real text.
        for choice in self.choices if isinstance(self.choices, list) else ():
            if isinstance(choice, ChunkChoice) and choice.index in (0, None):
                content = choice.delta.content if isinstance(choice.delta, ChunkDelta) else None
                return content if isinstance(content, str) else ""
        return ""


def _delta_chunk(data: dict[str, Any], answer: _Answer) -> ChatCompletionChunk | None:
    """A delta event of the usual shape, built without the converter and added to ``answer``.

    Most events of a stream are deltas, so they skip cattrs' generic walk.
    Anything unusual (a value of another type, ``usage``) returns None, and
    the event is left to :func:`structure`, which gives the same objects (or
    the error) and adds it to ``answer`` itself.
    """
    get = data.get
    chunk_id, created, model, kind = get("id"), get("created"), get("model"), get("object")
    raw_choices = get("choices", ())
    if not (
        (chunk_id is None or type(chunk_id) is str)
        and (created is None or type(created) is int)
        and (model is None or type(model) is str)
        and (kind is None or type(kind) is str)
        and get("usage") is None
        and (type(raw_choices) is list or raw_choices == ())
    ):
        return None
    choices = []
    for choice in raw_choices:
        if type(choice) is not dict:
            return None
        delta = choice.get("delta")
        index, finish_reason = choice.get("index"), choice.get("finish_reason")
        if not (
            type(delta) is dict
            and (index is None or type(index) is int)
            and (finish_reason is None or type(finish_reason) is str)
        ):
            return None
        content, role = delta.get("content"), delta.get("role")
        if not ((content is None or type(content) is str) and (role is None or type(role) is str)):
            return None
        choices.append(_new_choice(_new_delta(content, role), index, finish_reason))
    answer.add_choices(data, choices)
    return _new_chunk(choices, chunk_id, created, model, kind)


# attrs' frozen __init__ sets each field through object.__setattr__ by name,
# which costs about twice as much as filling the slots directly; every delta
# builds four of these objects, so the hot path fills them itself. Plain
# fields only: no defaults, converters or validators are involved.
_new: Final = object.__new__
_sse_fields: Final = tuple(
    ServerSentEvent.__dict__[name].__set__ for name in ("event", "data", "id")
)
_delta_content = ChunkDelta.__dict__["content"].__set__
_delta_role = ChunkDelta.__dict__["role"].__set__
_choice_delta = ChunkChoice.__dict__["delta"].__set__
_choice_index = ChunkChoice.__dict__["index"].__set__
_choice_finish = ChunkChoice.__dict__["finish_reason"].__set__
_chunk_fields: Final = tuple(
    ChatCompletionChunk.__dict__[name].__set__
    for name in ("choices", "id", "created", "model", "object", "usage")
)


def _new_sse(event: str | None, data: str, id: str | None) -> ServerSentEvent:
    sse: ServerSentEvent = _new(ServerSentEvent)
    set_event, set_data, set_id = _sse_fields
    set_event(sse, event)
    set_data(sse, data)
    set_id(sse, id)
    return sse


def _new_delta(content: str | None, role: str | None) -> ChunkDelta:
    delta: ChunkDelta = _new(ChunkDelta)
    _delta_content(delta, content)
    _delta_role(delta, role)
    return delta


def _new_choice(delta: ChunkDelta, index: int | None, finish_reason: str | None) -> ChunkChoice:
    choice: ChunkChoice = _new(ChunkChoice)
    _choice_delta(choice, delta)
    _choice_index(choice, index)
    _choice_finish(choice, finish_reason)
    return choice


def _new_chunk(
    choices: list[ChunkChoice],
    chunk_id: str | None,
    created: int | None,
    model: str | None,
    kind: str | None,
) -> ChatCompletionChunk:
    chunk: ChatCompletionChunk = _new(ChatCompletionChunk)
    set_choices, set_id, set_created, set_model, set_object, set_usage = _chunk_fields
    set_choices(chunk, choices)
    set_id(chunk, chunk_id)
    set_created(chunk, created)
    set_model(chunk, model)
    set_object(chunk, kind)
    set_usage(chunk, None)
    return chunk


ChatStreamEvent: TypeAlias = RetrievedChunks | ChatCompletionChunk
"""What iterating a chat stream yields."""


class _End:
    """``[DONE]``, read ahead of the events before it were handed out."""


_END: Final = _End()


@attrs.define
class _Answer:
    """The answer assembled so far, kept as wire data to build the final completion."""

    chunks: list[Any] | None = None
    errors: list[Any] | None = None
    header: dict[str, Any] = attrs.field(factory=dict)
    usage: Any = None
    text: dict[int, list[str]] = attrs.field(factory=dict)
    role: dict[int, str] = attrs.field(factory=dict)
    finish_reason: dict[int, str] = attrs.field(factory=dict)

    def add(self, data: Mapping[str, Any]) -> None:
        for key in ("id", "created", "model"):
            if key in data and key not in self.header:
                self.header[key] = data[key]
        if data.get("usage") is not None:
            self.usage = data["usage"]
        # Tolerant decoding lets any shape through: assemble only what fits.
        choices = data.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if not isinstance(choice, Mapping):
                continue
            index = choice.get("index")
            index = index if type(index) is int else 0
            delta = choice.get("delta")
            delta = delta if isinstance(delta, Mapping) else {}
            if isinstance(content := delta.get("content"), str) and content:
                self.text.setdefault(index, []).append(content)
            if isinstance(role := delta.get("role"), str) and role:
                self.role[index] = role
            if isinstance(reason := choice.get("finish_reason"), str) and reason:
                self.finish_reason[index] = reason

    def add_choices(self, data: Mapping[str, Any], choices: list[ChunkChoice]) -> None:
        """:meth:`add` for a delta already decoded into ``choices`` (with no usage)."""
        header = self.header
        if len(header) < 3:
            for key in ("id", "created", "model"):
                if key in data and key not in header:
                    header[key] = data[key]
        for choice in choices:
            index = choice.index or 0
            delta = choice.delta
            if delta.content:
                text = self.text.get(index)
                if text is None:
                    self.text[index] = [delta.content]
                else:
                    text.append(delta.content)
            if delta.role:
                self.role[index] = delta.role
            if choice.finish_reason:
                self.finish_reason[index] = choice.finish_reason

    def completion(self) -> dict[str, Any]:
        indexes = sorted({0, *self.text, *self.role, *self.finish_reason})
        completion: dict[str, Any] = {
            **self.header,
            "object": "chat.completion",
            "chunks": self.chunks or [],
            "choices": [
                {
                    "index": i,
                    "message": {
                        "role": self.role.get(i, "assistant"),
                        "content": "".join(self.text.get(i, ())),
                    },
                    "finish_reason": self.finish_reason.get(i),
                }
                for i in indexes
            ],
        }
        if self.usage is not None:
            completion["usage"] = self.usage
        if self.errors is not None:
            completion["errors"] = self.errors
        return completion


# -- the stream ----------------------------------------------------------------------


class AsyncChatCompletionStream(ResponseFacts, Generic[CompletionT]):
    """A chat answer arriving as typed events.

    ``async for event in stream`` yields a :class:`RetrievedChunks` then
    :class:`ChatCompletionChunk` deltas until ``[DONE]``; :meth:`text_deltas`
    yields just the text; :meth:`get_final_completion` returns the whole
    answer as the non-streamed method would (reading what is left). Leaving
    a loop early (``break``, an exception, cancellation) closes the stream and
    releases its connection; so do :meth:`aclose` and ``async with``. A new
    loop may take over from a suspended one (an iterator you still hold) and
    continues where it stopped. An error event, or a stream that ends before
    ``[DONE]``, raises :class:`~cfaisearch.StreamError`.
    """

    def __init__(
        self,
        response: StreamedResponse,
        completion_type: type[CompletionT],
        *,
        tolerant: bool = False,
    ) -> None:
        self._response = response
        self._completion_type: type[CompletionT] = completion_type
        # The client's decoding mode: a tolerant client's streams tolerate drift too.
        self._tolerant = tolerant
        self._decoder = SSEDecoder()
        self._answer = _Answer()
        self._chunks: list[SearchChunk] | None = None
        self._done = False
        self._pending: Iterator[ServerSentEvent] = iter(())
        # The next event, already received and decoded by _ready, or the end.
        self._peeked: ChatStreamEvent | _End | None = None
        self._owner: weakref.ref[AsyncGenerator[ChatStreamEvent, None]] | None = None
        self._token: object = None
        self._reading = False

    def __repr__(self) -> str:
        state = "done" if self._done else "closed" if self._response.closed else "open"
        return f"<{type(self).__name__} {self._response.method} {self._response.url} {state}>"

    @property
    def _facts(self) -> StreamedResponse:
        return self._response

    @property
    def chunks(self) -> list[SearchChunk] | None:
        """The retrieved chunks, once their event has been read."""
        return self._chunks

    @property
    def done(self) -> bool:
        """Whether ``[DONE]`` has been read."""
        return self._done

    # -- iteration --------------------------------------------------------------------

    def __aiter__(self) -> AsyncGenerator[ChatStreamEvent, None]:
        if self._reading:
            raise self._error("this stream is already being read by another loop")
        if self._owner is not None and self._owner() is None:
            # The loop that was reading was left early and its generator is gone:
            # the stream is over, even if that generator's cleanup has not run yet.
            self._response.close()
        # A new loop takes over from a suspended one and continues where it stopped.
        token = object()
        events = self._events(token)
        self._token, self._owner = token, weakref.ref(events)
        return events

    async def _events(self, token: object) -> AsyncGenerator[ChatStreamEvent, None]:
        try:
            while not self._done:
                if self._peeked is None:
                    self._ready()
                    if self._peeked is None:
                        await self._read_more()
                        continue
                event, self._peeked = self._peeked, None
                if isinstance(event, _End):
                    self._done = True
                    await self._finish()
                    return
                assert event is not None
                yield event
        finally:
            if self._token is token:  # not superseded by a loop that is still reading
                self._owner = None
                self._response.close()

    async def _read_more(self) -> None:
        if self._response.closed:
            raise self._error("the stream was closed before it ended")
        self._reading = True
        try:
            data = await self._response.read_chunk()
        except APIConnectionError as exc:
            raise self._error(f"the stream broke off: {exc.message}") from exc
        finally:
            self._reading = False
        if not data:
            raise self._error("the stream ended before [DONE]")
        self._pending = self._decoder.events(data)

    def _next_sse(self) -> ServerSentEvent | None:
        """The next event already received, or None if more must be read."""
        try:
            return next(self._pending, None)
        except SSEError as exc:
            raise self._error(f"malformed event stream: {exc}") from exc

    def _ready(self) -> bool:
        """Whether the next event has already arrived; it is decoded now.

        The sync facade asks before bringing an event across with those before
        it, so it never waits on the network while holding events back. The
        end is not counted: the stream becomes :attr:`done` only once its
        reader has taken every event, not when a batch has read ahead.
        """
        while self._peeked is None:
            sse = self._next_sse()
            if sse is None:
                return False
            self._peeked = _END if sse.data == _DONE else self._decode(sse)
        return not isinstance(self._peeked, _End)

    async def _finish(self) -> None:
        """After ``[DONE]``: release the connection at once, never waiting on the server.

        One turn of the loop lets bytes that already arrived (the end of the
        body, normally in the same packet as ``[DONE]``) be parsed; a body that
        has ended then goes back to the pool, and one still open is dropped.
        """
        await asyncio.sleep(0)
        self._response.close()

    def _decode(self, sse: ServerSentEvent) -> ChatStreamEvent | None:
        try:
            data = orjson.loads(sse.data)
        except orjson.JSONDecodeError:
            if sse.event == "error":
                raise self._error(f"error event: {sse.data[:200]}") from None
            raise self._error(f"undecodable event data: {sse.data[:200]!r}") from None
        if (
            sse.event is None
            and type(data) is dict
            and "error" not in data
            and not data.get("errors")
            and (chunk := _delta_chunk(data, self._answer)) is not None
        ):
            return chunk  # the usual event, decoded on the short path
        # A chunks event's "errors" are instances that failed while others answered.
        if sse.event == "error" or (
            sse.event != "chunks"
            and isinstance(data, Mapping)
            and ("error" in data or data.get("errors"))
        ):
            raise self._error(f"error event: {_error_detail(data)}", body=data)
        try:
            if sse.event == "chunks":
                return self._retrieved(data)
            if sse.event in (None, "message") and isinstance(data, Mapping):
                decoded: ChatCompletionChunk = structure(
                    data, ChatCompletionChunk, tolerant=self._tolerant
                )
                self._answer.add(data)
                return decoded
        except ValueError as exc:  # ShapeError, or a malformed chunks event
            raise self._error(f"unexpected {sse.event or 'message'} event: {exc}") from exc
        return None  # an event type added later by the API: skip it

    def _retrieved(self, data: Any) -> RetrievedChunks:
        raw = data.get("chunks") if isinstance(data, Mapping) else data
        errors = data.get("errors") if isinstance(data, Mapping) else None
        chunk_list: Any = (
            list[NamespaceSearchChunk]
            if self._completion_type is NamespaceChatCompletion
            else list[SearchChunk]
        )
        chunks: list[SearchChunk] = structure(raw or [], chunk_list, tolerant=self._tolerant)
        self._answer.chunks, self._answer.errors = raw or [], errors
        self._chunks = chunks
        return RetrievedChunks(
            chunks=chunks,
            errors=(
                structure(errors, list[InstanceError], tolerant=self._tolerant) if errors else None
            ),
        )

    def _error(self, message: str, *, body: object = None) -> StreamError:
        where = f"{self._response.method} {self._response.url}"
        if self._response.request_id:
            where += f"; cf-ray {self._response.request_id}"
        return StreamError(
            f"{message} ({where})", method=self._response.method, url=self._response.url, body=body
        )

    # -- helpers ------------------------------------------------------------------------

    async def text_deltas(self) -> AsyncGenerator[str, None]:
        """Only the answer's text, piece by piece."""
        async with contextlib.aclosing(self.__aiter__()) as events:
            async for event in events:
                if isinstance(event, ChatCompletionChunk) and event.text:
                    yield event.text

    async def get_final_completion(self) -> CompletionT:
        """Read the rest of the stream; the whole answer, with its chunks."""
        if not self._done:
            async with contextlib.aclosing(self.__aiter__()) as events:
                async for _ in events:
                    pass
        completion: CompletionT = structure(
            self._answer.completion(), self._completion_type, tolerant=self._tolerant
        )
        return completion

    async def aclose(self) -> None:
        """Stop reading and release the connection; idempotent."""
        self._response.close()

    async def __aenter__(self) -> AsyncChatCompletionStream[CompletionT]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class ChatCompletionStream(ResponseFacts, Generic[CompletionT]):
    """The sync client's chat stream; events cross from the client's loop as they arrive.

    ``for event in stream`` yields what :class:`AsyncChatCompletionStream`
    yields; leaving the loop early (``break``, an exception) closes the
    stream at once. Use it as a context manager or call :meth:`close` if you
    do not read it to the end.
    """

    def __init__(self, portal: Portal, stream: AsyncChatCompletionStream[CompletionT]) -> None:
        self._portal = portal
        self._async: AsyncChatCompletionStream[CompletionT] = stream

    @staticmethod
    def adopt(
        portal: Portal, value: AsyncChatCompletionStream[CompletionT] | _V
    ) -> ChatCompletionStream[CompletionT] | _V:
        """Wrap ``value`` if it is an async stream; anything else is returned as is."""
        if isinstance(value, AsyncChatCompletionStream):
            return ChatCompletionStream(portal, value)
        return value

    def __repr__(self) -> str:
        return repr(self._async).replace("Async", "", 1)

    @property
    def _facts(self) -> AsyncChatCompletionStream[CompletionT]:
        return self._async

    @property
    def chunks(self) -> list[SearchChunk] | None:
        """The retrieved chunks, once their event has been read."""
        return self._async.chunks

    @property
    def done(self) -> bool:
        """Whether ``[DONE]`` has been read."""
        return self._async.done

    def __iter__(self) -> Iterator[ChatStreamEvent]:
        return self._portal.iterate(self._async.__aiter__, self._async._ready)

    def text_deltas(self) -> Iterator[str]:
        """Only the answer's text, piece by piece."""
        # Filtered on this side: an event without text must not hold up a batch.
        events = self._portal.iterate(self._async.__aiter__, self._async._ready)
        try:
            for event in events:
                if isinstance(event, ChatCompletionChunk) and event.text:
                    yield event.text
        finally:
            events.close()

    def get_final_completion(self) -> CompletionT:
        """Read the rest of the stream; the whole answer, with its chunks."""
        return self._portal.call(self._async.get_final_completion)

    def close(self) -> None:
        """Stop reading and release the connection; idempotent."""
        if self._portal.closed:
            self._async._response.close()  # the client's loop is gone: nothing to wait for
        else:
            self._portal.call(self._async.aclose)

    def __enter__(self) -> ChatCompletionStream[CompletionT]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _error_detail(data: object) -> str:
    if isinstance(data, Mapping):
        error = data.get("error")
        if isinstance(error, Mapping):
            return str(error.get("message", error))
        if error is not None:
            return str(error)
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(
                str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors
            )
    return str(data)[:200]


async def open_chat_stream(
    response: StreamedResponse, completion_type: type[CompletionT], *, tolerant: bool = False
) -> AsyncChatCompletionStream[CompletionT]:
    """Wrap a 2xx streamed response; a JSON body instead of events is an error."""
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        failed = await response.buffered()
        error = status_error(failed)
        raise StreamError(
            f"expected an event stream, got JSON: {error.message}",
            method=response.method,
            url=response.url,
            body=error.body,
        )
    return AsyncChatCompletionStream(response, completion_type, tolerant=tolerant)

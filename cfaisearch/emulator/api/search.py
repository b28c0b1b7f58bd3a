"""Search and chat completions, for one instance or fanned out over a namespace."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from .. import chat, retrieval
from ..errors import ApiError, ErrorCode, invalid
from ..instance_config import DEFAULTS
from ..state import EmulatorState
from ..store import Database, InstanceRow
from ..validation import as_list, as_object, as_str, enum
from ..wire import dumps, encoded_response, envelope, json_response, ok
from .common import (
    json_body,
    namespace_name,
    read_json,
    require_instance,
    require_namespace,
    state,
)

log = logging.getLogger(__name__)

MAX_MESSAGES = 200
MAX_QUERY = 10_000
MAX_NAMESPACE_INSTANCES = 10
_ROLES = ("system", "developer", "user", "assistant", "tool")
_PART_TYPES = ("text", "image_url", "file")


@dataclasses.dataclass(frozen=True)
class Query:
    text: str
    kind: str  # query_kind: text, image or multimodal


def _message_parts(content: object, field: str) -> tuple[list[str], bool]:
    """Text pieces of a message content and whether it carries an image."""
    if content is None:
        return [], False
    if isinstance(content, str):
        return [content], False
    texts, image = [], False
    for i, raw in enumerate(as_list(content, field)):
        where = f"{field}[{i}]"
        part = as_object(raw, where)
        kind = enum(*_PART_TYPES)(part.get("type"), f"{where}.type")
        if kind == "text":
            texts.append(as_str(part.get("text"), f"{where}.text"))
        elif kind == "image_url":
            as_str(
                as_object(part.get("image_url"), f"{where}.image_url").get("url"),
                f"{where}.image_url.url",
            )
            image = True
        else:
            as_str(
                as_object(part.get("file"), f"{where}.file").get("filename"),
                f"{where}.file.filename",
            )
    return texts, image


def parse_messages(value: object, field: str = "messages") -> Query:
    """Validate a conversation; the query is the last user message with content."""
    messages = as_list(value, field, max_len=MAX_MESSAGES)
    last: Query | None = None
    for i, raw in enumerate(messages):
        where = f"{field}[{i}]"
        message = as_object(raw, where)
        role = enum(*_ROLES)(message.get("role"), f"{where}.role")
        if "content" not in message:
            raise invalid(f"{where}.content", "is required (it may be null)")
        texts, image = _message_parts(message["content"], f"{where}.content")
        text = " ".join(t for t in texts if t.strip())
        if role == "user" and (text or image):
            kind = "multimodal" if text and image else "image" if image else "text"
            last = Query(text, kind)
    if last is None:
        raise invalid(field, "needs at least one user message with non-empty content")
    return last


def parse_search_query(body: dict[str, Any]) -> Query:
    has_query = body.get("query") is not None
    has_messages = body.get("messages") is not None
    if has_query and has_messages:
        raise invalid("query", "send either query or messages, not both")
    if has_messages:
        return parse_messages(body["messages"])
    if not has_query:
        raise invalid("query", "either query or messages is required")
    text = as_str(body["query"], "query", max_len=MAX_QUERY)
    if not text.strip():
        raise invalid("query", "must not be blank")
    return Query(text, "text")


async def _retrieve(
    st: EmulatorState, instance: InstanceRow, query: Query, options: retrieval.Options
) -> list[list[dict[str, Any]]]:
    workers = st.search_workers
    if workers is not None and workers.alive and options.needs_vectors:
        generations = {instance.pk: st.store.generation(instance.pk)}
        return await workers.call(
            _groups, generations, instance.pk, instance.config, query.text, options
        )
    # On a search thread: searches run beside each other and beside writes.
    return await st.store.search(
        st.retriever.search, instance.pk, instance.config, query.text, options
    )


def _groups(
    db: Database,
    retriever: retrieval.Retriever,
    instance_pk: int,
    config: dict[str, Any],
    query: str,
    options: retrieval.Options,
) -> list[list[dict[str, Any]]]:
    return retriever.search(db, instance_pk, config, query, options)


def _resolve(
    db: Database, namespace: str, instance_id: str, body: dict[str, Any]
) -> tuple[InstanceRow, retrieval.Options]:
    instance = require_instance(db, namespace, instance_id)
    parsed = retrieval.parse_request(body.get("ai_search_options"), "ai_search_options")
    return instance, retrieval.resolve(parsed, instance.config, "ai_search_options")


def _resolve_and_search(
    db: Database,
    retriever: retrieval.Retriever,
    namespace: str,
    instance_id: str,
    body: dict[str, Any],
    query: str,
    here_too: bool,
) -> tuple[InstanceRow, retrieval.Options, list[list[dict[str, Any]]] | None]:
    """Resolve the request and, unless it is for the workers, search right away."""
    instance, options = _resolve(db, namespace, instance_id, body)
    if options.needs_vectors and not here_too:
        return instance, options, None
    return instance, options, retriever.search(db, instance.pk, instance.config, query, options)


async def search_instance(
    st: EmulatorState, namespace: str, instance_id: str, body: dict[str, Any], query: Query
) -> tuple[InstanceRow, list[dict[str, Any]]]:
    """The instance and its hits (each hit followed by its context chunks)."""
    # Lookup and search from one snapshot, in one hop to a search thread;
    # searches that score vectors (CPU-bound Python) go on to the workers.
    instance, options, groups = await st.store.search(
        _resolve_and_search,
        st.retriever,
        namespace,
        instance_id,
        body,
        query.text,
        st.search_workers is None or not st.search_workers.alive,
    )
    if groups is None:
        groups = await _retrieve(st, instance, query, options)
    return instance, [chunk for group in groups for chunk in group]


async def _search_instance(
    request: web.Request, body: dict[str, Any], query: Query
) -> tuple[InstanceRow, list[dict[str, Any]]]:
    st = state(request)
    return await search_instance(st, namespace_name(request), request.match_info["id"], body, query)


def answer_search(
    db: Database, retriever: retrieval.Retriever, namespace: str, instance_id: str, raw: bytes
) -> bytes:
    """The search endpoint from request body to encoded response, in one snapshot.

    One function for both places it runs: a search thread, or a search
    process, which then leaves the server only HTTP to do.
    """
    body = json_body(raw)
    query = parse_search_query(body)
    instance, options = _resolve(db, namespace, instance_id, body)
    groups = retriever.search(db, instance.pk, instance.config, query.text, options)
    chunks = [chunk for group in groups for chunk in group]
    result = {"chunks": chunks, "query_kind": query.kind, "search_query": query.text}
    return dumps(envelope(result)).encode()


async def search(request: web.Request) -> web.Response:
    st = state(request)
    raw = await request.read()  # aiohttp enforces client_max_size (413)
    where = (namespace_name(request), request.match_info["id"])
    workers = st.search_workers
    if workers is not None and workers.alive:
        body = await workers.call(answer_search, st.store.generations(), *where, raw)
    else:
        body = await st.store.search(answer_search, st.retriever, *where, raw)
    return encoded_response(body)


@dataclasses.dataclass(frozen=True)
class ChatRequest:
    query: Query
    model: str | None
    stream: bool
    prompt: str  # all message text, for the usage counts


def parse_chat(body: dict[str, Any]) -> ChatRequest:
    messages = body.get("messages")
    query = parse_messages(messages)
    model = body.get("model")
    if model is not None:
        as_str(model, "model")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise invalid("stream", "must be a boolean")
    # Already validated by parse_messages: every message is an object with content.
    texts = [t for m in as_list(messages, "messages") for t in _message_parts(m["content"], "")[0]]
    return ChatRequest(query, model, bool(stream), " ".join(texts))


async def _answer(
    request: web.Request,
    chat_request: ChatRequest,
    chunks: list[dict[str, Any]],
    default_model: str | None,
    errors: list[dict[str, str]] | None = None,
) -> web.StreamResponse:
    # An empty model means "the instance's model, else the service default".
    model = chat_request.model or default_model or DEFAULTS["ai_search_model"]
    question = chat_request.query.text
    content = chat.answer(question, chunks) if question else chat.NO_ANSWER
    if chat_request.stream:
        events = chat.sse_events(model=model, content=content, chunks=chunks)
        return await _stream(request, events)
    completion = chat.completion(
        model=model, content=content, chunks=chunks, prompt=chat_request.prompt, errors=errors
    )
    # Not enveloped: the body is the OpenAI-style completion object itself.
    return json_response(completion)


async def _stream(request: web.Request, events: Iterable[bytes]) -> web.StreamResponse:
    delay = state(request).config.stream_delay
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    try:
        for position, event in enumerate(events):
            if position and delay:
                await asyncio.sleep(delay)
            await response.write(event)  # each event reaches the socket on its own
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client went away mid-stream; nothing left to tell it
    return response


async def chat_completions(request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    chat_request = parse_chat(body)
    instance, chunks = await _search_instance(request, body, chat_request.query)
    return await _answer(request, chat_request, chunks, instance.config["ai_search_model"])


def _instance_ids(options: dict[str, Any]) -> list[str]:
    raw = options.get("instance_ids")
    field = "ai_search_options.instance_ids"
    ids = [i for i in raw if isinstance(i, str) and i] if isinstance(raw, list) else []
    if (
        not isinstance(raw, list)
        or len(ids) != len(raw)
        or not 1 <= len(ids) <= MAX_NAMESPACE_INSTANCES
    ):
        raise ApiError(
            400,
            ErrorCode.INVALID_INSTANCE_IDS,
            f"invalid {field}: expected 1-{MAX_NAMESPACE_INSTANCES} instance ids (strings)",
            pointer="/ai_search_options/instance_ids",
        )
    return list(dict.fromkeys(ids))  # duplicates would only repeat chunks


def _namespace_instances(
    db: Database, namespace: str, ids: list[str]
) -> dict[str, InstanceRow | None]:
    require_namespace(db, namespace)
    return {i: db.get_instance(namespace, i) for i in ids}


async def _fan_out(
    request: web.Request, body: dict[str, Any], query: Query
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Search each listed instance and merge the hits into one ranking."""
    st = state(request)
    if body.get("ai_search_options") is None:
        raise invalid("ai_search_options", "is required (with instance_ids)")
    raw_options = as_object(body["ai_search_options"], "ai_search_options")
    ids = _instance_ids(raw_options)
    parsed = retrieval.parse_request(raw_options, "ai_search_options")
    instances = await st.store.read(_namespace_instances, namespace_name(request), ids)
    errors: list[dict[str, str]] = []
    tasks = {}
    for instance_id, instance in instances.items():
        if instance is None:
            errors.append({"instance_id": instance_id, "message": "instance not found"})
            continue
        try:
            options = retrieval.resolve(parsed, instance.config, "ai_search_options")
        except ApiError as exc:
            errors.append({"instance_id": instance_id, "message": exc.message})
            continue
        tasks[instance_id] = asyncio.ensure_future(_retrieve(st, instance, query, options))
    outcomes = await asyncio.gather(*tasks.values(), return_exceptions=True)
    ranked = []
    for instance_id, outcome in zip(tasks, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            # Partial success: one failing instance must not sink the others.
            log.error("search of instance %s failed", instance_id, exc_info=outcome)
            errors.append({"instance_id": instance_id, "message": "internal error"})
            continue
        for position, group in enumerate(outcome):
            tagged = [chunk | {"instance_id": instance_id} for chunk in group]
            ranked.append((-group[0]["score"], instance_id, position, tagged))
    ranked.sort(key=lambda entry: entry[:3])
    limit = parsed.retrieval.get("max_num_results", 10)
    return [chunk for *_, group in ranked[:limit] for chunk in group], errors


async def namespace_search(request: web.Request) -> web.Response:
    body = await read_json(request)
    query = parse_search_query(body)
    chunks, errors = await _fan_out(request, body, query)
    result = {
        "chunks": chunks,
        "query_kind": query.kind,
        "search_query": query.text,
        "errors": errors,
    }
    return ok(result)


async def namespace_chat_completions(request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    chat_request = parse_chat(body)
    chunks, errors = await _fan_out(request, body, chat_request.query)
    return await _answer(request, chat_request, chunks, None, errors)

"""The AutoRAG API's routes (``/autorag/rags/{id}/...``), still called by older code.

They act on the instance ``{id}`` of the default namespace, take the old
request bodies and answer in the old shapes: search results are grouped by
file as ``vector_store.search_results.page`` objects, and filters use the
old ``{"type": "eq", "key": ..., "value": ...}`` form.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from .. import chat
from ..errors import invalid
from ..instance_config import DEFAULTS
from ..store import DEFAULT_NAMESPACE
from ..validation import as_list, as_object, as_str, boolean, clean, integer, number, obj, string
from ..wire import ok
from . import jobs
from .common import read_json, state
from .search import MAX_QUERY, Query, search_instance

_COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte")
_BODY = {
    "query": string(),
    "rewrite_query": boolean(),
    "max_num_results": integer(lo=1, hi=50),
    "ranking_options": obj({"score_threshold": number(lo=0, hi=1), "ranker": string()}),
    "reranking": obj({"enabled": boolean(), "model": string()}),
    "filters": lambda value, field: value,  # translated below, with precise errors
    "model": string(),
    "system_prompt": string(),
    "stream": boolean(),
}


def translate_filter(raw: object, field: str = "filters") -> dict[str, Any]:
    """An AutoRAG filter as the AI Search filter object that means the same.

    ``and`` nests freely; ``or`` is only expressible (as ``$in``) when every
    branch is ``eq`` on one key, since AI Search filters have no OR.
    """
    spec = as_object(raw, field)
    kind = spec.get("type")
    if kind in _COMPARISONS:
        key = as_str(spec.get("key"), f"{field}.key")
        value = spec.get("value")
        if not isinstance(value, (str, int, float, bool)):
            raise invalid(f"{field}.value", "must be a string, number or boolean")
        return {key: {f"${kind}": value}}
    branches = [
        translate_filter(b, f"{field}.filters[{i}]")
        for i, b in enumerate(as_list(spec.get("filters"), f"{field}.filters"))
    ]
    if kind == "and":
        merged: dict[str, Any] = {}
        for branch in branches:
            for key, ops in branch.items():
                if set(ops) & set(merged.get(key, {})):
                    raise invalid(field, f"repeats an operator on '{key}'")
                merged[key] = merged.get(key, {}) | ops
        return merged
    if kind == "or":
        keys = {key for branch in branches for key in branch}
        ops = [op for branch in branches for key_ops in branch.values() for op in key_ops]
        if len(keys) != 1 or set(ops) != {"$eq"}:
            raise invalid(field, "'or' is only supported as 'eq' comparisons on one key")
        values = [next(iter(b.values()))["$eq"] for b in branches]
        return {keys.pop(): {"$in": values}}
    raise invalid(f"{field}.type", f"must be one of {', '.join((*_COMPARISONS, 'and', 'or'))}")


def _options(body: dict[str, Any]) -> dict[str, Any]:
    retrieval: dict[str, Any] = {}
    if "max_num_results" in body:
        retrieval["max_num_results"] = body["max_num_results"]
    threshold = (body.get("ranking_options") or {}).get("score_threshold")
    if threshold is not None:
        retrieval["match_threshold"] = threshold
    if body.get("filters") is not None:
        retrieval["filters"] = translate_filter(body["filters"])
    options: dict[str, Any] = {"retrieval": retrieval}
    reranking = body.get("reranking")
    if reranking:
        options["reranking"] = reranking
    return {"ai_search_options": options}


def _page(query: str, chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """Hits grouped by file, best file first, as the AutoRAG API answered."""
    files: dict[str, dict[str, Any]] = {}
    for chunk in chunks:
        item = chunk["item"]
        entry = files.get(item["key"])
        if entry is None:
            metadata = dict(item["metadata"])
            timestamp = metadata.pop("timestamp", item["timestamp"])
            entry = files[item["key"]] = {
                "file_id": chunk["id"],
                "filename": item["key"],
                "score": chunk["score"],
                "attributes": {"modified_date": timestamp, **metadata},
                "content": [],
            }
        entry["content"].append({"id": chunk["id"], "type": "text", "text": chunk["text"]})
    return {
        "object": "vector_store.search_results.page",
        "search_query": query,
        "data": list(files.values()),
        "has_more": False,
        "next_page": None,
    }


async def _search(request: web.Request) -> tuple[dict[str, Any], str, list[dict[str, Any]], str]:
    raw = await read_json(request)
    body = clean(raw, _BODY, required=("query",))
    query = as_str(body["query"], "query", max_len=MAX_QUERY)
    if not query.strip():
        raise invalid("query", "must not be blank")
    st = state(request)
    instance, chunks = await search_instance(
        st, DEFAULT_NAMESPACE, request.match_info["id"], _options(body), Query(query, "text")
    )
    model = body.get("model") or instance.config["ai_search_model"] or DEFAULTS["ai_search_model"]
    return body, query, chunks, str(model)


async def search(request: web.Request) -> web.Response:
    """``POST /autorag/rags/{id}/search``: retrieval only."""
    _, query, chunks, _ = await _search(request)
    return ok(_page(query, chunks))


def _sse(content: str) -> Iterator[bytes]:
    # The AutoRAG stream carried only the answer, Workers AI style, no chunks.
    for delta in chat.deltas(content):
        yield b"data: " + json.dumps({"response": delta}).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


async def ai_search(request: web.Request) -> web.StreamResponse:
    """``POST /autorag/rags/{id}/ai-search``: retrieval and a generated answer."""
    body, query, chunks, _ = await _search(request)
    content = chat.answer(query, chunks)
    if body.get("stream"):
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        for event in _sse(content):
            await response.write(event)
        await response.write_eof()
        return response
    return ok(_page(query, chunks) | {"response": content})


async def sync(request: web.Request) -> web.Response:
    """``PATCH /autorag/rags/{id}/sync``: start a sync job; answers ``{"job_id": ...}``."""
    created = await jobs.create(request)
    job = json.loads(created.text or "{}")["result"]
    return ok({"job_id": job["id"]})

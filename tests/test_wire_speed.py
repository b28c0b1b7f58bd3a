"""The fast paths of issue 12 give what the general ones gave, and save the work they claim.

Sync streams bring across, in one loop hop, every event that has already
arrived (the first alone, never delayed); delta events skip the converter;
models and lists take generated functions that must agree with cattrs' own on
any document, well-formed or not.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import weakref
from pathlib import Path
from typing import Any

import attrs
import cattrs
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cfaisearch as cf
from cfaisearch import _portal, _streaming
from cfaisearch._converter import (
    _SHARED,
    _SHARED_LIMIT,
    _Tolerant,
    converter,
    make_converter,
    structure,
)
from cfaisearch._models import BaseModel
from cfaisearch._streaming import ChatCompletionChunk, RetrievedChunks
from cfaisearch._transport import _exchange_timeout
from cfaisearch.types import (
    ChatCompletion,
    Instance,
    InstanceListItem,
    InstanceStats,
    Item,
    ItemChunk,
    ItemLog,
    Job,
    JobLog,
    Namespace,
    NamespaceChatCompletion,
    Token,
)
from cfaisearch.types.instances import BoostBy, IndexingOptions, PublicEndpointParams, RateLimit
from cfaisearch.types.params import MessageParam
from cfaisearch.types.search import NamespaceSearchResult, SearchResult
from tests.support.clients import ACCOUNT, ServeFn, make_async, make_sync

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")


CHAT = f"/client/v4/accounts/{ACCOUNT}/ai-search/instances/docs/chat/completions"
MESSAGES: list[MessageParam] = [{"role": "user", "content": "What is this about?"}]
FIXTURES = Path(__file__).parent / "fixtures"


def sse(data: object, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def delta(text: str, **extra: object) -> bytes:
    return sse(
        {
            "id": "id-1",
            "created": 1776072781,
            "model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
            **extra,
        }
    )


CHUNKS = sse([{"id": "c1", "type": "text", "score": 0.5, "text": "Docs."}], event="chunks")
DONE = b"data: [DONE]\n\n"


async def start(serve: ServeFn, parts: list[bytes], gate: asyncio.Event | None = None) -> str:
    """A chat endpoint writing ``parts[0]``, then (once ``gate`` is set) the rest at once."""

    async def chat(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(parts[0])
        if gate is not None:
            await asyncio.wait_for(gate.wait(), 10)
        await response.write(b"".join(parts[1:]))
        return response

    app = web.Application()
    app.router.add_post(CHAT, chat)
    return await serve(app)


class HopCounter:
    """Counts the sync client's trips to its loop."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hops = 0
        real = _portal._Engine.call

        def call(engine: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            self.hops += 1
            return real(engine, fn, *args, **kwargs)

        monkeypatch.setattr(_portal._Engine, "call", call)


async def test_a_sync_stream_brings_arrived_events_across_together(
    serve: ServeFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first event comes alone and at once; the burst after it in a few hops."""
    gate = asyncio.Event()
    loop = asyncio.get_running_loop()
    texts = [f"w{n} " for n in range(200)]
    base = await start(serve, [CHUNKS, *(delta(t) for t in texts), DONE], gate)
    counter = HopCounter(monkeypatch)

    def use_sync_client() -> tuple[float, int, list[str]]:
        with (
            make_sync(base_url=base) as client,
            client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True
            ) as stream,
        ):
            events = iter(stream)
            began = time.monotonic()
            first = next(events)
            waited = time.monotonic() - began
            assert isinstance(first, RetrievedChunks)
            loop.call_soon_threadsafe(gate.set)  # only now is the rest written
            hops_before = counter.hops
            got = [e.text for e in events if isinstance(e, ChatCompletionChunk)]
            return waited, counter.hops - hops_before, got

    waited, hops, got = await asyncio.to_thread(use_sync_client)
    assert waited < 5  # the first event did not wait for the gated burst
    assert got == texts
    assert hops < 20  # one hop per event would be 201


@pytest.mark.parametrize("texts_only", [False, True])
async def test_an_arrived_event_without_output_does_not_hold_up_a_batch(
    serve: ServeFn, texts_only: bool
) -> None:
    """An event of an unknown type after "Hello" must not make "Hello" wait for the network."""
    ping = sse({"n": 1}, event="ping")
    loop = asyncio.get_running_loop()
    gate = asyncio.Event()
    base = await start(serve, [CHUNKS + delta("Hello") + ping, delta(" world") + DONE], gate)

    def use_sync_client() -> float:
        with make_sync(base_url=base) as client:
            stream = client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True
            )
            with stream:
                began = time.monotonic()
                texts = stream.text_deltas() if texts_only else None
                events = iter(stream) if texts is None else None
                if texts is not None:
                    assert next(texts) == "Hello"
                else:
                    assert events is not None
                    assert isinstance(next(events), RetrievedChunks)
                    hello = next(events)
                    assert isinstance(hello, ChatCompletionChunk)
                    assert hello.text == "Hello"
                waited = time.monotonic() - began
                loop.call_soon_threadsafe(gate.set)
                rest = (
                    list(texts)
                    if texts is not None
                    else [getattr(e, "text", e) for e in events or ()]
                )
                assert rest == [" world"]
            return waited

    assert await asyncio.to_thread(use_sync_client) < 5  # the gate waits 10 s


async def test_events_read_before_an_error_reach_the_sync_caller_first(serve: ServeFn) -> None:
    """A batch that ends in an error hands over its events, then raises."""
    error = sse({"error": {"message": "model overloaded"}}, event="error")
    base = await start(serve, [CHUNKS, delta("a"), delta("b"), delta("c"), error])

    def use_sync_client() -> list[str]:
        got: list[str] = []
        with make_sync(base_url=base) as client:
            stream = client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True
            )
            events = iter(stream)
            for event in events:
                if isinstance(event, ChatCompletionChunk):
                    got.append(event.text)
                    if event.text == "c":
                        break  # the error is next, already read with "c"
            with pytest.raises(cf.StreamError, match="model overloaded"):
                next(events)
            assert "closed" in repr(stream)
        return got

    assert await asyncio.to_thread(use_sync_client) == ["a", "b", "c"]


async def test_deltas_are_built_without_the_converter(
    serve: ServeFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Usual deltas take the short path; an unusual one still decodes as cattrs would."""
    calls: list[Any] = []
    real = structure  # what _streaming calls, until the test swaps it

    def counting(data: Any, model: Any, **kwargs: Any) -> Any:
        calls.append(model)
        return real(data, model, **kwargs)

    monkeypatch.setattr(_streaming, "structure", counting)
    odd = delta("!", created="1776072790", usage={"total_tokens": 9})
    base = await start(serve, [CHUNKS, delta("Hello"), delta(" world"), odd, DONE])
    async with make_async(base_url=base) as client:
        stream = await client.aisearch.instances.chat_completions(
            "docs", messages=MESSAGES, stream=True
        )
        events = [event async for event in stream]
        assert ChatCompletionChunk not in calls[:-1]  # only the odd delta needed cattrs
        assert calls[-1] is ChatCompletionChunk
        usual, unusual = events[1], events[3]
        assert isinstance(usual, ChatCompletionChunk)
        assert isinstance(unusual, ChatCompletionChunk)
        assert usual == real(json.loads(delta("Hello")[6:]), ChatCompletionChunk)
        assert unusual.created == 1776072790
        assert unusual.usage is not None
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == "Hello world!"
    assert final.usage is not None
    assert final.usage.total_tokens == 9


# -- generated model functions ------------------------------------------------------

MODELS: list[tuple[str, Any]] = [
    ("chat_completion", ChatCompletion),
    ("namespace_chat_completion", NamespaceChatCompletion),
    ("instance", Instance),
    ("instance_list_item", InstanceListItem),
    ("instance_stats", InstanceStats),
    ("item", Item),
    ("item_chunk", ItemChunk),
    ("item_log", ItemLog),
    ("job", Job),
    ("job_log", JobLog),
    ("namespace", Namespace),
    ("search_result", SearchResult),
    ("namespace_search_result", NamespaceSearchResult),
    ("token", Token),
]
SLOW = make_converter(fast=False)
SLOW_TOLERANT = _Tolerant(SLOW)
FAST_TOLERANT = _Tolerant(converter)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def seen(value: Any) -> object:
    """A decoded value as a user can see it: its repr, and its dumps (what was received)."""
    models = value if isinstance(value, list) else [value]
    dumps = [
        (
            m.to_dict(),
            m.model_dump(exclude_unset=True),
            # A string, so the order of the keys counts too.
            m.to_json(use_api_names=False, indent=None),
        )
        for m in models
        if isinstance(m, BaseModel)
    ]
    return repr(value), dumps


def outcome(conv: cattrs.Converter, tolerant: _Tolerant, data: Any, model: Any) -> object:
    """What a converter makes of ``data``: the value as seen, or the error's message."""
    strict: tuple[object, ...]
    try:
        return seen(conv.structure(data, model))
    except cattrs.BaseValidationError as exc:
        strict = ("invalid", cattrs.transform_error(exc))
    except Exception as exc:
        strict = ("error", type(exc).__name__, str(exc))
    try:
        return (*strict, seen(tolerant.top(data, model)))
    except Exception as exc:
        return (*strict, type(exc).__name__, str(exc))


def test_the_fast_converter_takes_its_own_paths() -> None:
    """Models and lists get the generated functions (not cattrs' ones)."""
    hook = converter.get_structure_hook(Instance)
    assert hook.__code__.co_filename.startswith("<cfaisearch fast structure")
    # Wrapped only to remember the response (see cfaisearch._models).
    slow = inspect.unwrap(SLOW.get_structure_hook(Instance))
    assert slow.__code__.co_filename.startswith("<cattrs")
    assert converter.get_structure_hook(list[Instance]).__qualname__.startswith("_fast_list_hook")


@pytest.mark.parametrize(("name", "model"), MODELS)
def test_fixtures_decode_the_same_on_both_paths(name: str, model: Any) -> None:
    data = fixture(name)
    assert outcome(converter, FAST_TOLERANT, data, model) == outcome(
        SLOW, SLOW_TOLERANT, data, model
    )
    assert outcome(converter, FAST_TOLERANT, [data, data], list[model]) == outcome(
        SLOW, SLOW_TOLERANT, [data, data], list[model]
    )


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["text", "2026-05-02T09:20:01Z", "active", "1", "1.5", "true"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def drifted(draw: st.DrawFn) -> tuple[Any, Any]:
    """A fixture with a few values replaced or removed anywhere in it."""
    name, model = draw(st.sampled_from(MODELS))
    data = fixture(name)
    for _ in range(draw(st.integers(1, 3))):
        node = data
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, (dict, list)) and child and draw(st.booleans()):
                node = child
                continue
            if isinstance(node, dict) and draw(st.integers(0, 4)) == 0:
                del node[key]
            elif isinstance(node, dict) and draw(st.integers(0, 4)) == 0:
                node[draw(st.sampled_from(["unknown", "aisearch_model", "dataType"]))] = draw(JSON)
            else:
                node[key] = draw(JSON)
            break
    return data, model


def test_decoded_models_are_their_own_frozen_class() -> None:
    """Filled through a mutable twin, a model ends as its own frozen, weakly referable class."""
    item = converter.structure(fixture("instance_list_item"), InstanceListItem)
    assert type(item) is InstanceListItem
    assert type(item.public_endpoint_params) is PublicEndpointParams
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        item.id = "other"  # type: ignore[misc]
    assert weakref.ref(item)() is item
    assert item == SLOW.structure(fixture("instance_list_item"), InstanceListItem)


def test_equal_small_objects_are_one_object() -> None:
    """A small all-scalar object decoded twice is shared; anything received beside it is not."""
    first = converter.structure({"period_ms": 60000, "requests": 120}, RateLimit)
    again = converter.structure({"requests": 120, "period_ms": 60000}, RateLimit)
    assert again is first
    assert converter.structure({"period_ms": 60000, "requests": 121}, RateLimit) is not first
    # An explicit null and an unknown key are part of what was received: never shared.
    null = converter.structure({"period_ms": 60000, "requests": 120, "technique": None}, RateLimit)
    extra = converter.structure({"period_ms": 60000, "requests": 120, "x": 1}, RateLimit)
    assert null == first
    assert null is not first
    assert null.to_dict() == {"period_ms": 60000, "requests": 120, "technique": None}
    assert extra.to_dict() == {"period_ms": 60000, "requests": 120, "x": 1}
    assert first.to_dict() == {"period_ms": 60000, "requests": 120}
    # Values equal in Python but not of one type are not confused (True == 1).
    number = converter.structure({"keyword_tokenizer": "porter", "use_ocr": True}, IndexingOptions)
    kept = structure({"keyword_tokenizer": "porter", "use_ocr": 1}, IndexingOptions, tolerant=True)
    assert number.use_ocr is True
    assert type(kept.use_ocr) is int
    odd = structure({"period_ms": True}, RateLimit, tolerant=True)
    assert odd.period_ms is True
    assert converter.structure({"period_ms": 1}, RateLimit).period_ms == 1


def test_the_shared_objects_are_bounded() -> None:
    """A server sending endless distinct values cannot grow memory without bound."""
    seen_values = [converter.structure({"requests": n}, RateLimit) for n in range(5000)]
    assert [limit.requests for limit in seen_values] == list(range(5000))
    assert len(_SHARED[RateLimit]) <= _SHARED_LIMIT


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drifted())
def test_drifted_documents_decode_the_same_on_both_paths(case: tuple[Any, Any]) -> None:
    """Any mismatch: the same objects, or the same error, strict and tolerant."""
    data, model = case
    assert outcome(converter, FAST_TOLERANT, data, model) == outcome(
        SLOW, SLOW_TOLERANT, data, model
    )


def test_portal_iterate_brings_as_many_items_as_ready_vouches_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One item in the first hop; then, while ``ready()`` holds, the rest together."""

    async def numbers() -> Any:
        for n in range(50):
            yield n

    portal = _portal.Portal()
    counter = HopCounter(monkeypatch)
    try:
        assert list(portal.iterate(numbers, lambda: True)) == list(range(50))
        batched, counter.hops = counter.hops, 0
        assert list(portal.iterate(numbers, lambda: False)) == list(range(50))
        one_by_one = counter.hops
    finally:
        portal.close()
    assert batched == 3  # making the iterator, the first item, then the other 49 and the end
    assert one_by_one == 52


def test_first_attempts_share_their_aiohttp_timeouts() -> None:
    """The timeouts of a call's first attempt are built once per value, not per request."""
    assert _exchange_timeout(60.0, 5.0) is _exchange_timeout(60.0, 5.0)
    assert _exchange_timeout(60.0, 5.0).total == 60.0
    assert _exchange_timeout(30.0, 5.0).total == 30.0


def test_a_small_object_with_one_renamed_key_is_shared_with_what_it_received() -> None:
    """The wire key kept beside the value is part of what is shared; absent or null is not."""
    sent = {"field": "timestamp", "direction": "desc", "dataType": "datetime"}
    first = converter.structure(sent, BoostBy)
    assert converter.structure(dict(sent), BoostBy) is first
    assert first.to_dict(use_api_names=False) == {
        "field": "timestamp",
        "direction": "desc",
        "data_type": "datetime",
        "dataType": "datetime",
    }
    absent = converter.structure({"field": "timestamp", "direction": "desc"}, BoostBy)
    null = converter.structure({**sent, "dataType": None}, BoostBy)
    assert absent is not first
    assert null is not absent
    assert absent.to_dict(use_api_names=False) == {"field": "timestamp", "direction": "desc"}
    assert null.to_dict(use_api_names=False) == {
        "field": "timestamp",
        "direction": "desc",
        "data_type": None,
        "dataType": None,
    }


def test_each_model_has_one_twin_class_however_often_it_is_inlined() -> None:
    """BoostBy is decoded inside several models' functions; all of them fill the same twin."""
    converter.structure(fixture("instance_list_item"), InstanceListItem)
    converter.structure(fixture("instance"), Instance)
    twins = [cls for cls in BaseModel.__subclasses__() if cls.__name__ == "_BoostByBuilder"]
    assert len(twins) == 1

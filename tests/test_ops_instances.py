"""Instances (``/instances``) and their jobs: every operation on the wire, both clients."""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import aioresponses

from cfaisearch.types import SearchResult
from tests.support.clients import make_async
from tests.support.ops import (
    KINDS,
    Op,
    assert_refused,
    assert_request,
    envelope,
    fixture,
    ids,
    run_op,
    sent_requests,
    strict,
)
from tests.support.ops_instances import MESSAGES, OPS

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("op", OPS, ids=ids(OPS))
async def test_request_and_decoding(kind: str, op: Op, mocked: aioresponses) -> None:
    result, request = await run_op(kind, op, mocked)
    assert_request(op, request)
    assert result == op.expected


async def test_search_with_messages(mocked: aioresponses) -> None:
    op = Op(
        "instances.search",
        lambda ai: ai.instances.search("docs-search", messages=MESSAGES),
        "POST",
        "/instances/docs-search/search",
        envelope(fixture("search_result")),
        strict("search_result", SearchResult),
        body={"messages": MESSAGES},
    )
    result, request = await run_op("async", op, mocked)
    assert_request(op, request)
    assert result == op.expected


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda i: i.create(id="Docs Search"), "id"),
        (lambda i: i.create(id=""), "id"),
        (lambda i: i.update("a/b", paused=True), "id"),
        (lambda i: i.read(""), "id"),
        (lambda i: i.delete("."), "id"),
        (lambda i: i.stats("x\x00"), "id"),
        (lambda i: i.read("ok", account_id=""), "account_id"),
        (lambda i: i.search("ok"), "query"),
        (lambda i: i.search("ok", query="q", messages=MESSAGES), "query"),
        (lambda i: i.search("ok", query=""), "query"),
        (lambda i: i.search("ok", messages=[]), "messages"),
        (lambda i: i.chat_completions("ok", messages=[]), "messages"),
        (lambda i: i.chat_completions("", messages=MESSAGES), "id"),
        (lambda i: i.list(per_page=101), "per_page"),
        (lambda i: i.list(page=0), "page"),
    ],
)
async def test_bad_input_fails_before_any_request(
    mocked: aioresponses, call: Any, name: str
) -> None:
    await assert_refused(mocked, call, name, on="instances")


async def test_messages_must_be_a_list_of_dicts(mocked: aioresponses) -> None:
    async with make_async() as client:
        with pytest.raises(TypeError, match="`messages`"):
            await client.aisearch.instances.chat_completions("ok", messages="hello")  # type: ignore[arg-type]
    assert sent_requests(mocked) == []

"""Namespaces and their instances: every operation on the wire, both clients."""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import aioresponses

from cfaisearch.types import Namespace
from tests.support.ops import (
    KINDS,
    Op,
    assert_refused,
    assert_request,
    envelope,
    ids,
    run_op,
    strict,
)
from tests.support.ops_instances import MESSAGES
from tests.support.ops_namespaces import NAMESPACE, NS_OPTIONS, OPS


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("op", OPS, ids=ids(OPS))
async def test_request_and_decoding(kind: str, op: Op, mocked: aioresponses) -> None:
    result, request = await run_op(kind, op, mocked)
    assert_request(op, request)
    assert result == op.expected


async def test_namespace_names_are_one_encoded_segment(mocked: aioresponses) -> None:
    op = Op(
        "namespaces.read",
        lambda ai: ai.namespaces.read("team a?b"),
        "GET",
        "/namespaces/team%20a%3Fb",
        envelope(NAMESPACE),
        strict("namespace", Namespace),
    )
    result, request = await run_op("async", op, mocked)
    assert_request(op, request)
    assert result == op.expected


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda n: n.create(name=""), "name"),
        (lambda n: n.read(""), "name"),
        (lambda n: n.update(".."), "name"),
        (lambda n: n.delete(""), "name"),
        (lambda n: n.search("p", aisearch_options={}, query="q"), "aisearch_options"),
        (
            lambda n: n.search("p", aisearch_options={"instance_ids": "docs"}, query="q"),
            "aisearch_options",
        ),
        (lambda n: n.search("p", aisearch_options=NS_OPTIONS), "query"),
        (
            lambda n: n.chat_completions(
                "p", aisearch_options={"instance_ids": []}, messages=MESSAGES
            ),
            "aisearch_options",
        ),
        (lambda n: n.chat_completions("", aisearch_options=NS_OPTIONS, messages=MESSAGES), "name"),
        (lambda n: n.list(page=0), "page"),
        (lambda n: n.instances.create("", id="docs"), "name"),
        (lambda n: n.instances.create("p", id="Docs"), "id"),
        (lambda n: n.instances.update("docs", name=""), "name"),
        (lambda n: n.instances.read("", name="p"), "id"),
        (lambda n: n.instances.list("", per_page=5), "name"),
        (lambda n: n.instances.list("p", per_page=101), "per_page"),
        (lambda n: n.instances.stats("a/b", name="p"), "id"),
        (lambda n: n.instances.search("docs", name="p"), "query"),
        (lambda n: n.instances.chat_completions("docs", name="p", messages=[]), "messages"),
    ],
)
async def test_bad_input_fails_before_any_request(
    mocked: aioresponses, call: Any, name: str
) -> None:
    await assert_refused(mocked, call, name, on="namespaces")

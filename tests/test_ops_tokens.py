"""Tokens: every operation on the wire, both clients; secrets kept out of errors."""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import aioresponses

from tests.support.ops import KINDS, Op, assert_refused, assert_request, ids, run_op
from tests.support.ops_tokens import OPS


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("op", OPS, ids=ids(OPS))
async def test_request_and_decoding(kind: str, op: Op, mocked: aioresponses) -> None:
    result, request = await run_op(kind, op, mocked)
    assert_request(op, request)
    assert result == op.expected


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda t: t.read(""), "id"),
        (lambda t: t.delete(".."), "id"),
        (lambda t: t.update("", cf_api_id="a", cf_api_key="k", name="n"), "id"),
        (lambda t: t.create(cf_api_id="", cf_api_key="k", name="n"), "cf_api_id"),
        (lambda t: t.create(cf_api_id="a", cf_api_key="", name="n"), "cf_api_key"),
        (lambda t: t.create(cf_api_id="a", cf_api_key="k", name=""), "name"),
        (lambda t: t.list(page=0), "page"),
    ],
)
async def test_bad_input_fails_before_any_request(
    mocked: aioresponses, call: Any, name: str
) -> None:
    await assert_refused(mocked, call, name, on="tokens")

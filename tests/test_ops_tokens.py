"""Tokens: every operation on the wire, both clients; secrets kept out of errors."""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import aioresponses

from cfaisearch.types import Token

from .ops_helpers import (
    KINDS,
    Op,
    assert_refused,
    assert_request,
    envelope,
    fixture,
    ids,
    run_op,
    strict,
)

TOKEN = fixture("token")
TOKEN_ID = TOKEN["id"]
SECRET = "s3cr3t-value-never-shown"
LIST_INFO = {"page": 1, "per_page": 20, "count": 1, "total_count": 1}

OPS = [
    Op(
        "tokens.create",
        lambda ai: ai.tokens.create(
            cf_api_id="a1b2c3d4e5f6", cf_api_key=SECRET, name="svc", legacy=False
        ),
        "POST",
        "/tokens",
        envelope(TOKEN),
        strict("token", Token),
        body={"cf_api_id": "a1b2c3d4e5f6", "cf_api_key": SECRET, "name": "svc", "legacy": False},
    ),
    Op(
        "tokens.update",
        lambda ai: ai.tokens.update(TOKEN_ID, cf_api_id="id2", cf_api_key=SECRET, name="svc2"),
        "PUT",
        f"/tokens/{TOKEN_ID}",
        envelope(TOKEN),
        strict("token", Token),
        body={"cf_api_id": "id2", "cf_api_key": SECRET, "name": "svc2"},
    ),
    Op(
        "tokens.list",
        lambda ai: ai.tokens.list(page=1, per_page=20, search="svc"),
        "GET",
        "/tokens",
        envelope([TOKEN], result_info=LIST_INFO),
        [strict("token", Token)],
        query={"page": "1", "per_page": "20", "search": "svc"},
        retried=True,
    ),
    Op(
        "tokens.delete",
        lambda ai: ai.tokens.delete(TOKEN_ID),
        "DELETE",
        f"/tokens/{TOKEN_ID}",
        envelope({"id": TOKEN_ID}),
        {"id": TOKEN_ID},
        retried=True,
    ),
    Op(
        "tokens.read",
        lambda ai: ai.tokens.read(TOKEN_ID),
        "GET",
        f"/tokens/{TOKEN_ID}",
        envelope(TOKEN),
        strict("token", Token),
        retried=True,
    ),
]


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

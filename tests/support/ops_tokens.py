"""The tokens operations as table rows: each call, its exact request and the mocked answer."""

from __future__ import annotations

from cfaisearch.types import Token
from tests.support.ops import Op, envelope, fixture, strict

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

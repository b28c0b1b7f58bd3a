"""Instances (``/instances``) and their jobs: every operation on the wire, both clients."""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import aioresponses

from cfaisearch.types import (
    ChatCompletion,
    Instance,
    InstanceListItem,
    InstanceStats,
    Job,
    JobLog,
    SearchResult,
)

from .conftest import make_async
from .ops_helpers import (
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

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

INSTANCE = fixture("instance")
LIST_INFO = {"page": 2, "per_page": 1, "count": 1, "total_count": 2}
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ],
    },
]
OPTIONS = {
    "retrieval": {
        "retrieval_type": "hybrid",
        "max_num_results": 3,
        "filters": {"folder": {"$gte": "docs/", "$lt": "docs0"}},
        "boost_by": [{"field": "timestamp", "direction": "desc"}],
        "context_expansion": 1,
        "return_on_failure": False,
    },
    "reranking": {"enabled": True, "model": "@cf/baai/bge-reranker-base", "match_threshold": 0.5},
    "query_rewrite": {"enabled": True, "rewrite_prompt": "Rewrite it."},
    "cache": {"enabled": False, "cache_threshold": "flexible_friend"},
    "custom_metadata": {"team": "docs", "ab": 2},
}

# Every create keyword, as a caller of the official SDK would pass them.
CREATE_ARGS: dict[str, Any] = {
    "ai_gateway_id": "gw",
    "aisearch_model": "",
    "cache": True,
    "cache_threshold": "close_enough",
    "cache_ttl": 600,
    "chunk": True,
    "chunk_overlap": 10,
    "chunk_size": 256,
    "custom_metadata": [{"field_name": "category", "data_type": "text"}],
    "embedding_model": "@cf/baai/bge-m3",
    "fusion_method": "max",
    "hybrid_search_enabled": True,
    "index_method": {"keyword": True, "vector": True},
    "indexing_options": None,
    "max_num_results": 5,
    "metadata": {"created_from_aisearch_wizard": False},
    "public_endpoint_params": {"enabled": True, "rate_limit": {"requests": 10}},
    "reranking": False,
    "reranking_model": None,
    "retrieval_options": {"keyword_match_mode": "or", "boost_by": []},
    "rewrite_model": "",
    "rewrite_query": False,
    "score_threshold": 0.3,
    "source": "https://example.com",
    "source_params": {"web_crawler": {"parse_type": "sitemap"}, "include_items": ["/docs/**"]},
    "sync_interval": 3600,
    "token_id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
    "type": "web-crawler",
}
CREATE_BODY = {
    "id": "docs-search",
    **{k: v for k, v in CREATE_ARGS.items() if k != "aisearch_model"},
    "ai_search_model": "",
}
UPDATE_ARGS: dict[str, Any] = {
    **{k: v for k, v in CREATE_ARGS.items() if k not in ("type", "hybrid_search_enabled")},
    "paused": True,
    "summarization": True,
    "summarization_model": "",
    "system_prompt_aisearch": None,
    "system_prompt_index_summarization": "Summarise.",
    "system_prompt_rewrite_query": "Rewrite.",
}
UPDATE_BODY = {
    **{k: v for k, v in CREATE_BODY.items() if k not in ("id", "type", "hybrid_search_enabled")},
    "paused": True,
    "summarization": True,
    "summarization_model": "",
    "system_prompt_ai_search": None,
    "system_prompt_index_summarization": "Summarise.",
    "system_prompt_rewrite_query": "Rewrite.",
}

OPS = [
    Op(
        "instances.create",
        lambda ai: ai.instances.create(id="docs-search", **CREATE_ARGS),
        "POST",
        "/instances",
        envelope(INSTANCE),
        strict("instance", Instance),
        body=CREATE_BODY,
    ),
    Op(
        "instances.update",
        lambda ai: ai.instances.update("docs-search", **UPDATE_ARGS),
        "PUT",
        "/instances/docs-search",
        envelope(INSTANCE),
        strict("instance", Instance),
        body=UPDATE_BODY,
        retried=True,
    ),
    Op(
        "instances.list",
        lambda ai: ai.instances.list(
            hostname="docs.example.com",
            namespace="default",
            order_by="created_at",
            order_by_direction="desc",
            page=2,
            per_page=1,
            search="docs",
        ),
        "GET",
        "/instances",
        envelope([fixture("instance_list_item")], result_info=LIST_INFO),
        [strict("instance_list_item", InstanceListItem)],
        query={
            "hostname": "docs.example.com",
            "namespace": "default",
            "order_by": "created_at",
            "order_by_direction": "desc",
            "page": "2",
            "per_page": "1",
            "search": "docs",
        },
        retried=True,
    ),
    Op(
        "instances.delete",
        lambda ai: ai.instances.delete("docs-search"),
        "DELETE",
        "/instances/docs-search",
        envelope(INSTANCE),
        strict("instance", Instance),
        retried=True,
    ),
    Op(
        "instances.chat_completions",
        lambda ai: ai.instances.chat_completions(
            "docs-search", messages=iter(MESSAGES), aisearch_options=OPTIONS, model=""
        ),
        "POST",
        "/instances/docs-search/chat/completions",
        fixture("chat_completion"),
        strict("chat_completion", ChatCompletion),
        body={"messages": MESSAGES, "ai_search_options": OPTIONS, "model": ""},
        retried=True,
    ),
    Op(
        "instances.read",
        lambda ai: ai.instances.read("docs-search"),
        "GET",
        "/instances/docs-search",
        envelope(INSTANCE),
        strict("instance", Instance),
        retried=True,
    ),
    Op(
        "instances.search",
        lambda ai: ai.instances.search(
            "docs-search", query="getting started", aisearch_options=OPTIONS
        ),
        "POST",
        "/instances/docs-search/search",
        envelope(fixture("search_result")),
        strict("search_result", SearchResult),
        body={"query": "getting started", "ai_search_options": OPTIONS},
        retried=True,
    ),
    Op(
        "instances.stats",
        lambda ai: ai.instances.stats("docs-search"),
        "GET",
        "/instances/docs-search/stats",
        envelope(fixture("instance_stats")),
        strict("instance_stats", InstanceStats),
        retried=True,
    ),
    Op(
        "instances.jobs.create",
        lambda ai: ai.instances.jobs.create("docs-search", description="manual resync"),
        "POST",
        "/instances/docs-search/jobs",
        envelope(fixture("job")),
        strict("job", Job),
        body={"description": "manual resync"},
    ),
    Op(
        "instances.jobs.list",
        lambda ai: ai.instances.jobs.list("docs-search", per_page=5),
        "GET",
        "/instances/docs-search/jobs",
        envelope([fixture("job")], result_info={"page": 1, "per_page": 5, "count": 1}),
        [strict("job", Job)],
        query={"per_page": "5"},
        retried=True,
    ),
    Op(
        "instances.jobs.get",
        lambda ai: ai.instances.jobs.get("9f2c1e7a", id="docs-search"),
        "GET",
        "/instances/docs-search/jobs/9f2c1e7a",
        envelope(fixture("job")),
        strict("job", Job),
        retried=True,
    ),
    Op(
        "instances.jobs.logs",
        lambda ai: ai.instances.jobs.logs("9f2c1e7a", id="docs-search", page=2, per_page=10),
        "GET",
        "/instances/docs-search/jobs/9f2c1e7a/logs",
        envelope([fixture("job_log")], result_info={"page": 2, "per_page": 10, "count": 1}),
        [strict("job_log", JobLog)],
        query={"page": "2", "per_page": "10"},
        retried=True,
    ),
]


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

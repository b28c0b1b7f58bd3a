"""Wire payloads the benchmark server answers with: jobs and full instance-list items.

The values are made up, but every object carries the fields the real API sends
(nested configuration included), so decoding costs what it would in production.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

__all__ = [
    "ACCOUNT_ID",
    "API_TOKEN",
    "INSTANCE_ID",
    "NAMESPACE",
    "JOB_ID",
    "envelope",
    "instance_list_item",
    "job",
    "list_envelope",
]

ACCOUNT_ID: Final = "0123456789abcdef0123456789abcdef"
API_TOKEN: Final = "bench-token-not-a-secret"
INSTANCE_ID: Final = "bench-docs"
NAMESPACE: Final = "default"
JOB_ID: Final = "9f2c1e7a-5b1d-4c1e-9a0e-2f6d3c4b5a69"


def job(job_id: str, n: int = 0) -> dict[str, Any]:
    """A finished indexing job, as ``jobs.get`` returns it."""
    return {
        "id": job_id,
        "source": "schedule" if n % 3 else "user",
        "description": f"nightly resync #{n}",
        "started_at": "2026-05-02T09:20:01.123Z",
        "last_seen_at": "2026-05-02T09:21:30.456Z",
        "ended_at": "2026-05-02T09:21:31.789Z",
        "end_reason": "completed",
    }


def instance_list_item(n: int) -> dict[str, Any]:
    """One element of ``GET /ai-search/instances``, every documented field present."""
    minute = n % 60
    return {
        "id": f"docs-{n:05d}",
        "namespace": "default",
        "type": "web-crawler",
        "source": f"docs{n}.example.com",
        "status": "active",
        "enable": True,
        "paused": False,
        "chunk": True,
        "summarization": False,
        "summarization_model": None,
        "created_at": f"2026-05-02T09:{minute:02d}:00Z",
        "modified_at": f"2026-05-03T10:{minute:02d}:30.250Z",
        "created_by": "user@example.com",
        "modified_by": "user@example.com",
        "last_activity": f"2026-05-04T11:{minute:02d}:15Z",
        "engine_version": 3,
        "ai_gateway_id": "default-gateway",
        "ai_search_model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        "embedding_model": "@cf/qwen/qwen3-embedding-0.6b",
        "rewrite_model": "@cf/meta/llama-3.1-8b-instruct-fast",
        "reranking_model": "@cf/baai/bge-reranker-base",
        "rewrite_query": True,
        "reranking": True,
        "cache": True,
        "cache_threshold": "close_enough",
        "cache_ttl": 86400,
        "chunk_size": 256,
        "chunk_overlap": 10,
        "max_num_results": 10,
        "score_threshold": 0.4,
        "fusion_method": "rrf",
        "hybrid_search_enabled": True,
        "index_method": {"vector": True, "keyword": True},
        "indexing_options": {"keyword_tokenizer": "porter", "use_ocr": False},
        "retrieval_options": {
            "keyword_match_mode": "and",
            "boost_by": [
                {"field": "timestamp", "direction": "desc", "dataType": "datetime"},
                {"field": "category", "direction": "exists", "dataType": "text"},
            ],
        },
        "custom_metadata": [
            {"field_name": "category", "data_type": "text"},
            {"field_name": "published", "data_type": "datetime"},
        ],
        "sync_interval": 21600,
        "token_id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
        "source_params": {
            "include_items": ["/docs/**"],
            "exclude_items": ["/docs/archive/**"],
            "web_crawler": {
                "parse_type": "sitemap",
                "parse_options": {
                    "include_headers": {"x-crawler": "ai-search"},
                    "include_images": False,
                    "specific_sitemaps": [f"https://docs{n}.example.com/sitemap.xml"],
                    "use_browser_rendering": False,
                },
            },
        },
        "public_endpoint_id": f"pe{n:08x}",
        "public_endpoint_params": {
            "enabled": True,
            "authorized_hosts": ["https://example.com"],
            "chat_completions_endpoint": {"disabled": False},
            "search_endpoint": {"disabled": False},
            "mcp": {"description": "Finds exactly what you're looking for", "disabled": True},
            "rate_limit": {"period_ms": 60000, "requests": 120, "technique": "fixed"},
        },
        "metadata": {"created_from_aisearch_wizard": True, "worker_domain": "example.workers.dev"},
        "system_prompt_ai_search": "You are a helpful assistant. Answer from the documents only.",
        "system_prompt_index_summarization": None,
        "system_prompt_rewrite_query": "Rewrite the question as a search query.",
    }


def envelope(result: Any) -> bytes:
    """A successful v4 envelope around ``result``."""
    return orjson.dumps({"success": True, "errors": [], "messages": [], "result": result})


def list_envelope(items: list[Any], *, page: int) -> bytes:
    """A page of a page-numbered list; the whole collection is exactly one page."""
    shown = items if page == 1 else []
    info = {"page": page, "per_page": len(items), "count": len(shown), "total_count": len(items)}
    return orjson.dumps(
        {"success": True, "errors": [], "messages": [], "result": shown, "result_info": info}
    )


def search_chunk(n: int) -> dict[str, Any]:
    """One retrieved chunk, every documented field present."""
    return {
        "id": f"chunk-{n:04d}",
        "type": "text",
        "score": round(0.99 - n / 1000, 4),
        "text": f"Paragraph {n} of the guide: " + "how to configure the crawler. " * 8,
        "item": {
            "key": f"docs/guide-{n % 7}.md",
            "metadata": {"category": "guides", "weight": n % 5, "public": True},
            "timestamp": 1735689600 + n,
        },
        "scoring_details": {
            "vector_score": 0.8,
            "keyword_score": 7.25,
            "vector_rank": n + 1,
            "keyword_rank": n + 2,
            "reranking_score": 0.91,
            "fusion_method": "rrf",
        },
    }


def search_result(chunks: int) -> bytes:
    """An instance search answer holding ``chunks`` chunks."""
    result = {
        "search_query": "configure the crawler",
        "query_kind": "text",
        "chunks": [search_chunk(n) for n in range(chunks)],
    }
    return envelope(result)


def chat_stream(deltas: int, chunks: int = 5) -> bytes:
    """A streamed chat answer: the chunks event, ``deltas`` text deltas, then [DONE]."""
    events = [b"event: chunks\ndata: " + orjson.dumps([search_chunk(n) for n in range(chunks)])]
    for n in range(deltas):
        delta = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1735689600,
            "model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
            "choices": [{"index": 0, "delta": {"content": f"word{n} "}, "finish_reason": None}],
        }
        events.append(b"data: " + orjson.dumps(delta))
    events.append(b"data: [DONE]")
    return b"\n\n".join(events) + b"\n\n"

"""What the commands send, read off a mocked API: settings, extra keys, secrets."""

from __future__ import annotations

import json

import orjson
import pytest
from aioresponses import aioresponses

from tests.support.cli import invoke
from tests.support.clients import ACCOUNT, BASE, TOKEN, envelope

INSTANCES = f"{BASE}/accounts/{ACCOUNT}/ai-search/namespaces/default/instances"
TOKENS = f"{BASE}/accounts/{ACCOUNT}/ai-search/tokens"
INSTANCE = {
    "id": "kb",
    "created_at": "2026-01-01T00:00:00Z",
    "modified_at": "2026-01-01T00:00:00Z",
}
TOKEN_RESULT = {
    "id": "t-1",
    "cf_api_id": "id-1",
    "created_at": "2026-01-01T00:00:00Z",
    "modified_at": "2026-01-01T00:00:00Z",
    "name": "r2",
}


@pytest.fixture(autouse=True)
def cloudflare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.delenv("CLOUDFLARE_BASE_URL", raising=False)


def sent_body(mocked: aioresponses) -> object:
    (call,) = [c for calls in mocked.requests.values() for c in calls]
    return orjson.loads(call.kwargs["data"])


def test_settings_options_json_body_and_unknown_keys_are_all_sent(mocked: aioresponses) -> None:
    mocked.post(INSTANCES, payload=envelope(INSTANCE))
    result = invoke(
        "instances", "create", "kb",
        "--cache-ttl", "3600",
        "--sync-interval", "900",
        "--score-threshold", "0.25",
        "--reranking",
        "--no-cache",
        "--custom-metadata", '[{"field_name": "year", "data_type": "number"}]',
        "--json-body", "-",
        input=json.dumps({"chunk_size": 128, "cache_ttl": 600, "a_new_setting": {"x": 1}}),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sent_body(mocked) == {
        "id": "kb",
        "cache": False,
        "cache_ttl": 3600,  # the option wins over the body
        "chunk_size": 128,
        "custom_metadata": [{"field_name": "year", "data_type": "number"}],
        "reranking": True,
        "score_threshold": 0.25,
        "sync_interval": 900,
        "a_new_setting": {"x": 1},  # unknown to this version: sent as it is
    }


def test_an_update_sends_only_the_settings_given(mocked: aioresponses) -> None:
    mocked.put(f"{INSTANCES}/kb", payload=envelope(INSTANCE))
    result = invoke("instances", "update", "kb", "--paused", "--rewrite-model", "@cf/some/model")
    assert result.exit_code == 0, result.output
    assert sent_body(mocked) == {"paused": True, "rewrite_model": "@cf/some/model"}


def test_a_token_secret_from_the_environment_is_sent_never_shown(
    mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CFAISEARCH_CF_API_KEY", "the-secret-value")
    mocked.post(TOKENS, payload=envelope(TOKEN_RESULT))
    result = invoke("tokens", "create", "--name", "r2", "--cf-api-id", "id-1", "--legacy")
    assert result.exit_code == 0, result.output
    assert sent_body(mocked) == {
        "cf_api_id": "id-1",
        "cf_api_key": "the-secret-value",
        "name": "r2",
        "legacy": True,
    }
    assert "the-secret-value" not in result.output
    assert TOKEN not in result.output


def test_search_sends_the_compiled_filter_and_retrieval_options(mocked: aioresponses) -> None:
    mocked.post(f"{INSTANCES}/kb/search", payload=envelope({"chunks": [], "query_kind": "text"}))
    result = invoke(
        "--json", "search", "kb", "refunds",
        "--max-results", "5", "--retrieval", "hybrid",
        "--filter", "folder^=docs/", "--filter", "year>=2024", "--filter", "lang in en,fr",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sent_body(mocked) == {
        "query": "refunds",
        "ai_search_options": {
            "retrieval": {
                "filters": {
                    "folder": {"$gte": "docs/", "$lt": "docs0"},
                    "year": {"$gte": 2024},
                    "lang": {"$in": ["en", "fr"]},
                },
                "max_num_results": 5,
                "retrieval_type": "hybrid",
            }
        },
    }
    assert json.loads(result.stdout) == {"chunks": [], "query_kind": "text"}


def test_a_whole_answer_made_of_parts_and_sources_without_items(mocked: aioresponses) -> None:
    completion = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Part one. "},
                        {"type": "text", "text": "Two."},
                    ],
                }
            }
        ],
        "chunks": [
            {"id": "c-1", "score": 0.5, "text": "t", "type": "text"},
            {"id": "c-1", "score": 0.4, "text": "t", "type": "text"},
        ],
    }
    mocked.post(f"{INSTANCES}/kb/chat/completions", payload=completion)
    result = invoke("chat", "kb", "question?", "--no-stream", "--model", "@cf/x/y")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Part one. Two.\n\nSources:\n  1. c-1 (score 0.500)\n"
    sent = sent_body(mocked)
    assert isinstance(sent, dict)
    assert sent["model"] == "@cf/x/y"


def test_an_empty_answer_lists_no_sources(mocked: aioresponses) -> None:
    mocked.post(f"{INSTANCES}/kb/chat/completions", payload={"choices": [], "chunks": []})
    result = invoke("chat", "kb", "question?", "--no-stream")
    assert result.exit_code == 0, result.output
    assert result.stdout == "\n\nSources:\n  (none)\n"

"""Retrieval against a known corpus: match modes, tokenizers, filters, fusion, limits."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.support.emulator_api import Api, eventually

SCHEMA = [
    {"field_name": "category", "data_type": "text"},
    {"field_name": "priority", "data_type": "number"},
    {"field_name": "published", "data_type": "boolean"},
    {"field_name": "released", "data_type": "datetime"},
]
CORPUS: dict[str, tuple[str, dict[str, Any]]] = {
    "guides/install.md": (
        "Install the command line tool with pip. Installing takes a minute. Part of the docs.",
        {"category": "guide", "priority": 1, "published": True, "released": "2025-06-01T00:00:00Z"},
    ),
    "guides/configure.md": (
        "Configure the tool with a YAML file. The configuration file lives in your home folder."
        " Part of the docs.",
        {"category": "guide", "priority": 2, "published": "no"},
    ),
    "guides/advanced/tuning.md": (
        "Tuning the tool for speed. Part of the docs.",
        {"category": "guide", "priority": 4},
    ),
    "blog/release.md": (
        "The new release makes installation faster and adds a paragraph about configuration."
        " Part of the docs.",
        {
            "category": "news",
            "priority": "3",
            "published": "yes",
            "released": "2026-01-15T00:00:00Z",
        },
    ),
    "api/reference.json": (
        '{"endpoint": "search", "description": "Run a hybrid search over chunks. The docs."}',
        {"category": "api", "priority": 5},
    ),
    "notes/cats.txt": ("Cats sleep most of the day. Part of the docs.", {}),
}


async def _load(api: Api, instance: str = "kb", **config: Any) -> None:
    await api.create_instance(instance, custom_metadata=SCHEMA, **config)
    for key, (text, metadata) in CORPUS.items():
        reply = await api.upload(key, text, instance=instance, metadata=metadata)
        assert reply.result["status"] == "completed", reply.text


def _keys(chunks: list[Any]) -> list[str]:
    return [c["item"]["key"] for c in chunks]


@pytest.fixture
async def corpus(api: Api) -> Api:
    await _load(api)
    return api


async def test_and_versus_or(corpus: Api) -> None:
    query = "install configuration"
    both = await corpus.search(query, retrieval_type="keyword", keyword_match_mode="and")
    assert _keys(both) == ["blog/release.md"]
    either = await corpus.search(query, retrieval_type="keyword", keyword_match_mode="or")
    assert _keys(either)[0] == "blog/release.md"  # the only chunk with both terms
    assert set(_keys(either)) == {"blog/release.md", "guides/install.md", "guides/configure.md"}
    ranks = [c["scoring_details"]["keyword_rank"] for c in either]
    assert ranks == [1, 2, 3]


async def test_instance_match_mode_is_the_default(api: Api) -> None:
    await _load(api, retrieval_options={"keyword_match_mode": "or"})
    chunks = await api.search("install configuration", retrieval_type="keyword")
    assert len(chunks) == 3


async def test_porter_versus_trigram(api: Api) -> None:
    await _load(api, "porter")
    await _load(api, "trigram", indexing_options={"keyword_tokenizer": "trigram"})
    stemmed = await api.search("installing", instance="porter", retrieval_type="keyword")
    assert set(_keys(stemmed)) == {"guides/install.md", "blog/release.md"}
    literal = await api.search("installing", instance="trigram", retrieval_type="keyword")
    assert _keys(literal) == ["guides/install.md"]
    assert await api.search("graph", instance="porter", retrieval_type="keyword") == []
    inside = await api.search("graph", instance="trigram", retrieval_type="keyword")
    assert _keys(inside) == ["blog/release.md"]  # "para-graph"


FILTERS = [
    (
        {"category": "guide"},
        {"guides/install.md", "guides/configure.md", "guides/advanced/tuning.md"},
    ),
    ({"category": {"$eq": "news"}}, {"blog/release.md"}),
    ({"category": {"$ne": "guide"}}, {"blog/release.md", "api/reference.json", "notes/cats.txt"}),
    ({"category": {"$in": ["api", "news"]}}, {"blog/release.md", "api/reference.json"}),
    ({"category": {"$nin": ["guide", "api"]}}, {"blog/release.md", "notes/cats.txt"}),
    ({"priority": {"$lt": 2}}, {"guides/install.md"}),
    ({"priority": {"$lte": 2}}, {"guides/install.md", "guides/configure.md"}),
    ({"priority": {"$gt": 4}}, {"api/reference.json"}),
    ({"priority": {"$gte": 4}}, {"guides/advanced/tuning.md", "api/reference.json"}),
    ({"priority": {"$gte": 2, "$lt": 4}}, {"guides/configure.md", "blog/release.md"}),
    ({"priority": 3}, {"blog/release.md"}),
    ({"published": True}, {"guides/install.md", "blog/release.md"}),
    ({"published": {"$eq": False}}, {"guides/configure.md"}),
    ({"released": {"$gte": "2026-01-01T00:00:00Z"}}, {"blog/release.md"}),
    ({"folder": "guides/"}, {"guides/install.md", "guides/configure.md"}),
    (
        {"folder": {"$gte": "guides/", "$lt": "guides0"}},
        {"guides/install.md", "guides/configure.md", "guides/advanced/tuning.md"},
    ),
    ({"filename": "notes/cats.txt"}, {"notes/cats.txt"}),
    (
        {"filename": {"$in": ["notes/cats.txt", "api/reference.json"]}},
        {"notes/cats.txt", "api/reference.json"},
    ),
    (
        {"category": "guide", "priority": {"$gt": 1}},
        {"guides/configure.md", "guides/advanced/tuning.md"},
    ),
    ({"timestamp": {"$lt": 1000}}, set()),
    ({"priority": {"$gt": "1"}}, set()),  # a string never compares with a number
    ({"unknown_field": "x"}, set()),
]


@pytest.mark.parametrize(("filters", "expected"), FILTERS)
async def test_filters(corpus: Api, filters: dict[str, Any], expected: set[str]) -> None:
    chunks = await corpus.search(
        "docs", retrieval_type="keyword", keyword_match_mode="or", filters=filters
    )
    assert set(_keys(chunks)) == expected


async def test_timestamp_filter_accepts_seconds_and_milliseconds(corpus: Api) -> None:
    now = time.time()
    for value in (int(now) - 60, int(now * 1000) - 60_000):
        chunks = await corpus.search(
            "docs", retrieval_type="keyword", filters={"timestamp": {"$gte": value}}
        )
        assert len(chunks) == len(CORPUS)
    future = {"timestamp": {"$gt": int(now) + 3600}}
    assert await corpus.search("docs", retrieval_type="keyword", filters=future) == []


async def test_non_schema_metadata_is_not_filterable(api: Api) -> None:
    await api.create_instance()
    reply = await api.upload("a.txt", "hello docs", metadata={"team": "core"})
    assert reply.result["metadata"]["team"] == "core"
    assert await api.search("docs", filters={"team": "core"}) == []


async def test_fusion_methods(corpus: Api) -> None:
    rrf = await corpus.search(
        "install tool", fusion_method="rrf", keyword_match_mode="or", match_threshold=0
    )
    top_keyword = max(c["scoring_details"].get("keyword_score", 0) for c in rrf)
    for chunk in rrf:
        details = chunk["scoring_details"]
        assert details["fusion_method"] == "rrf"
        expected = sum(
            1 / (60 + r) for r in (details.get("vector_rank"), details.get("keyword_rank")) if r
        )
        assert chunk["score"] == pytest.approx(expected / (2 / 61), abs=1e-6)
    assert rrf[0]["score"] == 1.0  # first in both lists
    best = await corpus.search(
        "install tool", fusion_method="max", keyword_match_mode="or", match_threshold=0
    )
    for chunk in best:
        details = chunk["scoring_details"]
        assert details["fusion_method"] == "max"
        keyword = details.get("keyword_score", 0) / top_keyword
        assert chunk["score"] == pytest.approx(max(details["vector_score"], keyword), abs=1e-5)
    scores = [c["score"] for c in best]
    assert scores == sorted(scores, reverse=True)


async def test_instance_fusion_method_is_the_default(api: Api) -> None:
    await _load(api, fusion_method="max")
    chunks = await api.search("install tool")
    assert {c["scoring_details"]["fusion_method"] for c in chunks} == {"max"}


async def test_retrieval_types(corpus: Api) -> None:
    vector = await corpus.search("tuning speed", retrieval_type="vector")
    assert _keys(vector)[0] == "guides/advanced/tuning.md"
    assert set(vector[0]["scoring_details"]) == {"vector_score", "vector_rank"}
    keyword = await corpus.search("tuning speed", retrieval_type="keyword")
    assert _keys(keyword) == ["guides/advanced/tuning.md"]
    assert set(keyword[0]["scoring_details"]) == {"keyword_score", "keyword_rank"}
    assert keyword[0]["score"] == 1.0


async def test_vector_score_is_lexical(corpus: Api) -> None:
    # Plurals and verb forms meet, synonyms do not: this is not an embedding model.
    assert (
        _keys(await corpus.search("cat sleeping", retrieval_type="vector"))[0] == "notes/cats.txt"
    )
    assert await corpus.search("feline naps", retrieval_type="vector") == []


async def test_max_num_results(corpus: Api) -> None:
    chunks = await corpus.search(
        "docs", retrieval_type="keyword", keyword_match_mode="or", max_num_results=2
    )
    assert len(chunks) == 2
    assert len(await corpus.search("docs", retrieval_type="keyword")) == len(CORPUS)


async def test_instance_max_num_results_is_the_default(api: Api) -> None:
    await _load(api, max_num_results=3)
    assert len(await api.search("docs", retrieval_type="keyword")) == 3


async def test_match_threshold(corpus: Api) -> None:
    loose = await corpus.search("tool speed cats", retrieval_type="vector", match_threshold=0)
    strict = await corpus.search("tool speed cats", retrieval_type="vector", match_threshold=0.6)
    assert len(strict) < len(loose)
    assert all(c["scoring_details"]["vector_score"] >= 0.6 for c in strict)
    assert await corpus.search("tool speed cats", match_threshold=1) == []
    # Keyword-only retrieval has no vector score, so no threshold applies.
    assert len(await corpus.search("docs", retrieval_type="keyword", match_threshold=1)) == len(
        CORPUS
    )


async def test_context_expansion(api: Api) -> None:
    await api.create_instance(chunk_size=64, chunk_overlap=0)
    words = [f"apple{n}" for n in range(64)] + ["banana"] * 64 + [f"cherry{n}" for n in range(64)]
    await api.upload("fruit.txt", " ".join(words))
    (hit,) = await api.search("banana")
    assert "banana" in hit["text"]
    expanded = await api.search("banana", context_expansion=1)
    assert [c["text"].split()[0] for c in expanded] == ["banana", "apple0", "cherry0"]
    assert "scoring_details" not in expanded[1]
    assert expanded[1]["score"] == expanded[0]["score"]


async def test_boost_by_timestamp(api: Api) -> None:
    await api.create_instance()
    await api.upload("a.txt", "identical text about boosting")
    await asyncio.sleep(0.02)
    await api.upload("b.txt", "identical text about boosting")
    assert _keys(await api.search("boosting")) == ["a.txt", "b.txt"]  # tie: by key
    newest = await api.search("boosting", boost_by=[{"field": "timestamp", "direction": "desc"}])
    assert _keys(newest) == ["b.txt", "a.txt"]
    oldest = await api.search("boosting", boost_by=[{"field": "timestamp"}])  # default asc
    assert _keys(oldest) == ["a.txt", "b.txt"]


async def test_boost_by_custom_fields(corpus: Api) -> None:
    plain = {c["id"]: c["score"] for c in await corpus.search("docs", retrieval_type="keyword")}
    boost = [{"field": "priority", "direction": "desc"}]
    boosted = await corpus.search("docs", retrieval_type="keyword", boost_by=boost)
    # priority 1..5 earns 0..1 of the 0.1 boost; base scores are scaled by 0.9.
    shares = {"guides/install.md": 0.0, "guides/configure.md": 0.25, "blog/release.md": 0.5}
    for chunk in boosted:
        share = shares.get(chunk["item"]["key"])
        if share is not None:
            assert chunk["score"] == pytest.approx(plain[chunk["id"]] * 0.9 + 0.1 * share, abs=1e-5)
    assert _keys(boosted).index("api/reference.json") < _keys(boosted).index("guides/install.md")
    ascending = await corpus.search(
        "docs", retrieval_type="keyword", boost_by=[{"field": "priority"}]
    )
    assert _keys(ascending).index("guides/install.md") < _keys(ascending).index(
        "api/reference.json"
    )
    exists = [{"field": "released", "direction": "exists"}]
    for chunk in await corpus.search("docs", retrieval_type="keyword", boost_by=exists):
        earned = 0.1 if chunk["item"]["key"] in ("guides/install.md", "blog/release.md") else 0.0
        assert chunk["score"] == pytest.approx(plain[chunk["id"]] * 0.9 + earned, abs=1e-5)
    missing = [{"field": "category", "direction": "not_exists"}]
    assert (
        _keys(await corpus.search("docs", retrieval_type="keyword", boost_by=missing))[0]
        == "notes/cats.txt"
    )


async def test_instance_boosts_apply_unless_replaced(corpus: Api) -> None:
    boost = [{"field": "category", "direction": "not_exists"}]
    await corpus.ok("PUT", "/instances/kb", json={"retrieval_options": {"boost_by": boost}})
    assert _keys(await corpus.search("docs", retrieval_type="keyword"))[0] == "notes/cats.txt"
    plain = await corpus.search("docs", retrieval_type="keyword", boost_by=[])
    assert _keys(plain)[0] != "notes/cats.txt"


async def test_reranking(corpus: Api) -> None:
    body = {
        "query": "tool speed",
        "ai_search_options": {"reranking": {"enabled": True, "match_threshold": 0.5}},
    }
    result = await corpus.ok("POST", "/instances/kb/search", json=body)
    assert result["chunks"]
    for chunk in result["chunks"]:
        assert chunk["scoring_details"]["reranking_score"] >= 0.5


async def test_results_are_deterministic(api: Api) -> None:
    await _load(api, "one")
    await _load(api, "two")
    first = await api.search("tool docs configuration", instance="one", keyword_match_mode="or")
    again = await api.search("tool docs configuration", instance="one", keyword_match_mode="or")
    other = await api.search("tool docs configuration", instance="two", keyword_match_mode="or")
    assert first == again
    assert [(c["item"]["key"], c["score"]) for c in first] == [
        (c["item"]["key"], c["score"]) for c in other
    ]


async def test_namespace_fan_out_merges_by_score(api: Api) -> None:
    await api.ok("POST", "/namespaces", json={"name": "team"})
    await api.create_instance("a", ns="team")
    await api.create_instance("b", ns="team", index_method={"vector": True, "keyword": False})
    await api.upload("x.txt", "kiwi kiwi kiwi", instance="a", ns="team")
    await api.upload("y.txt", "kiwi and mango", instance="b", ns="team")
    body: dict[str, Any] = {"query": "kiwi", "ai_search_options": {"instance_ids": ["a", "b"]}}
    result = await api.ok("POST", "/namespaces/team/search", json=body)
    scores = [c["score"] for c in result["chunks"]]
    assert scores == sorted(scores, reverse=True)
    assert {c["instance_id"] for c in result["chunks"]} == {"a", "b"}
    body["ai_search_options"]["retrieval"] = {"retrieval_type": "keyword", "max_num_results": 1}
    result = await api.ok("POST", "/namespaces/team/search", json=body)
    assert [c["instance_id"] for c in result["chunks"]] == ["a"]
    assert result["errors"][0]["instance_id"] == "b"
    assert "retrieval_type" in result["errors"][0]["message"]


async def test_changing_the_schema_reindexes(api: Api) -> None:
    await api.create_instance()
    await api.upload("a.txt", "docs about kiwis", metadata={"fruit": "kiwi"})
    assert await api.search("docs", filters={"fruit": "kiwi"}) == []
    await api.ok(
        "PUT",
        "/instances/kb",
        json={"custom_metadata": [{"field_name": "fruit", "data_type": "text"}]},
    )

    async def reindexed() -> bool:
        return len(await api.search("docs", filters={"fruit": "kiwi"})) == 1

    await eventually(reindexed)


async def test_changing_the_tokenizer_reindexes(api: Api) -> None:
    await api.create_instance()
    await api.upload("a.txt", "a paragraph of text")
    assert await api.search("graph", retrieval_type="keyword") == []
    await api.ok(
        "PUT", "/instances/kb", json={"indexing_options": {"keyword_tokenizer": "trigram"}}
    )

    async def reindexed() -> bool:
        return len(await api.search("graph", retrieval_type="keyword")) == 1

    await eventually(reindexed)


async def test_image_only_queries_find_nothing(corpus: Api) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}
    ]
    result = await corpus.ok("POST", "/instances/kb/search", json={"messages": messages})
    assert result["query_kind"] == "image"
    assert result["chunks"] == []
    messages[0]["content"].append({"type": "text", "text": "cats"})
    result = await corpus.ok("POST", "/instances/kb/search", json={"messages": messages})
    assert result["query_kind"] == "multimodal"
    assert _keys(result["chunks"])[0] == "notes/cats.txt"

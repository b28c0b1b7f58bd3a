"""Search and chat completions (plain and streamed), per instance and per namespace."""

from __future__ import annotations

import pytest

from cfaisearch import AsyncCloudflare, ChatCompletionChunk, RetrievedChunks
from cfaisearch.testing import async_seed_documents
from cfaisearch.types import MessageParam, NamespaceAISearchOptionsParam
from cfaisearch.types.search import NamespaceSearchChunk, SearchChunk
from tests.support.integration import DOCS

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

HYBRID = {"index_method": {"vector": True, "keyword": True}}
QUESTION: list[MessageParam] = [{"role": "user", "content": "How do chat answers stream?"}]


def keys(chunks: list[SearchChunk] | list[NamespaceSearchChunk]) -> list[str]:
    return [c.item.key if c.item else "" for c in chunks]


@pytest.fixture
async def seeded(aisearch_async_client: AsyncCloudflare) -> AsyncCloudflare:
    await async_seed_documents(aisearch_async_client, DOCS, instance_settings=HYBRID)
    return aisearch_async_client


async def test_keyword_vector_and_hybrid_search(seeded: AsyncCloudflare) -> None:
    instances = seeded.aisearch.namespaces.instances
    for retrieval_type in ("keyword", "vector", "hybrid"):
        result = await instances.search(
            "docs",
            name="default",
            query="BM25 keyword matches",
            aisearch_options={"retrieval": {"retrieval_type": retrieval_type}},
        )
        assert keys(result.chunks)[0] == "concepts/bm25.md", retrieval_type
        assert result.search_query == "BM25 keyword matches"
        assert result.query_kind == "text"
        assert 0 < result.chunks[0].score <= 1
    hybrid = result.chunks[0].scoring_details
    assert hybrid is not None
    assert (hybrid.vector_rank, hybrid.keyword_rank) == (1, 1)


async def test_filters_limits_and_messages(seeded: AsyncCloudflare) -> None:
    instances = seeded.aisearch.namespaces.instances
    filtered = await instances.search(
        "docs",
        name="default",
        query="retried streamed keyword",
        aisearch_options={
            "retrieval": {
                "retrieval_type": "keyword",
                "keyword_match_mode": "or",
                "filters": {"folder": "guides/"},
            }
        },
    )
    assert filtered.chunks
    assert all(k.startswith("guides/") for k in keys(filtered.chunks))
    limited = await instances.search(
        "docs",
        name="default",
        query="retried streamed keyword",
        aisearch_options={"retrieval": {"keyword_match_mode": "or", "max_num_results": 1}},
    )
    assert len(limited.chunks) == 1
    conversation = await instances.search(
        "docs",
        name="default",
        messages=[
            {"role": "user", "content": "Tell me about ranking."},
            {"role": "assistant", "content": "Sure."},
            {"role": "user", "content": "How does BM25 rank?"},
        ],
    )
    assert conversation.search_query == "How does BM25 rank?"
    assert keys(conversation.chunks)[0] == "concepts/bm25.md"


async def test_chat_completion(seeded: AsyncCloudflare) -> None:
    completion = await seeded.aisearch.namespaces.instances.chat_completions(
        "docs", name="default", messages=QUESTION, model="@cf/test/model"
    )
    assert completion.model == "@cf/test/model"
    assert completion.choices[0].message.role == "assistant"
    assert "server-sent events" in str(completion.choices[0].message.content)
    assert keys(completion.chunks)[0] == "guides/streaming.md"
    assert completion.usage is not None
    assert (completion.usage.total_tokens or 0) > 0


@pytest.mark.aisearch_emulator(stream_delay=0.01)
async def test_streamed_chat_arrives_in_order(seeded: AsyncCloudflare) -> None:
    plain = await seeded.aisearch.namespaces.instances.chat_completions(
        "docs", name="default", messages=QUESTION
    )
    stream = await seeded.aisearch.namespaces.instances.chat_completions(
        "docs", name="default", messages=QUESTION, stream=True
    )
    events = []
    async with stream:
        assert stream.request_id
        async for event in stream:
            events.append(event)
    assert isinstance(events[0], RetrievedChunks)
    assert keys(events[0].chunks) == keys(plain.chunks)
    deltas = [e for e in events[1:] if isinstance(e, ChatCompletionChunk)]
    assert len(deltas) == len(events) - 1
    assert len(deltas) > 3
    assert "".join(d.text for d in deltas) == plain.choices[0].message.content
    assert deltas[-1].choices[0].finish_reason == "stop"
    assert stream.done

    again = await seeded.aisearch.instances.chat_completions("docs", messages=QUESTION, stream=True)
    async with again:
        final = await again.get_final_completion()
    assert final.choices[0].message.content == plain.choices[0].message.content
    assert keys(final.chunks) == keys(plain.chunks)


async def test_leaving_a_stream_early_closes_it(seeded: AsyncCloudflare) -> None:
    stream = await seeded.aisearch.namespaces.instances.chat_completions(
        "docs", name="default", messages=QUESTION, stream=True
    )
    async with stream:
        async for text in stream.text_deltas():
            assert text
            break
    assert not stream.done
    # The connection went back cleanly: the client keeps working.
    assert (await seeded.aisearch.namespaces.instances.stats("docs", name="default")).completed


async def test_namespace_search_and_chat_across_instances(
    aisearch_async_client: AsyncCloudflare,
) -> None:
    aisearch = aisearch_async_client.aisearch
    await aisearch.namespaces.create(name="team")
    await async_seed_documents(
        aisearch_async_client,
        {"a.md": "Streaming uses server-sent events."},
        instance="one",
        namespace="team",
    )
    await async_seed_documents(
        aisearch_async_client,
        {"b.md": "Server-sent events carry chat deltas."},
        instance="two",
        namespace="team",
    )
    options: NamespaceAISearchOptionsParam = {"instance_ids": ["one", "two", "missing"]}
    result = await aisearch.namespaces.search(
        "team", query="server-sent events", aisearch_options=options
    )
    assert {c.instance_id for c in result.chunks} == {"one", "two"}
    assert [e.instance_id for e in result.errors or []] == ["missing"]
    scores = [c.score for c in result.chunks]
    assert scores == sorted(scores, reverse=True)

    completion = await aisearch.namespaces.chat_completions(
        "team", messages=QUESTION, aisearch_options=options
    )
    assert {c.instance_id for c in completion.chunks} == {"one", "two"}
    assert [e.instance_id for e in completion.errors or []] == ["missing"]

    stream = await aisearch.namespaces.chat_completions(
        "team", messages=QUESTION, aisearch_options=options, stream=True
    )
    async with stream:
        events = [event async for event in stream]
        final = await stream.get_final_completion()
    first = events[0]
    assert isinstance(first, RetrievedChunks)
    assert {c.instance_id for c in first.chunks if isinstance(c, NamespaceSearchChunk)} == {
        "one",
        "two",
    }
    # Whether a stream reports failed instances is undocumented; the emulator does not.
    assert final.choices[0].message.content == completion.choices[0].message.content

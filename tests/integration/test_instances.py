"""Instances, top-level (default namespace) and namespaced: every operation, async client."""

from __future__ import annotations

import pytest

from cfaisearch import AsyncCloudflare, NotFoundError
from cfaisearch.testing import async_seed_documents
from tests.support.integration import DOCS

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")


async def test_namespaced_instance_lifecycle(aisearch_async_client: AsyncCloudflare) -> None:
    aisearch = aisearch_async_client.aisearch
    instances = aisearch.namespaces.instances
    await aisearch.namespaces.create(name="team")
    created = await instances.create(
        "team",
        id="kb",
        index_method={"vector": True, "keyword": True},
        chunk_size=128,
        chunk_overlap=10,
        custom_metadata=[{"field_name": "product", "data_type": "text"}],
        retrieval_options={"keyword_match_mode": "or"},
        aisearch_model="@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    )
    assert (created.id, created.namespace, created.chunk_size) == ("kb", "team", 128)
    assert created.index_method is not None
    assert (created.index_method.vector, created.index_method.keyword) == (True, True)
    assert created.custom_metadata is not None
    assert created.custom_metadata[0].field_name == "product"
    assert created.aisearch_model == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"

    read = await instances.read("kb", name="team")
    assert read.created_at == created.created_at
    updated = await instances.update(
        "kb", name="team", max_num_results=7, paused=True, system_prompt_aisearch="Be brief."
    )
    assert (updated.max_num_results, updated.paused) == (7, True)
    assert updated.chunk_size == 128  # settings not given keep their values

    for n in range(3):
        await instances.create("team", id=f"extra-{n}")
    page = await instances.list("team", per_page=2)
    assert len(page.result) == 2
    assert page.result_info.total_count == 4
    listed = [i async for i in instances.list("team", per_page=2)]
    assert sorted(i.id for i in listed) == ["extra-0", "extra-1", "extra-2", "kb"]
    assert all(i.namespace == "team" for i in listed)
    assert [i.id async for i in instances.list("team", search="kb")] == ["kb"]

    stats = await instances.stats("kb", name="team")
    assert (stats.completed, stats.queued, stats.running) == (0, 0, 0)

    deleted = await instances.delete("kb", name="team")
    assert deleted.id == "kb"
    with pytest.raises(NotFoundError):
        await instances.read("kb", name="team")


async def test_top_level_instances_act_on_the_default_namespace(
    aisearch_async_client: AsyncCloudflare,
) -> None:
    aisearch = aisearch_async_client.aisearch
    created = await aisearch.instances.create(id="legacy", chunk_size=200)
    assert created.namespace in (None, "default")
    assert (await aisearch.namespaces.instances.read("legacy", name="default")).chunk_size == 200
    assert (await aisearch.instances.read("legacy")).id == "legacy"
    updated = await aisearch.instances.update("legacy", max_num_results=3)
    assert updated.max_num_results == 3

    await aisearch.namespaces.create(name="other")
    await aisearch.namespaces.instances.create("other", id="elsewhere")
    # The top-level list covers every namespace and filters by one on request.
    assert sorted([i.id async for i in aisearch.instances.list()]) == ["elsewhere", "legacy"]
    assert [i.id async for i in aisearch.instances.list(namespace="other")] == ["elsewhere"]

    await async_seed_documents(aisearch_async_client, DOCS, instance="legacy")
    stats = await aisearch.instances.stats("legacy")
    assert stats.completed == len(DOCS)
    result = await aisearch.instances.search("legacy", query="BM25 keyword")
    assert result.chunks[0].item is not None
    assert result.chunks[0].item.key == "concepts/bm25.md"
    completion = await aisearch.instances.chat_completions(
        "legacy", messages=[{"role": "user", "content": "What does BM25 rank?"}]
    )
    assert "BM25" in str(completion.choices[0].message.content)

    assert (await aisearch.instances.delete("legacy")).id == "legacy"
    with pytest.raises(NotFoundError):
        await aisearch.instances.read("legacy")

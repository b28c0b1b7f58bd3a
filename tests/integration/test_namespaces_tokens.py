"""Namespaces and service tokens: every operation, async client, real HTTP."""

from __future__ import annotations

import pytest

from cfaisearch import (
    AsyncCloudflare,
    BadRequestError,
    ConflictError,
    NotFoundError,
)


async def test_namespace_lifecycle(aisearch_async_client: AsyncCloudflare) -> None:
    namespaces = aisearch_async_client.aisearch.namespaces
    created = await namespaces.create(name="support", description="help center")
    assert (created.name, created.description) == ("support", "help center")
    assert created.created_at is not None

    read = await namespaces.read("support")
    assert read.name == "support"
    updated = await namespaces.update("support", description="help center v2")
    assert updated.description == "help center v2"

    page = await namespaces.list(per_page=1)
    assert len(page.result) == 1
    assert page.result_info.total_count == 2
    assert sorted([n.name async for n in namespaces.list(per_page=1)]) == ["default", "support"]
    assert [n.name async for n in namespaces.list(search="supp")] == ["support"]

    with pytest.raises(ConflictError):
        await namespaces.create(name="support")
    await namespaces.delete("support")
    with pytest.raises(NotFoundError) as caught:
        await namespaces.read("support")
    assert caught.value.status_code == 404
    assert caught.value.request_id


async def test_namespace_with_instances_cannot_be_deleted(
    aisearch_async_client: AsyncCloudflare,
) -> None:
    aisearch = aisearch_async_client.aisearch
    await aisearch.namespaces.create(name="busy")
    await aisearch.namespaces.instances.create("busy", id="kb")
    with pytest.raises(ConflictError):
        await aisearch.namespaces.delete("busy")
    with pytest.raises(ConflictError):
        await aisearch.namespaces.delete("default")


async def test_token_lifecycle(aisearch_async_client: AsyncCloudflare) -> None:
    tokens = aisearch_async_client.aisearch.tokens
    token = await tokens.create(cf_api_id="api-id", cf_api_key="s3cret", name="reader")
    assert (token.name, token.cf_api_id) == ("reader", "api-id")
    assert "s3cret" not in repr(token)

    assert (await tokens.read(token.id)).id == token.id
    updated = await tokens.update(token.id, cf_api_id="api-id-2", cf_api_key="n3w", name="reader-2")
    assert (updated.name, updated.cf_api_id) == ("reader-2", "api-id-2")
    await tokens.create(cf_api_id="other", cf_api_key="x", name="other")
    assert sorted([t.name async for t in tokens.list(per_page=1)]) == ["other", "reader-2"]
    assert [t.name async for t in tokens.list(search="read")] == ["reader-2"]

    await tokens.delete(token.id)
    with pytest.raises(NotFoundError):
        await tokens.read(token.id)


async def test_token_in_use_cannot_be_deleted(aisearch_async_client: AsyncCloudflare) -> None:
    aisearch = aisearch_async_client.aisearch
    token = await aisearch.tokens.create(cf_api_id="id", cf_api_key="key", name="r2")
    await aisearch.namespaces.instances.create(
        "default", id="kb", type="r2", source="kb-bucket", token_id=token.id
    )
    with pytest.raises(ConflictError):
        await aisearch.tokens.delete(token.id)


async def test_invalid_settings_are_refused_by_the_api(
    aisearch_async_client: AsyncCloudflare,
) -> None:
    with pytest.raises(BadRequestError) as caught:
        await aisearch_async_client.aisearch.namespaces.instances.create(
            "default", id="kb", chunk_size=10
        )
    assert "chunk_size" in str(caught.value)

"""Shared data and set-up steps of the integration tests."""

from __future__ import annotations

from cfaisearch import AsyncCloudflare, Cloudflare

BUCKET = "kb-bucket"
BUCKET_FILES = {
    "docs/retries.md": "# Retries\n\nReads are retried on 503. Job creation is never replayed.\n",
    "docs/streaming.md": "# Streaming\n\nChat answers arrive as server-sent events.\n",
    "docs/pagination.md": "# Pagination\n\nLists are paged with page and per_page.\n",
}
DOCS = {
    "guides/retries.md": "Reads are retried after a 503. Uploads are not replayed after a timeout.",
    "guides/streaming.md": "Chat answers stream token by token as server-sent events.",
    "concepts/bm25.md": "BM25 ranks keyword matches by term frequency and rarity.",
}


async def make_r2_instance(
    client: AsyncCloudflare, instance: str, *, namespace: str = "default"
) -> str:
    """Create a token and an R2-backed instance reading ``BUCKET``; return the token id."""
    token = await client.aisearch.tokens.create(
        cf_api_id=f"{instance}-id", cf_api_key="secret", name=f"{instance}-token"
    )
    await client.aisearch.namespaces.instances.create(
        namespace, id=instance, type="r2", source=BUCKET, token_id=token.id
    )
    return token.id


def make_r2_instance_sync(client: Cloudflare, instance: str, *, namespace: str = "default") -> str:
    token = client.aisearch.tokens.create(
        cf_api_id=f"{instance}-id", cf_api_key="secret", name=f"{instance}-token"
    )
    client.aisearch.namespaces.instances.create(
        namespace, id=instance, type="r2", source=BUCKET, token_id=token.id
    )
    return token.id

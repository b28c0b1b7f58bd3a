"""The items operations as table rows: each call, its exact request and the mocked answer."""

from __future__ import annotations

from typing import Any

from cfaisearch.types import (
    Item,
    ItemChunk,
    ItemChunksPage,
    ItemDeleteResult,
    ItemLog,
    ItemLogsPage,
    ItemUploadResult,
)
from tests.support.ops import Op, envelope, fixture, strict

ITEM = fixture("item")
ITEMS = "/namespaces/default/instances/docs-search/items"
LOGS_INFO: dict[str, Any] = {"count": 1, "per_page": 1, "cursor": "c2", "truncated": True}
CHUNKS_INFO: dict[str, Any] = {"count": 1, "limit": 1, "offset": 4, "total": 9}

OPS = [
    Op(
        "namespaces.instances.items.list",
        lambda ai: ai.namespaces.instances.items.list(
            "docs-search",
            name="default",
            item_id="01J8Z5K6",
            key="guides/guide.pdf",
            metadata_filter='{"folder":"guides/"}',
            page=1,
            per_page=5,
            search="guide",
            sort_by="modified_at",
            source="builtin",
            status="completed",
        ),
        "GET",
        ITEMS,
        envelope([ITEM], result_info={"page": 1, "per_page": 5, "count": 1, "total_count": 1}),
        [strict("item", Item)],
        query={
            "item_id": "01J8Z5K6",
            "key": "guides/guide.pdf",
            "metadata_filter": '{"folder":"guides/"}',
            "page": "1",
            "per_page": "5",
            "search": "guide",
            "sort_by": "modified_at",
            "source": "builtin",
            "status": "completed",
        },
        retried=True,
    ),
    Op(
        "namespaces.instances.items.upload",
        lambda ai: ai.namespaces.instances.items.upload(
            "docs-search",
            name="default",
            file={
                "file": ("a.txt", b"hello", "text/plain"),
                "metadata": '{"a":1}',
                "wait_for_completion": True,
            },
        ),
        "POST",
        ITEMS,
        envelope(fixture("item_upload")),
        strict("item_upload", ItemUploadResult),
        form=[
            ("metadata", None, "text/plain", b'{"a":1}'),
            ("wait_for_completion", None, "text/plain", b"true"),
            ("file", "a.txt", "text/plain", b"hello"),
        ],
    ),
    Op(
        "namespaces.instances.items.create_or_update",
        lambda ai: ai.namespaces.instances.items.create_or_update(
            "docs-search",
            name="default",
            key="guides/guide.pdf",
            next_action="INDEX",
            wait_for_completion=True,
        ),
        "PUT",
        ITEMS,
        envelope(ITEM),
        strict("item", Item),
        body={"key": "guides/guide.pdf", "next_action": "INDEX", "wait_for_completion": True},
        retried=True,
    ),
    Op(
        "namespaces.instances.items.get",
        lambda ai: ai.namespaces.instances.items.get("01J8Z5K6", name="default", id="docs-search"),
        "GET",
        f"{ITEMS}/01J8Z5K6",
        envelope(ITEM),
        strict("item", Item),
        retried=True,
    ),
    Op(
        "namespaces.instances.items.sync",
        lambda ai: ai.namespaces.instances.items.sync(
            "01J8Z5K6", name="default", id="docs-search", next_action="INDEX"
        ),
        "PATCH",
        f"{ITEMS}/01J8Z5K6",
        envelope(ITEM),
        strict("item", Item),
        body={"next_action": "INDEX"},
    ),
    Op(
        "namespaces.instances.items.delete",
        lambda ai: ai.namespaces.instances.items.delete(
            "01J8Z5K6", name="default", id="docs-search"
        ),
        "DELETE",
        f"{ITEMS}/01J8Z5K6",
        envelope({"key": "guides/guide.pdf"}),
        ItemDeleteResult(key="guides/guide.pdf"),
        retried=True,
    ),
    Op(
        "namespaces.instances.items.download",
        lambda ai: ai.namespaces.instances.items.download(
            "01J8Z5K6", name="default", id="docs-search"
        ),
        "GET",
        f"{ITEMS}/01J8Z5K6/download",
        b"%PDF-1.7 file bytes",
        b"%PDF-1.7 file bytes",
        headers={"Accept": "application/octet-stream"},
        retried=True,
    ),
    Op(
        "namespaces.instances.items.logs",
        lambda ai: ai.namespaces.instances.items.logs(
            "01J8Z5K6", name="default", id="docs-search", cursor="c1", limit=1
        ),
        "GET",
        f"{ITEMS}/01J8Z5K6/logs",
        envelope([fixture("item_log")], result_info=LOGS_INFO),
        ItemLogsPage(result=[strict("item_log", ItemLog)], **LOGS_INFO),
        query={"cursor": "c1", "limit": "1"},
        retried=True,
    ),
    Op(
        "namespaces.instances.items.chunks",
        lambda ai: ai.namespaces.instances.items.chunks(
            "01J8Z5K6", name="default", id="docs-search", limit=1, offset=4
        ),
        "GET",
        f"{ITEMS}/01J8Z5K6/chunks",
        envelope([fixture("item_chunk")], result_info=CHUNKS_INFO),
        ItemChunksPage(result=[strict("item_chunk", ItemChunk)], **CHUNKS_INFO),
        query={"limit": "1", "offset": "4"},
        retried=True,
    ),
]

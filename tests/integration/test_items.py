"""Items: upload, get, list, sync, create_or_update, download, logs, chunks, delete, wait."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cfaisearch import AsyncCloudflare, NotFoundError
from cfaisearch.testing import async_seed_documents
from tests.support.integration import BUCKET_FILES, DOCS, make_r2_instance

LONG = " ".join(f"Sentence {n} explains chunking and retrieval in plain words." for n in range(120))


async def test_upload_variants_get_and_delete(
    aisearch_async_client: AsyncCloudflare, tmp_path: Path
) -> None:
    aisearch = aisearch_async_client.aisearch
    await aisearch.namespaces.instances.create(
        "default", id="kb", custom_metadata=[{"field_name": "team", "data_type": "text"}]
    )
    items = aisearch.namespaces.instances.items

    from_bytes = await items.upload(
        "kb",
        name="default",
        file={
            "file": ("guides/a.md", b"# A\n\nAbout retries.", "text/markdown"),
            "metadata": {"team": "docs", "unknown": 1},
            "wait_for_completion": True,
        },
    )
    assert (from_bytes.key, from_bytes.status) == ("guides/a.md", "completed")
    assert from_bytes.metadata is not None
    assert from_bytes.metadata["team"] == "docs"
    assert [w.code for w in from_bytes.warnings or []] == ["custom_metadata_field_not_filterable"]

    path = tmp_path / "b.txt"
    path.write_bytes(b"Read from a path, streamed in chunks.")
    from_path = await items.upload("kb", name="default", file={"file": path})
    assert from_path.key == "b.txt"
    handle = io.BytesIO(b"From a file object.")
    from_file = await items.upload(
        "kb", name="default", file={"file": ("c.txt", handle), "metadata": '{"team": "ops"}'}
    )
    done = await items.wait(from_file.id, name="default", id="kb", poll_interval=0.02)
    assert (done.status, done.chunks_count) == ("completed", 1)

    got = await items.get(from_bytes.id, name="default", id="kb")
    assert (got.id, got.checksum) == (from_bytes.id, from_bytes.checksum)
    # Uploading the same key again replaces the item, keeping its id.
    again = await items.upload("kb", name="default", file={"file": ("guides/a.md", b"New text.")})
    assert again.id == from_bytes.id
    assert again.checksum != from_bytes.checksum

    deleted = await items.delete(from_path.id, name="default", id="kb")
    assert deleted.key == "b.txt"
    with pytest.raises(NotFoundError):
        await items.get(from_path.id, name="default", id="kb")


async def test_unreadable_files_are_skipped_or_fail(aisearch_async_client: AsyncCloudflare) -> None:
    items = await async_seed_documents(
        aisearch_async_client,
        {"image.png": b"\x89PNG\r\n\x1a\n\x00\x00", "broken.txt": b"\xff\xfe\xfa bad utf-8"},
    )
    statuses = {i.key: i.status for i in items}
    assert statuses == {"image.png": "skipped", "broken.txt": "error"}
    assert all(i.done for i in items)


async def test_list_filters_and_pages(aisearch_async_client: AsyncCloudflare) -> None:
    await async_seed_documents(aisearch_async_client, DOCS)
    items = aisearch_async_client.aisearch.namespaces.instances.items
    page = await items.list("docs", name="default", per_page=2)
    assert len(page.result) == 2
    assert page.result_info.total_count == len(DOCS)
    every = [i.key async for i in items.list("docs", name="default", per_page=2)]
    assert sorted(every) == sorted(DOCS)
    guides = items.list("docs", name="default", metadata_filter=json.dumps({"folder": "guides/"}))
    assert sorted([i.key async for i in guides]) == ["guides/retries.md", "guides/streaming.md"]
    assert [i.key async for i in items.list("docs", name="default", search="bm25")] == [
        "concepts/bm25.md"
    ]
    completed = items.list("docs", name="default", status="completed", sort_by="modified_at")
    assert len([i async for i in completed]) == len(DOCS)
    assert [i async for i in items.list("docs", name="default", status="error")] == []
    uploaded = items.list("docs", name="default", source="builtin")
    assert len([i async for i in uploaded]) == len(DOCS)


async def test_chunks_logs_and_download(
    aisearch_async_client: AsyncCloudflare, tmp_path: Path
) -> None:
    (item,) = await async_seed_documents(
        aisearch_async_client,
        {"long.md": LONG},
        instance_settings={"chunk_size": 64, "chunk_overlap": 0},
    )
    items = aisearch_async_client.aisearch.namespaces.instances.items
    assert item.chunks_count is not None
    assert item.chunks_count > 5

    # Offset pagination over the chunks.
    texts: list[str] = []
    offset: int | None = 0
    while offset is not None:
        chunks = await items.chunks(item.id, name="default", id="docs", limit=3, offset=offset)
        assert len(chunks) <= 3
        texts.extend(chunk.text for chunk in chunks)
        offset = chunks.next_offset
    assert len(texts) == item.chunks_count
    first = (await items.chunks(item.id, name="default", id="docs", limit=1))[0]
    assert (first.start_byte, first.item.key) == (0, "long.md")

    # Cursor pagination over the processing events.
    actions: list[str] = []
    cursor: str | None = None
    while True:
        logs = await items.logs(item.id, name="default", id="docs", limit=1, cursor=cursor)
        actions.extend(log.action for log in logs)
        if (cursor := logs.next_cursor) is None:
            break
    assert actions[-1] == "completed"
    assert len(actions) >= 2

    async with await items.download(item.id, name="default", id="docs") as download:
        assert download.filename == "long.md"
        assert await download.read() == LONG.encode()
    async with await items.download(item.id, name="default", id="docs") as download:
        pieces = [piece async for piece in download.iter_bytes(1000)]
    assert b"".join(pieces) == LONG.encode()
    target = tmp_path / "copy.md"
    async with await items.download(item.id, name="default", id="docs") as download:
        assert await download.write_to_file(target) == len(LONG)
    assert target.read_text() == LONG


@pytest.mark.aisearch_emulator(index_delay=0.1)
async def test_sync_and_wait_follow_indexing(aisearch_async_client: AsyncCloudflare) -> None:
    (queued,) = await async_seed_documents(
        aisearch_async_client, {"a.md": "Some text to index."}, wait=False
    )
    assert queued.status in ("queued", "running")
    items = aisearch_async_client.aisearch.namespaces.instances.items
    done = await items.wait(queued.id, name="default", id="docs", poll_interval=0.02)
    assert done.status == "completed"

    synced = await items.sync(queued.id, name="default", id="docs", next_action="INDEX")
    assert synced.status in ("queued", "running")
    waited = await items.sync(
        queued.id, name="default", id="docs", next_action="INDEX", wait_for_completion=True
    )
    assert waited.status == "completed"


async def test_create_or_update_registers_bucket_objects(
    aisearch_async_client: AsyncCloudflare,
) -> None:
    await make_r2_instance(aisearch_async_client, "kb")
    items = aisearch_async_client.aisearch.namespaces.instances.items
    key = next(iter(BUCKET_FILES))
    item = await items.create_or_update(
        "kb", name="default", key=key, next_action="INDEX", wait_for_completion=True
    )
    assert (item.key, item.status) == (key, "completed")
    assert item.source_id != "builtin"
    with pytest.raises(NotFoundError):
        await items.create_or_update("kb", name="default", key="missing.md", next_action="INDEX")

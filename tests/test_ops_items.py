"""Items of a namespaced instance: every operation on the wire, both clients, and wait()."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch.types import (
    Item,
    ItemChunk,
    ItemChunksPage,
    ItemLog,
    ItemLogsPage,
    ItemUploadResult,
)
from tests.support.clients import make_async, make_sync
from tests.support.ops import (
    KINDS,
    ROOT,
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
from tests.support.ops_items import ITEM, ITEMS, LOGS_INFO, OPS


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("op", OPS, ids=ids(OPS))
async def test_request_and_decoding(kind: str, op: Op, mocked: aioresponses) -> None:
    result, request = await run_op(kind, op, mocked)
    assert_request(op, request)
    assert result == op.expected


async def test_upload_streams_a_path_with_mapping_metadata(
    mocked: aioresponses, tmp_path: Path
) -> None:
    document = tmp_path / "notes.md"
    document.write_bytes(b"# Notes\n")
    op = Op(
        "namespaces.instances.items.upload",
        lambda ai: ai.namespaces.instances.items.upload(
            "docs-search", name="default", file={"file": document, "metadata": {"team": "docs"}}
        ),
        "POST",
        ITEMS,
        envelope(fixture("item_upload")),
        strict("item_upload", ItemUploadResult),
        form=[
            ("metadata", None, "text/plain", b'{"team":"docs"}'),
            ("file", "notes.md", "text/markdown", b"# Notes\n"),
        ],
    )
    result, request = await run_op("async", op, mocked)
    assert_request(op, request)
    assert result == op.expected


@pytest.mark.parametrize(
    ("file", "error", "match"),
    [
        ({}, ValueError, "`file['file']` is required"),
        ({"file": b"x", "colour": "red"}, TypeError, "unknown key"),
        ({"file": "notes.md"}, TypeError, "`file['file']` content must be bytes"),
        ({"file": ("", b"x")}, ValueError, "needs a file name"),
        ({"file": b"x", "wait_for_completion": "yes"}, TypeError, "wait_for_completion"),
    ],
)
async def test_bad_upload_fails_before_any_request(
    mocked: aioresponses, file: Any, error: type[Exception], match: str
) -> None:
    async with make_async() as client:
        with pytest.raises(error, match=re.escape(match)):
            await client.aisearch.namespaces.instances.items.upload(
                "docs-search", name="default", file=file
            )
    assert sent_requests(mocked) == []


def test_logs_page_behaves_as_the_list_and_points_to_the_next_one() -> None:
    entry = strict("item_log", ItemLog)
    page = ItemLogsPage(result=[entry], **LOGS_INFO)
    assert list(page) == [entry]
    assert len(page) == 1
    assert page[0] is entry
    assert page[:1] == [entry]
    assert page.next_cursor == "c2"
    assert ItemLogsPage(result=[entry], cursor="c3", truncated=False).next_cursor is None


@pytest.mark.parametrize(
    ("info", "size", "expected"),
    [
        ({"limit": 2, "offset": 0, "total": 5}, 2, 2),
        ({"limit": 2, "offset": 4, "total": 5}, 1, None),
        ({"limit": 2, "offset": 2, "total": 4}, 2, None),
        ({"limit": 2, "offset": 2}, 2, 4),  # no total: a full window may have a successor
        ({"limit": 2, "offset": 2}, 1, None),  # ...a short one is the last
        ({"limit": 2, "offset": 6, "total": 9}, 0, None),
    ],
)
def test_chunks_page_next_offset(info: dict[str, int], size: int, expected: int | None) -> None:
    chunk = strict("item_chunk", ItemChunk)
    page = ItemChunksPage(result=[chunk] * size, count=size, **info)
    assert page.next_offset == expected
    assert len(page) == size
    assert list(page) == [chunk] * size


async def test_walking_chunks_by_offset(mocked: aioresponses) -> None:
    url = f"{ROOT}{ITEMS}/i1/chunks"
    chunk = fixture("item_chunk")
    mocked.get(
        f"{url}?limit=2",
        payload=envelope(
            [chunk, chunk], result_info={"count": 2, "limit": 2, "offset": 0, "total": 3}
        ),
    )
    mocked.get(
        f"{url}?limit=2&offset=2",
        payload=envelope([chunk], result_info={"count": 1, "limit": 2, "offset": 2, "total": 3}),
    )
    seen = 0
    async with make_async() as client:
        items = client.aisearch.namespaces.instances.items
        offset: int | None = None
        while True:
            page = await items.chunks(
                "i1", name="default", id="docs-search", limit=2, offset=offset
            )
            seen += len(page)
            offset = page.next_offset
            if offset is None:
                break
    assert seen == 3
    assert len(sent_requests(mocked)) == 2


async def test_wait_polls_until_processing_is_over(mocked: aioresponses) -> None:
    url = f"{ROOT}{ITEMS}/i1"
    for status in ("queued", "running", "skipped"):
        mocked.get(url, payload=envelope({**ITEM, "status": status}))
    async with make_async() as client:
        item = await client.aisearch.namespaces.instances.items.wait(
            "i1", name="default", id="docs-search", poll_interval=0.001
        )
    assert item.status == "skipped"
    assert item.done
    assert len(sent_requests(mocked)) == 3


def test_sync_wait_times_out_with_the_last_item(mocked: aioresponses) -> None:
    mocked.get(f"{ROOT}{ITEMS}/i1", payload=envelope({**ITEM, "status": "running"}), repeat=True)
    with make_sync() as client, pytest.raises(cf.WaitTimeoutError, match="still running") as info:
        client.aisearch.namespaces.instances.items.wait(
            "i1", name="default", id="docs-search", poll_interval=0.01, timeout=0.03
        )
    assert isinstance(info.value.last, Item)
    assert info.value.last.status == "running"


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda i: i.list("docs", name="default", per_page=51), "per_page"),
        (lambda i: i.list("docs", name=""), "name"),
        (lambda i: i.list("..", name="default"), "id"),
        (lambda i: i.get("", name="default", id="docs"), "item_id"),
        (lambda i: i.sync("..", name="default", id="docs", next_action="INDEX"), "item_id"),
        (lambda i: i.delete("", name="default", id="docs"), "item_id"),
        (lambda i: i.create_or_update("docs", name="default", key="", next_action="INDEX"), "key"),
        (lambda i: i.logs("it", name="default", id="docs", limit=0), "limit"),
        (lambda i: i.logs("it", name="default", id="docs", limit=101), "limit"),
        (lambda i: i.chunks("it", name="default", id="docs", offset=-1), "offset"),
        (lambda i: i.chunks("", name="default", id="docs"), "item_id"),
        (lambda i: i.wait("it", name="default", id="docs", poll_interval=-1), "poll_interval"),
    ],
)
async def test_bad_input_fails_before_any_request(
    mocked: aioresponses, call: Any, name: str
) -> None:
    await assert_refused(mocked, call, name, on="namespaces.instances.items")

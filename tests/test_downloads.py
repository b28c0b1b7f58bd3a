"""Item downloads: read, chunked iteration, streaming to disk, release of the connection."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import tracemalloc
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

import cfaisearch as cf
from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async, make_sync

ITEM = f"/client/v4/accounts/{ACCOUNT}/ai-search/namespaces/default/instances/docs/items/it-1"
BLOCK = bytes(range(256)) * 256  # 64 KiB
BIG_BLOCKS = 800  # 50 MiB


def digest_of_blocks(count: int) -> str:
    sha = hashlib.sha256()
    for _ in range(count):
        sha.update(BLOCK)
    return sha.hexdigest()


async def small(request: web.Request) -> web.Response:
    return web.Response(
        body=b"%PDF-1.7 hello",
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": 'attachment; filename="../../etc/report.pdf"',
            "cf-ray": "ray-1",
            "X-Accept-Seen": request.headers["Accept"],
        },
    )


async def big(request: web.Request) -> web.StreamResponse:
    """50 MiB, generated block by block so the server holds no more than one block."""
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = len(BLOCK) * BIG_BLOCKS
    await response.prepare(request)
    for _ in range(BIG_BLOCKS):
        await response.write(BLOCK)
    return response


async def missing(request: web.Request) -> web.Response:
    return web.json_response(
        {"success": False, "errors": [{"code": 7404, "message": "item not found"}]}, status=404
    )


async def item(request: web.Request) -> web.Response:
    return web.json_response(
        envelope(
            {
                "id": "it-1",
                "key": "report.pdf",
                "status": "completed",
                "checksum": "0",
                "namespace": "default",
                "created_at": "2026-01-01T00:00:00Z",
                "last_seen_at": "2026-01-01T00:00:00Z",
            }
        )
    )


async def start(serve: ServeFn) -> str:
    app = web.Application()
    app.router.add_get(f"{ITEM}/download", small)
    app.router.add_get(ITEM.replace("it-1", "big") + "/download", big)
    app.router.add_get(ITEM.replace("it-1", "gone") + "/download", missing)
    app.router.add_get(ITEM, item)
    return await serve(app)


async def test_read_returns_the_body_and_the_file_facts(serve: ServeFn) -> None:
    base = await start(serve)
    async with make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        async with await items.download("it-1", name="default", id="docs") as response:
            assert await response.read() == b"%PDF-1.7 hello"
            assert await response.read() == b"%PDF-1.7 hello"  # kept
            assert response.status_code == 200
            assert response.content_type == "application/pdf"
            assert response.content_length == 14
            assert response.filename == "report.pdf"  # never a path
            assert response.request_id == "ray-1"
            assert response.headers["X-Accept-Seen"] == "application/octet-stream"


async def test_iter_bytes_yields_chunks_of_the_asked_size(serve: ServeFn) -> None:
    base = await start(serve)
    async with make_async(base_url=base) as client:
        response = await client.aisearch.namespaces.instances.items.download(
            "big", name="default", id="docs"
        )
        sizes = set()
        sha = hashlib.sha256()
        async for chunk in response.iter_bytes(100_000):
            sizes.add(len(chunk))
            sha.update(chunk)
        with pytest.raises(cf.CloudflareError, match="already read"):
            await response.read()
    assert sha.hexdigest() == digest_of_blocks(BIG_BLOCKS)
    last = len(BLOCK) * BIG_BLOCKS % 100_000
    assert sizes == {100_000, last}


async def test_write_to_file_streams_to_disk_in_bounded_memory(
    serve: ServeFn, tmp_path: Path
) -> None:
    base = await start(serve)
    target = tmp_path / "big.bin"
    async with make_async(base_url=base) as client:
        response = await client.aisearch.namespaces.instances.items.download(
            "big", name="default", id="docs"
        )
        tracemalloc.start()
        try:
            written = await response.write_to_file(target)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert written == target.stat().st_size == len(BLOCK) * BIG_BLOCKS
    sha = hashlib.sha256()
    with target.open("rb") as handle:
        while block := handle.read(1 << 20):
            sha.update(block)
    assert sha.hexdigest() == digest_of_blocks(BIG_BLOCKS)
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


async def test_leaving_early_or_closing_releases_the_connection(serve: ServeFn) -> None:
    base = await start(serve)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))
    try:
        async with make_async(base_url=base, http_session=session) as client:
            items = client.aisearch.namespaces.instances.items
            response = await items.download("big", name="default", id="docs")
            async for _chunk in response.iter_bytes():
                break
            # The single pooled connection is free again (the loop's generator closed it).
            item = await asyncio.wait_for(items.get("it-1", name="default", id="docs"), 10)
            assert item.key == "report.pdf"
            response = await items.download("big", name="default", id="docs")
            await response.aclose()
            item = await asyncio.wait_for(items.get("it-1", name="default", id="docs"), 10)
            assert item.key == "report.pdf"
    finally:
        await session.close()


async def test_an_error_status_raises_instead_of_returning_a_body(serve: ServeFn) -> None:
    base = await start(serve)
    async with make_async(base_url=base) as client:
        with pytest.raises(cf.NotFoundError, match=r"\[7404\] item not found"):
            await client.aisearch.namespaces.instances.items.download(
                "gone", name="default", id="docs"
            )


async def test_the_sync_facade_reads_iterates_and_writes(serve: ServeFn, tmp_path: Path) -> None:
    base = await start(serve)

    def use_sync_client() -> None:
        with make_sync(base_url=base) as client:
            items = client.aisearch.namespaces.instances.items
            with items.download("it-1", name="default", id="docs") as response:
                assert response.read() == b"%PDF-1.7 hello"
                assert response.filename == "report.pdf"
            response = items.download("big", name="default", id="docs")
            total = sum(len(chunk) for chunk in response.iter_bytes(1 << 20))
            assert total == len(BLOCK) * BIG_BLOCKS
            response = items.download("big", name="default", id="docs")
            for _chunk in response.iter_bytes():
                break
            response.close()
            target = tmp_path / "copy.bin"
            written = items.download("big", name="default", id="docs").write_to_file(target)
            assert written == target.stat().st_size == len(BLOCK) * BIG_BLOCKS

    await asyncio.to_thread(use_sync_client)


async def test_write_to_file_replaces_the_file_whole_keeping_its_permissions(
    serve: ServeFn, tmp_path: Path
) -> None:
    base = await start(serve)
    target = tmp_path / "report.pdf"
    target.write_bytes(b"an older, longer report")
    target.chmod(0o640)
    link = tmp_path / "latest.pdf"
    link.symlink_to(target)
    async with make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        download = await items.download("it-1", name="default", id="docs")
        with target.open("rb") as reader:
            assert await download.write_to_file(link) == 14
            # Swapped in whole, never rewritten in place: a reader keeps the old file.
            assert reader.read() == b"an older, longer report"
    assert link.is_symlink()  # written through the link, as open() would
    assert target.read_bytes() == b"%PDF-1.7 hello"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["latest.pdf", "report.pdf"]


async def test_write_to_file_refuses_a_directory_before_reading(
    serve: ServeFn, tmp_path: Path
) -> None:
    base = await start(serve)
    async with make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        async with await items.download("it-1", name="default", id="docs") as download:
            with pytest.raises(IsADirectoryError, match="`path` is a directory"):
                await download.write_to_file(tmp_path)
            assert await download.write_to_file(tmp_path / "report.pdf") == 14  # still unread
    assert os.listdir(tmp_path) == ["report.pdf"]

"""Directory sync figures: files per second, and the memory a very large tree costs.

    python benchmarks/sync_dir.py                          # 10,000 files; a 100,000-file walk
    python benchmarks/sync_dir.py --quick                  # smoke run (seconds)
    python benchmarks/sync_dir.py --write docs/performance.md

``nox -s bench`` runs it after the other benchmarks with the same arguments
(those it does not know are ignored). The emulator runs in a child process
(``python -m cfaisearch.emulator``), as in ``benchmarks/emulator.py``. Measured:
a first ``sync_directory`` of small files (every one uploaded), then, once
they are indexed, a re-sync after 1% of them changed (the benchmark asserts
exactly those were uploaded);
then, with no server at all, the peak Python memory (tracemalloc) of walking a
much larger tree alone, and of walking and comparing it with an instance
listing every one of its files unchanged (hashing each file). No unit test
asserts any of these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from emulator import ACCOUNT, TOKEN, EmulatorProcess

from cfaisearch import AsyncCloudflare
from cfaisearch._directory_sync import DirectorySync, Scope, walk_batches
from cfaisearch._pagination import Page
from cfaisearch.types import Item, ResultInfo

BEGIN = "<!-- sync_directory benchmark: begin (written by benchmarks/sync_dir.py) -->"
END = "<!-- sync_directory benchmark: end -->"
INSTANCE = "bench-sync"
PER_FOLDER = 100
CONTENT = b"A small document about directory sync, one chunk long.\n"


def make_tree(root: Path, count: int, *, numbered: bool = True) -> list[str]:
    """``count`` files, ``PER_FOLDER`` to a folder (each numbered, or all alike); their keys."""
    keys = []
    for n in range(count):
        key = f"folder{n // PER_FOLDER:04}/doc{n:06}.txt"
        path = root / key
        if n % PER_FOLDER == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(CONTENT + str(n).encode() if numbered else CONTENT)
        keys.append(key)
    return keys


async def measure_uploads(files: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess("lexical") as emulator:
        root = Path(tmp)
        keys = make_tree(root, files)
        base_url = f"http://127.0.0.1:{emulator.port}/client/v4"
        async with AsyncCloudflare(api_token=TOKEN, account_id=ACCOUNT, base_url=base_url) as c:
            await c.aisearch.namespaces.instances.create("default", id=INSTANCE)
            items = c.aisearch.namespaces.instances.items
            started = time.perf_counter()
            first = await items.sync_directory(root, id=INSTANCE)
            first_seconds = time.perf_counter() - started
            assert first.ok, first.summary()
            assert len(first.uploaded) == files, first.summary()
            # The re-sync is timed on a settled instance, not beside the indexing.
            await c.aisearch.namespaces.instances.wait_until_indexed(
                INSTANCE, poll_interval=0.5, timeout=3600
            )

            changed = keys[::100]  # 1% (of a multiple of 100)
            for key in changed:
                (root / key).write_bytes(CONTENT + b"changed " + key.encode())
            started = time.perf_counter()
            again = await items.sync_directory(root, id=INSTANCE)
            again_seconds = time.perf_counter() - started
            assert again.ok, again.summary()
            assert sorted(again.uploaded) == sorted(changed), again.summary()
            assert again.unchanged == files - len(changed)
            # What the re-sync's one listing costs alone (50 items per request).
            started = time.perf_counter()
            listed = [i async for i in items.list(INSTANCE, name="default", per_page=50)]
            listing_seconds = time.perf_counter() - started
            assert len(listed) == files
    return {
        "listing_seconds": listing_seconds,
        "files": files,
        "changed": len(changed),
        "first_seconds": first_seconds,
        "again_seconds": again_seconds,
    }


class _ListingOnly:
    """Stands for ``items``: lists every file of the tree as unchanged, uploads nothing."""

    def __init__(self, keys: list[str], checksum: str) -> None:
        self._keys = keys
        self._checksum = checksum
        self._client = None

    async def _items(self) -> AsyncIterator[Item]:
        now = datetime.now(timezone.utc)
        for n, key in enumerate(self._keys):
            yield Item(
                id=f"item{n}",
                checksum=self._checksum,
                created_at=now,
                key=key,
                last_seen_at=now,
                namespace="default",
                status="completed",
                file_size=len(CONTENT),
                source_id="builtin",
            )

    def list(self, *args: object, **kwargs: object) -> _Listing:
        return _Listing(self._items())


class _Listing:
    """What ``items.list`` returns, as far as a sync reads it: pages of 50 items."""

    def __init__(self, items: AsyncIterator[Item]) -> None:
        self._items = items

    def __aiter__(self) -> AsyncIterator[Item]:
        return self._items

    async def pages(self) -> AsyncIterator[Page[Item]]:
        page: list[Item] = []
        async for item in self._items:
            page.append(item)
            if len(page) == 50:
                yield Page(result=page, result_info=ResultInfo())
                page = []
        if page:
            yield Page(result=page, result_info=ResultInfo())

    async def upload(self, *args: object, **kwargs: object) -> Any:
        raise AssertionError("every file is unchanged: nothing is uploaded")


async def _walk_only(root: Path) -> int:
    count = 0
    async for batch in walk_batches(str(root), Scope.of((), ())):
        count += len(batch)
    return count


async def _walk_and_compare(root: Path, keys: list[str]) -> int:
    listing = _ListingOnly(keys, hashlib.md5(CONTENT, usedforsecurity=False).hexdigest())
    run = DirectorySync.checked(
        listing,  # type: ignore[arg-type]
        root,
        id=INSTANCE,
        account_id=ACCOUNT,
        name="default",
        include=(),
        exclude=(),
        delete=False,
        concurrency=8,
        metadata=None,
        wait=False,
        wait_timeout=600.0,
        poll_interval=2.0,
        on_progress=None,
    )
    report = await run.run()
    assert report.unchanged == len(keys), report.summary()
    return report.unchanged


def _peak(coroutine: Any) -> tuple[Any, int, float]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        value = asyncio.run(coroutine)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return value, peak, time.perf_counter() - started


def measure_memory(tree: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # Same content everywhere, so one checksum stands for every listed item.
        keys = make_tree(root, tree, numbered=False)
        walked, walk_peak, walk_seconds = _peak(_walk_only(root))
        assert walked == tree
        compared, compare_peak, compare_seconds = _peak(_walk_and_compare(root, keys))
        assert compared == tree
    return {
        "tree": tree,
        "walk_peak": walk_peak,
        "walk_seconds": walk_seconds,
        "compare_peak": compare_peak,
        "compare_seconds": compare_seconds,
    }


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def render(uploads: dict[str, Any], memory: dict[str, Any], command: str) -> str:
    files, tree = uploads["files"], memory["tree"]
    rows = [
        "| Measure | Figure |",
        "|---|---|",
        f"| First sync, {files:,} new files | {files / uploads['first_seconds']:,.0f} files/s "
        f"({uploads['first_seconds']:.1f} s) |",
        f"| Re-sync, {uploads['changed']:,} of {files:,} changed (only those uploaded) | "
        f"{files / uploads['again_seconds']:,.0f} files/s ({uploads['again_seconds']:.1f} s) |",
        f"| of which: listing the {files:,} items, {files // 50:,} requests of 50 | "
        f"{uploads['listing_seconds']:.1f} s |",
        f"| Walk of {tree:,} files, peak Python memory | {_mib(memory['walk_peak'])} "
        f"({memory['walk_seconds']:.1f} s under tracemalloc) |",
        f"| Walk + MD5 comparison of {tree:,} files against a {tree:,}-item listing, "
        f"peak Python memory | {_mib(memory['compare_peak'])} "
        f"({memory['compare_seconds']:.1f} s under tracemalloc) |",
    ]
    notes = (
        f"Measured with `{command}` (Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        "emulator in a child process, lexical scorer, default concurrency 8). The walk holds "
        "one batch of entries and one open directory per level, so its peak does not grow "
        "with the tree; the comparison's peak is the instance's listing (key, checksum and "
        "size per item), which the sync keeps while it runs."
    )
    return "\n".join(rows) + "\n\n" + notes


def write_section(path: Path, body: str) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    path.write_text(text[:start] + "\n\n" + body + "\n\n" + text[end:], encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred files")
    parser.add_argument("--files", type=int, help="files to sync (default 10,000)")
    parser.add_argument("--tree", type=int, help="files of the walked tree (default 100,000)")
    parser.add_argument("--write", type=Path, help="refresh the sync section of this file")
    args, _ = parser.parse_known_args()  # the other benchmarks' options pass through nox
    files = args.files or (300 if args.quick else 10_000)
    tree = args.tree or (2_000 if args.quick else 100_000)
    print(f"sync_directory benchmark: {files:,} files ...", file=sys.stderr, flush=True)
    uploads = asyncio.run(measure_uploads(files))
    print(f"sync_directory benchmark: a {tree:,}-file walk ...", file=sys.stderr, flush=True)
    memory = measure_memory(tree)
    command = "python benchmarks/sync_dir.py " + " ".join(sys.argv[1:])
    body = render(uploads, memory, command.strip())
    print(body)
    if args.write:
        write_section(args.write, body)


if __name__ == "__main__":
    main()

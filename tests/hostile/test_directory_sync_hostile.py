"""sync_directory and wait_until_indexed against a hostile or drifting server.

The rules were found by a break-it pass (brk9); each docstring gives its number.
The server is a loopback aiohttp app holding one instance's items in memory;
each test bends one of its answers.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import unicodedata
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import BodyPartReader, web

import cfaisearch as cf
from cfaisearch.types import SyncEvent
from tests.support.clients import ServeFn, envelope, make_async

INSTANCE = "/client/v4/accounts/{account}/ai-search/namespaces/default/instances/kb"
Listing = Callable[[list[dict[str, Any]], int, int], tuple[list[dict[str, Any]], dict[str, Any]]]


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class Instance:
    """One upload-only instance: items by id, upsert by key, listing paged by request.

    ``listing``/``status_listing`` ``(items, page, per_page)`` may replace the honest
    page (of the whole list, of a status-filtered one); ``stats`` replaces the honest
    stats body; ``fail`` maps "GET <status filter>" to an error status code;
    ``normalize`` turns an uploaded file name into the item's key.
    """

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.sent: list[tuple[str, str]] = []
        self.listing: Listing | None = None
        self.status_listing: Listing | None = None
        self.stats: dict[str, Any] | None = None
        self.fail: dict[str, int] = {}
        self.normalize: Callable[[str], str] = str
        self._next = 0

    def add(self, key: str, data: bytes = b"", **fields: Any) -> dict[str, Any]:
        self._next += 1
        item = {
            "id": f"it{self._next}",
            "key": key,
            "checksum": md5(data),
            "file_size": len(data),
            "status": "completed",
            "created_at": "2026-05-02T09:30:00Z",
            "last_seen_at": "2026-05-02T09:30:04Z",
            "namespace": "default",
            "source_id": "builtin",
            **fields,
        }
        self.items[item["id"]] = item
        return item

    def keys(self) -> set[str]:
        return {item["key"] for item in self.items.values()}

    async def _list(self, request: web.Request) -> web.Response:
        query = request.query
        self.sent.append(("GET", request.path_qs))
        if (code := self.fail.get(f"GET {query.get('status')}")) is not None:
            return web.json_response(
                {"success": False, "errors": [{"code": 1, "message": "x"}]}, status=code
            )
        chosen = [
            item
            for item in self.items.values()
            if all(item.get(f) == query[f] for f in ("key", "status", "source") if f in query)
        ]
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 20))
        bend = self.status_listing if "status" in query else self.listing
        if bend is not None and "key" not in query:
            result, info = bend(chosen, page, per_page)
        else:
            result = chosen[(page - 1) * per_page : page * per_page]
            info = {"page": page, "per_page": per_page, "total_count": len(chosen)}
        return web.json_response(envelope(result, result_info={"count": len(result), **info}))

    async def _upload(self, request: web.Request) -> web.Response:
        self.sent.append(("POST", request.path_qs))
        key, data = "", b""
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            if part.name == "file":
                key = part.filename or ""
                data = await part.read()
        key = self.normalize(key)
        same = [item for item in self.items.values() if item["key"] == key]
        if same:  # an upload overwrites the item of its key, which keeps its id
            item = same[0]
            item.update(checksum=md5(data), file_size=len(data), status="queued")
        else:
            item = self.add(key, data, status="queued")
        return web.json_response(envelope(item))

    async def _delete(self, request: web.Request) -> web.Response:
        self.sent.append(("DELETE", request.path_qs))
        item = self.items.pop(request.match_info["item"], None)
        if item is None:
            body = {"success": False, "errors": [{"code": 7002, "message": "not found"}]}
            return web.json_response(body, status=404)
        return web.json_response(envelope({"key": item["key"]}))

    async def _stats(self, request: web.Request) -> web.Response:
        self.sent.append(("GET", request.path_qs))
        if self.stats is not None:
            return web.json_response(envelope(self.stats))
        counts = {s: 0 for s in ("queued", "running", "completed", "error", "skipped")}
        for item in self.items.values():
            counts[item["status"]] = counts.get(item["status"], 0) + 1
        return web.json_response(envelope(counts))

    async def _jobs(self, request: web.Request) -> web.Response:
        info = {"page": 1, "per_page": 20, "count": 0, "total_count": 0}
        return web.json_response(envelope([], result_info=info))

    async def start(self, serve: ServeFn) -> str:
        app = web.Application()
        prefix = INSTANCE
        app.router.add_get(prefix + "/items", self._list)
        app.router.add_post(prefix + "/items", self._upload)
        app.router.add_delete(prefix + "/items/{item}", self._delete)
        app.router.add_get(prefix + "/stats", self._stats)
        app.router.add_get(prefix + "/jobs", self._jobs)
        return await serve(app)


async def sync(base: str, root: Path, **kwargs: Any) -> cf.types.SyncReport:
    async with make_async(base_url=base, _strict_response_validation=False) as client:
        items = client.aisearch.namespaces.instances.items
        return await items.sync_directory(root, id="kb", **kwargs)


# -- comparing --------------------------------------------------------------------------


@pytest.mark.parametrize("written", [str.upper, lambda checksum: f'"{checksum}"'])
async def test_an_uppercase_or_quoted_md5_checksum_is_compared_as_md5(
    serve: ServeFn, tmp_path: Path, written: Callable[[str], str]
) -> None:
    """Rule 5: a checksum is compared as MD5 once quotes are stripped and it is lowercased,
    so an edit keeping the size is uploaded, and an unchanged file is not."""
    server = Instance()
    server.add("a.md", b"price: 10 EUR", checksum=written(md5(b"price: 10 EUR")))
    server.add("b.md", b"same", checksum=written(md5(b"same")))
    (tmp_path / "a.md").write_bytes(b"price: 99 EUR")  # same size, other content
    (tmp_path / "b.md").write_bytes(b"same")
    report = await sync(await server.start(serve), tmp_path)
    assert (report.uploaded, report.unchanged) == (("a.md",), 1)


async def test_a_listing_that_skips_an_item_is_noticed(serve: ServeFn, tmp_path: Path) -> None:
    """Rule 7: a listing whose items are fewer than its total_count has moved: a file it did
    not show is looked up by key, not uploaded again."""
    server = Instance()
    for key in ("a.md", "b.md"):
        server.add(key, key.encode())
        (tmp_path / key).write_bytes(key.encode())

    def shifted(items: list[dict[str, Any]], page: int, per_page: int) -> Any:
        info = {"page": page, "per_page": 1, "total_count": 2}
        return (items[:1] if page == 1 else []), info

    server.listing = shifted
    report = await sync(await server.start(serve), tmp_path)
    assert (report.uploaded, report.unchanged) == ((), 2)


# -- waiting ----------------------------------------------------------------------------


async def test_wait_does_not_take_an_item_missing_from_a_drifting_page_as_indexed(
    serve: ServeFn, tmp_path: Path
) -> None:
    """Rule 4: with wait=True an upload is indexed only once seen completed/error/skipped (or
    gone), never because a drifting status listing left it out."""
    server = Instance()
    for key in ("a.md", "b.md"):
        (tmp_path / key).write_text(f"text of {key}")

    def drifting(items: list[dict[str, Any]], page: int, per_page: int) -> Any:
        info = {"page": page, "per_page": 1, "total_count": len(items)}
        return (items[:1] if page == 1 else []), info

    server.status_listing = drifting
    events: list[SyncEvent] = []
    with pytest.raises(cf.WaitTimeoutError):  # nothing is ever indexed on this server
        await sync(
            await server.start(serve),
            tmp_path,
            wait=True,
            wait_timeout=2,
            poll_interval=0.2,
            on_progress=events.append,
        )
    assert [e.key for e in events if e.kind == "indexed"] == []


async def test_an_error_while_waiting_keeps_the_report(serve: ServeFn, tmp_path: Path) -> None:
    """Rule 6: an error of the wait phase other than a timeout carries the report so far as
    `report`: the uploads that happened are not lost."""
    server = Instance()
    (tmp_path / "a.md").write_text("text")
    server.fail["GET outdated"] = 503
    with pytest.raises(cf.APIStatusError) as info:
        await sync(await server.start(serve), tmp_path, wait=True, poll_interval=0.1)
    assert server.keys() == {"a.md"}
    last = getattr(info.value, "last", None) or getattr(info.value, "report", None)
    assert last is not None
    assert last.uploaded == ("a.md",)


async def test_wait_until_indexed_ends_when_zero_counts_are_left_out(serve: ServeFn) -> None:
    """Rule 14: a count the stats leave out reads as 0, so settled stats end the wait."""
    server = Instance()
    server.stats = {"completed": 3}
    async with make_async(base_url=await server.start(serve)) as client:
        stats = await client.aisearch.namespaces.instances.wait_until_indexed(
            "kb", timeout=3, poll_interval=0.2
        )
    assert stats.completed == 3


async def test_wait_until_indexed_never_takes_degraded_stats_as_done(serve: ServeFn) -> None:
    """Rule 8: stats marked degraded never end wait_until_indexed, whatever their counts."""
    server = Instance()
    server.stats = {"degraded": True, "queued": 0, "running": 0, "completed": 0}
    async with make_async(base_url=await server.start(serve)) as client:
        with pytest.raises(cf.WaitTimeoutError):
            await client.aisearch.namespaces.instances.wait_until_indexed(
                "kb", timeout=1, poll_interval=0.2
            )


async def test_wait_until_indexed_waits_for_outdated_items(serve: ServeFn) -> None:
    """Rule 12: wait_until_indexed waits while the stats count outdated items."""
    server = Instance()
    server.stats = {"queued": 0, "running": 0, "completed": 1, "outdated": 2}
    async with make_async(base_url=await server.start(serve)) as client:
        with pytest.raises(cf.WaitTimeoutError):
            await client.aisearch.namespaces.instances.wait_until_indexed(
                "kb", timeout=1, poll_interval=0.2
            )


# -- the caller's functions -------------------------------------------------------------


async def test_an_async_on_progress_of_sync_directory_is_awaited(
    serve: ServeFn, tmp_path: Path
) -> None:
    """Rule 11: sync_directory awaits an async on_progress (no coroutine is dropped)."""
    server = Instance()
    (tmp_path / "a.md").write_text("text")
    seen: list[str] = []

    async def progress(event: SyncEvent) -> None:
        seen.append(event.kind)

    base = await server.start(serve)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            await sync(base, tmp_path, on_progress=progress)
        finally:
            gc.collect()  # the dropped coroutines warn here, not in a later test
    assert seen == ["scanned", "uploaded"]


async def test_an_async_on_progress_of_wait_until_indexed_is_awaited(serve: ServeFn) -> None:
    """Rule 11: wait_until_indexed awaits an async on_progress."""
    server = Instance()
    seen: list[object] = []

    async def progress(stats: object) -> None:
        seen.append(stats)

    async with make_async(base_url=await server.start(serve)) as client:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            try:
                await client.aisearch.namespaces.instances.wait_until_indexed(
                    "kb", timeout=5, poll_interval=0.1, on_progress=progress
                )
            finally:
                gc.collect()
    assert len(seen) == 1


@pytest.mark.parametrize("error", [ValueError, TypeError, OSError])
async def test_a_raising_hook_stops_the_sync(
    serve: ServeFn, tmp_path: Path, error: type[Exception]
) -> None:
    """Rule 9: an exception a request hook raises stops sync_directory and reaches the caller
    as it is; it is not recorded as a file failure, and no further file is sent."""
    server = Instance()
    for n in range(5):
        (tmp_path / f"doc{n}.md").write_text(f"text {n}")
    posts = 0

    def guard(event: Any) -> None:
        nonlocal posts
        if event.method == "POST":
            posts += 1
            raise error("upload budget exhausted")

    base = await server.start(serve)
    async with make_async(base_url=base, event_hooks={"request": [guard]}) as client:
        with pytest.raises(error, match="budget"):
            await client.aisearch.namespaces.instances.items.sync_directory(
                tmp_path, id="kb", concurrency=1
            )
    assert posts == 1


async def test_a_raising_hook_while_waiting_keeps_the_report(
    serve: ServeFn, tmp_path: Path
) -> None:
    """Rules 6, 9: a hook raising during the wait stops it; the error carries the report."""
    server = Instance()
    (tmp_path / "a.md").write_text("text")

    def guard(event: Any) -> None:
        if "status=" in event.url:
            raise LookupError("no polling today")

    base = await server.start(serve)
    async with make_async(base_url=base, event_hooks={"request": [guard]}) as client:
        with pytest.raises(LookupError) as info:
            await client.aisearch.namespaces.instances.items.sync_directory(
                tmp_path, id="kb", wait=True, poll_interval=0.1
            )
    assert info.value.report.uploaded == ("a.md",)  # type: ignore[attr-defined]


async def test_a_wait_timeout_carries_the_report_as_report_and_last(
    serve: ServeFn, tmp_path: Path
) -> None:
    """Rule 6: a WaitTimeoutError of the sync's wait carries the report as `report` too."""
    server = Instance()
    (tmp_path / "a.md").write_text("text")  # stays queued: this server never indexes
    with pytest.raises(cf.WaitTimeoutError) as info:
        await sync(
            await server.start(serve), tmp_path, wait=True, wait_timeout=1, poll_interval=0.2
        )
    report = info.value.report  # type: ignore[attr-defined]
    assert report == info.value.last
    assert report.uploaded == ("a.md",)


async def test_a_huge_concurrency_does_not_start_a_task_per_unit(
    serve: ServeFn, tmp_path: Path
) -> None:
    """Rule 15: workers start only as work waits for one: concurrency=100_000 over one file
    does not create 100_000 tasks."""
    server = Instance()
    (tmp_path / "a.md").write_text("text")
    peak = 0

    def progress(event: SyncEvent) -> None:
        nonlocal peak
        peak = max(peak, len(asyncio.all_tasks()))

    report = await sync(
        await server.start(serve), tmp_path, concurrency=100_000, on_progress=progress
    )
    assert report.uploaded == ("a.md",)
    assert peak < 1000


# -- scope ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glob", "private"),
    [("./secret/**", "secret/key.pem"), ("secret/", "secret/key.pem"), ("./.env", ".env")],
)
async def test_an_exclude_glob_is_read_as_keys_are_written(
    serve: ServeFn, tmp_path: Path, glob: str, private: str
) -> None:
    """Rule 2: an exclude glob written with a leading "./" or a trailing "/" excludes what it
    names (a folder and all below for "x/"); the private file is never uploaded."""
    server = Instance()
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.pem").write_text("-----BEGIN PRIVATE KEY-----")
    (tmp_path / ".env").write_text("PASSWORD=hunter2")
    (tmp_path / "a.md").write_text("public")
    report = await sync(await server.start(serve), tmp_path, exclude=[glob])
    assert private not in report.uploaded
    assert "a.md" in report.uploaded


async def test_an_include_glob_ending_in_a_slash_is_the_folder(
    serve: ServeFn, tmp_path: Path
) -> None:
    """Rule 2: include=["./docs/"] is everything under docs/ (docs/** read as written)."""
    server = Instance()
    (tmp_path / "docs" / "deep").mkdir(parents=True)
    (tmp_path / "docs" / "deep" / "a.md").write_text("a")
    (tmp_path / "b.md").write_text("b")
    report = await sync(await server.start(serve), tmp_path, include=["./docs/"])
    assert report.uploaded == ("docs/deep/a.md",)


@pytest.mark.parametrize("parameter", ["include", "exclude"])
@pytest.mark.parametrize("glob", ["../secret/**", "docs/../x", "a//b", "docs/./x", "/etc/**"])
async def test_a_glob_that_can_match_no_key_is_refused(
    serve: ServeFn, tmp_path: Path, parameter: str, glob: str
) -> None:
    """Rule 2: a glob with a "..", "." or empty segment, or an absolute one, raises
    ValueError naming its parameter, before any request."""
    server = Instance()
    base = await server.start(serve)
    with pytest.raises(ValueError, match=f"`{parameter}`"):
        await sync(base, tmp_path, **{parameter: [glob]})
    assert server.sent == []


# -- file names -------------------------------------------------------------------------


def non_utf8_tree(tmp_path: Path) -> Path:
    """A directory holding one file whose name is not UTF-8 (Latin-1 "resume.md")."""
    root = tmp_path / "root"
    root.mkdir()
    with open(os.path.join(os.fsencode(root), b"r\xe9sum\xe9.md"), "wb") as handle:
        handle.write(b"curriculum")
    return root


async def test_a_report_with_a_non_utf8_file_name_dumps_to_json(
    serve: ServeFn, tmp_path: Path
) -> None:
    """Rule 17: a failure of a file whose name is not UTF-8 holds its key and path with the
    bytes escaped, so report.to_json() works."""
    server = Instance()
    report = await sync(await server.start(serve), non_utf8_tree(tmp_path))
    assert len(report.failed) == 1
    text = report.to_json()
    assert "sum" in text


async def test_a_non_utf8_file_name_fails_alone_when_the_listing_moved(
    serve: ServeFn, tmp_path: Path
) -> None:
    """Rule 16: a name that is not UTF-8 fails that file alone (UnicodeEncodeError), even when
    the moved listing asks for a look-up by key; the other files are synced."""
    server = Instance()
    root = non_utf8_tree(tmp_path)
    for key in ("a.md", "b.md"):
        server.add(key, key.encode())
        (root / key).write_bytes(key.encode())

    def repeating(items: list[dict[str, Any]], page: int, per_page: int) -> Any:
        info = {"page": page, "per_page": 2, "total_count": 3}
        return (items if page == 1 else items[1:]), info

    server.listing = repeating  # b.md on both pages: "the listing moved"
    report = await sync(await server.start(serve), root)
    assert [f.error for f in report.failed] == ["UnicodeEncodeError"]
    assert report.unchanged == 2


# -- deleting ---------------------------------------------------------------------------


async def test_delete_never_deletes_an_item_this_sync_just_uploaded(
    serve: ServeFn, tmp_path: Path
) -> None:
    """Rule 1: delete=True never deletes an item an upload of the same run wrote, though the
    server lists it under another (NFC-normalised) key than the file name (NFD)."""
    server = Instance()
    server.normalize = lambda key: unicodedata.normalize("NFC", key)
    nfc, nfd = "caf\u00e9.md", "cafe\u0301.md"
    server.add(nfc, b"menu")
    (tmp_path / nfd).write_bytes(b"menu")
    report = await sync(await server.start(serve), tmp_path, delete=True)
    assert server.keys() == {nfc}, report


async def test_every_file_is_in_the_report_when_uploads_share_an_item(
    serve: ServeFn, tmp_path: Path
) -> None:
    """Rule 10: every uploaded file is in the report, even two the server folds into one item."""
    server = Instance()
    server.normalize = str.lower
    (tmp_path / "Readme.md").write_text("one")
    (tmp_path / "README.md").write_text("two")
    report = await sync(await server.start(serve), tmp_path)
    assert len(report.uploaded) + report.unchanged + len(report.failed) == 2

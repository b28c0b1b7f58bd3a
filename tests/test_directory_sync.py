"""sync_directory on the wire (aioresponses): what it lists, compares, uploads and deletes;
its argument checks; the walk; the glob semantics (Hypothesis)."""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pytest
from aioresponses import CallbackResult, aioresponses
from hypothesis import given, settings
from hypothesis import strategies as st

import cfaisearch as cf
from cfaisearch._directory_sync import Scope, glob_regex, walk_batches
from cfaisearch.types import SyncFailure, SyncReport
from tests.support.clients import ACCOUNT, BASE, envelope, make_async, make_sync
from tests.support.ops import sent_requests

INSTANCE = f"{BASE}/accounts/{ACCOUNT}/ai-search/namespaces/default/instances/kb"
ITEMS = re.compile(rf"^{re.escape(INSTANCE)}/items(\?.*)?$")
ONE_ITEM = re.compile(rf"^{re.escape(INSTANCE)}/items/[^/?]+$")
STATS = f"{INSTANCE}/stats"


def item(key: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": fields.pop("id", f"id-{key}"),
        "key": key,
        "checksum": "0" * 32,
        "status": "completed",
        "created_at": "2026-05-02T09:30:00Z",
        "last_seen_at": "2026-05-02T09:30:04Z",
        "namespace": "default",
        "source_id": "builtin",
        **fields,
    }


def listing(*items: dict[str, Any]) -> dict[str, Any]:
    info = {"page": 1, "per_page": 50, "count": len(items), "total_count": len(items)}
    return envelope(list(items), result_info=info)


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def uploads_answered(mocked: aioresponses, *, status: int = 200) -> None:
    """Every upload answered with a queued item of its own id."""
    count = 0

    def answer(url: object, **kwargs: Any) -> CallbackResult:
        nonlocal count
        count += 1
        if status != 200:
            errors = [{"code": 10000, "message": "Authentication error"}]
            body = {"success": False, "errors": errors, "messages": [], "result": None}
            return CallbackResult(status=status, payload=body)
        return CallbackResult(payload=envelope(item(f"up{count}", status="queued")))

    mocked.post(ITEMS, callback=answer, repeat=True)


class BytesPath:
    """A path-like object whose path is bytes."""

    def __fspath__(self) -> bytes:
        return b"."


def methods(mocked: aioresponses) -> list[str]:
    return [sent.method for sent in sent_requests(mocked)]


async def test_compares_by_md5_else_by_size_and_deletes_only_uploaded_items(
    mocked: aioresponses, tmp_path: Path
) -> None:
    files = {name: f"content of {name}".encode() for name in ("md5", "etag", "resized", "r2")}
    for name, data in files.items():
        (tmp_path / f"{name}.md").write_bytes(data)
    mocked.get(
        ITEMS,
        payload=listing(
            item("md5.md", checksum=md5(files["md5"])),
            # Not MD5 hex: the sizes are compared instead.
            item("etag.md", checksum="etag-1", file_size=len(files["etag"])),
            item("resized.md", checksum="etag-2", file_size=1),
            # Another source's item under the same key is not the upload's.
            item("r2.md", checksum=md5(files["r2"]), source_id="r2:bucket"),
            item("gone.md"),
            item("gone-from-r2.md", source_id="r2:bucket"),
        ),
    )
    uploads_answered(mocked)
    mocked.delete(ONE_ITEM, payload=envelope({"key": "gone.md"}))
    async with make_async() as client:
        report = await client.aisearch.namespaces.instances.items.sync_directory(
            tmp_path, id="kb", delete=True
        )
    assert sorted(report.uploaded) == ["r2.md", "resized.md"]
    assert (report.unchanged, report.deleted) == (2, ("gone.md",))
    (listed,) = [s for s in sent_requests(mocked) if s.method == "GET"]
    assert "per_page=50" in str(listed.url)
    (deleted,) = [s for s in sent_requests(mocked) if s.method == "DELETE"]
    assert str(deleted.url).endswith("/items/id-gone.md")


async def test_a_file_the_moving_listing_skipped_is_looked_up_not_uploaded(
    mocked: aioresponses, tmp_path: Path
) -> None:
    contents = {name: f"{name} text".encode() for name in ("a.md", "b.md", "c.md")}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    listed = {name: item(name, checksum=md5(data)) for name, data in contents.items()}
    info = {"page": 1, "per_page": 2, "count": 2, "total_count": 3}
    # c.md moved to the first page after it was read: b.md comes twice, c.md never.
    mocked.get(ITEMS, payload=envelope([listed["a.md"], listed["b.md"]], result_info=info))
    mocked.get(ITEMS, payload=envelope([listed["b.md"]], result_info={**info, "page": 2}))
    (tmp_path / "new.md").write_text("Not in the instance at all.")

    def look_up(url: Any, **kwargs: Any) -> CallbackResult:
        key = url.query.get("key")
        return CallbackResult(payload=listing(listed[key]) if key in listed else listing())

    mocked.get(ITEMS, callback=look_up, repeat=True)
    uploads_answered(mocked)
    async with make_async() as client:
        report = await client.aisearch.namespaces.instances.items.sync_directory(tmp_path, id="kb")
    assert (report.uploaded, report.unchanged) == (("new.md",), 3)
    looked_up = [s for s in sent_requests(mocked) if "key=" in str(s.url)]
    assert len(looked_up) == 2


@pytest.mark.parametrize(
    ("metadata", "error"),
    [(lambda key: 1 / 0, ZeroDivisionError), (lambda key: ["team"], TypeError)],
)
async def test_what_the_metadata_function_raises_stops_the_sync(
    mocked: aioresponses, tmp_path: Path, metadata: Any, error: type[Exception]
) -> None:
    (tmp_path / "a.md").write_text("Some text.")
    mocked.get(ITEMS, payload=listing())
    async with make_async() as client:
        with pytest.raises(error):
            await client.aisearch.namespaces.instances.items.sync_directory(
                tmp_path, id="kb", metadata=metadata
            )
    assert "POST" not in methods(mocked)


async def test_an_item_already_gone_counts_as_deleted_and_a_failed_delete_is_recorded(
    mocked: aioresponses, tmp_path: Path
) -> None:
    mocked.get(ITEMS, payload=listing(item("gone.md"), item("stuck.md")))
    not_found = {"success": False, "errors": [{"code": 7002, "message": "not found"}]}
    mocked.delete(f"{INSTANCE}/items/id-gone.md", status=404, payload=not_found)
    mocked.delete(f"{INSTANCE}/items/id-stuck.md", status=500, repeat=True)
    async with make_async() as client:
        report = await client.aisearch.namespaces.instances.items.sync_directory(
            tmp_path, id="kb", delete=True
        )
    assert report.deleted == ("gone.md",)
    (failure,) = report.failed
    assert (failure.key, failure.error) == ("stuck.md", "InternalServerError")
    assert failure.path == str(tmp_path / "stuck.md")


async def test_cancelling_a_sync_leaves_no_task_and_no_open_directory(
    mocked: aioresponses, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(600):  # more than one batch of the walk
        (tmp_path / f"doc{n}.md").write_text(f"Document {n}.")
    mocked.get(ITEMS, payload=listing())
    started = asyncio.Event()

    async def hang(*args: object, **kwargs: object) -> None:
        started.set()
        await asyncio.sleep(3600)

    async with make_async() as client:
        items = client.aisearch.namespaces.instances.items
        monkeypatch.setattr(items, "upload", hang)
        task = asyncio.ensure_future(items.sync_directory(tmp_path, id="kb"))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_an_authentication_error_stops_the_sync(mocked: aioresponses, tmp_path: Path) -> None:
    for n in range(40):
        (tmp_path / f"doc{n}.md").write_text(f"Document {n}.")
    mocked.get(ITEMS, payload=listing())
    uploads_answered(mocked, status=401)
    async with make_async() as client:
        with pytest.raises(cf.AuthenticationError):
            await client.aisearch.namespaces.instances.items.sync_directory(
                tmp_path, id="kb", concurrency=4
            )
    assert 1 <= methods(mocked).count("POST") <= 4


async def test_an_unreadable_directory_fails_and_keeps_its_items(
    mocked: aioresponses, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.md").write_text("Unreachable.")
    (tmp_path / "open.md").write_text("Readable.")
    scandir = os.scandir

    def refusing(path: str) -> Any:
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    mocked.get(ITEMS, payload=listing(item("locked/a.md"), item("open.md", checksum="x")))
    uploads_answered(mocked)
    async with make_async() as client:
        report = await client.aisearch.namespaces.instances.items.sync_directory(
            tmp_path, id="kb", delete=True
        )
    assert [(f.key, f.error) for f in report.failed] == [("locked/", "PermissionError")]
    assert (report.uploaded, report.deleted) == (("open.md",), ())
    assert "DELETE" not in methods(mocked)


@pytest.mark.parametrize(
    ("arguments", "error", "parameter"),
    [
        ({"directory": "missing"}, ValueError, "directory"),
        ({"directory": "file.md"}, ValueError, "directory"),
        ({"directory": b"."}, TypeError, "directory"),
        ({"directory": BytesPath()}, TypeError, "directory"),
        ({"id": ""}, ValueError, "id"),
        ({"name": "a/b"}, ValueError, "name"),
        ({"include": "*.md"}, TypeError, "include"),
        ({"exclude": [""]}, TypeError, "exclude"),
        ({"include": ["/abs/*.md"]}, ValueError, "include"),
        ({"delete": "yes"}, TypeError, "delete"),
        ({"wait": 1}, TypeError, "wait"),
        ({"concurrency": 0}, ValueError, "concurrency"),
        ({"concurrency": 2.0}, TypeError, "concurrency"),
        ({"metadata": ["team"]}, TypeError, "metadata"),
        ({"metadata": {"team": object()}}, TypeError, "metadata"),
        ({"wait_timeout": 0}, ValueError, "wait_timeout"),
        ({"poll_interval": math.nan}, ValueError, "poll_interval"),
        ({"on_progress": "print"}, TypeError, "on_progress"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    mocked: aioresponses,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    arguments: dict[str, Any],
    error: type[Exception],
    parameter: str,
) -> None:
    (tmp_path / "file.md").write_text("A file, not a directory.")
    monkeypatch.chdir(tmp_path)
    call: dict[str, Any] = {"directory": ".", "id": "kb", **arguments}
    async with make_async() as client:
        with pytest.raises(error, match=f"`{parameter}`"):
            await client.aisearch.namespaces.instances.items.sync_directory(**call)
    assert sent_requests(mocked) == []


@pytest.mark.parametrize(
    ("arguments", "error", "parameter"),
    [
        ({"timeout": 0}, ValueError, "timeout"),
        ({"poll_interval": -1}, ValueError, "poll_interval"),
        ({"on_progress": 1}, TypeError, "on_progress"),
        ({"id": "a/b"}, ValueError, "id"),
    ],
)
async def test_wait_until_indexed_checks_its_arguments_first(
    mocked: aioresponses, arguments: dict[str, Any], error: type[Exception], parameter: str
) -> None:
    async with make_async() as client:
        with pytest.raises(error, match=f"`{parameter}`"):
            await client.aisearch.namespaces.instances.wait_until_indexed(
                **{"id": "kb", **arguments}
            )
    assert sent_requests(mocked) == []


async def test_wait_until_indexed_looks_at_jobs_only_once_items_are_settled(
    mocked: aioresponses,
) -> None:
    busy = {"queued": 2, "running": 1, "completed": 0}
    settled = {"queued": 0, "running": 0, "completed": 3}
    mocked.get(STATS, payload=envelope(busy))
    mocked.get(STATS, payload=envelope(settled), repeat=True)
    jobs = re.compile(rf"^{re.escape(INSTANCE)}/jobs(\?.*)?$")
    running = {"id": "j1", "source": "user", "started_at": "2026-05-02T09:30:00Z"}
    ended = {**running, "ended_at": "2026-05-02T09:31:00Z", "end_reason": "done"}
    info = {"page": 1, "per_page": 20, "count": 1, "total_count": 1}
    mocked.get(jobs, payload=envelope([running], result_info=info))
    mocked.get(jobs, payload=envelope([ended], result_info=info))
    async with make_async() as client:
        stats = await client.aisearch.namespaces.instances.wait_until_indexed(
            "kb", poll_interval=0.01
        )
    assert stats.completed == 3
    paths = [str(s.url).split("/kb/")[1].split("?")[0] for s in sent_requests(mocked)]
    # Busy: stats only; settled with a job running: both; then both again.
    assert sorted(paths) == ["jobs", "jobs", "stats", "stats", "stats"]


def test_the_many_request_helpers_have_no_raw_twin() -> None:
    async_client, sync_client = make_async(), make_sync()
    try:
        for aisearch in (async_client.aisearch, sync_client.aisearch):
            instances = aisearch.namespaces.instances
            items = instances.items
            twins: list[tuple[object, str, str]] = [
                (instances.with_raw_response, "stats", "wait_until_indexed"),
                (instances.with_streaming_response, "stats", "wait_until_indexed"),
                (items.with_raw_response, "upload", "sync_directory"),
                (items.with_streaming_response, "upload", "sync_directory"),
            ]
            for twin, present, absent in twins:
                assert hasattr(twin, present)
                assert not hasattr(twin, absent)
    finally:
        sync_client.close()


def test_a_report_dumps_to_json_like_any_model() -> None:
    failure = SyncFailure(path="docs/a.md", key="a.md", error="OSError", message="gone")
    report = SyncReport(uploaded=("b.md",), unchanged=2, failed=(failure,))
    assert json.loads(report.to_json()) == {
        "uploaded": ["b.md"],
        "unchanged": 2,
        "deleted": [],
        "failed": [{"path": "docs/a.md", "key": "a.md", "error": "OSError", "message": "gone"}],
        "index_failed": [],
    }
    assert report.summary()["failures"] == [failure.to_dict()]
    assert not report.ok


# -- the walk ---------------------------------------------------------------------------


async def keys_walked(root: Path, scope: Scope | None = None) -> dict[str, str | None]:
    """Key -> problem class name (None for a file to sync) of everything the walk yields."""
    found: dict[str, str | None] = {}
    async for batch in walk_batches(str(root), scope or Scope.of((), ())):
        for walked in batch:
            found[walked.key] = type(walked.problem).__name__ if walked.problem else None
    return found


async def test_the_walk_follows_file_symlinks_but_not_directory_ones(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.md").write_text("a")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "b.md").write_text("b")
    (root / "link-to-outside").symlink_to(tmp_path / "outside", target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "b-link.md").symlink_to(tmp_path / "outside" / "b.md")
    (root / "dangling.md").symlink_to(tmp_path / "nothing.md")
    os.mkfifo(root / "pipe")
    assert await keys_walked(root) == {
        "sub/a.md": None,
        "b-link.md": None,
        "dangling.md": "FileNotFoundError",
    }


async def test_an_excluded_directory_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("keep/a.md", "node_modules/x/b.js", "src/node_modules/c.js", "src/d.md"):
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_text(key)
    opened: list[str] = []
    scandir = os.scandir

    def recording(path: str) -> Any:
        opened.append(Path(path).relative_to(tmp_path).as_posix())
        return scandir(path)

    monkeypatch.setattr(os, "scandir", recording)
    scope = Scope.of((), ("**/node_modules/**",))
    assert sorted(await keys_walked(tmp_path, scope)) == ["keep/a.md", "src/d.md"]
    assert sorted(opened) == [".", "keep", "src"]


async def test_a_large_tree_is_walked_in_batches(tmp_path: Path) -> None:
    for n in range(600):
        (tmp_path / f"f{n:03}.txt").write_text("")
    sizes = [len(batch) async for batch in walk_batches(str(tmp_path), Scope.of((), ()))]
    assert sizes == [256, 256, 88]


async def test_a_walk_left_early_closes_its_directories(tmp_path: Path) -> None:
    for n in range(300):
        (tmp_path / "deep" / "er").mkdir(parents=True, exist_ok=True)
        (tmp_path / "deep" / "er" / f"f{n:03}.txt").write_text("")
    batches = walk_batches(str(tmp_path), Scope.of((), ()))
    assert len(await batches.__anext__()) == 256
    await batches.aclose()  # an unclosed scandir iterator would warn (an error here)


# -- globs ------------------------------------------------------------------------------

SEGMENT_CHARS = "ab.*?[]!-"
segments = st.text(alphabet=SEGMENT_CHARS, min_size=1, max_size=6)
names = st.text(alphabet="ab.-[]!", min_size=1, max_size=6)
keys = st.lists(names, min_size=1, max_size=4).map("/".join)


def matches(pattern: str, key: str) -> bool:
    return re.fullmatch(glob_regex(pattern), key) is not None


@settings(deadline=None)  # the machine running the suite may be loaded; no timing here
@given(segments, names)
def test_a_one_segment_glob_matches_a_name_as_fnmatch_does(pattern: str, name: str) -> None:
    assert matches(pattern, name) == fnmatch.fnmatchcase(name, pattern)


@settings(deadline=None)  # the machine running the suite may be loaded; no timing here
@given(segments, keys)
def test_double_star_slash_matches_the_last_segment_at_any_depth(pattern: str, key: str) -> None:
    assert matches(f"**/{pattern}", key) == fnmatch.fnmatchcase(key.rsplit("/", 1)[-1], pattern)


@settings(deadline=None)  # the machine running the suite may be loaded; no timing here
@given(st.lists(segments, min_size=1, max_size=3), keys)
def test_single_star_globs_never_cross_a_slash(parts: list[str], key: str) -> None:
    pattern = "/".join(part.replace("**", "*") for part in parts)
    if matches(pattern, key):
        assert key.count("/") == pattern.count("/")


@settings(deadline=None)  # the machine running the suite may be loaded; no timing here
@given(keys, keys)
def test_a_directory_glob_matches_everything_under_it(directory: str, rest: str) -> None:
    literal = re.sub(r"([*?\[])", r"[\1]", directory)
    assert matches(f"{literal}/**", f"{directory}/{rest}")
    assert not matches(f"{literal}/**", rest) or rest.startswith(f"{directory}/")


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("*.md", "a.md", True),
        ("*.md", "docs/a.md", False),
        ("**/*.md", "a.md", True),
        ("**/*.md", "docs/deep/a.md", True),
        ("docs/**", "docs/a/b.txt", True),
        ("docs/**", "docsx/a.txt", False),
        ("docs/*/b.txt", "docs/a/b.txt", True),
        ("docs/*/b.txt", "docs/a/c/b.txt", False),
        ("a**b", "axxb", True),
        ("a**b", "a/b", False),
        ("[!.]*", ".hidden", False),
        ("**", "any/thing", True),
    ],
)
def test_glob_examples(pattern: str, key: str, expected: bool) -> None:
    assert matches(pattern, key) is expected

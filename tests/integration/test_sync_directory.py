"""items.sync_directory and instances.wait_until_indexed against the emulator, async and sync."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path, PurePosixPath

import pytest

from cfaisearch import AsyncCloudflare, Cloudflare, WaitTimeoutError
from cfaisearch.types import InstanceStats, SyncEvent, SyncReport
from tests.support.integration import make_r2_instance

FILES = {
    "README.md": "# Handbook\n\nHow the team works.\n",
    "guides/retries.md": "Reads are retried after a 503.\n",
    "guides/deep/streaming.txt": "Chat answers stream as server-sent events.\n",
    "notes/todo.txt": "Write the sync docs.\n",
}
pytestmark = pytest.mark.aisearch_emulator(max_file_bytes=1024)


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for key, text in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_text(text, encoding="utf-8")
    return root


async def keys_of(client: AsyncCloudflare, instance: str = "kb") -> dict[str, str]:
    """Key -> checksum of every item of ``instance``."""
    items = client.aisearch.namespaces.instances.items
    return {item.key: item.checksum async for item in items.list(instance, name="default")}


@pytest.fixture
async def kb(aisearch_async_client: AsyncCloudflare) -> AsyncCloudflare:
    await aisearch_async_client.aisearch.namespaces.instances.create("default", id="kb")
    return aisearch_async_client


async def test_first_sync_uploads_all_then_nothing_then_only_the_changed_file(
    kb: AsyncCloudflare, tmp_path: Path
) -> None:
    root = write_tree(tmp_path / "docs", FILES)
    items = kb.aisearch.namespaces.instances.items

    first = await items.sync_directory(root, id="kb")
    assert sorted(first.uploaded) == sorted(FILES)
    assert (first.unchanged, first.deleted, first.failed, first.ok) == (0, (), (), True)
    assert set(await keys_of(kb)) == set(FILES)

    again = await items.sync_directory(str(root), id="kb")
    assert (again.uploaded, again.unchanged) == ((), len(FILES))

    (root / "guides" / "retries.md").write_text("Reads are retried after a 503 or 429.\n")
    changed = await items.sync_directory(root, id="kb")
    assert (changed.uploaded, changed.unchanged) == (("guides/retries.md",), len(FILES) - 1)
    assert changed.summary() == {
        "uploaded": 1,
        "unchanged": 3,
        "deleted": 0,
        "failed": 0,
        "index_failed": 0,
        "failures": [],
    }


async def test_delete_removes_items_of_gone_files_only_when_asked(
    kb: AsyncCloudflare, tmp_path: Path
) -> None:
    root = write_tree(tmp_path / "docs", FILES)
    items = kb.aisearch.namespaces.instances.items
    await items.sync_directory(root, id="kb")
    # An item uploaded under a key the directory never had is in scope too.
    await items.upload("kb", name="default", file={"file": ("stray.md", b"Not in the tree.")})
    (root / "notes" / "todo.txt").unlink()

    kept = await items.sync_directory(root, id="kb")
    assert kept.deleted == ()
    assert {"notes/todo.txt", "stray.md"} <= set(await keys_of(kb))

    # Out of the include scope: not deleted even though the file is gone.
    scoped = await items.sync_directory(root, id="kb", include=["**/*.txt"], delete=True)
    assert scoped.deleted == ("notes/todo.txt",)
    assert "stray.md" in await keys_of(kb)

    everything = await items.sync_directory(root, id="kb", delete=True)
    assert everything.deleted == ("stray.md",)
    assert set(await keys_of(kb)) == set(FILES) - {"notes/todo.txt"}


async def test_delete_never_touches_items_of_another_source(
    kb: AsyncCloudflare, tmp_path: Path
) -> None:
    await make_r2_instance(kb, "bucket")
    jobs = kb.aisearch.namespaces.instances.jobs
    job = await jobs.create("bucket", name="default")
    await jobs.wait(job.id, name="default", id="bucket", poll_interval=0.02)
    from_bucket = await keys_of(kb, "bucket")
    assert from_bucket

    root = write_tree(tmp_path / "docs", {"only.md": "The only local file.\n"})
    report = await kb.aisearch.namespaces.instances.items.sync_directory(
        root, id="bucket", delete=True
    )
    assert (report.uploaded, report.deleted) == (("only.md",), ())
    assert set(await keys_of(kb, "bucket")) == {*from_bucket, "only.md"}


async def test_include_and_exclude_globs_choose_the_keys(
    kb: AsyncCloudflare, tmp_path: Path
) -> None:
    root = write_tree(tmp_path / "docs", FILES)
    report = await kb.aisearch.namespaces.instances.items.sync_directory(
        root, id="kb", include=["**/*.md", "**/*.txt"], exclude=["guides/deep/**", "notes/*"]
    )
    assert sorted(report.uploaded) == ["README.md", "guides/retries.md"]
    top_level = await kb.aisearch.namespaces.instances.items.sync_directory(
        root, id="kb", include=["*.md"]
    )
    assert (top_level.uploaded, top_level.unchanged) == ((), 1)


async def test_a_bad_file_fails_alone(kb: AsyncCloudflare, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "docs", FILES)
    (root / "big.txt").write_text("x" * 2048)  # over the emulator's max_file_bytes here
    (root / ("k" * 130 + ".md")).write_text("A key too long to upload.")
    (root / "dangling.md").symlink_to(root / "missing.md")
    report = await kb.aisearch.namespaces.instances.items.sync_directory(root, id="kb")

    assert sorted(report.uploaded) == sorted(FILES)
    failed = {failure.key: failure for failure in report.failed}
    assert set(failed) == {"big.txt", "k" * 130 + ".md", "dangling.md"}
    assert failed["big.txt"].error == "BadRequestError"
    assert failed["big.txt"].path == str(root / "big.txt")
    assert failed["dangling.md"].error == "FileNotFoundError"
    assert all("\n" not in f.message and f.message for f in report.failed)
    assert not report.ok
    assert report.summary()["failed"] == 3


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads anything")
async def test_an_unreadable_file_fails_alone(kb: AsyncCloudflare, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "docs", FILES)
    (root / "secret.md").write_text("no access")
    (root / "secret.md").chmod(0)
    report = await kb.aisearch.namespaces.instances.items.sync_directory(root, id="kb")
    assert [f.key for f in report.failed] == ["secret.md"]
    assert len(report.uploaded) == len(FILES)


async def test_a_file_that_vanishes_before_its_upload_fails_alone(
    kb: AsyncCloudflare, tmp_path: Path
) -> None:
    root = write_tree(tmp_path / "docs", FILES)

    def remove_readme(key: PurePosixPath) -> None:
        if key.name == "README.md":  # called just before the file is read for upload
            (root / key).unlink()

    report = await kb.aisearch.namespaces.instances.items.sync_directory(
        root, id="kb", metadata=remove_readme
    )
    assert [(f.key, f.error) for f in report.failed] == [("README.md", "ValueError")]
    assert "cannot read" in report.failed[0].message
    assert len(report.uploaded) == len(FILES) - 1


async def test_metadata_mapping_and_callable(kb: AsyncCloudflare, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "docs", FILES)
    items = kb.aisearch.namespaces.instances.items
    await items.sync_directory(root, id="kb", include=["README.md"], metadata={"team": "docs"})

    def folder(key: PurePosixPath) -> dict[str, str] | None:
        return None if key.parent == PurePosixPath(".") else {"area": key.parts[0]}

    await items.sync_directory(root, id="kb", metadata=folder)
    metadata = {item.key: item.metadata async for item in items.list("kb", name="default")}
    assert metadata["README.md"] is not None
    assert metadata["README.md"]["team"] == "docs"
    assert metadata["guides/deep/streaming.txt"] is not None
    assert metadata["guides/deep/streaming.txt"]["area"] == "guides"
    assert "area" not in (metadata["README.md"] or {})


async def test_on_progress_sees_every_step(kb: AsyncCloudflare, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "docs", FILES)
    events: list[SyncEvent] = []
    items = kb.aisearch.namespaces.instances.items
    await items.sync_directory(root, id="kb", on_progress=events.append)
    scanned = [e for e in events if e.kind == "scanned"]
    uploaded = [e for e in events if e.kind == "uploaded"]
    assert sorted(str(e.key) for e in scanned) == sorted(FILES)
    assert sorted(str(e.key) for e in uploaded) == sorted(FILES)
    assert all(e.total is None for e in scanned)
    assert events[-1].done == events[-1].total == len(FILES)
    assert [e.done for e in uploaded] == sorted(e.done for e in uploaded)

    events.clear()
    (root / "README.md").unlink()
    await items.sync_directory(root, id="kb", delete=True, on_progress=events.append)
    assert [e.kind for e in events if e.kind not in ("scanned", "unchanged")] == ["deleted"]
    assert events[-1].key == "README.md"
    assert events[-1].done == events[-1].total == len(FILES)


async def test_wait_reports_items_that_fail_to_index(kb: AsyncCloudflare, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "docs", FILES)
    (root / "diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")  # stored, then skipped
    events: list[SyncEvent] = []
    report = await kb.aisearch.namespaces.instances.items.sync_directory(
        root, id="kb", wait=True, poll_interval=0.02, on_progress=events.append
    )
    assert [item.key for item in report.index_failed] == ["diagram.png"]
    assert report.index_failed[0].status == "skipped"
    assert not report.ok
    assert report.summary()["failures"][-1]["key"] == "diagram.png"
    assert sorted(str(e.key) for e in events if e.kind == "indexed") == sorted(FILES)
    assert [e.key for e in events if e.kind == "index_failed"] == ["diagram.png"]
    statuses = {
        item.key: item.status
        async for item in kb.aisearch.namespaces.instances.items.list("kb", name="default")
    }
    assert statuses == {**dict.fromkeys(FILES, "completed"), "diagram.png": "skipped"}


@pytest.mark.aisearch_emulator(index_delay=5.0)
async def test_wait_times_out_with_the_partial_report(kb: AsyncCloudflare, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "docs", FILES)
    with pytest.raises(WaitTimeoutError, match="4 still indexing") as caught:
        await kb.aisearch.namespaces.instances.items.sync_directory(
            root, id="kb", wait=True, wait_timeout=0.3, poll_interval=0.05
        )
    assert isinstance(caught.value.last, SyncReport)
    assert len(caught.value.last.uploaded) == len(FILES)


async def test_concurrency_bounds_the_uploads_in_flight(
    kb: AsyncCloudflare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_tree(tmp_path / "docs", {f"doc{n}.md": f"Document {n}.\n" for n in range(24)})
    items = kb.aisearch.namespaces.instances.items
    upload = items.upload
    in_flight = peak = 0

    async def counted(*args: object, **kwargs: object) -> object:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.01)  # let the other workers start theirs
            return await upload(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            in_flight -= 1

    monkeypatch.setattr(items, "upload", counted)
    report = await items.sync_directory(root, id="kb", concurrency=3)
    assert len(report.uploaded) == 24
    assert peak == 3


async def test_wait_until_indexed_returns_the_settled_stats(
    kb: AsyncCloudflare, tmp_path: Path
) -> None:
    root = write_tree(tmp_path / "docs", FILES)
    await kb.aisearch.namespaces.instances.items.sync_directory(root, id="kb")
    seen: list[InstanceStats] = []
    stats = await kb.aisearch.namespaces.instances.wait_until_indexed(
        "kb", poll_interval=0.02, on_progress=seen.append
    )
    assert (stats.queued, stats.running, stats.completed) == (0, 0, len(FILES))
    assert seen[-1] == stats


@pytest.mark.aisearch_emulator(index_delay=5.0)
async def test_wait_until_indexed_times_out_with_the_counts(
    kb: AsyncCloudflare, tmp_path: Path
) -> None:
    root = write_tree(tmp_path / "docs", FILES)
    await kb.aisearch.namespaces.instances.items.sync_directory(root, id="kb")
    with pytest.raises(WaitTimeoutError, match=r"queued \d, running \d") as caught:
        await kb.aisearch.namespaces.instances.wait_until_indexed(
            "kb", timeout=0.3, poll_interval=0.05
        )
    last = caught.value.last
    assert isinstance(last, InstanceStats)
    assert (last.queued or 0) + (last.running or 0) == len(FILES)


async def test_wait_until_indexed_waits_for_a_running_job(
    aisearch_async_client: AsyncCloudflare,
) -> None:
    client = aisearch_async_client
    await make_r2_instance(client, "bucket")
    jobs = client.aisearch.namespaces.instances.jobs
    await jobs.create("bucket", name="default")
    stats = await client.aisearch.namespaces.instances.wait_until_indexed(
        "bucket", poll_interval=0.02
    )
    assert stats.completed == 3
    assert all([job.ended async for job in jobs.list("bucket", name="default")])


def test_the_sync_client_syncs_and_waits(aisearch_client: Cloudflare, tmp_path: Path) -> None:
    aisearch_client.aisearch.namespaces.instances.create("default", id="kb")
    root = write_tree(tmp_path / "docs", FILES)
    events: list[SyncEvent] = []
    items = aisearch_client.aisearch.namespaces.instances.items
    report = items.sync_directory(
        root, id="kb", wait=True, poll_interval=0.02, on_progress=events.append
    )
    assert sorted(report.uploaded) == sorted(FILES)
    assert len([e for e in events if e.kind == "indexed"]) == len(FILES)
    (root / "README.md").unlink()
    assert items.sync_directory(root, id="kb", delete=True).deleted == ("README.md",)
    stats = aisearch_client.aisearch.namespaces.instances.wait_until_indexed(
        "kb", poll_interval=0.02
    )
    assert stats.completed == len(FILES) - 1

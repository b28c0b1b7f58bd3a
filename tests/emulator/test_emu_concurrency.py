"""Indexed retrieval and parallel reads: what each search touches, and who waits for whom."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from cfaisearch.emulator import retrieval
from cfaisearch.emulator.indexer import Indexer
from cfaisearch.emulator.state import STATE, EmulatorState
from cfaisearch.emulator.store import Database, ItemCriteria, Store
from tests.support.emulator_api import Api

# Generous: the machine running the tests may be busy; blocked work would take forever.
PROMPT = 5.0


def _state(api: Api) -> EmulatorState:
    runner = api.emulator._runner
    assert runner is not None
    return runner.app[STATE]


async def _corpus(api: Api) -> None:
    await api.create_instance()
    for n in range(5):
        reply = await api.upload(f"doc{n}.txt", f"apples and pears number {n}")
        assert reply.result["status"] == "completed", reply.text


@pytest.fixture
def matrix_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts how often a search decodes an instance's vectors."""
    builds: list[int] = []
    original = retrieval.Layout.matrix

    def counting(self: retrieval.Layout, db: Database, scorer: Any) -> Any:
        if self._matrix is None:
            builds.append(len(self.chunks))
        return original(self, db, scorer)

    monkeypatch.setattr(retrieval.Layout, "matrix", counting)
    return builds


async def test_keyword_searches_never_decode_vectors(api: Api, matrix_builds: list[int]) -> None:
    await _corpus(api)
    for _ in range(3):
        assert await api.search("apples", retrieval_type="keyword")
    assert matrix_builds == []


async def test_vectors_are_decoded_once_per_change_not_per_query(
    api: Api, matrix_builds: list[int]
) -> None:
    await _corpus(api)
    for _ in range(3):
        assert await api.search("apples", retrieval_type="hybrid")
    assert matrix_builds == [5]
    await api.upload("doc9.txt", "apples again")
    hits = await api.search("apples", retrieval_type="hybrid")
    assert "doc9.txt" in [h["item"]["key"] for h in hits]
    assert matrix_builds == [5, 6]


async def test_a_get_does_not_wait_for_blocked_searches(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _corpus(api)
    release = threading.Event()
    original = retrieval.Retriever.search

    def stuck(self: retrieval.Retriever, *args: Any, **kwargs: Any) -> Any:
        release.wait(30)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(retrieval.Retriever, "search", stuck)
    searches = [asyncio.ensure_future(api.search("apples")) for _ in range(8)]
    try:
        await asyncio.sleep(0.2)  # every search thread is now blocked
        assert not any(s.done() for s in searches)
        read = await asyncio.wait_for(api.ok("GET", "/instances/kb"), PROMPT)
        assert read["id"] == "kb"
        items = await asyncio.wait_for(
            api.ok("GET", "/namespaces/default/instances/kb/items"), PROMPT
        )
        assert len(items) == 5
    finally:
        release.set()
    assert all(await asyncio.gather(*searches))


async def test_reads_and_searches_do_not_wait_for_a_write(api: Api) -> None:
    await _corpus(api)
    store = _state(api).store
    release = threading.Event()
    entered = threading.Event()

    def long_write(db: Database) -> None:
        entered.set()
        release.wait(30)

    write = asyncio.ensure_future(store.run(long_write))
    try:
        await asyncio.to_thread(entered.wait, PROMPT)
        read = await asyncio.wait_for(api.ok("GET", "/instances/kb/stats"), PROMPT)
        assert read["completed"] == 5
        assert await asyncio.wait_for(api.search("apples"), PROMPT)
    finally:
        release.set()
    await write


async def test_items_list_pages_in_sql(api: Api) -> None:
    await _corpus(api)
    store = _state(api).store
    instance = await store.read(Database.get_instance, "default", "kb")
    assert instance is not None
    criteria = ItemCriteria()
    rows, total = await store.read(Database.query_items, instance.pk, criteria, "status", (1, 2))
    assert total == 5
    assert [r.key for r in rows] == ["doc3.txt", "doc2.txt"]  # newest first
    page = await api.request("GET", "/namespaces/default/instances/kb/items?page=2&per_page=2")
    assert page.json["result_info"] == {"page": 2, "per_page": 2, "count": 2, "total_count": 5}


@pytest.mark.parametrize("emulator_options", [{"search_processes": 1}])
async def test_search_processes_answer_like_threads_and_see_changes(api: Api) -> None:
    assert _state(api).search_workers is not None
    await _corpus(api)
    in_process = _state(api).retriever
    hits = await api.search("apples pears", retrieval_type="hybrid", context_expansion=1)
    store = _state(api).store
    instance = await store.read(Database.get_instance, "default", "kb")
    assert instance is not None
    parsed = retrieval.parse_request(
        {"retrieval": {"retrieval_type": "hybrid", "context_expansion": 1}}, "x"
    )
    options = retrieval.resolve(parsed, instance.config, "x")
    expected = await store.search(
        in_process.search, instance.pk, instance.config, "apples pears", options
    )
    assert hits == [chunk for group in expected for chunk in group]
    await api.upload("doc9.txt", "apples and pears and plums")
    after = await api.search("plums", retrieval_type="vector")
    assert [h["item"]["key"] for h in after] == ["doc9.txt"]


async def test_items_search_folds_case_beyond_ascii(api: Api) -> None:
    await api.create_instance()
    await api.upload("Ärger/ÜBER.txt", "text")
    await api.upload("other.txt", "text")
    found = await api.ok("GET", "/namespaces/default/instances/kb/items?search=är")
    assert [r["key"] for r in found] == ["Ärger/ÜBER.txt"]


async def test_a_read_sees_change_counts_as_of_its_own_snapshot() -> None:
    """A cache built inside a read is never labelled with a change its snapshot lacks.

    The count is bumped after each commit; a read that started before a commit
    must keep reading the count from before it, or a search cache built from
    the old snapshot would pass for current and stay stale.
    """
    store = Store(None)
    await store.open()
    try:
        snapshot_taken, write_done = threading.Event(), threading.Event()

        def read(db: Database) -> tuple[int, int]:
            before = store.generation(1)
            db.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            snapshot_taken.set()
            write_done.wait(10)
            return before, store.generation(1)

        def write(db: Database) -> None:
            db.changed.add(1)

        reading = asyncio.ensure_future(store.read(read))
        assert await asyncio.to_thread(snapshot_taken.wait, 10)
        await store.run(write)
        write_done.set()
        assert await reading == (0, 0)
        assert store.generation(1) == 1
    finally:
        await store.close()


async def _unmerged_work_after_uploads(api: Api) -> bool:
    """Upload one item at a time; whether the keyword index then had segments to merge."""
    await api.create_instance()
    for n in range(24):
        reply = await api.upload(f"doc{n}.txt", f"apples and pears number {n}")
        assert reply.result["status"] == "completed", reply.text
    store = _state(api).store
    instance = await store.read(Database.get_instance, "default", "kb")
    assert instance is not None
    return await store.run(Database.merge_keyword_index, instance.pk)


async def test_keyword_index_is_merged_once_the_upload_queue_is_empty(api: Api) -> None:
    assert await _unmerged_work_after_uploads(api) is False
    assert len(await api.search("apples", retrieval_type="keyword")) == 10


async def test_without_merging_one_item_uploads_leave_segments_to_merge(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: unmerged, the same uploads leave work behind."""

    async def skipped(self: Indexer) -> None:
        return None

    monkeypatch.setattr(Indexer, "merge_keyword_indexes", skipped)
    assert await _unmerged_work_after_uploads(api) is True

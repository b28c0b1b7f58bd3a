"""Search processes: a whole search runs there, errors come back, a dead one is survivable."""

from __future__ import annotations

import asyncio
import json
import operator
import os
import pickle
import signal
from pathlib import Path
from typing import Any

import pytest

from cfaisearch.emulator import retrieval
from cfaisearch.emulator.api.search import answer_search
from cfaisearch.emulator.errors import ApiError, ErrorCode
from cfaisearch.emulator.state import STATE, EmulatorState
from cfaisearch.emulator.store import Store
from cfaisearch.emulator.workers import SearchWorkers
from tests.support.emulator_api import Api


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"search_processes": 1}


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
def nothing_searches_in_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Searching in the server process fails (spawned workers do not see this patch)."""

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("searched in the server process")

    monkeypatch.setattr(retrieval.Retriever, "search", refused)
    monkeypatch.setattr(Store, "search", refused)


@pytest.mark.usefixtures("nothing_searches_in_the_server")
async def test_search_requests_run_whole_in_a_worker_and_see_changes(api: Api) -> None:
    await _corpus(api)
    for kind in ("keyword", "hybrid", "vector"):
        hits = await api.search("apples pears", retrieval_type=kind, context_expansion=1)
        assert len(hits) == 5, kind
    await api.upload("doc9.txt", "apples and plums")
    for kind in ("keyword", "vector"):
        hits = await api.search("plums", retrieval_type=kind)
        assert [h["item"]["key"] for h in hits] == ["doc9.txt"], kind


async def test_worker_answers_match_the_server_threads(api: Api) -> None:
    await _corpus(api)
    st = _state(api)
    options = {"retrieval": {"context_expansion": 1}}
    body = json.dumps({"query": "apples pears", "ai_search_options": options}).encode()
    where = ("default", "kb", body)
    assert st.search_workers is not None
    in_worker = await st.search_workers.call(answer_search, st.store.generations(), *where)
    on_thread = await st.store.search(answer_search, st.retriever, *where)
    assert in_worker == on_thread
    reply = await api.request("POST", "/instances/kb/search", data=body)
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.text.encode() == on_thread


@pytest.mark.usefixtures("nothing_searches_in_the_server")
async def test_errors_raised_in_a_worker_become_the_usual_envelopes(api: Api) -> None:
    await _corpus(api)
    missing = await api.request("POST", "/instances/nope/search", json={"query": "x"})
    assert (missing.status, missing.error_codes) == (404, [int(ErrorCode.INSTANCE_NOT_FOUND)])
    malformed = await api.request("POST", "/instances/kb/search", data=b"{not json")
    assert (malformed.status, malformed.error_codes) == (400, [int(ErrorCode.MALFORMED_BODY)])
    bad = {"query": "x", "ai_search_options": {"retrieval": {"max_num_results": 99}}}
    invalid = await api.request("POST", "/instances/kb/search", json=bad)
    assert invalid.status == 400
    assert "max_num_results" in invalid.json["errors"][0]["message"]


def test_api_errors_survive_pickling_whole() -> None:
    err = ApiError(429, ErrorCode.RATE_LIMITED, "slow down", pointer="/x", headers={"A": "1"})
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.status, copy.code, copy.message, copy.pointer, copy.headers) == (
        429,
        ErrorCode.RATE_LIMITED,
        "slow down",
        "/x",
        {"A": "1"},
    )


async def test_a_dead_worker_costs_speed_not_answers(api: Api) -> None:
    await _corpus(api)
    expected = await api.search("apples", retrieval_type="hybrid")
    workers = _state(api).search_workers
    assert workers is not None
    [pid] = workers.pids
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    # The server notices the closed socket; searches then run on its threads.
    for _ in range(500):
        if not workers.alive:
            break
        await asyncio.sleep(0.01)
    assert not workers.alive
    assert await api.search("apples", retrieval_type="hybrid") == expected
    assert await api.search("apples", retrieval_type="keyword")


async def test_an_unexpected_error_in_a_worker_is_raised_in_the_server(api: Api) -> None:
    await _corpus(api)
    workers = _state(api).search_workers
    assert workers is not None
    # truediv(db, retriever): a TypeError raised inside the worker.
    with pytest.raises(TypeError, match="unsupported operand"):
        await workers.call(operator.truediv, {})
    assert workers.alive
    assert await api.search("apples", retrieval_type="keyword")
    reply = await api.request("POST", "/instances/kb/search", json={"query": "apples"})
    assert reply.status == 200


async def test_searches_a_dying_worker_had_not_answered_fail_as_500s_not_hangs(api: Api) -> None:
    await _corpus(api)
    workers = _state(api).search_workers
    assert workers is not None
    [pid] = workers.pids
    assert pid is not None
    body = {"query": "apples pears", "ai_search_options": {"retrieval": {"context_expansion": 3}}}
    path = "/instances/kb/search"
    searches = [asyncio.ensure_future(api.request("POST", path, json=body)) for _ in range(40)]
    await asyncio.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    replies = await asyncio.wait_for(asyncio.gather(*searches), 30)
    assert {r.status for r in replies} <= {200, 500}
    for reply in replies:
        if reply.status == 500:
            assert reply.error_codes == [int(ErrorCode.INTERNAL)]


async def test_a_call_with_every_worker_dead_says_so(api: Api) -> None:
    workers = _state(api).search_workers
    assert workers is not None
    [pid] = workers.pids
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    for _ in range(500):
        if not workers.alive:
            break
        await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="no search worker is running"):
        await workers.call(operator.truediv, {})


async def test_a_worker_that_cannot_start_fails_start_with_a_clear_error(tmp_path: Path) -> None:
    workers = SearchWorkers(1, str(tmp_path / "missing" / "db.sqlite3"), "lexical")
    try:
        with pytest.raises(RuntimeError, match="search worker exited while starting"):
            await workers.start()
    finally:
        await workers.stop()


async def test_workers_never_started_stop_cleanly(tmp_path: Path) -> None:
    workers = SearchWorkers(2, str(tmp_path / "db.sqlite3"), "lexical")
    await workers.stop()
    assert not workers.alive


@pytest.mark.usefixtures("nothing_searches_in_the_server")
async def test_namespace_searches_score_vectors_in_a_worker(api: Api) -> None:
    await _corpus(api)
    direct = await api.search("apples pears", retrieval_type="hybrid")
    options = {"instance_ids": ["kb"], "retrieval": {"retrieval_type": "hybrid"}}
    fanned = await api.ok(
        "POST",
        "/namespaces/default/search",
        json={"query": "apples pears", "ai_search_options": options},
    )
    assert fanned["errors"] == []
    assert [c["id"] for c in fanned["chunks"]] == [c["id"] for c in direct]

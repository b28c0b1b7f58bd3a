"""Fault injection: seeded random faults, scripted sequences, route/method filters."""

from __future__ import annotations

import re
import time
from typing import Any

import aiohttp
import pytest

from cfaisearch.emulator import AsyncEmulator, FaultConfig, FaultInjector
from cfaisearch.emulator.__main__ import _config, _parser
from tests.support.emulator_api import Api

OK = 400  # POST /namespaces with an empty body: a harmless validation error


async def _outcome(api: Api, path: str = "/namespaces") -> int | str:
    # POST, because aiohttp silently retries an idempotent request (GET) once
    # when the connection drops, which would hide "drop" faults.
    try:
        return (await api.request("POST", path, json={})).status
    except aiohttp.ClientError:
        return "drop"


async def _run(api: Api, n: int = 40) -> list[int | str]:
    return [await _outcome(api) for _ in range(n)]


async def test_random_faults_are_deterministic(api: Api, emulator: AsyncEmulator) -> None:
    rates: dict[str, Any] = {
        "error_500_rate": 0.2,
        "error_502_rate": 0.1,
        "error_429_rate": 0.1,
        "drop_rate": 0.1,
        "drop_after_rate": 0.1,
    }
    emulator.faults.configure(seed=7, **rates)
    first = await _run(api)
    assert {OK, 500, 502, 429, "drop"} <= set(first)
    assert "drop_after" in {f.kind for f in emulator.faults.injected}
    # Seen from the client, a reset after handling looks like any other reset.
    seen = ["drop" if f.kind == "drop_after" else f.kind for f in emulator.faults.injected]
    assert seen == [o for o in first if o != OK]
    emulator.faults.configure(seed=7)  # same config again: the RNG restarts
    assert await _run(api) == first
    emulator.faults.configure(seed=8)
    assert await _run(api) != first


async def test_same_seed_same_faults_across_emulators() -> None:
    outcomes = []
    for _ in range(2):
        config = FaultConfig(error_500_rate=0.5, seed=42)
        async with AsyncEmulator(faults=config) as emu, aiohttp.ClientSession() as session:
            api = Api(session, emu)
            outcomes.append(await _run(api, 20))
    assert outcomes[0] == outcomes[1]
    assert 500 in outcomes[0]


async def test_fault_responses(api: Api, emulator: AsyncEmulator) -> None:
    emulator.faults.configure(error_502_rate=1.0)
    reply = await api.request("GET", "/namespaces")
    assert reply.status == 502
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "502" in reply.text
    assert reply.headers["cf-ray"].endswith("-EMU")
    emulator.faults.configure(error_502_rate=0.0, error_429_rate=1.0, retry_after=3)
    reply = await api.request("GET", "/namespaces")
    assert (reply.status, reply.headers["Retry-After"]) == (429, "3")
    assert reply.error_codes == [971]
    emulator.faults.configure(error_429_rate=0.0, error_500_rate=1.0)
    reply = await api.request("GET", "/namespaces")
    assert reply.status == 500
    assert reply.json["success"] is False
    emulator.faults.configure(error_500_rate=0.0, drop_rate=1.0)
    assert await _outcome(api) == "drop"
    emulator.faults.clear()
    assert await _outcome(api) == OK
    assert emulator.faults.injected == []


async def test_scripted_faults(api: Api, emulator: AsyncEmulator) -> None:
    await api.create_instance()
    emulator.faults.inject(503, times=2, route=r"/items$", method="post", retry_after=2)
    emulator.faults.inject("drop", route=r"/search$")
    statuses = []
    for _ in range(3):
        reply = await api.upload("a.txt", "retry me")
        statuses.append(reply.status)
        if reply.status == 503:
            assert reply.headers["Retry-After"] == "2"
            assert reply.error_codes == [10503]
    assert statuses == [503, 503, 200]
    assert (await api.request("GET", "/namespaces/default/instances/kb/items")).status == 200
    assert await _outcome(api, path="/instances/kb/search") == "drop"
    assert await _outcome(api, path="/instances/kb/search") == OK
    assert [(f.method, f.kind) for f in emulator.faults.injected] == [
        ("POST", 503),
        ("POST", 503),
        ("POST", "drop"),
    ]


async def test_scripted_faults_come_before_random_ones(api: Api, emulator: AsyncEmulator) -> None:
    emulator.faults.configure(error_500_rate=1.0)
    emulator.faults.inject(429)
    assert await _outcome(api) == 429
    assert await _outcome(api) == 500


async def test_route_and_method_filters(api: Api, emulator: AsyncEmulator) -> None:
    await api.create_instance()
    emulator.faults.configure(error_500_rate=1.0, routes=r"/search$", methods=frozenset({"POST"}))
    assert (await api.request("GET", "/instances/kb")).status == 200
    assert (await api.request("POST", "/instances/kb/search", json={"query": "x"})).status == 500


async def test_latency(api: Api, emulator: AsyncEmulator) -> None:
    emulator.faults.configure(latency_ms=150, routes="/tokens")
    started = time.monotonic()
    assert (await api.request("GET", "/tokens")).status == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    await api.request("GET", "/namespaces")
    assert time.monotonic() - started < 0.15


async def _namespaces(api: Api) -> set[str]:
    return {ns["name"] for ns in await api.ok("GET", "/namespaces")}


async def test_drop_before_the_request_is_handled_changes_nothing(
    api: Api, emulator: AsyncEmulator
) -> None:
    emulator.faults.configure(drop_rate=1.0)
    with pytest.raises(aiohttp.ClientError):
        await api.request("POST", "/namespaces", json={"name": "never"})
    emulator.faults.clear()
    assert "never" not in await _namespaces(api)


async def test_drop_after_the_request_was_handled_keeps_its_changes(
    api: Api, emulator: AsyncEmulator
) -> None:
    """The client sees a reset, yet the namespace was created (state changed)."""
    emulator.faults.configure(drop_after_rate=1.0)
    with pytest.raises(aiohttp.ClientError):
        await api.request("POST", "/namespaces", json={"name": "applied"})
    # A request the application refused is handled too, and dropped all the same.
    with pytest.raises(aiohttp.ClientError):
        await api.request("POST", "/namespaces", json={"name": "applied"})
    emulator.faults.clear()
    assert "applied" in await _namespaces(api)
    assert (await api.request("POST", "/namespaces", json={"name": "applied"})).status == 409


async def test_scripted_drop_after(api: Api, emulator: AsyncEmulator) -> None:
    await api.create_instance()
    emulator.faults.inject("drop_after", route=r"/items$", method="POST")
    with pytest.raises(aiohttp.ClientError):
        await api.upload("kept.txt", "stored although the answer was lost")
    items = await api.ok("GET", "/namespaces/default/instances/kb/items")
    assert [i["key"] for i in items] == ["kept.txt"]
    assert [(f.method, f.kind) for f in emulator.faults.injected] == [("POST", "drop_after")]


def test_command_line_fault_options() -> None:
    args = ["--fault-drop-rate", "0.1", "--fault-drop-after-rate", "0.2"]
    config = _config(_parser().parse_args([*args, "--fault-retry-after", "0"]))
    assert (config.faults.drop_rate, config.faults.drop_after_rate) == (0.1, 0.2)
    assert config.faults.retry_after == 0
    assert _config(_parser().parse_args([])).faults.retry_after == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"error_500_rate": 1.5},
        {"drop_rate": -0.1},
        {"drop_after_rate": 1.1},
        {"drop_rate": 0.5, "drop_after_rate": 0.6},
        {"error_500_rate": 0.6, "error_429_rate": 0.6},
        {"latency_ms": -1},
    ],
)
def test_fault_config_validation(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must|add up"):
        FaultConfig(**changes)  # type: ignore[arg-type]


def test_bad_route_regex_and_scripted_values() -> None:
    with pytest.raises(re.error):
        FaultConfig(routes="(")
    injector = FaultInjector()
    with pytest.raises(ValueError, match="HTTP status"):
        injector.inject(200)
    with pytest.raises(ValueError, match="drop_after"):
        injector.inject("drop_before")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        injector.inject(500, times=0)

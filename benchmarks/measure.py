"""The four measurements, each interleaving the contenders round-robin.

The machine is shared and noisy, so no contender gets a quiet stretch the
others did not: every round visits all of them (in a rotated order), and the
values are kept per round so that ratios can be taken between contenders
measured moments apart. Timings are per call with
``perf_counter_ns``; garbage collection stays on, as in real use.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from contenders import AsyncContender, SyncContender, Team
from fixtures import ACCOUNT_ID, API_TOKEN

__all__ = [
    "STARTUP_SNIPPETS",
    "Counts",
    "Samples",
    "latency",
    "list_decode",
    "startup",
    "throughput",
]

_T = TypeVar("_T")
Samples = dict[str, list[list[float]]]
"""Contender name -> for each round, the values measured (seconds or requests/s)."""


@dataclass(frozen=True)
class Counts:
    """How much work each figure does; ``quick`` is a smoke run, not a measurement."""

    rounds: int
    latency_calls: int
    warmup_calls: int
    concurrency: int
    burst_requests: int
    list_fetches: int
    startup_runs: int

    @classmethod
    def full(cls) -> Counts:
        return cls(
            rounds=15,
            latency_calls=3000,
            warmup_calls=200,
            concurrency=64,
            burst_requests=1000,
            list_fetches=30,
            startup_runs=20,
        )

    @classmethod
    def quick(cls) -> Counts:
        return cls(
            rounds=2,
            latency_calls=100,
            warmup_calls=20,
            concurrency=64,
            burst_requests=256,
            list_fetches=2,
            startup_runs=2,
        )


def _rotated(items: Sequence[_T], round_no: int) -> list[_T]:
    shift = round_no % len(items)
    return [*items[shift:], *items[:shift]]


def _interleave(
    loop: asyncio.AbstractEventLoop,
    team: Team,
    rounds: int,
    run_async: Callable[[AsyncContender], Awaitable[list[float]]],
    run_sync: Callable[[SyncContender], list[float]],
) -> Samples:
    def on_loop(contender: AsyncContender) -> list[float]:
        return loop.run_until_complete(run_async(contender))

    steps: list[tuple[str, Callable[[], list[float]]]] = [
        *((c.name, functools.partial(on_loop, c)) for c in team.asyncs),
        *((c.name, functools.partial(run_sync, c)) for c in team.syncs),
    ]
    samples: Samples = {name: [] for name, _ in steps}
    for round_no in range(rounds):
        for name, step in _rotated(steps, round_no):
            gc.collect()
            samples[name].append(step())
    return samples


async def _timed_async(call: Callable[[], Awaitable[object]], n: int) -> list[float]:
    out = []
    clock = time.perf_counter_ns
    for _ in range(n):
        start = clock()
        await call()
        out.append((clock() - start) / 1e9)
    return out


def _timed_sync(call: Callable[[], object], n: int) -> list[float]:
    out = []
    clock = time.perf_counter_ns
    for _ in range(n):
        start = clock()
        call()
        out.append((clock() - start) / 1e9)
    return out


def latency(loop: asyncio.AbstractEventLoop, team: Team, counts: Counts) -> Samples:
    """Seconds per sequential ``jobs.get`` on a warm connection."""
    per_round = max(1, counts.latency_calls // counts.rounds)
    _interleave(
        loop,
        team,
        1,
        lambda c: _timed_async(c.get_job, counts.warmup_calls),
        lambda c: _timed_sync(c.get_job, counts.warmup_calls),
    )
    return _interleave(
        loop,
        team,
        counts.rounds,
        lambda c: _timed_async(c.get_job, per_round),
        lambda c: _timed_sync(c.get_job, per_round),
    )


async def _async_burst(contender: AsyncContender, total: int, concurrency: int) -> list[float]:
    left = total

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await contender.get_job()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [total / (time.perf_counter() - start)]


def _sync_burst(
    pool: ThreadPoolExecutor, contender: SyncContender, total: int, concurrency: int
) -> list[float]:
    tickets = itertools.count()  # next() on it is atomic under the GIL

    def worker() -> None:
        while next(tickets) < total:
            contender.get_job()

    start = time.perf_counter()
    for future in [pool.submit(worker) for _ in range(concurrency)]:
        future.result()
    return [total / (time.perf_counter() - start)]


def throughput(loop: asyncio.AbstractEventLoop, team: Team, counts: Counts) -> Samples:
    """Requests per second for ``jobs.get`` with ``concurrency`` calls in flight.

    Async clients use tasks on one loop; sync clients use as many threads.
    """
    n, total = counts.concurrency, counts.burst_requests
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="bench") as pool:
        # The warm-up opens the connections each client keeps for the rounds.
        _interleave(
            loop,
            team,
            1,
            lambda c: _async_burst(c, 4 * n, n),
            lambda c: _sync_burst(pool, c, 4 * n, n),
        )
        return _interleave(
            loop,
            team,
            counts.rounds,
            lambda c: _async_burst(c, total, n),
            lambda c: _sync_burst(pool, c, total, n),
        )


def list_decode(
    loop: asyncio.AbstractEventLoop, team: Team, counts: Counts, *, instances: bool
) -> Samples:
    """Seconds to fetch one big list page and turn it into the client's objects."""
    per_round = max(1, counts.list_fetches // counts.rounds)

    def pick_async(c: AsyncContender) -> Callable[[], Awaitable[int]]:
        return c.list_instances if instances else c.list_jobs

    def pick_sync(c: SyncContender) -> Callable[[], int]:
        return c.list_instances if instances else c.list_jobs

    _interleave(
        loop,
        team,
        1,
        lambda c: _timed_async(pick_async(c), 1),
        lambda c: _timed_sync(pick_sync(c), 1),
    )
    return _interleave(
        loop,
        team,
        counts.rounds,
        lambda c: _timed_async(pick_async(c), per_round),
        lambda c: _timed_sync(pick_sync(c), per_round),
    )


_OURS = f"api_token={API_TOKEN!r}, account_id={ACCOUNT_ID!r}"
_READY = "import {}\nc = {}({})\nc.aisearch.namespaces.instances.jobs"
STARTUP_SNIPPETS: dict[str, str] = {
    "import aiohttp": "import aiohttp",
    "import cfaisearch": "import cfaisearch",
    "cfaisearch async": _READY.format("cfaisearch", "cfaisearch.AsyncCloudflare", _OURS),
    "cfaisearch sync": _READY.format("cfaisearch", "cfaisearch.Cloudflare", _OURS),
    "official sync": _READY.format(
        "cloudflare", "cloudflare.Cloudflare", f"api_token={API_TOKEN!r}"
    ),
}
"""What a fresh interpreter does before it can send its first request."""

_TIMER = "import time\n_t = time.perf_counter()\n{}\nprint(time.perf_counter() - _t)\n"


def _run_snippet(code: str, scratch: str, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _TIMER.format(code)],
        check=True,
        capture_output=True,
        text=True,
        cwd=scratch,
        env=env,
    )
    return float(done.stdout.strip().splitlines()[-1])


def startup(counts: Counts, *, official: bool) -> Samples:
    """Seconds from a fresh interpreter's first line to a client ready to call."""
    snippets = {
        name: code
        for name, code in STARTUP_SNIPPETS.items()
        if official or not name.startswith("official")
    }
    samples: Samples = {name: [] for name in snippets}
    with tempfile.TemporaryDirectory(prefix="cfaisearch-bench-") as scratch:
        # Every interpreter must find compiled bytecode, as after a normal install:
        # with PYTHONDONTWRITEBYTECODE set, a source checkout would be compiled
        # afresh on every run while site-packages would not. A private cache
        # directory also keeps the work tree clean; the working directory keeps
        # the checkout off sys.path, so the installed package is what is timed.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = os.path.join(scratch, "pycache")
        for code in snippets.values():
            _run_snippet(code, scratch, env)  # fills the bytecode cache
        names = list(snippets)
        for round_no in range(counts.startup_runs):
            for name in _rotated(names, round_no):
                samples[name].append([_run_snippet(snippets[name], scratch, env)])
    return samples

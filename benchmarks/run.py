"""Side-by-side performance of cfaisearch, the official SDK and raw aiohttp.

    python benchmarks/run.py                   # full run, prints Markdown
    python benchmarks/run.py --quick           # smoke run with tiny counts
    python benchmarks/run.py --write docs/performance.md

The fake API runs in a child process on 127.0.0.1 (benchmarks/server.py). The
official ``cloudflare`` package is measured when it is importable. Figures are
for comparison within one run: only the ratios carry over to other machines.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

from contenders import Team, official_available, start_team
from fixtures import JOB_ID
from measure import Counts, Samples, latency, list_decode, startup, throughput
from report import (
    Figure,
    environment,
    latency_figure,
    list_figure,
    load_average,
    render,
    startup_figure,
    throughput_figure,
    wire_figure,
    write_section,
)
from server import ServerProcess
from wire import RAW as RAW_WIRE
from wire import wire

SERVER_FIGURES = ("latency", "throughput", "list", "wire")
FIGURES = (*SERVER_FIGURES, "startup")
LIST_PAGES = ("instances.list", "jobs.list")

# The targets (see docs/performance.md).
LATENCY_LIMITS = {"cfaisearch async": 1.3, "cfaisearch sync": 1.6}
THROUGHPUT_FLOORS = {"cfaisearch async": 0.7}
LIST_SPEEDUP = 3.0
LIST_VERSUS = {"cfaisearch async": "official async", "cfaisearch sync": "official sync"}
STARTUP_LIMITS = {"cfaisearch async": 1.15, "cfaisearch sync": 1.15}
# Issue 12's targets: ratios to raw aiohttp measured in the same rounds.
LIST_RAW_JSON = {"instances.list": {"cfaisearch async": 2.0, "cfaisearch sync": 2.0}}
WIRE_FIGURES = {
    "stream cpu": (
        "5. Streamed chat, 2,000 deltas: CPU per event",
        "5. stream CPU/event",
        "µs/event",
        {"cfaisearch async": 1.5, "cfaisearch sync": 2.0},
    ),
    "first event": (
        "6. Streamed chat: time to the first event (the first read holds a burst)",
        "6. stream first event",
        "ms",
        {"cfaisearch sync": 1.5},
    ),
    "search": (
        "7. Instance search answering 50 chunks, fetched and decoded",
        "7. search, 50 chunks",
        "ms",
        {"cfaisearch async": 1.4, "cfaisearch sync": 1.4},
    ),
    "download cpu": (
        "8. 64 MiB download in 16 MiB chunks: CPU per MiB",
        "8. download CPU/MiB",
        "ms/MiB",
        {"cfaisearch async": 1.5, "cfaisearch sync": 1.5},
    ),
}


def _verify(loop: asyncio.AbstractEventLoop, team: Team, items: int) -> None:
    """Fail loudly, before timing anything, if a client does not do the real work."""
    for contender in team.asyncs:
        got = (
            loop.run_until_complete(contender.get_job()),
            loop.run_until_complete(contender.list_jobs()),
            loop.run_until_complete(contender.list_instances()),
        )
        if got != (JOB_ID, items, items):
            raise RuntimeError(f"{contender.name} answered {got!r}")
    for sync in team.syncs:
        got = (sync.get_job(), sync.list_jobs(), sync.list_instances())
        if got != (JOB_ID, items, items):
            raise RuntimeError(f"{sync.name} answered {got!r}")


def _measure(figure: str, args: argparse.Namespace, counts: Counts) -> dict[str, Samples]:
    """Measure one server-backed figure in this process (the ``--child`` side)."""
    with ServerProcess(args.items) as base_url:
        loop = asyncio.new_event_loop()
        if figure == "wire":
            try:
                gc.collect()
                gc.freeze()
                return wire(loop, base_url, counts)
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
        team = loop.run_until_complete(start_team(base_url, official=official_available()))
        try:
            _verify(loop, team, args.items)
            # Collections stay on, but they skip what existed before timing (every
            # contender's modules and clients), so no client pays for another's heap.
            gc.collect()
            gc.freeze()
            if figure == "latency":
                return {"latency": latency(loop, team, counts)}
            if figure == "throughput":
                return {"throughput": throughput(loop, team, counts)}
            return {
                what: list_decode(loop, team, counts, instances=what == "instances.list")
                for what in LIST_PAGES
            }
        finally:
            loop.run_until_complete(team.aclose())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


def _measure_in_child(figure: str, args: argparse.Namespace) -> dict[str, Samples]:
    """Run one figure in a fresh interpreter, so that no figure inherits the heap,
    connection pools or threads that an earlier one left behind."""
    command = [sys.executable, __file__, "--child", figure, "--items", str(args.items)]
    if args.quick:
        command.append("--quick")
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    results: dict[str, Samples] = json.loads(done.stdout)
    return results


def _server_figures(args: argparse.Namespace, names: tuple[str, ...]) -> list[Figure]:
    figures = []
    for figure in names:
        if figure not in args.only:
            continue
        print(f"measuring {figure} ...", file=sys.stderr)
        results = _measure_in_child(figure, args)
        if figure == "latency":
            figures.append(latency_figure(results["latency"], LATENCY_LIMITS))
        elif figure == "wire":
            figures.extend(
                wire_figure(
                    results[key], title=title, check=check, unit=unit, limits=limits, raw=RAW_WIRE
                )
                for key, (title, check, unit, limits) in WIRE_FIGURES.items()
            )
        elif figure == "throughput":
            concurrency = (Counts.quick() if args.quick else Counts.full()).concurrency
            figures.append(throughput_figure(results["throughput"], concurrency, THROUGHPUT_FLOORS))
        else:
            figures.extend(
                list_figure(
                    results[what],
                    what=what,
                    items=args.items,
                    versus=LIST_VERSUS,
                    speedup=LIST_SPEEDUP,
                    raw_json_limits=LIST_RAW_JSON.get(what),
                )
                for what in LIST_PAGES
            )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke test")
    parser.add_argument("--items", type=int, default=1000, help="elements per list page")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=FIGURES,
        default=list(FIGURES),
        help="measure only these figures",
    )
    parser.add_argument("--write", type=Path, help="also write the results into this file")
    # Internal: measure one figure and print its samples as JSON.
    parser.add_argument("--child", choices=SERVER_FIGURES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    counts = Counts.quick() if args.quick else Counts.full()
    # The official SDK marks the top-level instance endpoints deprecated and warns per call.
    warnings.simplefilter("ignore", DeprecationWarning)
    if args.child is not None:
        print(json.dumps(_measure(args.child, args, counts)))
        return 0

    official = official_available()
    if not official:
        print("note: `cloudflare` is not installed; the official SDK is left out", file=sys.stderr)
    facts = environment(shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]]))
    figures = _server_figures(args, ("latency", "throughput", "list"))
    if "startup" in args.only:
        print("measuring startup ...", file=sys.stderr)
        figures.append(startup_figure(startup(counts, official=official), STARTUP_LIMITS))
    figures.extend(_server_figures(args, ("wire",)))

    facts.append(("Load average at end", load_average()))
    notes = "_Quick mode: counts too small for real figures._" if args.quick else ""
    section = render(figures, facts, notes)
    print(section)
    if args.write is not None:
        write_section(args.write, section)
        print(f"wrote {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Turning samples into Markdown: one table per figure, a summary of the targets,
and the facts needed to reproduce or judge the run."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from measure import Samples

__all__ = [
    "BEGIN",
    "END",
    "Check",
    "Figure",
    "environment",
    "latency_figure",
    "list_figure",
    "load_average",
    "render",
    "startup_figure",
    "throughput_figure",
    "wire_figure",
    "write_section",
]

BEGIN = "<!-- benchmark results: begin (written by benchmarks/run.py) -->"
END = "<!-- benchmark results: end -->"

RAW = "raw aiohttp + orjson"
RAW_JSON = "raw aiohttp + json"
BASE_IMPORT = "import aiohttp"


@dataclass(frozen=True)
class Check:
    """One target: what is compared, the measured ratio, and whether it is met."""

    figure: str
    """A short name of the figure, e.g. ``1. latency``."""
    what: str
    target: str
    measured: str
    passed: bool


@dataclass(frozen=True)
class Figure:
    title: str
    table: str
    checks: list[Check]


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _p90(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms" if seconds < 0.01 else f"{seconds * 1000:.1f} ms"


_TEXT_COLUMNS = frozenset({"Check", "Client", "What", "Target", "Result"})


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    align = [":---" if h in _TEXT_COLUMNS else "---:" for h in headers]
    lines = [headers, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "**FAIL**"


def _flat(rounds: Sequence[Sequence[float]]) -> list[float]:
    return [value for values in rounds for value in values]


def _paired(samples: Samples, name: str, base: str) -> float:
    """``name`` ÷ ``base``: the median over rounds of the ratio within each round.

    Both were measured moments apart in every round, so a burst of load from
    elsewhere on the machine moves both sides of most ratios alike.
    """
    pairs = zip(samples[name], samples[base], strict=True)
    return statistics.median(_median(ours) / _median(theirs) for ours, theirs in pairs)


def latency_figure(samples: Samples, limits: dict[str, float]) -> Figure:
    """Sequential latency; ``limits`` caps some clients' median as a multiple of raw."""
    title = "1. Sequential `jobs.get` latency (per call, warm connection)"
    rows, checks = [], []
    for name, rounds in samples.items():
        values = _flat(rounds)
        ratio = _paired(samples, name, RAW)
        target = result = ""
        if name in limits:
            passed = ratio <= limits[name]
            target, result = f"≤ {limits[name]:.2f}x raw", _verdict(passed)
            checks.append(Check("1. latency", name, target, f"{ratio:.2f}x", passed))
        rows.append(
            [name, _ms(_median(values)), _ms(_p90(values)), f"{ratio:.2f}x", target, result]
        )
    headers = ["Client", "median", "p90", "÷ raw", "Target", "Result"]
    return Figure(title, _table(headers, rows), checks)


def throughput_figure(samples: Samples, concurrency: int, floors: dict[str, float]) -> Figure:
    """Requests per second; ``floors`` is the minimum share of raw for some clients."""
    title = f"2. `jobs.get` throughput, {concurrency} requests in flight"
    rows, checks = [], []
    for name, rounds in samples.items():
        values = _flat(rounds)
        share = _paired(samples, name, RAW)
        target = result = ""
        if name in floors:
            passed = share >= floors[name]
            target, result = f"≥ {floors[name]:.0%} of raw", _verdict(passed)
            checks.append(Check("2. throughput", name, target, f"{share:.1%}", passed))
        spread = f"{min(values):,.0f} to {max(values):,.0f}"
        rows.append([name, f"{_median(values):,.0f}", spread, f"{share:.1%}", target, result])
    headers = ["Client", "req/s (median)", "range over rounds", "of raw", "Target", "Result"]
    return Figure(title, _table(headers, rows), checks)


def list_figure(
    samples: Samples,
    *,
    what: str,
    items: int,
    versus: dict[str, str],
    speedup: float,
    raw_json_limits: dict[str, float] | None = None,
) -> Figure:
    """Fetch-and-decode time of one big page; ``versus`` pairs ours with the official."""
    title = f"3. Fetch and decode one {items:,}-element `{what}` page"
    rows, checks = [], []
    for name, rounds in samples.items():
        values = _flat(rounds)
        target = result = ""
        official = versus.get(name)
        if official in samples:
            gain = _paired(samples, official, name)
            passed = gain >= speedup
            target = f"≥ {speedup:.0f}x faster than {official}"
            result = f"{gain:.1f}x {_verdict(passed)}"
            checks.append(Check(f"3. {what} page", name, target, f"{gain:.1f}x", passed))
        by_json = _paired(samples, name, RAW_JSON)
        limit = (raw_json_limits or {}).get(name)
        if limit is not None:
            passed = by_json <= limit
            json_target = f"≤ {limit:.1f}x raw json"
            target = f"{target}; {json_target}" if target else json_target
            result = f"{result}; {by_json:.2f}x {_verdict(passed)}" if result else _verdict(passed)
            checks.append(Check(f"3. {what} page", name, json_target, f"{by_json:.2f}x", passed))
        rows.append(
            [
                name,
                _ms(_median(values)),
                _ms(_p90(values)),
                f"{_paired(samples, name, RAW):.2f}x",
                f"{by_json:.2f}x",
                target,
                result,
            ]
        )
    headers = ["Client", "median", "p90", "÷ raw orjson", "÷ raw json", "Target", "Result"]
    return Figure(title, _table(headers, rows), checks)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} µs"


def wire_figure(
    samples: Samples,
    *,
    title: str,
    check: str,
    unit: str,
    limits: dict[str, float],
    raw: str,
) -> Figure:
    """A figure measured against raw aiohttp: per client the median and its ratio to ``raw``.

    ``unit`` names the value: ``"µs/event"``, ``"ms"`` (seconds shown in ms)
    or ``"ms/MiB"``; ``limits`` caps some clients' ratio.
    """
    rows, checks = [], []
    for name, rounds in samples.items():
        values = _flat(rounds)
        ratio = _paired(samples, name, raw)
        spread = [_median(r) / _median(b) for r, b in zip(rounds, samples[raw], strict=True)]
        target = result = ""
        if name in limits:
            passed = ratio <= limits[name]
            target, result = f"≤ {limits[name]:.1f}x raw", _verdict(passed)
            checks.append(Check(check, name, target, f"{ratio:.2f}x", passed))
        value = _median(values)
        shown = _us(value) if unit == "µs/event" else f"{value * 1000:.3f} {unit}"
        rows.append(
            [
                name,
                shown,
                f"{ratio:.2f}x",
                f"{min(spread):.2f}x to {max(spread):.2f}x",
                target,
                result,
            ]
        )
    headers = ["Client", "median", "÷ raw", "range over rounds", "Target", "Result"]
    return Figure(title, _table(headers, rows), checks)


def startup_figure(samples: Samples, limits: dict[str, float]) -> Figure:
    """Fresh-interpreter startup, relative to ``import aiohttp`` alone."""
    title = "4. Import and build a client ready to call (fresh interpreter)"
    rows, checks = [], []
    for name, rounds in samples.items():
        values = _flat(rounds)
        ratio = _paired(samples, name, BASE_IMPORT)
        target = result = ""
        if name in limits:
            passed = ratio <= limits[name]
            target, result = f"≤ {limits[name]:.2f}x `{BASE_IMPORT}`", _verdict(passed)
            checks.append(Check("4. startup", name, target, f"{ratio:.2f}x", passed))
        label = name if name.startswith("import") else f"{name}: import + client + `.aisearch`"
        rows.append(
            [label, _ms(min(values)), _ms(_median(values)), f"{ratio:.2f}x", target, result]
        )
    headers = ["What", "min", "median", f"÷ `{BASE_IMPORT}`", "Target", "Result"]
    return Figure(title, _table(headers, rows), checks)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def environment(command: str) -> list[tuple[str, str]]:
    """The facts a reader needs to judge or reproduce the figures."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return [
        ("Command", f"`{command}`"),
        ("Date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        (
            "Packages",
            ", ".join(
                f"{dist} {_version(dist)}"
                for dist in ("cfaisearch", "aiohttp", "orjson", "cattrs", "cloudflare", "httpx")
            ),
        ),
        ("Machine", f"{platform.system()} {platform.machine()}, {_cpu_model()}"),
        ("CPUs", f"nproc {usable or os.cpu_count()}; load average at start {load_average()}"),
    ]


def render(figures: Sequence[Figure], facts: Sequence[tuple[str, str]], notes: str) -> str:
    """The whole result section: facts, target summary, then each figure's table."""
    parts = [
        "\n".join(f"- **{key}:** {value}" for key, value in facts),
        "Times and rates are medians over all rounds. Each ratio is the median, over"
        " the rounds, of the ratio between two clients measured in the same round.",
    ]
    checks = [c for f in figures for c in f.checks]
    if checks:
        summary = [
            [f"{c.figure}: {c.what}", c.target, c.measured, _verdict(c.passed)] for c in checks
        ]
        parts.append("### Targets\n\n" + _table(["Check", "Target", "Measured", "Result"], summary))
    parts.extend(f"### {f.title}\n\n{f.table}" for f in figures)
    if notes:
        parts.append(notes)
    return "\n\n".join(parts) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace the marked result section of ``path`` (created if missing)."""
    block = f"{BEGIN}\n\n{section}\n{END}"
    text = path.read_text() if path.exists() else "# Performance\n\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)

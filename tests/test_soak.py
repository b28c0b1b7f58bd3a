"""scripts/soak.py: a short soak run passes, and its checks do catch what they claim to."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak", ROOT / "scripts" / "soak.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


soak = _load()


def _report(**changes: Any) -> Any:
    """A report of a flawless run, with ``changes`` applied."""
    clean = soak.Reconciled(
        sent=2,
        succeeded=1,
        applied_once=2,
        applied_twice_or_more=0,
        succeeded_but_missing=0,
        raised_but_applied=1,
    )
    tally = soak.Tally(total=9)
    tally.outcomes.update(
        {("async", "ok"): 4, ("sync", "ok"): 4, ("sync", "APIConnectionError"): 1}
    )
    tally.rss.extend([100 << 20] * 8)
    fields: dict[str, Any] = {
        "calls": 9,
        "seed": 1,
        "seconds": 0.1,
        "tally": tally,
        "faults": {"drop_after": 1},
        "triggers": clean,
        "uploads": clean,
        "before": soak.Resources(10, 2, 0),
        "after": soak.Resources(10, 2, 0),
        "warnings": [],
    }
    fields.update(changes)
    return soak.Report(**fields)


def test_reconcile_counts_duplicates_and_lost_writes() -> None:
    sent = {"a": "ok", "b": "ok", "c": "APIConnectionError", "d": "APITimeoutError", "e": "ok"}
    applied = {"a": 1, "b": 2, "c": 1, "e": 0}
    assert soak.reconcile(sent, applied) == soak.Reconciled(
        sent=5,
        succeeded=3,
        applied_once=2,
        applied_twice_or_more=1,
        succeeded_but_missing=1,
        raised_but_applied=1,
    )


def test_report_passes_a_clean_run() -> None:
    report = _report()
    assert report.passed
    assert report.render().endswith("RESULT: PASS")


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ("untyped", "every call succeeded or raised a typed error"),
        ("failing", "at least 80% of calls succeeded"),
        ("duplicate", "0 duplicated uploads"),
        ("lost", "0 lost writes (succeeded but not stored)"),
        ("fd", "0 leaked file descriptors"),
        ("thread", "0 leaked threads"),
        ("socket", "0 leaked connections"),
        ("warning", "0 ResourceWarnings or unraisable errors"),
        ("memory", "memory flat"),
    ],
)
def test_report_fails_each_broken_invariant(change: str, check: str) -> None:
    report = _report()
    clean = report.uploads
    if change == "untyped":
        report.tally.outcomes["sync", "UNTYPED builtins.KeyError"] += 1
        report = _report(calls=10, tally=report.tally)
    elif change == "failing":
        report.tally.outcomes["sync", "InternalServerError"] += 2
        report = _report(calls=11, tally=report.tally)
    elif change == "duplicate":
        report = _report(uploads=dataclasses.replace(clean, applied_twice_or_more=1))
    elif change == "lost":
        report = _report(triggers=dataclasses.replace(clean, succeeded_but_missing=1))
    elif change == "fd":
        report = _report(after=soak.Resources(11, 2, 0))
    elif change == "thread":
        report = _report(after=soak.Resources(10, 3, 0))
    elif change == "socket":
        report = _report(after=soak.Resources(10, 2, 1))
    elif change == "warning":
        report = _report(warnings=["ResourceWarning: unclosed transport"])
    else:
        report.tally.rss[-2:] = [(100 << 20) + soak.MEMORY_TOLERANCE + 1] * 2
        report = _report(tally=report.tally)
    assert {name for name, ok in report.checks.items() if not ok} == {check}
    assert f"[FAIL] {check}" in report.render()
    assert report.render().endswith("RESULT: FAIL")


def test_untyped_errors_are_told_apart() -> None:
    assert soak._outcome(None) == "ok"
    assert soak._outcome(soak.CloudflareError("x")) == "CloudflareError"
    assert soak._outcome(KeyError("x")) == "UNTYPED builtins.KeyError"


def test_plan_is_reproducible_and_uses_both_clients() -> None:
    first = soak.plan(200, seed=5)
    assert first == soak.plan(200, seed=5)
    assert first != soak.plan(200, seed=6)
    on_async, on_sync = first
    assert on_async
    assert on_sync
    assert sorted(n for n, _ in on_async + on_sync) == list(range(200))


@pytest.mark.slow
def test_short_soak_run_passes() -> None:
    """300 calls through both clients with every fault kind on, reconciled with the emulator."""
    report = soak.run(calls=300, seed=3)
    assert report.passed, report.render()
    assert sum(report.tally.outcomes.values()) == 300
    assert {"async", "sync"} == {client for client, _ in report.tally.outcomes}
    assert {"500", "502", "429", "drop", "drop_after"} <= set(report.faults)
    assert report.triggers.sent > 0
    assert report.uploads.sent > 0

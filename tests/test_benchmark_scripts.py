"""The benchmark scripts still run against the code they measure (CI runs no benchmark)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def test_the_directory_sync_benchmark_runs_its_smoke_size() -> None:
    """Its stand-in for `items` must keep up with what a sync reads (pages, not items)."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "sync_dir.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Walk + MD5 comparison" in done.stdout

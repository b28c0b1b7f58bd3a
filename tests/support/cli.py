"""Running the ``cfaisearch`` command line in tests: in-process (CliRunner) or as a process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from cfaisearch.cli.app import cli

__all__ = ["SCRIPT", "invoke", "invoke_json", "run_script", "script_env", "start_script"]

SCRIPT = Path(sys.executable).with_name("cfaisearch")
"""The console script the package installs next to this interpreter."""


def invoke(*args: str, input: str | None = None) -> Result:
    """Run ``cfaisearch ARGS`` in this process; stdout and stderr are kept apart."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def invoke_json(*args: str) -> Any:
    """Run ``cfaisearch --json ARGS``, check it succeeded and printed one JSON document."""
    result = invoke("--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def script_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment (the emulator's CLOUDFLARE_* included), plus ``extra``."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", **(extra or {})}


def run_script(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script with pipes (not a terminal) for stdout and stderr."""
    return subprocess.run(
        [str(SCRIPT), *args],
        env=script_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_script(
    args: Sequence[str], *, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start the installed console script with pipes; Ctrl-C (SIGINT) reaches it.

    A background job (``pytest &`` in a script, nohup) runs with SIGINT ignored,
    and a child inherits that across exec, so the command would rightly ignore
    Ctrl-C. A handled signal is reset to its default by exec instead: handling
    SIGINT here while starting the child gives it Python's usual KeyboardInterrupt.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(
            [str(SCRIPT), *args],
            env=script_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)

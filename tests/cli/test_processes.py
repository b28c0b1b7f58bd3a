"""The installed console script as a process: the missing extra, Ctrl-C, terminals and pipes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cfaisearch import Cloudflare
from cfaisearch.cli._common import run_interruptibly
from tests.support.cli import SCRIPT, run_script, script_env, start_script
from tests.support.integration import make_r2_instance_sync

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and terminals")


def test_without_the_extra_it_says_what_to_install(tmp_path: Path) -> None:
    # Modules that fail to import as a missing package does: the extra is not installed.
    for name in ("click", "rich"):
        (tmp_path / f"{name}.py").write_text(
            f'raise ModuleNotFoundError("No module named {name}", name="{name}")\n',
            encoding="utf-8",
        )
    done = run_script(["instances", "list"], env={"PYTHONPATH": str(tmp_path)})
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "cfaisearch: the command line needs click and rich (the `cli` extra): "
        "pip install 'click>=8.1' 'rich>=13'\n"
    )


@pytest.fixture
def foreground() -> Iterator[None]:
    """SIGINT raising KeyboardInterrupt, as in a suite started from a terminal."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture
def background_job() -> Iterator[None]:
    """SIGINT ignored, as in a suite started as a background job (``nox -s tests &``)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("foreground")
def test_ctrl_c_amid_a_loop_callback_cancels_between_callbacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Ctrl-C halfway through a callback of the loop leaves that callback whole.

    asyncio.run cancelled the command from inside the signal handler, here between
    a future's check and its result (as in aiohttp's data_received or asyncio's
    timers): the callback then failed with InvalidStateError, breaking a connection
    on the way out.
    """

    async def command() -> None:
        loop = asyncio.get_running_loop()
        answer = loop.create_future()

        def arrive() -> None:  # as a protocol hands a waiting read its data
            if not answer.done():
                signal.raise_signal(signal.SIGINT)
                answer.set_result(None)

        loop.call_soon(arrive)
        await answer
        await asyncio.sleep(30)

    with caplog.at_level(logging.ERROR, logger="asyncio"), pytest.raises(KeyboardInterrupt):
        run_interruptibly(command())
    assert [record.getMessage() for record in caplog.records] == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _slow_job(client: Cloudflare) -> str:
    make_r2_instance_sync(client, "site")
    return client.aisearch.namespaces.instances.jobs.create("site", name="default").id


@pytest.mark.usefixtures("background_job")
@pytest.mark.aisearch_emulator(job_step_delay=30.0)
def test_ctrl_c_exits_130_and_cancels_nothing(
    aisearch_env: dict[str, str], aisearch_client: Cloudflare
) -> None:
    """Also when the suite runs as a background job: its children inherited SIGINT
    ignored, so the command never saw the Ctrl-C and polled on."""
    job_id = _slow_job(aisearch_client)
    # The with block closes the pipes and reaps the process even when a step fails.
    with start_script(
        ["--json", "jobs", "wait", "site", job_id, "--poll-interval", "0.2"]
    ) as waiting:
        try:
            assert waiting.stdout is not None
            first = json.loads(waiting.stdout.readline())  # it is polling now
            assert first["id"] == job_id
            waiting.send_signal(signal.SIGINT)
            stdout, stderr = waiting.communicate(timeout=30)
        finally:
            if waiting.poll() is None:
                waiting.kill()
    assert waiting.returncode == 130, stderr
    assert stderr == "interrupted; nothing was cancelled on the server\n"
    for line in stdout.splitlines():
        json.loads(line)
    job = aisearch_client.aisearch.namespaces.instances.jobs.get(job_id, name="default", id="site")
    assert job.end_reason is None
    assert not job.ended


@pytest.mark.usefixtures("aisearch_env")
def test_with_pipes_there_is_no_progress_on_stderr(
    aisearch_client: Cloudflare, tmp_path: Path
) -> None:
    aisearch_client.aisearch.namespaces.instances.create("default", id="kb")
    files = []
    for number in range(3):
        path = tmp_path / f"doc-{number}.md"
        path.write_text(f"Document number {number}.", encoding="utf-8")
        files.append(str(path))
    done = run_script(["items", "upload", "kb", *files])
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "doc-2.md" in done.stdout
    assert "\x1b[" not in done.stdout  # no terminal control sequences in a pipe either


@pytest.mark.aisearch_emulator(job_step_delay=0.5)
def test_on_a_terminal_a_wait_shows_progress(
    aisearch_env: dict[str, str], aisearch_client: Cloudflare
) -> None:
    import pty

    job_id = _slow_job(aisearch_client)
    primary, secondary = pty.openpty()
    waiting = subprocess.Popen(
        [str(SCRIPT), "jobs", "wait", "site", job_id, "--poll-interval", "0.1"],
        env=script_env({"TERM": "xterm", "COLUMNS": "100"}),
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    shown = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                data = os.read(primary, 65536)
            except OSError:  # the terminal closed: the process has exited
                break
            if not data:
                break
            shown += data
    finally:
        os.close(primary)
        waiting.wait(timeout=30)
    assert waiting.returncode == 0
    assert f"job {job_id}".encode() in shown
    assert b"\x1b[" in shown  # drawn with terminal controls


@pytest.mark.slow
def test_demo_runs_the_tour() -> None:
    env = {
        name: ""
        for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_BASE_URL")
    }
    done = run_script(["demo"], env=env)
    assert done.returncode == 0, done.stderr
    assert "[1/6] Emulator listening on http://127.0.0.1:" in done.stdout
    assert "[6/6]" in done.stdout

"""The README's command-line session runs as written: emulator, sync, chat."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
from pathlib import Path

from tests.support.cli import SCRIPT, run_script, script_env

README = Path(__file__).parents[2] / "README.md"
SESSION = re.compile(r"<!-- cli-session: .*? -->\n```sh\n(.*?)```", re.S)
NOTES = {
    "uploads.md": "Uploads are retried only when they provably never reached the server.",
    "search.md": "Searches are retried after a 503, with backoff.",
}


def _session() -> list[list[str]]:
    match = SESSION.search(README.read_text(encoding="utf-8"))
    assert match, "README.md lost its command-line session"
    return [shlex.split(line, comments=True) for line in match.group(1).splitlines()]


def test_the_readme_session_runs(tmp_path: Path) -> None:
    emulator, sync, chat = _session()
    assert emulator[:2] == ["cfaisearch", "emulator"]
    assert emulator[-1] == "&"
    # A free port instead of the README's: the test may run next to other emulators.
    arguments = [("0" if word == "8787" else word) for word in emulator[1:-1]]
    assert "0" in arguments
    server = subprocess.Popen(
        [str(SCRIPT), *arguments],
        env=script_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        exports: dict[str, str] = {}
        for line in server.stdout:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exports[name] = value
            if line.startswith("Press Ctrl+C"):
                break
        # What the README tells the reader to paste: all the configuration needed.
        assert set(exports) == {
            "CLOUDFLARE_BASE_URL",
            "CLOUDFLARE_API_TOKEN",
            "CLOUDFLARE_ACCOUNT_ID",
        }

        folder = tmp_path / sync[2]
        folder.mkdir(parents=True)
        for name, text in NOTES.items():
            (folder / name).write_text(text, encoding="utf-8")
        assert sync[0] == chat[0] == "cfaisearch"
        synced = run_script(sync[1:], env=exports, cwd=tmp_path)
        assert synced.returncode == 0, synced.stderr
        assert "uploaded 2, unchanged 0, deleted 0, failed 0" in synced.stdout

        answered = run_script(chat[1:], env=exports, cwd=tmp_path)
        assert answered.returncode == 0, answered.stderr
        answer, sources = answered.stdout.rsplit("\nSources:\n", 1)
        assert "retried" in answer
        assert "uploads.md" in sources
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.communicate(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    assert server.returncode == 0

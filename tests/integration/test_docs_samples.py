"""Every Python block of README.md and docs/*.md runs as written against the emulator.

A block is run unless the line before its fence is ``<!-- not-run: <reason> -->``.
Each page gets an account like its reader's (the instances and documents its
examples name), clients built from the environment reach the emulator, and files
are written in a temporary directory. A block with top-level ``await`` runs on an
event loop; any other block runs like a script. The blocks of the pytest plugin's
page are pytest code: each runs in its own pytest process, as a test module if it
holds tests, else as a ``conftest.py`` next to a test that uses the plugin's client.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cfaisearch import Cloudflare
from cfaisearch.emulator import Emulator
from cfaisearch.testing import seed_documents
from tests.support.integration import DOCS, make_r2_instance_sync

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
NOT_RUN = re.compile(r"<!-- not-run: (\S.*?) -->\n\n?$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    code: str
    not_run: str | None  # the reason the page gives for not running it

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _blocks() -> list[Block]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            before = text[: match.start()]
            marker = NOT_RUN.search(before)
            line = before.count("\n") + 2  # the block's first line of code
            found.append(Block(page, line, match.group(1), marker.group(1) if marker else None))
    return found


BLOCKS = _blocks()


@dataclass
class Account:
    """The reader's account: a client, the emulator behind it, and their environment."""

    client: Cloudflare
    emulator: Emulator
    monkeypatch: pytest.MonkeyPatch


def _sync_jobs_on(account: Account, instance: str) -> None:
    """An instance reading the bucket, synced once, as the jobs examples expect."""
    make_r2_instance_sync(account.client, instance)
    jobs = account.client.aisearch.namespaces.instances.jobs
    job = jobs.create(instance, name="default")
    jobs.wait(job.id, name="default", id=instance, poll_interval=0.02)


def _support_kb(account: Account) -> None:
    """The upload-only instance of the items and search examples, documents in faq/."""
    documents = {f"faq/{Path(name).name}": text for name, text in DOCS.items()}
    seed_documents(account.client, documents, instance="support-kb")


def _search_account(account: Account) -> None:
    _support_kb(account)
    _sync_jobs_on(account, "docs-site")


def _token_account(account: Account) -> None:
    """The reader's R2 credentials in the environment, their bucket, a registered token."""
    account.monkeypatch.setenv("R2_READ_TOKEN_ID", "r2-token-id")
    account.monkeypatch.setenv("R2_READ_TOKEN_SECRET", "r2-token-secret")
    r2_root = account.emulator.config.r2_root
    assert r2_root is not None
    (Path(r2_root) / "my-archive-bucket").mkdir()
    account.client.aisearch.tokens.create(
        cf_api_id="old-id", cf_api_key="old-secret", name="r2-reader-2025"
    )


# Per page: what the reader's account holds before the page's examples run.
ACCOUNTS: dict[str, Callable[[Account], None]] = {
    "README.md": lambda account: _sync_jobs_on(account, "my-ai-search"),
    "docs/quickstart.md": lambda account: _sync_jobs_on(account, "my-ai-search"),
    "docs/jobs.md": lambda account: _sync_jobs_on(account, "docs-site"),
    "docs/items.md": _support_kb,
    "docs/search-and-chat.md": _search_account,
    "docs/tokens.md": _token_account,
}


PYTEST_PAGES = {"docs/testing.md"}
PLUGIN = 'pytest_plugins = ["cfaisearch.testing"]\n'
PYPROJECT = '[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n'
# What a conftest.py block is run with: a test using the fixtures it sets up.
USES_THE_FIXTURES = """
def test_the_fixture_client_reaches_the_emulator(aisearch_client):
    assert [n.name for n in aisearch_client.aisearch.namespaces.list()] == ["default"]
"""


def _run_with_pytest(code: str, directory: Path) -> None:
    holds_tests = re.search(r"^def test_", code, re.M) is not None
    files = {
        "pyproject.toml": PYPROJECT,
        "conftest.py": PLUGIN if holds_tests else PLUGIN + code,
        "test_docs_block.py": code if holds_tests else USES_THE_FIXTURES,
    }
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "PYTEST_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b1 passed\b", done.stdout), done.stdout


def test_the_pages_have_python_examples() -> None:
    assert len(BLOCKS) >= 20
    assert {block.page.name for block in BLOCKS} >= {"README.md", "quickstart.md", "items.md"}


def _run(code: str, filename: str, names: dict[str, Any]) -> None:
    compiled = compile(code, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if compiled.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(compiled, names))
    else:
        exec(compiled, names)


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_block_runs_as_written(
    block: Block,
    aisearch_env: dict[str, str],
    aisearch_emulator: Emulator,
    aisearch_client: Cloudflare,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if block.not_run is not None:
        # Still valid Python, even if it cannot run here.
        compile(block.code, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        pytest.skip(f"not run: {block.not_run}")
    page = block.page.relative_to(ROOT).as_posix()
    if page in PYTEST_PAGES:
        _run_with_pytest(block.code, tmp_path)
        return
    set_up = ACCOUNTS.get(page)
    if set_up is not None:
        set_up(Account(aisearch_client, aisearch_emulator, monkeypatch))
    monkeypatch.chdir(tmp_path)
    # The emulator page's first example uses `emu`, the emulator its prose started.
    _run(block.code, block.id, {"__name__": "__docs__", "emu": aisearch_emulator})

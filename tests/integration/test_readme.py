"""README.md's Python blocks run as written against the emulator, configured by environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cfaisearch import Cloudflare

from .helpers import make_r2_instance_sync

README = Path(__file__).parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
INSTANCE = "my-ai-search"  # the instance the README's examples use


@pytest.fixture
def readme_account(aisearch_env: dict[str, str], aisearch_client: Cloudflare) -> None:
    """An account like the README reader's: an instance with a source, synced once."""
    make_r2_instance_sync(aisearch_client, INSTANCE)
    jobs = aisearch_client.aisearch.namespaces.instances.jobs
    jobs.wait(
        jobs.create(INSTANCE, name="default").id, name="default", id=INSTANCE, poll_interval=0.02
    )


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.usefixtures("readme_account")
@pytest.mark.parametrize("block", BLOCKS, ids=[f"block-{n + 1}" for n in range(len(BLOCKS))])
def test_readme_block_runs_as_written(block: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(block, str(README), "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out.strip()

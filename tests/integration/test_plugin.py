"""cfaisearch.testing itself: fixtures, markers, helpers, and the documented example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cfaisearch import AsyncCloudflare, Cloudflare
from cfaisearch.emulator import AsyncEmulator, Emulator
from cfaisearch.testing import (
    TEST_SETTINGS,
    async_client_for,
    async_seed_documents,
    client_for,
    seed_documents,
)

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

DOCS_PAGE = Path(__file__).parents[2] / "docs" / "testing.md"
SESSION_EMULATORS: list[int] = []


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_from_an_empty_emulator(aisearch_client: Cloudflare, run: int) -> None:
    aisearch = aisearch_client.aisearch
    assert [n.name for n in aisearch.namespaces.list()] == ["default"]
    assert list(aisearch.instances.list()) == []
    aisearch.namespaces.create(name="isolation")
    seed_documents(aisearch_client, {"a.md": "text"}, namespace="isolation")


@pytest.mark.aisearch_emulator(index_delay=0.05, stream_delay=0.01)
class TestMarkers:
    @pytest.mark.aisearch_emulator(index_delay=0.1)
    def test_the_closest_marker_wins(self, aisearch_emulator: Emulator) -> None:
        config = aisearch_emulator.config
        assert (config.index_delay, config.stream_delay) == (0.1, 0.01)
        # TEST_SETTINGS, then the directory's aisearch_emulator_settings, then markers.
        assert config.manual_sync_interval == TEST_SETTINGS["manual_sync_interval"] == 0
        assert not config.scheduler_enabled
        assert config.r2_root is not None
        assert not config.initial_sync


def test_fixture_clients_point_at_the_emulator(
    aisearch_emulator: Emulator, aisearch_client: Cloudflare
) -> None:
    assert aisearch_client.base_url == aisearch_emulator.base_url
    assert aisearch_client.account_id == aisearch_emulator.account_id
    assert aisearch_emulator.base_url.startswith("http://127.0.0.1:")


def test_fixture_clients_retry_without_sleeping(
    aisearch_emulator: Emulator, aisearch_client: Cloudflare
) -> None:
    aisearch_emulator.faults.inject(503, times=2, route=r"/namespaces$", retry_after=30)
    started = time.monotonic()
    assert [n.name for n in aisearch_client.aisearch.namespaces.list()] == ["default"]
    assert time.monotonic() - started < 5
    assert len(aisearch_emulator.faults.injected) == 2


async def test_async_fixture_client(
    aisearch_async_client: AsyncCloudflare, aisearch_emulator: Emulator
) -> None:
    assert aisearch_async_client.base_url == aisearch_emulator.base_url
    namespace = await aisearch_async_client.aisearch.namespaces.read("default")
    assert namespace.name == "default"


async def test_env_fixture_serves_clients_built_from_the_environment(
    aisearch_env: dict[str, str], aisearch_emulator: Emulator
) -> None:
    assert aisearch_env["CLOUDFLARE_BASE_URL"] == aisearch_emulator.base_url
    assert os.environ["CLOUDFLARE_API_TOKEN"] == aisearch_emulator.api_token
    async with AsyncCloudflare() as client:
        assert client.account_id == aisearch_emulator.account_id
        assert (await client.aisearch.namespaces.read("default")).name == "default"


@pytest.mark.parametrize("run", [1, 2])
def test_the_session_emulator_is_shared(aisearch_emulator_session: Emulator, run: int) -> None:
    SESSION_EMULATORS.append(id(aisearch_emulator_session))
    assert len(set(SESSION_EMULATORS)) == 1
    with client_for(aisearch_emulator_session) as client:
        client.aisearch.namespaces.create(name=f"session-{run}")
        names = {n.name for n in client.aisearch.namespaces.list()}
    assert f"session-{run}" in names


async def test_async_client_for_an_async_emulator() -> None:
    async with (
        AsyncEmulator(**TEST_SETTINGS) as emulator,
        async_client_for(emulator, max_retries=0) as client,
    ):
        assert client.max_retries == 0
        items = await async_seed_documents(client, {"a.md": "text"}, instance="mine")
        assert items[0].status == "completed"


async def test_seeding_with_metadata_settings_and_namespaces(
    aisearch_async_client: AsyncCloudflare,
) -> None:
    items = await async_seed_documents(
        aisearch_async_client,
        {"guides/a.md": "Alpha text.", "b.txt": b"Beta bytes."},
        instance="kb",
        namespace="team",
        metadata={"guides/a.md": {"team": "docs"}},
        instance_settings={"custom_metadata": [{"field_name": "team", "data_type": "text"}]},
    )
    assert [i.key for i in items] == ["guides/a.md", "b.txt"]
    assert [i.namespace for i in items] == ["team", "team"]
    assert items[0].metadata is not None
    assert (items[0].metadata["team"], items[0].metadata["folder"]) == ("docs", "guides/")
    # Seeding again reuses the namespace and the instance.
    more = await async_seed_documents(
        aisearch_async_client, {"c.md": "Gamma."}, instance="kb", namespace="team"
    )
    assert more[0].status == "completed"
    listed = aisearch_async_client.aisearch.namespaces.instances.items.list("kb", name="team")
    assert len([i async for i in listed]) == 3


async def test_seeding_rejects_bad_arguments(aisearch_async_client: AsyncCloudflare) -> None:
    with pytest.raises(TypeError, match="documents"):
        await async_seed_documents(aisearch_async_client, "a.md")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"metadata.*c\.md"):
        await async_seed_documents(
            aisearch_async_client, {"a.md": "x"}, metadata={"c.md": {"k": "v"}}
        )


@pytest.mark.aisearch_emulator(index_delay=0.2, wait_timeout=0.05)
def test_seeding_waits_past_the_emulator_wait_timeout(aisearch_client: Cloudflare) -> None:
    items = seed_documents(aisearch_client, {"a.md": "One.", "b.md": "Two."})
    assert [i.status for i in items] == ["completed", "completed"]


def _example_files() -> dict[str, str]:
    """The files of docs/testing.md's complete example: blocks that start with '# <name>'."""
    blocks = re.findall(r"```(?:python|toml)\n(# (\S+)\n.*?)```", DOCS_PAGE.read_text(), re.S)
    return {name: text for text, name in blocks}


@pytest.mark.slow
def test_the_documented_example_passes(tmp_path: Path) -> None:
    files = _example_files()
    assert set(files) == {"pyproject.toml", "conftest.py", "test_support_search.py"}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "PYTEST_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b7 passed\b", done.stdout), done.stdout

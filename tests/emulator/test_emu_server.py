"""Running the emulator: persistence, the threaded wrapper, the CLI, concurrency."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cfaisearch.emulator import AsyncEmulator, Emulator, EmulatorConfig
from cfaisearch.emulator.__main__ import _is_loopback
from tests.support.emulator_api import Api, eventually


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    async with AsyncEmulator(data_dir=tmp_path) as first, aiohttp.ClientSession() as session:
        api = Api(session, first)
        await api.ok("POST", "/namespaces", json={"name": "kept"})
        await api.create_instance("kb", ns="kept", chunk_size=64)
        await api.ok("POST", "/tokens", json={"cf_api_id": "i", "cf_api_key": "k", "name": "t"})
        item = (await api.upload("a.txt", "persistent penguins", ns="kept")).result
        token = first.api_token
    assert (tmp_path / "ai-search-emulator.sqlite3").exists()
    async with AsyncEmulator(data_dir=tmp_path) as second, aiohttp.ClientSession() as session:
        assert second.api_token == token  # a generated token is reused
        api = Api(session, second)
        instance = await api.ok("GET", "/namespaces/kept/instances/kb")
        assert instance["chunk_size"] == 64
        assert [t["name"] for t in await api.ok("GET", "/tokens")] == ["t"]
        got = await api.ok("GET", f"/namespaces/kept/instances/kb/items/{item['id']}")
        assert got["status"] == "completed"
        body = {"query": "penguins"}
        result = await api.ok("POST", "/namespaces/kept/instances/kb/search", json=body)
        assert [c["item"]["key"] for c in result["chunks"]] == ["a.txt"]


async def test_explicit_token_wins_over_the_stored_one(tmp_path: Path) -> None:
    async with AsyncEmulator(data_dir=tmp_path) as first:
        generated = first.api_token
    async with AsyncEmulator(data_dir=tmp_path, api_token="mine") as second:
        assert second.api_token == "mine"
    async with AsyncEmulator(data_dir=tmp_path) as third:
        assert third.api_token == generated


async def test_unfinished_work_resumes_after_a_restart(tmp_path: Path) -> None:
    bucket = tmp_path / "r2" / "bucket"
    bucket.mkdir(parents=True)
    for n in range(5):
        (bucket / f"{n}.txt").write_text(f"document {n}")
    slow: dict[str, Any] = {
        "data_dir": tmp_path / "db",
        "r2_root": tmp_path / "r2",
        "index_delay": 0.3,
        "job_step_delay": 0.3,
    }
    async with AsyncEmulator(**slow) as first, aiohttp.ClientSession() as session:
        api = Api(session, first)
        await api.create_instance("up")
        item = (
            await api.upload("late.txt", "indexed after restart", instance="up", wait=False)
        ).result
        token = await api.ok(
            "POST", "/tokens", json={"cf_api_id": "i", "cf_api_key": "k", "name": "t"}
        )
        await api.create_instance("sync", type="r2", source="bucket", token_id=token["id"])
        (job,) = await api.ok("GET", "/instances/sync/jobs")
    async with (
        AsyncEmulator(data_dir=tmp_path / "db", r2_root=tmp_path / "r2") as second,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, second)
        stopped = await api.ok("GET", f"/instances/sync/jobs/{job['id']}")
        assert stopped["end_reason"] == "interrupted: emulator stopped"

        async def indexed() -> bool:
            got = await api.ok("GET", f"/namespaces/default/instances/up/items/{item['id']}")
            return bool(got["status"] == "completed")

        await eventually(indexed)


def _get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.loads(resp.read())


def test_threaded_emulator_for_sync_code() -> None:
    with Emulator(account_id="a" * 32) as emu:
        assert emu.base_url.startswith("http://127.0.0.1:")
        assert emu.account_id == "a" * 32
        url = f"{emu.base_url}/accounts/{emu.account_id}/ai-search/namespaces"
        assert _get(url, emu.api_token)["result"][0]["name"] == "default"
        emu.faults.inject(500)
        with pytest.raises(urllib.error.HTTPError) as caught:
            _get(url, emu.api_token)
        assert caught.value.code == 500
        caught.value.close()
    with pytest.raises(RuntimeError):
        _ = emu.api_token


async def test_threaded_emulator_reports_start_failures() -> None:
    async with AsyncEmulator() as taken:
        emulator = Emulator(port=taken.port)
        with pytest.raises(OSError, match="address"):
            await asyncio.to_thread(emulator.start)


async def test_async_emulator_cannot_start_twice() -> None:
    async with AsyncEmulator() as emu:
        with pytest.raises(RuntimeError):
            await emu.start()


def test_loopback_detection() -> None:
    assert _is_loopback("127.0.0.1")
    assert _is_loopback("::1")
    assert _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0")
    assert not _is_loopback("192.168.1.10")


def test_import_is_light() -> None:
    code = (
        "import sys, cfaisearch.emulator as e; a = 'cfaisearch.emulator.app' in sys.modules;"
        " e.EmulatorConfig; b = 'cfaisearch.emulator.server' in sys.modules;"
        " e.AsyncEmulator; c = 'cfaisearch.emulator.server' in sys.modules; print(a, b, c)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]


def test_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "cfaisearch.emulator", "--port", "0", "--token", "cli-token"]
    args += ["--data-dir", str(tmp_path), "--fault-seed", "3", "--fault-routes", "/tokens$"]
    args += ["--scorer", "lexical"]
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline() for _ in range(6)]
            assert lines[0].startswith("AI Search emulator listening on http://127.0.0.1:")
            base_url = lines[0].split()[-1]
            assert base_url.endswith("/client/v4")
            account = lines[1].split()[-1]
            assert lines[2].split()[-1] == "cli-token"
            assert lines[5] == "  vectors    : lexical\n"  # the startup line names the scorer
            body = _get(f"{base_url}/accounts/{account}/ai-search/namespaces", "cli-token")
            assert body["success"] is True
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
    assert (tmp_path / "ai-search-emulator.sqlite3").exists()


def test_command_line_rejects_bad_fault_rates() -> None:
    args = [sys.executable, "-m", "cfaisearch.emulator", "--fault-500-rate", "2"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "error_500_rate" in out.stderr


async def test_many_parallel_uploads(api: Api) -> None:
    await api.create_instance()
    replies = await asyncio.gather(
        *(api.upload(f"doc{n}.txt", f"parallel document {n}", wait=n % 2 == 0) for n in range(40))
    )
    assert {r.status for r in replies} == {200}

    async def all_done() -> bool:
        stats = await api.ok("GET", "/instances/kb/stats")
        return bool(stats["completed"] == 40)

    await eventually(all_done)
    hits = await api.search("parallel document", max_num_results=50)
    assert len(hits) == 40


async def test_concurrent_writers_stay_consistent(api: Api) -> None:
    replies = await asyncio.gather(
        *(api.request("POST", "/instances", json={"id": "same"}) for _ in range(10))
    )
    assert sorted(r.status for r in replies) == [201] + [409] * 9
    await api.create_instance("kb")
    # Re-uploading one key from many clients leaves exactly one item.
    await asyncio.gather(*(api.upload("shared.txt", f"version {n}") for n in range(10)))
    items = await api.ok("GET", "/namespaces/default/instances/kb/items")
    assert len(items) == 1
    await asyncio.gather(
        *(
            api.request("DELETE", f"/namespaces/default/instances/kb/items/{items[0]['id']}")
            for _ in range(5)
        )
    )
    assert await api.ok("GET", "/namespaces/default/instances/kb/items") == []


def test_command_line_refuses_an_unknown_scorer() -> None:
    args = [sys.executable, "-m", "cfaisearch.emulator", "--scorer", "fancy"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "--scorer" in out.stderr


def _sdk_module(path: Path, package: Path, node: ast.AST) -> list[str]:
    """Modules of the SDK outside the emulator that an import statement names."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
        names = [node.module or ""]
    elif isinstance(node, ast.ImportFrom):
        # Relative: climbing past the emulator package lands in cfaisearch/.
        inside = len(path.relative_to(package).parts)  # 1 for emulator/x.py
        if node.level <= inside:
            return []
        names = [f"cfaisearch.{node.module or ''}"]
    else:
        return []
    return [
        n for n in names if n.startswith("cfaisearch") and not n.startswith("cfaisearch.emulator")
    ]


def test_emulator_imports_nothing_private_from_the_sdk() -> None:
    """The emulator stands alone: it never imports the SDK's private modules (``cfaisearch._x``)."""
    package = Path(__file__).parents[2] / "cfaisearch" / "emulator"
    offenders = [
        f"{path.name}: {module}"
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        for module in _sdk_module(path, package, node)
        if module.split(".")[1:2] and module.split(".")[1].startswith("_")
    ]
    assert offenders == []
    code = (
        "import sys, cfaisearch.emulator.app, cfaisearch.emulator.__main__;"
        " print(sorted(m for m in sys.modules if m.startswith('cfaisearch._')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_config_is_frozen() -> None:
    config = EmulatorConfig()
    with pytest.raises(AttributeError):
        config.port = 1  # type: ignore[misc]

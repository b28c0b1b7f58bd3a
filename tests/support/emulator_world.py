"""A populated emulator on a data dir, for the hostile-input suites.

It holds one of every resource the write endpoints act on (namespace, token,
upload-only instance with an item, R2 instance with a job), so a bad request
can target each of them, and ``assert_still_serving`` checks that every list
endpoint still answers with strict JSON afterwards (and after a restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from cfaisearch.emulator import AsyncEmulator, Emulator

NAMESPACE = "ns1"
INSTANCE = "kb"
R2_INSTANCE = "r2kb"
UPLOADS = f"/namespaces/default/instances/{INSTANCE}/items"


@dataclasses.dataclass
class Reply:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        # Strict: NaN/Infinity in a response would break real JSON clients.
        return json.loads(self.body.decode("utf-8"), parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise AssertionError(f"response holds the non-JSON number {name}")


@dataclasses.dataclass
class World:
    emulator: AsyncEmulator | Emulator
    session: aiohttp.ClientSession
    token_id: str = ""
    item_id: str = ""
    job_id: str = ""

    @property
    def root(self) -> str:
        return f"{self.emulator.base_url}/accounts/{self.emulator.account_id}/ai-search"

    async def call(
        self,
        method: str,
        path: str,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {"Authorization": f"Bearer {self.emulator.api_token}", **(headers or {})}
        async with self.session.request(
            method, self.root + path, data=data, headers=all_headers
        ) as response:
            return Reply(response.status, response.headers, await response.read())

    async def json_call(self, method: str, path: str, body: bytes | str) -> Reply:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        return await self.call(method, path, data=raw, headers={"Content-Type": "application/json"})

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        reply = (
            await self.json_call(method, path, json.dumps(body))
            if body is not None
            else (await self.call(method, path))
        )
        assert reply.status in (200, 201), reply.body  # creates answer 201
        return reply.json()["result"]

    def list_paths(self) -> list[str]:
        instance = f"/namespaces/default/instances/{INSTANCE}"
        r2 = f"/namespaces/default/instances/{R2_INSTANCE}"
        return [
            "/instances",
            "/namespaces",
            f"/namespaces/{NAMESPACE}",
            f"/namespaces/{NAMESPACE}/instances",
            "/tokens",
            f"/tokens/{self.token_id}",
            instance,
            f"{instance}/stats",
            f"{instance}/items",
            f"{instance}/items/{self.item_id}",
            f"{instance}/items/{self.item_id}/chunks",
            f"{instance}/items/{self.item_id}/logs",
            f"{r2}/jobs",
            f"{r2}/jobs/{self.job_id}",
            f"{r2}/jobs/{self.job_id}/logs",
        ]

    async def snapshot(self) -> dict[str, Any]:
        """What a bad request must never change: listed ids and the fields it targets."""
        state = {path: _ids(await self.ok("GET", path)) for path in self.list_paths()}
        return state | await self._stored_fields()

    async def _stored_fields(self) -> dict[str, Any]:
        instance = await self.ok("GET", f"/instances/{INSTANCE}")
        item = await self.ok("GET", f"{UPLOADS}/{self.item_id}")
        return {
            "namespace description": (await self.ok("GET", f"/namespaces/{NAMESPACE}"))[
                "description"
            ],
            "token": (await self.ok("GET", f"/tokens/{self.token_id}"))["name"],
            "instance": {k: instance[k] for k in ("metadata", "source_params", "custom_metadata")},
            "item": (item["key"], item["metadata"]),
        }

    async def assert_still_serving(self, expected: dict[str, Any] | None = None) -> None:
        for path in self.list_paths():
            reply = await self.call("GET", path)
            assert reply.status == 200, (path, reply.body)
            body = reply.json()
            assert body["success"] is True
            if expected is not None:
                assert _ids(body["result"]) == expected[path], path
        if expected is not None:
            fields = await self._stored_fields()
            assert fields == {k: expected[k] for k in fields}


def _ids(result: Any) -> Any:
    rows = result if isinstance(result, list) else [result]
    return sorted(str(r.get("id", r.get("name", ""))) for r in rows if isinstance(r, dict))


def emulator_options(tmp_path: Path) -> dict[str, Any]:
    bucket = tmp_path / "r2" / "docs-bucket"
    bucket.mkdir(parents=True, exist_ok=True)
    (bucket / "a.md").write_text("# Alpha\nAlpha explains apples.")
    return {
        "data_dir": tmp_path / "data",
        "r2_root": tmp_path / "r2",
        "scheduler_enabled": False,
        "initial_sync": False,
        "manual_sync_interval": 0.0,
        # Uploads that wait for indexing give up soon rather than after 40 s.
        "wait_timeout": 2.0,
    }


async def populate(world: World) -> None:
    await world.ok("POST", "/namespaces", {"name": NAMESPACE, "description": "second"})
    token = await world.ok(
        "POST", "/tokens", {"name": "tok", "cf_api_id": "r2", "cf_api_key": "secret"}
    )
    world.token_id = token["id"]
    await world.ok("POST", "/instances", {"id": INSTANCE})
    form = aiohttp.FormData()
    form.add_field("file", b"Apples are red.", filename="doc.txt", content_type="text/plain")
    form.add_field("metadata", '{"author": "ann"}')
    form.add_field("wait_for_completion", "true")
    reply = await world.call("POST", UPLOADS, data=form)
    assert reply.status == 200, reply.body
    world.item_id = reply.json()["result"]["id"]
    await world.ok(
        "POST",
        "/instances",
        {"id": R2_INSTANCE, "type": "r2", "source": "docs-bucket", "token_id": world.token_id},
    )
    job = await world.ok("POST", f"/instances/{R2_INSTANCE}/jobs", {"description": "first"})
    world.job_id = job["id"]
    # A running job still adds log lines, which would change a snapshot taken now.
    deadline = time.monotonic() + 30
    while (await world.ok("GET", f"/instances/{R2_INSTANCE}/jobs/{job['id']}"))["ended_at"] is None:
        assert time.monotonic() < deadline, "the job of the populated emulator never ended"
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def open_world(tmp_path: Path, *, like: World | None = None) -> AsyncIterator[World]:
    """An emulator on ``tmp_path``: fresh and populated, or ``like`` an earlier run of it."""
    async with (
        AsyncEmulator(**emulator_options(tmp_path)) as emulator,
        aiohttp.ClientSession() as session,
    ):
        world = World(emulator, session)
        if like is None:
            await populate(world)
        else:
            world.token_id, world.item_id, world.job_id = like.token_id, like.item_id, like.job_id
        yield world


@contextlib.asynccontextmanager
async def restarted(world: World, tmp_path: Path) -> AsyncIterator[World]:
    """Stop ``world``'s emulator, then serve its data dir from a new one."""
    assert isinstance(world.emulator, AsyncEmulator)
    await world.emulator.stop()
    async with open_world(tmp_path, like=world) as again:
        yield again

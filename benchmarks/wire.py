"""The wire-speed figures: streamed chat, a search result, a large download.

Each is measured for raw aiohttp (the floor) and both cfaisearch clients, in
the same rounds, so every ratio compares measurements taken moments apart:

- **stream CPU**: CPU seconds of this process per event while reading a
  whole streamed answer of 2,000 deltas (the server is another process);
- **first event**: seconds from the call to the first event of that answer
  (the whole answer arrives in one burst, so the first read holds many events);
- **search**: seconds for an instance search answering 50 chunks, decoded;
- **download CPU**: CPU seconds per MiB reading a 64 MiB item in 16 MiB chunks.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
from contenders import Team
from fixtures import ACCOUNT_ID, API_TOKEN, INSTANCE_ID
from measure import Counts, Samples, _interleave
from server import DOWNLOAD_SIZE, SEARCH_CHUNKS, STREAM_DELTAS

import cfaisearch

__all__ = ["DOWNLOAD_CHUNK", "RAW", "wire"]

RAW = "raw aiohttp"
DOWNLOAD_CHUNK = 16 * 1024 * 1024
_MESSAGES = [{"role": "user", "content": "How do I configure the crawler?"}]
_QUERY = "configure the crawler"
_NAMESPACE, _ITEM = "default", "guide.pdf"
_MIB = 1024 * 1024


class RawWire:
    """Hand-written aiohttp: line splitting, ``orjson``/``json`` decoding, no models."""

    name = RAW

    def __init__(self, base_url: str) -> None:
        self._headers = {"Authorization": f"Bearer {API_TOKEN}"}
        instance = (
            f"{base_url}/accounts/{ACCOUNT_ID}/ai-search/namespaces/{_NAMESPACE}"
            f"/instances/{INSTANCE_ID}"
        )
        self._chat_url = f"{instance}/chat/completions"
        self._search_url = f"{instance}/search"
        self._download_url = (
            f"{base_url}/accounts/{ACCOUNT_ID}/ai-search/namespaces/{_NAMESPACE}"
            f"/instances/{INSTANCE_ID}/items/{_ITEM}/download"
        )
        self._session = aiohttp.ClientSession()

    async def stream(self, first_only: bool = False) -> int:
        body = {"messages": _MESSAGES, "stream": True}
        events = 0
        async with self._session.post(self._chat_url, json=body, headers=self._headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"{self.name}: HTTP {resp.status}")
            async for line in resp.content:
                if line.startswith(b"data: "):
                    data = line[6:].rstrip(b"\r\n")
                    if data == b"[DONE]":
                        break
                    orjson.loads(data)
                    events += 1
                    if first_only:
                        break
        return events

    async def search(self) -> int:
        body = {"query": _QUERY}
        async with self._session.post(self._search_url, json=body, headers=self._headers) as resp:
            payload = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{self.name}: HTTP {resp.status}")
        return len(json.loads(payload)["result"]["chunks"])

    async def download(self) -> int:
        total = 0
        async with self._session.get(self._download_url, headers=self._headers) as resp:
            while True:
                try:
                    total += len(await resp.content.readexactly(DOWNLOAD_CHUNK))
                except asyncio.IncompleteReadError as short:
                    return total + len(short.partial)

    async def aclose(self) -> None:
        await self._session.close()


class CfaisearchWireAsync:
    name = "cfaisearch async"

    def __init__(self, base_url: str) -> None:
        self._client = cfaisearch.AsyncCloudflare(
            api_token=API_TOKEN, account_id=ACCOUNT_ID, base_url=base_url
        )

    async def stream(self, first_only: bool = False) -> int:
        instances = self._client.aisearch.namespaces.instances
        events = 0
        stream = await instances.chat_completions(
            INSTANCE_ID, name=_NAMESPACE, messages=_MESSAGES, stream=True
        )
        async with stream:
            async for _ in stream:
                events += 1
                if first_only:
                    break
        return events

    async def search(self) -> int:
        return len(
            (
                await self._client.aisearch.namespaces.instances.search(
                    INSTANCE_ID, name=_NAMESPACE, query=_QUERY
                )
            ).chunks
        )

    async def download(self) -> int:
        items = self._client.aisearch.namespaces.instances.items
        response = await items.download(_ITEM, name=_NAMESPACE, id=INSTANCE_ID)
        total = 0
        async for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
            total += len(chunk)
        return total

    async def aclose(self) -> None:
        await self._client.aclose()


class CfaisearchWireSync:
    name = "cfaisearch sync"

    def __init__(self, base_url: str) -> None:
        self._client = cfaisearch.Cloudflare(
            api_token=API_TOKEN, account_id=ACCOUNT_ID, base_url=base_url
        )

    def stream(self, first_only: bool = False) -> int:
        instances = self._client.aisearch.namespaces.instances
        events = 0
        with instances.chat_completions(
            INSTANCE_ID, name=_NAMESPACE, messages=_MESSAGES, stream=True
        ) as stream:
            for _ in stream:
                events += 1
                if first_only:
                    break
        return events

    def search(self) -> int:
        return len(
            self._client.aisearch.namespaces.instances.search(
                INSTANCE_ID, name=_NAMESPACE, query=_QUERY
            ).chunks
        )

    def download(self) -> int:
        items = self._client.aisearch.namespaces.instances.items
        total = 0
        with items.download(_ITEM, name=_NAMESPACE, id=INSTANCE_ID) as response:
            for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                total += len(chunk)
        return total

    def close(self) -> None:
        self._client.close()


def _verify(loop: asyncio.AbstractEventLoop, team: Team) -> None:
    """Fail loudly, before timing anything, if a client does not do the real work."""
    expected = (STREAM_DELTAS + 1, 1, SEARCH_CHUNKS, DOWNLOAD_SIZE)
    for contender in team.asyncs:
        c: Any = contender
        got = tuple(
            loop.run_until_complete(step)
            for step in (c.stream(), c.stream(first_only=True), c.search(), c.download())
        )
        if got != expected:
            raise RuntimeError(f"{c.name} answered {got!r}")
    for sync in team.syncs:
        s: Any = sync
        got = (s.stream(), s.stream(first_only=True), s.search(), s.download())
        if got != expected:
            raise RuntimeError(f"{s.name} answered {got!r}")


async def _cpu_async(call: Callable[[], Awaitable[int]], n: int, per: float) -> list[float]:
    out = []
    for _ in range(n):
        start = time.process_time()
        units = await call()
        out.append((time.process_time() - start) / (units / per))
    return out


def _cpu_sync(call: Callable[[], int], n: int, per: float) -> list[float]:
    out = []
    for _ in range(n):
        start = time.process_time()
        units = call()
        out.append((time.process_time() - start) / (units / per))
    return out


async def _timed_async(call: Callable[[], Awaitable[object]], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        out.append(time.perf_counter() - start)
    return out


def _timed_sync(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def wire(loop: asyncio.AbstractEventLoop, base_url: str, counts: Counts) -> dict[str, Samples]:
    """Every wire figure, each interleaving the three contenders round-robin."""

    async def start() -> Team:
        asyncs: list[Any] = [RawWire(base_url), CfaisearchWireAsync(base_url)]
        return Team(asyncs=asyncs, syncs=[CfaisearchWireSync(base_url)])  # type: ignore[list-item]

    team = loop.run_until_complete(start())
    try:
        _verify(loop, team)
        rounds, per_round = counts.rounds, max(2, counts.list_fetches // counts.rounds)

        def figure(run_async: Any, run_sync: Any) -> Samples:
            _interleave(loop, team, 1, run_async, run_sync)  # warm-up
            return _interleave(loop, team, rounds, run_async, run_sync)

        return {
            "stream cpu": figure(
                lambda c: _cpu_async(c.stream, per_round, 1),
                lambda c: _cpu_sync(c.stream, per_round, 1),
            ),
            "first event": figure(
                lambda c: _timed_async(lambda: c.stream(first_only=True), 4 * per_round),
                lambda c: _timed_sync(lambda: c.stream(first_only=True), 4 * per_round),
            ),
            "search": figure(
                lambda c: _timed_async(c.search, 10 * per_round),
                lambda c: _timed_sync(c.search, 10 * per_round),
            ),
            "download cpu": figure(
                lambda c: _cpu_async(c.download, 2, _MIB),
                lambda c: _cpu_sync(c.download, 2, _MIB),
            ),
        }
    finally:
        loop.run_until_complete(team.aclose())

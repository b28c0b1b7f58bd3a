"""A raw HTTP client for the emulator tests, and a wait for eventual conditions."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from cfaisearch.emulator import AsyncEmulator


@dataclasses.dataclass
class Reply:
    status: int
    headers: Any
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def result(self) -> Any:
        return self.json["result"]

    @property
    def error_codes(self) -> list[int]:
        return [e["code"] for e in self.json["errors"]]


class Api:
    """Raw client: paths are relative to /accounts/{account_id}/ai-search."""

    def __init__(self, session: aiohttp.ClientSession, emulator: AsyncEmulator) -> None:
        self.session = session
        self.emulator = emulator
        self.root = f"{emulator.base_url}/accounts/{emulator.account_id}/ai-search"
        self.auth = {"Authorization": f"Bearer {emulator.api_token}"}

    async def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        url = path if path.startswith("http") else self.root + path
        async with self.session.request(method, url, headers=headers, **kwargs) as resp:
            return Reply(resp.status, resp.headers, await resp.text())

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = await self.request(method, path, **kwargs)
        assert reply.status in (200, 201), reply.text
        body = reply.json
        assert body["success"] is True
        assert body["errors"] == []
        assert body["messages"] == []
        return body["result"]

    async def create_instance(
        self, instance_id: str = "kb", ns: str = "default", **body: Any
    ) -> Any:
        return await self.ok(
            "POST", f"/namespaces/{ns}/instances", json={"id": instance_id, **body}
        )

    async def upload(
        self,
        name: str,
        content: bytes | str,
        *,
        instance: str = "kb",
        ns: str = "default",
        metadata: dict[str, Any] | str | None = None,
        wait: bool | None = True,
        content_type: str = "text/plain",
    ) -> Reply:
        form = aiohttp.FormData(quote_fields=False)
        data = content.encode() if isinstance(content, str) else content
        # A file object: aiohttp warns about large raw bytes bodies.
        form.add_field("file", io.BytesIO(data), filename=name, content_type=content_type)
        if metadata is not None:
            form.add_field(
                "metadata", metadata if isinstance(metadata, str) else json.dumps(metadata)
            )
        if wait is not None:
            form.add_field("wait_for_completion", "true" if wait else "false")
        return await self.request("POST", f"/namespaces/{ns}/instances/{instance}/items", data=form)

    async def search(self, query: str, *, instance: str = "kb", **retrieval: Any) -> list[Any]:
        body: dict[str, Any] = {"query": query}
        if retrieval:
            body["ai_search_options"] = {"retrieval": retrieval}
        result = await self.ok("POST", f"/instances/{instance}/search", json=body)
        return list(result["chunks"])


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)

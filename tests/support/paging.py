"""A loopback jobs-list server whose answers a test scripts, and a walk over it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async

PATH = f"/client/v4/accounts/{ACCOUNT}/ai-search/instances/docs/jobs"
LIMIT = 20

Answer = Callable[[int, int], tuple[list[dict[str, Any]], dict[str, Any]]]
"""(requested page, per_page) -> (items, result_info)."""


def jobs(first: int, count: int) -> list[dict[str, Any]]:
    return [{"id": f"job-{i}", "source": "user"} for i in range(first, first + count)]


class Server:
    """Answers the jobs list with ``answer``; records every ``page`` asked for."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.asked: list[int] = []

    async def handle(self, request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        self.asked.append(page)
        if len(self.asked) > LIMIT:
            return web.json_response(envelope([], result_info={"page": page}))
        items, info = self.answer(page, int(request.query.get("per_page", "20")))
        return web.json_response(envelope(items, result_info=info))

    async def start(self, serve: ServeFn) -> str:
        app = web.Application()
        app.router.add_get(PATH, self.handle)
        return await serve(app)


async def walk(base: str, into: list[str | None] | None = None, **kwargs: Any) -> list[str | None]:
    """Ids of every job of the list, walked 3 at a time (also appended to ``into``)."""
    ids: list[str | None] = [] if into is None else into
    async with make_async(base_url=base, **kwargs) as client:
        async for job in client.aisearch.instances.jobs.list("docs", per_page=3):
            ids.append(job.id)
    return ids

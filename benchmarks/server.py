"""A stand-in for the Cloudflare API, run in its own process so that it does not
share an event loop (or a GIL) with the clients being measured.

``python benchmarks/server.py --items 1000`` binds a free port on 127.0.0.1,
prints ``PORT <n>`` and serves until its standard input closes (so it dies
with the runner) or ``--lifetime`` seconds pass. Bodies are encoded once and
cached, so per-request server cost is small and the same for every client.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from aiohttp import web
from fixtures import (
    API_TOKEN,
    chat_stream,
    envelope,
    instance_list_item,
    job,
    list_envelope,
    search_result,
)

__all__ = ["ServerProcess"]

# The namespaced paths the SDKs point new code to.
_PREFIX = "/client/v4/accounts/{account_id}/ai-search/namespaces/{name}/instances"
_ITEMS = "/client/v4/accounts/{account_id}/ai-search/namespaces/{name}/instances/{id}/items"
STREAM_DELTAS = 2000
SEARCH_CHUNKS = 50
DOWNLOAD_SIZE = 64 * 1024 * 1024
_UNAUTHORIZED = b'{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],\
"messages":[],"result":null}'


class _StdinClosed(asyncio.Protocol):
    def __init__(self, done: asyncio.Event) -> None:
        self._done = done

    def connection_lost(self, exc: Exception | None) -> None:
        self._done.set()


def _app(items: int) -> web.Application:
    jobs = [job(f"job-{n:05d}", n) for n in range(items)]
    instances = [instance_list_item(n) for n in range(items)]
    cache: dict[tuple[str, object], bytes] = {}

    def answer(
        request: web.Request, key: tuple[str, object], build: Callable[[], bytes]
    ) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {API_TOKEN}":
            return web.Response(status=401, body=_UNAUTHORIZED, content_type="application/json")
        body = cache.get(key)
        if body is None:
            body = cache[key] = build()
        return web.Response(body=body, content_type="application/json", headers={"cf-ray": "b"})

    def page_number(request: web.Request) -> int:
        try:
            return max(1, int(request.query.get("page", "1")))
        except ValueError:
            raise web.HTTPBadRequest() from None

    async def get_job(request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        return answer(request, ("job", job_id), lambda: envelope(job(job_id)))

    async def list_jobs(request: web.Request) -> web.Response:
        page = page_number(request)
        return answer(request, ("jobs", page), lambda: list_envelope(jobs, page=page))

    async def list_instances(request: web.Request) -> web.Response:
        page = page_number(request)
        return answer(request, ("instances", page), lambda: list_envelope(instances, page=page))

    async def search(request: web.Request) -> web.Response:
        await request.read()
        return answer(request, ("search", SEARCH_CHUNKS), lambda: search_result(SEARCH_CHUNKS))

    stream_body = chat_stream(STREAM_DELTAS)
    download_body = bytes(range(256)) * (DOWNLOAD_SIZE // 256)

    async def chat(request: web.Request) -> web.Response:
        # The whole answer in one write: the client's first read holds a burst of events.
        await request.read()
        return web.Response(body=stream_body, content_type="text/event-stream")

    async def download(request: web.Request) -> web.Response:
        return web.Response(body=download_body, content_type="application/octet-stream")

    app = web.Application(client_max_size=1024**2)
    app.router.add_get(_PREFIX, list_instances)
    app.router.add_get(_PREFIX + "/{id}/jobs", list_jobs)
    app.router.add_get(_PREFIX + "/{id}/jobs/{job_id}", get_job)
    app.router.add_post(_PREFIX + "/{id}/search", search)
    app.router.add_post(_PREFIX + "/{id}/chat/completions", chat)
    app.router.add_get(_ITEMS + "/{item_id}/download", download)
    return app


async def _serve(items: int, lifetime: float) -> None:
    runner = web.AppRunner(_app(items), access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    done = asyncio.Event()
    await asyncio.get_running_loop().connect_read_pipe(lambda: _StdinClosed(done), sys.stdin)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    try:
        await asyncio.wait_for(done.wait(), timeout=lifetime)
    except asyncio.TimeoutError:
        pass
    finally:
        await runner.cleanup()


class ServerProcess:
    """Starts the server in a child process; the context value is its API base URL."""

    def __init__(self, items: int, *, lifetime: float = 3600.0) -> None:
        self._args = [
            sys.executable,
            str(Path(__file__)),
            "--items",
            str(items),
            "--lifetime",
            str(lifetime),
        ]
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        proc = self._proc = subprocess.Popen(
            self._args, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            self._stop()
            raise RuntimeError(f"benchmark server failed to start (said {line!r})")
        return f"http://127.0.0.1:{int(line.split()[1])}/client/v4"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.close()  # the server's cue to shut down
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000, help="elements per list page")
    parser.add_argument("--lifetime", type=float, default=3600.0, help="exit after SECONDS")
    args = parser.parse_args()
    asyncio.run(_serve(args.items, args.lifetime))


if __name__ == "__main__":
    main()

"""Running the emulator: ``AsyncEmulator`` in the caller's loop, ``Emulator`` in a thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import threading
from types import TracebackType
from typing import Any

from aiohttp import web

from .app import create_app
from .config import EmulatorConfig
from .faults import FaultInjector
from .state import STATE


class AsyncEmulator:
    """An emulator served by the running event loop.

    ``async with AsyncEmulator() as emu:`` listens on 127.0.0.1 on a free port;
    point a client at ``emu.base_url`` with ``emu.api_token`` and ``emu.account_id``.
    Keyword arguments override fields of ``config`` (e.g. ``job_step_delay=0.1``).
    """

    def __init__(self, config: EmulatorConfig | None = None, **overrides: Any) -> None:
        self.config = dataclasses.replace(config or EmulatorConfig(), **overrides)
        self.faults = FaultInjector(self.config.faults)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._token: str | None = None
        self._scorer = ""

    async def start(self) -> AsyncEmulator:
        """Open storage, start background work and listen; returns ``self``."""
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        app = create_app(self.config, faults=self.faults)
        # After an early 413 the server drains the unread body for at most
        # lingering_time; aiohttp's 10 s default would stall shutdown.
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0, lingering_time=0.5
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.config.host, self.config.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._token = app[STATE].api_token
        self._scorer = app[STATE].retriever.scorer.name
        return self

    async def stop(self) -> None:
        """Stop listening and close storage (idempotent)."""
        runner, self._runner = self._runner, None
        self._port = self._token = None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> AsyncEmulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _started(self) -> tuple[int, str]:
        if self._port is None or self._token is None:
            raise RuntimeError("emulator is not started")
        return self._port, self._token

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def port(self) -> int:
        return self._started()[0]

    @property
    def url(self) -> str:
        """Root URL of the server, e.g. ``http://127.0.0.1:49152``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """API base URL (what ``CLOUDFLARE_BASE_URL`` expects): ``<url>/client/v4``."""
        return f"{self.url}/client/v4"

    @property
    def api_token(self) -> str:
        return self._started()[1]

    @property
    def account_id(self) -> str:
        return self.config.account_id

    @property
    def scorer_name(self) -> str:
        """The active vector scorer: ``lexical`` or ``semantic:<model>``."""
        self._started()
        return self._scorer


class Emulator:
    """The same emulator for synchronous code: it runs its own loop in a daemon thread.

    ``with Emulator() as emu:`` or ``emu = Emulator().start(); ...; emu.stop()``.
    """

    def __init__(self, config: EmulatorConfig | None = None, **overrides: Any) -> None:
        self._emulator = AsyncEmulator(config, **overrides)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> Emulator:
        """Start the server thread and wait until it listens (or raise its error)."""
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._serve, args=(ready,), name="ai-search-emulator", daemon=True
        )
        self._thread.start()
        try:
            ready.result(timeout)
        except BaseException:
            self._thread.join(timeout)
            self._thread = None
            raise
        return self

    def _serve(self, ready: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        try:
            try:
                loop.run_until_complete(self._emulator.start())
            except BaseException as exc:
                ready.set_exception(exc)
                return
            self._loop = loop
            ready.set_result(None)
            loop.run_forever()
            loop.run_until_complete(self._emulator.stop())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def stop(self) -> None:
        """Stop the server and join its thread (idempotent)."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def config(self) -> EmulatorConfig:
        return self._emulator.config

    @property
    def faults(self) -> FaultInjector:
        return self._emulator.faults

    @property
    def url(self) -> str:
        return self._emulator.url

    @property
    def base_url(self) -> str:
        return self._emulator.base_url

    @property
    def api_token(self) -> str:
        return self._emulator.api_token

    @property
    def account_id(self) -> str:
        return self._emulator.account_id

    @property
    def port(self) -> int:
        return self._emulator.port

    @property
    def scorer_name(self) -> str:
        return self._emulator.scorer_name

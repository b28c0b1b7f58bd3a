"""The private event-loop thread behind the sync facade.

Each sync client owns one portal: a daemon thread running an asyncio loop,
started on first use. Sync methods submit the async client's coroutines to it
and block on the result, which works from any thread, from many threads at
once, and from code that already runs an event loop (a Jupyter cell, an async
test), because the coroutine never runs on the caller's loop.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from ._exceptions import CloudflareError

__all__ = ["Portal"]

_T = TypeVar("_T")


class Portal:
    """Runs coroutines on a private loop thread; safe to share between threads."""

    def __init__(self, name: str = "cfaisearch-portal") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise CloudflareError("the client is closed")
            if os.getpid() != self._pid:
                # The loop thread and its sockets did not survive fork().
                raise CloudflareError(
                    "this client was created in another process; create a new client after fork()"
                )
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(
                    target=self._run, args=(loop, ready), name=self._name, daemon=True
                )
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            # Let cancelled work and async generators unwind before the loop goes.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def call(self, fn: Callable[..., Awaitable[_T]], /, *args: Any, **kwargs: Any) -> _T:
        """Run ``fn(*args, **kwargs)`` on the portal loop and return its result."""
        if self._thread is not None and threading.current_thread() is self._thread:
            raise CloudflareError(
                "a sync client method was called from inside its own event-loop thread "
                "(e.g. from a callback); this would deadlock. Use AsyncCloudflare there."
            )
        loop = self._running_loop()
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(fn, args, kwargs), loop)
        try:
            return future.result()
        except KeyboardInterrupt:
            # Ctrl-C in the caller: stop the work on the loop too, then re-raise.
            future.cancel()
            raise

    def iterate(self, make: Callable[[], AsyncIterator[_T]]) -> Iterator[_T]:
        """Bridge the iterator ``make()`` returns one item per hop; leaving early closes it.

        The async iterator is made and runs on the portal loop; only its items
        cross over. If the caller stops early (``break``, an exception, garbage
        collection), its ``aclose()`` runs on the loop, so streams release
        their connection before the loop statement is left.
        """
        iterator = self.call(_make, make)
        finished = False
        try:
            while not isinstance(item := self.call(_next, iterator), _End):
                yield item
            finished = True
        finally:
            aclose = getattr(iterator, "aclose", None)
            if not finished and aclose is not None and not self._closed:
                self.call(aclose)

    def close(self, final: Callable[[], Awaitable[None]] | None = None) -> None:
        """Run ``final`` (e.g. closing the session) on the loop, then stop it. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or os.getpid() != self._pid:
            return
        try:
            if final is not None:
                asyncio.run_coroutine_threadsafe(_as_coroutine(final, (), {}), loop).result()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not threading.current_thread():
                thread.join()


async def _as_coroutine(
    fn: Callable[..., Awaitable[_T]], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> _T:
    return await fn(*args, **kwargs)


async def _make(make: Callable[[], AsyncIterator[_T]]) -> AsyncIterator[_T]:
    return make()


class _End:
    """The end of an iteration, returned as a value so the item stays typed."""


async def _next(iterator: AsyncIterator[_T]) -> _T | _End:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        return _End()

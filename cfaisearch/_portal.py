"""The private event-loop thread behind the sync facade.

Each sync client owns one portal: a daemon thread running an asyncio loop,
started on first use. Sync methods submit the async client's coroutines to it
and block on the result, which works from any thread, from many threads at
once, and from code that already runs an event loop (a Jupyter cell, an async
test), because the coroutine never runs on the caller's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

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
        handoff: _Handoff[_T] = _Handoff()
        loop.call_soon_threadsafe(handoff.start, loop, fn, args, kwargs)
        try:
            return handoff.wait()
        except KeyboardInterrupt:
            # Ctrl-C in the caller: stop the work on the loop too, then re-raise.
            loop.call_soon_threadsafe(handoff.cancel)
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
                handoff: _Handoff[None] = _Handoff()
                loop.call_soon_threadsafe(handoff.start, loop, final, (), {})
                handoff.wait()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not threading.current_thread():
                thread.join()


class _Handoff(Generic[_T]):
    """One call's result, passed from the loop thread to the waiting caller.

    Lighter than ``run_coroutine_threadsafe``'s chained futures: a bare lock
    that the loop releases when the task ends is all the caller waits on, and
    this hop is on the path of every sync call.
    """

    __slots__ = ("_done", "_outcome", "_task")

    def __init__(self) -> None:
        self._done = threading.Lock()
        self._done.acquire()
        self._task: asyncio.Task[_T] | None = None
        self._outcome: asyncio.Task[_T] | BaseException | None = None

    def start(
        self,
        loop: asyncio.AbstractEventLoop,
        fn: Callable[..., Awaitable[_T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        """On the loop thread: run the call as a task."""
        try:
            awaitable = fn(*args, **kwargs)
            coroutine = awaitable if asyncio.iscoroutine(awaitable) else _await(awaitable)
            self._task = loop.create_task(coroutine)
        except BaseException as exc:  # the call failed before it could start
            self._outcome = exc
            self._done.release()
            return
        self._task.add_done_callback(self._finish)

    def _finish(self, task: asyncio.Task[_T]) -> None:
        self._outcome = task
        self._done.release()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def wait(self) -> _T:
        """In the caller: block until the task ends; return or raise its outcome."""
        self._done.acquire()
        outcome = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        if outcome.cancelled():
            raise concurrent.futures.CancelledError()
        return outcome.result()


async def _await(awaitable: Awaitable[_T]) -> _T:
    return await awaitable


async def _make(make: Callable[[], AsyncIterator[_T]]) -> AsyncIterator[_T]:
    return make()


class _End:
    """The end of an iteration, returned as a value so the item stays typed."""


async def _next(iterator: AsyncIterator[_T]) -> _T | _End:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        return _End()

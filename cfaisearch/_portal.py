"""The private event loop behind the sync facade.

Each sync client owns one portal: one asyncio loop, and with it one aiohttp
session and connection pool. The loop is driven cooperatively: a sync call
made from a thread that has no event loop of its own runs the private loop
itself, in that thread, until its result is ready, so the common case (one
thread making calls) costs no thread switch at all. Calls from other threads
meanwhile hand their work to the loop and wait; whoever is still waiting when
the driving thread leaves takes over. A call from a thread that already runs
an event loop (a Jupyter cell, an async test) cannot drive a second loop
there, so the portal then starts a background thread that drives the loop
for good, and every later call hands its work over to it.

A thread switch per call costs 85-140 us on a busy two-core machine, most of
a local request's time, which is why the loop is not simply parked on a
background thread from the start.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

from ._exceptions import APIConnectionError, CloudflareError

__all__ = ["BATCH", "Portal"]

_T = TypeVar("_T")

BATCH = 256
"""The most items one hop of :meth:`Portal.iterate` brings across when they are ready."""


class Portal:
    """Runs coroutines on a private event loop; safe to share between threads.

    Everything that makes calls through a portal (the sync client, its
    resources, and the pagers, streams and downloads they hand out) holds it,
    so the loop lives as long as any of them. Once none is referenced, or at
    interpreter exit, the portal closes itself as :meth:`close` does.
    """

    __slots__ = ("__weakref__", "_engine", "_finalizer")

    def __init__(
        self,
        name: str = "cfaisearch-portal",
        *,
        final: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        engine = _Engine(name)
        self._engine = engine
        # The callback must not reach the portal, or the portal would never be collected.
        self._finalizer = weakref.finalize(self, engine.close, final)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run (calls then raise :class:`CloudflareError`)."""
        return self._engine.closed

    def call(self, fn: Callable[..., Awaitable[_T]], /, *args: Any, **kwargs: Any) -> _T:
        """Run ``fn(*args, **kwargs)`` on the portal loop and return its result."""
        return self._engine.call(fn, *args, **kwargs)

    def iterate(
        self,
        make: Callable[[], AsyncIterator[_T]],
        ready: Callable[[], bool] | None = None,
    ) -> Generator[_T, None, None]:
        """Bridge the iterator ``make()`` returns; leaving early closes it.

        The async iterator is made and runs on the portal loop; only its items
        cross over. Each crossing costs a loop hop, so when ``ready()`` (asked
        on the loop) says the next item needs no waiting, because its data has
        already arrived, that item comes along in the same hop, up to
        ``BATCH`` at a time. The first hop brings one item, so batching never
        delays the first. If the caller stops early (``break``, an exception,
        garbage collection), its ``aclose()`` runs on the loop, so streams
        release their connection before the loop statement is left. The
        iterator holds the portal, so the loop outlives it.
        """
        iterator = self.call(_make, make)
        finished = False
        try:
            if ready is None:
                while not isinstance(item := self.call(_next, iterator), _End):
                    yield item
            else:
                limit = 1
                while True:
                    batch = self.call(_next_batch, iterator, ready, limit)
                    for item in batch:
                        if isinstance(item, _End):
                            if item.error is not None:
                                raise item.error
                            finished = True
                            return
                        yield item
                    limit = BATCH
            finished = True
        finally:
            aclose = getattr(iterator, "aclose", None)
            if not finished and aclose is not None and not self.closed:
                self._engine.close_iterator(aclose)

    def close(self) -> None:
        """Run ``final`` (e.g. closing the session) on the loop, then close it. Idempotent."""
        self._finalizer()


class _Engine:
    """The loop and who drives it; a :class:`Portal` owns one."""

    def __init__(self, name: str) -> None:
        self._name = name
        # Guards the fields below; waiting callers sleep on it until their
        # result is in or the loop has no driver.
        self._state = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._driving = False
        self._background: threading.Thread | None = None
        self._pid = os.getpid()
        # Iterators being closed on the loop (see close_iterator); asyncio keeps
        # only weak references to tasks.
        self._closing: set[asyncio.Task[object]] = set()
        self.closed = False

    # -- calls -----------------------------------------------------------------------------

    def call(self, fn: Callable[..., Awaitable[_T]], /, *args: Any, **kwargs: Any) -> _T:
        """Run ``fn(*args, **kwargs)`` on the portal loop and return its result."""
        # A low-level query, but the only one that does not raise when no loop runs.
        running = asyncio._get_running_loop()
        handoff: _Handoff[_T] = _Handoff(self._state)
        with self._state:
            loop = self._usable_loop()
            if running is loop:
                raise CloudflareError(
                    "a sync client method was called from inside its own event loop "
                    "(e.g. from a callback); this would deadlock. Use AsyncCloudflare there."
                )
            drive = running is None and not self._driving and self._background is None
            if drive:
                self._driving = True
        if drive:
            # Nobody else runs the loop now, so no wake-up write is needed.
            loop.call_soon(handoff.start, loop, fn, args, kwargs)
            self._drive(loop, handoff)
        else:
            loop.call_soon_threadsafe(handoff.start, loop, fn, args, kwargs)
            self._wait(loop, handoff, can_drive=running is None)
        return handoff.outcome()

    def close_iterator(self, aclose: Callable[[], Awaitable[object]]) -> None:
        """Run an abandoned iterator's ``aclose`` on the loop, now or soon."""
        loop = asyncio._get_running_loop()
        if loop is not None and loop is self._loop:
            # The garbage collector dropped it while the loop runs (inside a
            # later call): waiting here would deadlock, so the loop closes it next.
            task = loop.create_task(_await(aclose()))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        else:
            self.call(aclose)

    def _usable_loop(self) -> asyncio.AbstractEventLoop:
        """The loop, made on first use; call with ``_state`` held."""
        if self.closed:
            # A connection error, as officially; which request it was is not known here.
            raise APIConnectionError(
                "the client is closed", method="", url="", reached_server=False
            )
        if os.getpid() != self._pid:
            # The loop's sockets and any driving thread did not survive fork().
            raise CloudflareError(
                "this client was created in another process; create a new client after fork()"
            )
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop

    def _drive(self, loop: asyncio.AbstractEventLoop, handoff: _Handoff[Any]) -> None:
        """Run the loop in this thread until ``handoff`` is done; ``_driving`` is ours."""
        try:
            handoff.stop_when_done(loop)
            while not handoff.done:
                loop.run_forever()
        except BaseException:
            # Ctrl-C while driving: the call is abandoned, so stop its work too.
            loop.call_soon_threadsafe(handoff.cancel)
            raise
        finally:
            handoff.stop_when_done(None)
            with self._state:
                self._driving = False
                self._state.notify_all()

    def _wait(
        self, loop: asyncio.AbstractEventLoop, handoff: _Handoff[Any], can_drive: bool
    ) -> None:
        """Wait for ``handoff``; drive the loop if nobody else does."""
        try:
            with self._state:
                while not handoff.done:
                    if not self._driving and self._background is None:
                        if can_drive:
                            self._driving = True
                            break
                        self._start_background(loop)
                    self._state.wait()
                else:
                    return
        except KeyboardInterrupt:
            loop.call_soon_threadsafe(handoff.cancel)
            raise
        self._drive(loop, handoff)

    def _start_background(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hand the loop to a thread of its own for good; call with ``_state`` held."""
        self._driving = True
        self._background = threading.Thread(
            target=self._run_background, args=(loop,), name=self._name, daemon=True
        )
        self._background.start()

    def _run_background(self, loop: asyncio.AbstractEventLoop) -> None:
        # Runs until close() stops the loop; the thread then closes it too.
        loop.run_forever()
        _unwind(loop)

    # -- shutdown --------------------------------------------------------------------------

    def close(self, final: Callable[[], Awaitable[None]] | None = None) -> None:
        """Run ``final`` (e.g. closing the session) on the loop, then close it. Idempotent."""
        with self._state:
            if self.closed:
                return
            loop = self._loop
        try:
            if final is not None and loop is not None and os.getpid() == self._pid:
                self.call(final)
        finally:
            with self._state:
                self.closed = True
                background = self._background
                while self._driving and background is None:
                    self._state.wait()  # another thread's call is finishing
            if loop is not None and os.getpid() == self._pid:
                if background is not None:
                    loop.call_soon_threadsafe(loop.stop)
                    if background is not threading.current_thread():
                        background.join()
                elif asyncio._get_running_loop() is None:
                    _unwind(loop)
                else:
                    # This thread runs another loop, which forbids running ours here.
                    closer = threading.Thread(target=_unwind, args=(loop,), name=self._name)
                    closer.start()
                    closer.join()


def _unwind(loop: asyncio.AbstractEventLoop) -> None:
    """Let leftover tasks and async generators finish, then close ``loop``."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


class _Handoff(Generic[_T]):
    """One call: started on the loop, its outcome read by the calling thread."""

    __slots__ = ("_loop_to_stop", "_outcome", "_state", "_task", "done")

    def __init__(self, state: threading.Condition) -> None:
        self._state = state
        self._task: asyncio.Task[_T] | None = None
        self._outcome: asyncio.Task[_T] | BaseException | None = None
        self._loop_to_stop: asyncio.AbstractEventLoop | None = None
        self.done = False

    def start(
        self,
        loop: asyncio.AbstractEventLoop,
        fn: Callable[..., Awaitable[_T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        """On the loop: run the call as a task."""
        try:
            awaitable = fn(*args, **kwargs)
            coroutine = awaitable if asyncio.iscoroutine(awaitable) else _await(awaitable)
            self._task = loop.create_task(coroutine)
        except BaseException as exc:  # the call failed before it could start
            self._finish(exc)
            return
        self._task.add_done_callback(self._finish)

    def stop_when_done(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Make the end of this call stop ``loop`` while its caller drives it (None: not)."""
        with self._state:
            self._loop_to_stop = loop
            if self.done and loop is not None:
                loop.stop()

    def _finish(self, outcome: asyncio.Task[_T] | BaseException) -> None:
        with self._state:
            self._outcome = outcome
            self.done = True
            self._state.notify_all()
            if self._loop_to_stop is not None:
                self._loop_to_stop.stop()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def outcome(self) -> _T:
        """The call's result, or its exception raised."""
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
    """The end of an iteration, returned as a value so the item stays typed.

    ``error`` is what ended a batch after some of its items were read: the
    caller raises it once it has handed those items on.
    """

    __slots__ = ("error",)

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error


async def _next(iterator: AsyncIterator[_T]) -> _T | _End:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        return _End()


async def _next_batch(
    iterator: AsyncIterator[_T], ready: Callable[[], bool], limit: int
) -> list[_T | _End]:
    """The next item (waiting for it), then as many as ``ready()`` vouches for."""
    items: list[_T | _End] = []
    try:
        items.append(await iterator.__anext__())
        while len(items) < limit and ready():
            items.append(await iterator.__anext__())
    except StopAsyncIteration:
        items.append(_End())
    except Exception as exc:
        if not items:
            raise
        items.append(_End(exc))  # the items read before it still reach the caller first
    return items

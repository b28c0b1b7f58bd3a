"""Searches in worker processes, each with its own GIL, reader connection and caches.

Ranking is Python code, so search threads share one core however many there
are, and they compete with the event loop for the GIL. Worker processes let
searches use every core and leave the server's own GIL to the event loop and
its readers. Each worker opens the database file read-only (WAL lets it read
beside the writer) and keeps its own ``Retriever`` caches; the server sends
its change counters with every call, so a worker rebuilds a cache exactly
when the server's would be stale.

Each worker is one process on one socket: a call is a length-prefixed pickle
of ``(function, change counters, arguments)``, and the answer comes back the
same way, in order. The server's side is a plain asyncio stream: no executor
threads, so a call costs the event loop one write and one read. The search
endpoint sends the raw request body and gets the encoded response back, so
parsing, the instance lookup, ranking and JSON encoding all happen here.

Used by the command line (``--search-processes``); programmatic emulators
search on threads unless ``EmulatorConfig.search_processes`` asks otherwise.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from .errors import ApiError
from .retrieval import Retriever
from .store import Database
from .vectors import make_scorer

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: A call run by a worker: ``fn(db, retriever, *args)`` inside one read transaction.
WorkerCall = Callable[Concatenate[Database, Retriever, P], T]

_HEADER = struct.Struct("!I")
#: Seconds a worker gets to exit after its socket closes, before it is killed.
STOP_GRACE = 5.0


# -- the worker process ----------------------------------------------------------------


class _Worker:
    """One worker process's connection, retriever and view of the change counters."""

    def __init__(self, path: str, scorer: str) -> None:
        self.db = Database.connect(path, reader=True)
        self.generations: dict[int, int] = {}
        self.retriever = Retriever(lambda pk: self.generations.get(pk, 0), make_scorer(scorer))

    def handle(self, payload: bytes) -> bytes:
        try:
            fn, generations, args, kwargs = pickle.loads(payload)
            # Counted before the snapshot below begins: the snapshot holds at
            # least the changes these counts describe (see Store.generation).
            self.generations = generations
            self.db.conn.execute("BEGIN")
            try:
                outcome: tuple[bool, Any] = (True, fn(self.db, self.retriever, *args, **kwargs))
            finally:
                self.db.conn.execute("COMMIT")
        except Exception as exc:  # sent back and raised in the server
            if not isinstance(exc, ApiError):  # the traceback stays here: log it here
                log.exception("search worker call failed")
            outcome = (False, exc)
        try:
            return pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            failure = RuntimeError(f"search worker could not send its answer: {exc!r}")
            return pickle.dumps((False, failure), pickle.HIGHEST_PROTOCOL)


def _serve(sock: socket.socket, path: str, scorer: str) -> None:
    """A worker's life: answer calls in order until the server closes the socket."""
    # Ctrl+C reaches the whole process group; the server decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One BLAS thread per worker: the workers already use every core, and
    # BLAS threads on top of them only fight over the CPUs (set before numpy
    # is first imported, which happens when the scorer loads).
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    worker = _Worker(path, scorer)
    with sock, sock.makefile("rb") as incoming:
        sock.sendall(_HEADER.pack(0))  # ready
        while len(header := incoming.read(_HEADER.size)) == _HEADER.size:
            (size,) = _HEADER.unpack(header)
            answer = worker.handle(incoming.read(size))
            sock.sendall(_HEADER.pack(len(answer)) + answer)
    worker.db.conn.close()


# -- the server's side -----------------------------------------------------------------


class _Channel:
    """The server's end of one worker: its process, stream and unanswered calls."""

    def __init__(self, context: Any, path: str, scorer: str) -> None:
        self.sock, theirs = socket.socketpair()
        self.process: multiprocessing.process.BaseProcess = context.Process(
            target=_serve, args=(theirs, path, scorer), name="ai-search-emu-worker", daemon=True
        )
        # Closed here once the worker holds its copy: the worker's death must
        # be the last close of its end, so the server reads EOF.
        self.theirs: socket.socket | None = theirs
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.pending: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.pump: asyncio.Task[None] | None = None
        self.alive = False

    async def open(self) -> None:
        await asyncio.to_thread(self.process.start)
        if self.theirs is not None:
            self.theirs.close()
            self.theirs = None
        self.reader, self.writer = await asyncio.open_connection(sock=self.sock)
        try:
            await self.reader.readexactly(_HEADER.size)  # the worker is ready
        except asyncio.IncompleteReadError:
            await asyncio.to_thread(self.process.join, STOP_GRACE)
            raise RuntimeError(
                f"search worker exited while starting (exit code {self.process.exitcode});"
                " its error is above"
            ) from None
        self.alive = True
        self.pump = asyncio.ensure_future(self._pump(self.reader))

    async def _pump(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
                payload = await reader.readexactly(size)
                future = self.pending.popleft()
                try:
                    succeeded, value = pickle.loads(payload)
                except Exception as exc:
                    succeeded, value = False, RuntimeError(f"unreadable worker answer: {exc!r}")
                if future.done():  # the request was cancelled (client gone)
                    continue
                if succeeded:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the worker exited
        finally:  # whatever ended the stream (close() too), nothing more will come
            self._fail()

    def _fail(self) -> None:
        if self.alive:
            log.error("search worker %s exited; searching without it", self.process.pid)
        self.alive = False
        while self.pending:
            future = self.pending.popleft()
            if not future.done():
                future.set_exception(RuntimeError("search worker exited"))

    def send(self, payload: bytes) -> asyncio.Future[Any]:
        assert self.writer is not None
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        self.writer.write(_HEADER.pack(len(payload)) + payload)
        return future

    async def close(self) -> None:
        self.alive = False
        if self.theirs is not None:  # never started
            self.theirs.close()
            self.sock.close()
            return
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()
        else:
            self.sock.close()
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pump
        self._fail()
        await asyncio.to_thread(self.process.join, STOP_GRACE)
        if self.process.is_alive():
            self.process.kill()
            await asyncio.to_thread(self.process.join)
        self.process.close()


class SearchWorkers:
    """A set of search processes over one database file."""

    def __init__(self, count: int, path: str, scorer: str) -> None:
        # spawn: forking a process that runs threads (the store's) is unsafe.
        context = multiprocessing.get_context("spawn")
        self._channels = [_Channel(context, path, scorer) for _ in range(count)]

    async def start(self) -> None:
        """Start every worker now (and load its model), not on the first search."""
        await asyncio.gather(*(channel.open() for channel in self._channels))

    @property
    def alive(self) -> bool:
        """Whether any worker can take a call (one that died is not replaced)."""
        return any(channel.alive for channel in self._channels)

    @property
    def pids(self) -> list[int | None]:
        return [channel.process.pid for channel in self._channels]

    async def call(
        self,
        fn: WorkerCall[P, T],
        generations: dict[int, int],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``fn(db, retriever, *args, **kwargs)`` in the least busy worker, in one read transaction.

        ``generations`` are the server's change counters, taken before the
        call (``Store.generations``). Exceptions raised by ``fn`` are raised here.
        """
        live = [channel for channel in self._channels if channel.alive]
        if not live:
            raise RuntimeError("no search worker is running")
        channel = min(live, key=lambda c: len(c.pending))
        payload = pickle.dumps((fn, generations, args, kwargs), pickle.HIGHEST_PROTOCOL)
        result: T = await channel.send(payload)
        return result

    async def stop(self) -> None:
        """Stop the workers; calls still unanswered fail."""
        await asyncio.gather(*(channel.close() for channel in self._channels))

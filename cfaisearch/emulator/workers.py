"""Searches in worker processes, each with its own GIL, reader connection and caches.

Ranking is Python code, so search threads share one core however many there
are, and they compete with the event loop for the GIL. Worker processes let
searches use every core and leave the server's own GIL to the event loop and
its readers. Each worker opens the database file read-only (WAL lets it read
beside the writer) and keeps its own ``Retriever`` caches; the server sends
the instance's change counter with every search, so a worker rebuilds a
cache exactly when the server's would be stale.

Used by the command line (``--search-processes``); programmatic emulators
search on threads unless ``EmulatorConfig.search_processes`` asks otherwise.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .retrieval import Options, Retriever
from .store import Database
from .vectors import make_scorer


class _Worker:
    """One worker process's connection, retriever and view of the change counters."""

    def __init__(self, path: str, scorer: str) -> None:
        self.db = Database.connect(path, reader=True)
        self.generations: dict[int, int] = {}
        self.retriever = Retriever(lambda pk: self.generations.get(pk, 0), make_scorer(scorer))

    def search(
        self,
        instance_pk: int,
        generation: int,
        config: dict[str, Any],
        query: str,
        options: Options,
    ) -> list[list[dict[str, Any]]]:
        self.generations[instance_pk] = generation
        self.db.conn.execute("BEGIN")
        try:
            return self.retriever.search(self.db, instance_pk, config, query, options)
        finally:
            self.db.conn.execute("COMMIT")


# Set once per worker process by the pool's initializer.
_worker: _Worker | None = None


def _start(path: str, scorer: str) -> None:
    global _worker
    # One BLAS thread per worker: the workers already use every core, and
    # BLAS threads on top of them only fight over the CPUs (set before numpy
    # is first imported, which happens when the scorer loads).
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    _worker = _Worker(path, scorer)


def _ready() -> bool:
    return _worker is not None


def _search(*args: Any) -> list[list[dict[str, Any]]]:
    if _worker is None:
        raise RuntimeError("search worker is not initialised")
    return _worker.search(*args)


class SearchWorkers:
    """A pool of search processes over one database file."""

    def __init__(self, count: int, path: str, scorer: str) -> None:
        # spawn: forking a process that runs threads (the store's) is unsafe.
        self._pool = ProcessPoolExecutor(
            max_workers=count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(path, scorer),
        )
        self._count = count

    async def start(self) -> None:
        """Start every worker now (and load its model), not on the first search."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._pool, _ready) for _ in range(self._count))
        )

    async def search(
        self,
        instance_pk: int,
        generation: int,
        config: dict[str, Any],
        query: str,
        options: Options,
    ) -> list[list[dict[str, Any]]]:
        """Best hits first, grouped with their context (see ``Retriever.search``)."""
        loop = asyncio.get_running_loop()
        call = functools.partial(_search, instance_pk, generation, config, query, options)
        return await loop.run_in_executor(self._pool, call)

    async def stop(self) -> None:
        """Stop the workers; searches still queued are cancelled."""
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)

"""The per-application bundle of services that handlers reach through ``request.app``."""

from __future__ import annotations

import dataclasses

from aiohttp import web

from .config import EmulatorConfig
from .faults import FaultInjector
from .indexer import Indexer
from .jobs import JobManager
from .retrieval import Retriever
from .store import Store
from .workers import SearchWorkers


@dataclasses.dataclass
class EmulatorState:
    """Everything a request handler reaches through ``request.app[STATE]``."""

    config: EmulatorConfig
    store: Store
    faults: FaultInjector
    indexer: Indexer
    jobs: JobManager
    retriever: Retriever
    #: Search processes (``EmulatorConfig.search_processes``); ``None`` searches on threads.
    search_workers: SearchWorkers | None = None
    #: Resolved at start-up (explicit, persisted in the data dir, or generated).
    api_token: str = ""


STATE = web.AppKey("ai_search_emulator_state", EmulatorState)

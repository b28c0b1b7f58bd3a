"""Emulator settings shared by the app, the servers and the CLI."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .faults import FaultConfig

DEFAULT_HOST = "127.0.0.1"
# Same port as `wrangler dev`, so a Workers developer's muscle memory works.
DEFAULT_PORT = 8787
# A fixed, recognisable account tag keeps URLs in docs and tests stable.
DEFAULT_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"

MIB = 1024 * 1024


@dataclasses.dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    """Everything that shapes one emulator instance.

    Timing knobs default to the real service's behaviour (30 s between manual
    syncs, no artificial delays); tests shrink or stretch them.
    """

    host: str = DEFAULT_HOST
    #: 0 picks a free port (the CLI defaults to DEFAULT_PORT instead).
    port: int = 0
    account_id: str = DEFAULT_ACCOUNT_ID
    #: Accepted credential; ``None`` reuses the one stored in ``data_dir`` or
    #: generates a fresh one at start-up.
    api_token: str | None = None
    #: Folder holding the SQLite file; ``None`` keeps everything in memory.
    data_dir: Path | None = None
    #: Folder whose sub-folders stand for R2 buckets.
    r2_root: Path | None = None
    faults: FaultConfig = dataclasses.field(default_factory=FaultConfig)
    #: Minimum seconds between two user-triggered jobs on one instance.
    manual_sync_interval: float = 30.0
    #: Pause (seconds) between two files of a sync job, so tests can cancel mid-way.
    job_step_delay: float = 0.0
    #: Pause (seconds) before each item is indexed, so tests can observe queued/running.
    index_delay: float = 0.0
    #: Pause (seconds) between two SSE events of a streamed chat completion.
    stream_delay: float = 0.0
    #: Longest a ``wait_for_completion`` request blocks before answering ``running``.
    wait_timeout: float = 40.0
    #: Run scheduled syncs every ``sync_interval`` of each unpaused instance.
    scheduler_enabled: bool = True
    #: When set, replaces every instance's ``sync_interval`` (seconds), for tests.
    sync_interval_override: float | None = None
    #: How often the scheduler looks for instances due for a sync (seconds).
    scheduler_tick: float = 1.0
    #: Start a sync job right after an instance with an external source is created.
    initial_sync: bool = True
    #: Per-file limit of the real service (§5 of the API sheet).
    max_file_bytes: int = 4 * MIB
    #: Request bodies above this size are refused with 413 before being read.
    max_request_bytes: int = 8 * MIB
    #: Timeout (seconds) of each page fetch made by the loopback web crawler.
    crawl_timeout: float = 10.0
    #: Vector scorer: ``lexical`` (deterministic, no extra dependency),
    #: ``semantic`` (needs ``cfaisearch[semantic]``) or ``auto`` (semantic when
    #: installed). Tests default to lexical so results never depend on extras.
    scorer: str = "lexical"
    #: Worker processes for searches (0: search on threads of the server
    #: process). Processes use every core; each costs a start-up and memory.
    search_processes: int = 0

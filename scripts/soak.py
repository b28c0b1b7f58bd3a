"""Soak run: many mixed calls from both clients against a faulty emulator, then reconciled.

    python scripts/soak.py [--calls 10000] [--seed 1]      (or: nox -s soak)

The emulator runs in a child process (this script with ``--serve-emulator``),
so every figure measured here (descriptors, threads, sockets, memory) belongs
to the clients alone. After setup, its fault injection is switched on: JSON
500s, HTML 502s, 429s with ``Retry-After``, connection resets before and after
the request was handled, and latency. Then ``--calls`` calls, drawn from a
seeded mix of reads, streamed and plain chat, downloads, updates, deletes and
state-changing calls (job triggers, uploads, cancels), run on an
``AsyncCloudflare`` (several tasks) and a ``Cloudflare`` shared by several
threads.

Invariants (any failure makes the exit status 1):

* every call either succeeded or raised a ``cfaisearch.CloudflareError``, and
  at least ``MIN_SUCCESS_SHARE`` of them succeeded (so a broken run cannot pass);
* no job trigger or upload was applied twice, and none that succeeded is
  missing: counted from the emulator's SQLite data once it has stopped;
* after the clients are closed: no more descriptors, threads or sockets to the
  emulator than before, and no ``ResourceWarning`` or unraisable exception;
* memory is flat: the RSS high-water mark of the last quarter of the run is at
  most ``MEMORY_TOLERANCE`` above that of the first quarter.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import faulthandler
import gc
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from cfaisearch import AsyncCloudflare, Cloudflare, CloudflareError

NAMESPACE: Final = "default"
#: Synced from a bucket: the target of job triggers, searches, chats and item updates.
BUCKET_INSTANCE: Final = "soak-bucket"
#: Upload-only: every upload lands here, so each upload leaves one "queued" log entry.
UPLOAD_INSTANCE: Final = "soak-uploads"
#: A namespace whose description the update calls rewrite.
SOAK_NAMESPACE: Final = "soak"
BUCKET: Final = "soak-docs"
BUCKET_FILES: Final = {
    "retries.md": "A request that changes state is never replayed once it may have arrived.",
    "backoff.md": "Exponential backoff with jitter spreads retries; Retry-After is honoured.",
    "deadlines.md": "A timeout bounds the whole call, retries and their waits included.",
    "streams.md": "Server-sent events end with a DONE marker; idle gaps have a read timeout.",
    "pools.md": "Connections are pooled and reused; a reset connection is discarded.",
    "redirects.md": "Redirects are not followed: credentials never leave the configured origin.",
}
QUERIES: Final = ("retries", "backoff and jitter", "timeout deadline", "stream events", "pool")

#: The faults active during the run (FaultConfig fields of the emulator).
FAULTS: Final[Mapping[str, Any]] = {
    "error_500_rate": 0.03,
    "error_502_rate": 0.03,
    "error_429_rate": 0.02,
    "drop_rate": 0.02,
    "drop_after_rate": 0.02,
    "latency_ms": 2.0,
    "retry_after": 1,
}
FAULT_NAMES: Final = {
    "500": "500 JSON",
    "502": "502 HTML",
    "429": f"429 + Retry-After {FAULTS['retry_after']} s",
    "drop": "reset before handling",
    "drop_after": "reset after handling",
}
#: Budget of one call; a call that cannot finish in it raises APITimeoutError.
CALL_TIMEOUT: Final = 20.0
#: Budget of the calls made to exercise deadlines (the emulator adds FAULTS latency).
TIGHT_TIMEOUT: Final = 0.001
ASYNC_TASKS: Final = 16
SYNC_THREADS: Final = 6
MEMORY_SAMPLES: Final = 40
#: Growth of the RSS high-water mark, last quarter over first, still called flat.
MEMORY_TOLERANCE: Final = 8 * 1024 * 1024
#: Below this share of successful calls the run proves nothing (about 93 % succeed).
MIN_SUCCESS_SHARE: Final = 0.8


# -- the emulator, in a child process -----------------------------------------------------


def serve_emulator(r2_root: Path, data_dir: Path) -> int:
    """Child process: run an emulator and obey one JSON command per stdin line."""
    from cfaisearch.emulator import Emulator, EmulatorConfig, FaultConfig

    config = EmulatorConfig(
        r2_root=r2_root,
        data_dir=data_dir,
        manual_sync_interval=0.0,  # the soak triggers jobs back to back on purpose
        scheduler_enabled=False,  # only the soak's own triggers may create jobs
    )
    with Emulator(config) as emu:
        hello = {"base_url": emu.base_url, "api_token": emu.api_token, "port": emu.port}
        print(json.dumps({**hello, "account_id": emu.account_id}), flush=True)
        for line in sys.stdin:
            command = json.loads(line)
            reply: dict[str, Any] = {}
            if command["op"] == "faults":
                emu.faults.configure(FaultConfig(**command["config"]))
            elif command["op"] == "injected":
                kinds = collections.Counter(str(f.kind) for f in emu.faults.injected)
                reply = dict(kinds)
            elif command["op"] == "stop":
                break
            print(json.dumps(reply), flush=True)
    return 0


class EmulatorProcess:
    """Parent side of :func:`serve_emulator`."""

    def __init__(self, workdir: Path) -> None:
        self.r2_root = workdir / "r2"
        self.data_dir = workdir / "data"
        self._proc: subprocess.Popen[str] | None = None
        self.base_url = self.api_token = self.account_id = ""
        self.port = 0

    def __enter__(self) -> EmulatorProcess:
        args = [sys.executable, __file__, "--serve-emulator", str(self.r2_root), str(self.data_dir)]
        self._proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            hello = self._read()
        except BaseException:
            self.stop()  # the child died or garbled its greeting: close its pipes
            raise
        self.base_url, self.api_token = hello["base_url"], hello["api_token"]
        self.account_id, self.port = hello["account_id"], int(hello["port"])
        return self

    def _read(self) -> dict[str, Any]:
        assert self._proc is not None
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process exited early (see its output above)")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def command(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self._proc is not None
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self._proc.stdin.flush()
        return self._read()

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps({"op": "stop"}) + "\n")
                proc.stdin.flush()
            proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# -- what this process holds -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Resources:
    descriptors: int | None
    threads: int
    sockets: int | None  # connections of this process to the emulator's port


def _socket_inodes_to(port: int) -> set[str] | None:
    inodes: set[str] = set()
    try:
        for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
            with contextlib.suppress(FileNotFoundError), open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    if int(fields[2].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
    except OSError:
        return None
    return inodes


def resources(port: int) -> Resources:
    """Open descriptors, live threads and sockets to ``port``; None where /proc is missing."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return Resources(None, threading.active_count(), None)
    inodes = _socket_inodes_to(port)
    sockets = 0
    for fd in fds:
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            target = os.readlink(f"/proc/self/fd/{fd}")
            if inodes is not None and target.startswith("socket:[") and target[8:-1] in inodes:
                sockets += 1
    return Resources(len(fds), threading.active_count(), None if inodes is None else sockets)


def rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


# -- the calls -------------------------------------------------------------------------------


@dataclasses.dataclass
class Context:
    """What the calls learn as they go; shared by every task and thread."""

    seed: int
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    upload_ids: list[str] = dataclasses.field(default_factory=list)
    bucket_item_ids: dict[str, str] = dataclasses.field(default_factory=dict)
    job_ids: list[str] = dataclasses.field(default_factory=list)
    #: description or key -> outcome of the call that sent it ("ok" or an exception name)
    triggers: dict[str, str] = dataclasses.field(default_factory=dict)
    uploads: dict[str, str] = dataclasses.field(default_factory=dict)

    def pick(self, rng: random.Random, values: list[str]) -> str | None:
        with self.lock:
            return rng.choice(values) if values else None


@dataclasses.dataclass
class Call:
    """One SDK call, ready: ``start()`` makes it (and returns a coroutine on the async client)."""

    start: Callable[[], Any]
    #: Method of the result to finish with, inside ``with``: reading a download or stream.
    finish: str | None = None
    #: ("trigger" | "upload", unique name): reconciled against the emulator's data.
    tracked: tuple[str, str] | None = None
    on_success: Callable[[Any], None] | None = None


def _search(a: Any, ctx: Context, rng: random.Random, n: int) -> Call:
    query = rng.choice(QUERIES)
    return Call(lambda: a.namespaces.instances.search(BUCKET_INSTANCE, name=NAMESPACE, query=query))


def _chat(stream: bool) -> Callable[[Any, Context, random.Random, int], Call]:
    def chat(a: Any, ctx: Context, rng: random.Random, n: int) -> Call:
        messages = [{"role": "user", "content": rng.choice(QUERIES)}]
        return Call(
            lambda: a.namespaces.instances.chat_completions(
                BUCKET_INSTANCE, name=NAMESPACE, messages=messages, stream=stream
            ),
            finish="get_final_completion" if stream else None,
        )

    return chat


def _download(a: Any, ctx: Context, rng: random.Random, n: int) -> Call:
    item = ctx.pick(rng, ctx.upload_ids)
    items = a.namespaces.instances.items
    return Call(lambda: items.download(item, name=NAMESPACE, id=UPLOAD_INSTANCE), finish="read")


def _item_get(a: Any, ctx: Context, rng: random.Random, n: int) -> Call:
    item = ctx.pick(rng, ctx.upload_ids)
    items = a.namespaces.instances.items
    return Call(lambda: items.get(item, name=NAMESPACE, id=UPLOAD_INSTANCE))


def _deadline(a: Any, ctx: Context, rng: random.Random, n: int) -> Call:
    instances = a.namespaces.instances
    return Call(lambda: instances.stats(BUCKET_INSTANCE, name=NAMESPACE, timeout=TIGHT_TIMEOUT))


def _trigger(a: Any, ctx: Context, rng: random.Random, n: int) -> Call:
    description = f"soak-{ctx.seed}-trigger-{n}"

    def remember(job: Any) -> None:
        with ctx.lock:
            ctx.job_ids.append(job.id)

    jobs = a.namespaces.instances.jobs
    return Call(
        lambda: jobs.create(BUCKET_INSTANCE, name=NAMESPACE, description=description),
        tracked=("trigger", description),
        on_success=remember,
    )


def _upload(a: Any, ctx: Context, rng: random.Random, n: int) -> Call:
    key = f"soak-{ctx.seed}-upload-{n}.txt"
    content = f"Upload {n} of the soak run. {rng.choice(list(BUCKET_FILES.values()))}\n"

    def remember(item: Any) -> None:
        with ctx.lock:
            ctx.upload_ids.append(item.id)

    items = a.namespaces.instances.items
    form = {"file": (key, content.encode())}
    return Call(
        lambda: items.upload(UPLOAD_INSTANCE, name=NAMESPACE, file=form),
        tracked=("upload", key),
        on_success=remember,
    )


def _cancel(a: Any, ctx: Context, rng: random.Random, n: int) -> Call:
    job = ctx.pick(rng, ctx.job_ids)
    if job is None:
        return _stats(a, ctx, rng, n)
    jobs = a.namespaces.instances.jobs
    return Call(lambda: jobs.update(job, name=NAMESPACE, id=BUCKET_INSTANCE, action="cancel"))


def _register(a: Any, ctx: Context, rng: random.Random, n: int) -> Call:
    key = rng.choice(sorted(BUCKET_FILES))

    def remember(item: Any) -> None:
        with ctx.lock:
            ctx.bucket_item_ids[key] = item.id

    items = a.namespaces.instances.items
    return Call(
        lambda: items.create_or_update(
            BUCKET_INSTANCE, name=NAMESPACE, key=key, next_action="INDEX"
        ),
        on_success=remember,
    )


def _delete(a: Any, ctx: Context, rng: random.Random, n: int) -> Call:
    with ctx.lock:
        known = sorted(ctx.bucket_item_ids.items())
        key, item = rng.choice(known) if known else (None, None)
        if key is not None:
            del ctx.bucket_item_ids[key]
    if item is None:
        return _register(a, ctx, rng, n)
    items = a.namespaces.instances.items
    return Call(lambda: items.delete(item, name=NAMESPACE, id=BUCKET_INSTANCE))


def _stats(a: Any, ctx: Context, rng: random.Random, n: int) -> Call:
    return Call(lambda: a.namespaces.instances.stats(BUCKET_INSTANCE, name=NAMESPACE))


Operation = Callable[[Any, Context, random.Random, int], Call]
#: name -> (weight, operation). Paginated lists fetch their first page.
OPERATIONS: Final[Mapping[str, tuple[int, Operation]]] = {
    "instance.read": (8, lambda a, c, r, n: Call(lambda: a.namespaces.instances.read(
        BUCKET_INSTANCE, name=NAMESPACE))),
    "instance.list": (5, lambda a, c, r, n: Call(lambda: a.namespaces.instances.list(
        NAMESPACE).first_page())),
    "instance.stats": (6, _stats),
    "search": (12, _search),
    "chat": (7, _chat(stream=False)),
    "chat.stream": (7, _chat(stream=True)),
    "item.download": (7, _download),
    "item.get": (5, _item_get),
    "item.list": (5, lambda a, c, r, n: Call(lambda: a.namespaces.instances.items.list(
        UPLOAD_INSTANCE, name=NAMESPACE, per_page=20).first_page())),
    "job.list": (4, lambda a, c, r, n: Call(lambda: a.namespaces.instances.jobs.list(
        BUCKET_INSTANCE, name=NAMESPACE).first_page())),
    "deadline.stats": (3, _deadline),
    "job.trigger": (2, _trigger),
    "item.upload": (8, _upload),
    "job.cancel": (1, _cancel),
    "namespace.update": (5, lambda a, c, r, n: Call(lambda: a.namespaces.update(
        SOAK_NAMESPACE, description=f"revision {n}"))),
    "item.register": (4, _register),
    "item.delete": (4, _delete),
}  # fmt: skip


def _outcome(error: BaseException | None) -> str:
    if error is None:
        return "ok"
    if isinstance(error, CloudflareError):
        return type(error).__name__
    return f"UNTYPED {type(error).__module__}.{type(error).__name__}"


@dataclasses.dataclass
class Tally:
    """Outcomes per client, memory samples, and the first untyped errors in full."""

    total: int
    outcomes: collections.Counter[tuple[str, str]] = dataclasses.field(
        default_factory=collections.Counter
    )
    per_operation: collections.Counter[tuple[str, str]] = dataclasses.field(
        default_factory=collections.Counter
    )
    untyped: list[str] = dataclasses.field(default_factory=list)
    progress: bool = False
    rss: list[int] = dataclasses.field(default_factory=list)
    peak_sockets: int = 0
    done: int = 0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def record(self, client: str, operation: str, error: BaseException | None, port: int) -> None:
        outcome = _outcome(error)
        with self.lock:
            self.outcomes[client, outcome] += 1
            self.per_operation[operation, outcome] += 1
            if error is not None and outcome.startswith("UNTYPED") and len(self.untyped) < 5:
                self.untyped.append(f"{operation}: {error!r}")
            self.done += 1
            done = self.done
        if self.progress and done % max(1, self.total // 10) == 0:
            print(f"... {done}/{self.total} calls", file=sys.stderr, flush=True)
        if done % max(1, self.total // MEMORY_SAMPLES) == 0:
            gc.collect()
            rss = rss_bytes()
            sockets = resources(port).sockets or 0
            with self.lock:
                if rss is not None:
                    self.rss.append(rss)
                self.peak_sockets = max(self.peak_sockets, sockets)


def _track(ctx: Context, call: Call, outcome: str) -> None:
    if call.tracked is not None:
        kind, name = call.tracked
        with ctx.lock:
            (ctx.triggers if kind == "trigger" else ctx.uploads)[name] = outcome


async def run_async_call(client: AsyncCloudflare, ctx: Context, name: str, n: int) -> Any:
    rng = random.Random(f"{ctx.seed}-{n}")
    call = OPERATIONS[name][1](client.aisearch, ctx, rng, n)
    try:
        result = await call.start()
        if call.finish is not None:
            async with result:
                await getattr(result, call.finish)()
    except BaseException as exc:
        _track(ctx, call, _outcome(exc))
        raise
    _track(ctx, call, "ok")
    if call.on_success is not None:
        call.on_success(result)
    return result


def run_sync_call(client: Cloudflare, ctx: Context, name: str, n: int) -> Any:
    rng = random.Random(f"{ctx.seed}-{n}")
    call = OPERATIONS[name][1](client.aisearch, ctx, rng, n)
    try:
        result = call.start()
        if call.finish is not None:
            with result:
                getattr(result, call.finish)()
    except BaseException as exc:
        _track(ctx, call, _outcome(exc))
        raise
    _track(ctx, call, "ok")
    if call.on_success is not None:
        call.on_success(result)
    return result


def plan(calls: int, seed: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The calls for the async client and for the sync one: (number, operation)."""
    rng = random.Random(seed)
    names = list(OPERATIONS)
    weights = [OPERATIONS[name][0] for name in names]
    chosen = rng.choices(names, weights, k=calls)
    on_async: list[tuple[int, str]] = []
    on_sync: list[tuple[int, str]] = []
    for n, name in enumerate(chosen):
        (on_async if rng.random() < 0.5 else on_sync).append((n, name))
    return on_async, on_sync


# -- setup ------------------------------------------------------------------------------------


async def setup(emu: EmulatorProcess, ctx: Context) -> None:
    """Create the instances and seed them, with faults off; wait for the first sync."""
    bucket = emu.r2_root / BUCKET
    bucket.mkdir(parents=True)
    for key, text in BUCKET_FILES.items():
        (bucket / key).write_text(text + "\n")
    async with client_for(emu) as client:
        ai = client.aisearch
        token = await ai.tokens.create(cf_api_id="soak", cf_api_key="soak-secret", name="soak")
        await ai.namespaces.create(name=SOAK_NAMESPACE)
        instances = ai.namespaces.instances
        await instances.create(
            NAMESPACE, id=BUCKET_INSTANCE, type="r2", source=BUCKET, token_id=token.id
        )
        await instances.create(NAMESPACE, id=UPLOAD_INSTANCE)
        for n in range(3):
            form = {"file": (f"seed-{n}.txt", f"Seed {n}.".encode()), "wait_for_completion": True}
            item = await instances.items.upload(UPLOAD_INSTANCE, name=NAMESPACE, file=form)
            ctx.upload_ids.append(item.id)
        async for job in instances.jobs.list(BUCKET_INSTANCE, name=NAMESPACE):
            await instances.jobs.wait(
                job.id, name=NAMESPACE, id=BUCKET_INSTANCE, poll_interval=0.05, timeout=60
            )
        async for item in instances.items.list(BUCKET_INSTANCE, name=NAMESPACE):
            ctx.bucket_item_ids[item.key] = item.id


def client_for(emu: EmulatorProcess) -> AsyncCloudflare:
    return AsyncCloudflare(
        api_token=emu.api_token,
        account_id=emu.account_id,
        base_url=emu.base_url,
        timeout=CALL_TIMEOUT,
    )


def sync_client_for(emu: EmulatorProcess) -> Cloudflare:
    return Cloudflare(
        api_token=emu.api_token,
        account_id=emu.account_id,
        base_url=emu.base_url,
        timeout=CALL_TIMEOUT,
    )


# -- the run ----------------------------------------------------------------------------------


async def _async_side(
    client: AsyncCloudflare, ctx: Context, tally: Tally, work: list[tuple[int, str]], port: int
) -> None:
    queue = iter(work)

    async def worker() -> None:
        for n, name in queue:
            error: BaseException | None = None
            try:
                await run_async_call(client, ctx, name, n)
            except Exception as exc:
                error = exc
            tally.record("async", name, error, port)

    await asyncio.gather(*(worker() for _ in range(ASYNC_TASKS)))


def _sync_side(
    client: Cloudflare, ctx: Context, tally: Tally, work: list[tuple[int, str]], port: int
) -> list[threading.Thread]:
    queue = iter(work)
    lock = threading.Lock()

    def take() -> Iterator[tuple[int, str]]:
        while True:
            with lock:
                entry = next(queue, None)
            if entry is None:
                return
            yield entry

    def worker() -> None:
        for n, name in take():
            error: BaseException | None = None
            try:
                run_sync_call(client, ctx, name, n)
            except Exception as exc:
                error = exc
            tally.record("sync", name, error, port)

    threads = [
        threading.Thread(target=worker, name=f"soak-sync-{i}", daemon=True)
        for i in range(SYNC_THREADS)
    ]
    for thread in threads:
        thread.start()
    return threads


async def _warm_up(client: AsyncCloudflare, sync_client: Cloudflare, ctx: Context) -> None:
    """Every operation once per client, faults off, so caches are full before measuring."""
    for n, name in enumerate(OPERATIONS, start=-2 * len(OPERATIONS)):
        with contextlib.suppress(CloudflareError):  # e.g. the deadline call's timeout
            await run_async_call(client, ctx, name, n)
        with contextlib.suppress(CloudflareError):
            await asyncio.to_thread(run_sync_call, sync_client, ctx, name, n + len(OPERATIONS))


async def _exercise(emu: EmulatorProcess, ctx: Context, tally: Tally, calls: int) -> None:
    on_async, on_sync = plan(calls, ctx.seed)
    sync_client = sync_client_for(emu)
    try:
        async with client_for(emu) as client:
            await _warm_up(client, sync_client, ctx)
            emu.command("faults", config={**FAULTS, "seed": ctx.seed})
            tally.rss.append(rss_bytes() or 0)
            threads = _sync_side(sync_client, ctx, tally, on_sync, emu.port)
            await _async_side(client, ctx, tally, on_async, emu.port)
            await asyncio.to_thread(_join, threads)
            emu.command("faults", config={})
    finally:
        sync_client.close()


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join()


# -- reconciliation -----------------------------------------------------------------------------


@dataclasses.dataclass
class Reconciled:
    sent: int
    succeeded: int
    applied_once: int
    applied_twice_or_more: int
    succeeded_but_missing: int
    raised_but_applied: int


def reconcile(sent: Mapping[str, str], applied: Mapping[str, int]) -> Reconciled:
    """Compare what the client was told with what the emulator stored, name by name."""
    counts = [applied.get(name, 0) for name in sent]
    outcomes = list(sent.values())
    return Reconciled(
        sent=len(sent),
        succeeded=outcomes.count("ok"),
        applied_once=counts.count(1),
        applied_twice_or_more=sum(1 for c in counts if c > 1),
        succeeded_but_missing=sum(
            1 for o, c in zip(outcomes, counts, strict=True) if o == "ok" and c == 0
        ),
        raised_but_applied=sum(
            1 for o, c in zip(outcomes, counts, strict=True) if o != "ok" and c > 0
        ),
    )


def applied_counts(data_dir: Path) -> tuple[dict[str, int], dict[str, int]]:
    """How many times each job description and each upload key was applied.

    Read from the emulator's SQLite file once it has stopped. A job is a row
    per trigger. An upload overwrites its item, but each one that was applied
    leaves a "queued" entry in the item's log; the upload instance receives
    nothing else that queues an item.
    """
    databases = sorted(data_dir.glob("*.sqlite3"))
    if len(databases) != 1:
        raise RuntimeError(f"expected one SQLite file in the emulator's data dir: {databases}")
    try:
        with contextlib.closing(sqlite3.connect(databases[0])) as db:
            jobs = db.execute(
                "SELECT description, COUNT(*) FROM jobs WHERE description IS NOT NULL"
                " GROUP BY description"
            ).fetchall()
            uploads = db.execute(
                "SELECT l.file_key, COUNT(*) FROM item_logs l JOIN items i ON i.pk = l.item_pk"
                " JOIN instances s ON s.pk = i.instance_pk WHERE s.id = ? AND s.namespace = ?"
                " AND l.action = 'queued' GROUP BY l.file_key",
                (UPLOAD_INSTANCE, NAMESPACE),
            ).fetchall()
    except sqlite3.Error as exc:
        raise RuntimeError(
            f"cannot count applied writes ({exc}): has the emulator's schema changed?"
            " Update applied_counts() in scripts/soak.py."
        ) from exc
    return dict(jobs), dict(uploads)


# -- the report ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Report:
    calls: int
    seed: int
    seconds: float
    tally: Tally
    faults: dict[str, int]
    triggers: Reconciled
    uploads: Reconciled
    before: Resources
    after: Resources
    warnings: list[str]
    checks: dict[str, bool] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        untyped = sum(n for (_, o), n in self.tally.outcomes.items() if o.startswith("UNTYPED"))
        counted = sum(self.tally.outcomes.values())
        succeeded = sum(n for (_, o), n in self.tally.outcomes.items() if o == "ok")
        growth = self.memory_growth
        self.checks = {
            "every call succeeded or raised a typed error": untyped == 0 and counted == self.calls,
            f"at least {MIN_SUCCESS_SHARE:.0%} of calls succeeded": (
                succeeded >= MIN_SUCCESS_SHARE * self.calls
            ),
            "0 duplicated job triggers": self.triggers.applied_twice_or_more == 0,
            "0 duplicated uploads": self.uploads.applied_twice_or_more == 0,
            "0 lost writes (succeeded but not stored)": (
                self.triggers.succeeded_but_missing + self.uploads.succeeded_but_missing == 0
            ),
            "0 leaked file descriptors": _not_more(self.after.descriptors, self.before.descriptors),
            "0 leaked threads": self.after.threads <= self.before.threads,
            "0 leaked connections": _not_more(self.after.sockets, self.before.sockets),
            "0 ResourceWarnings or unraisable errors": not self.warnings,
            "memory flat": growth is None or growth <= MEMORY_TOLERANCE,
        }

    @property
    def memory_quarters(self) -> tuple[int, int] | None:
        samples = self.tally.rss
        if len(samples) < 4 or not all(samples):
            return None
        quarter = len(samples) // 4
        return max(samples[:quarter]), max(samples[-quarter:])

    @property
    def memory_growth(self) -> int | None:
        quarters = self.memory_quarters
        return None if quarters is None else quarters[1] - quarters[0]

    @property
    def passed(self) -> bool:
        return all(self.checks.values())

    def render(self) -> str:
        lines = [
            f"soak: {self.calls} calls, seed {self.seed}, {self.seconds:.1f} s "
            f"({ASYNC_TASKS} async tasks + {SYNC_THREADS} sync threads)",
            "faults injected: "
            + "; ".join(f"{FAULT_NAMES.get(k, k)}: {n}" for k, n in sorted(self.faults.items()))
            + f"; +{FAULTS['latency_ms']:g} ms on every request",
            "",
            f"{'outcome':<34}{'async':>8}{'sync':>8}{'total':>8}",
        ]
        names = sorted({o for _, o in self.tally.outcomes}, key=lambda o: (o != "ok", o))
        for name in names:
            a, s = self.tally.outcomes["async", name], self.tally.outcomes["sync", name]
            lines.append(f"{name:<34}{a:>8}{s:>8}{a + s:>8}")
        lines += ["", f"{'operation':<18}{'calls':>6}{'ok':>6}  errors"]
        for operation in OPERATIONS:
            counts = {o: n for (op, o), n in self.tally.per_operation.items() if op == operation}
            errors = ", ".join(f"{o} {n}" for o, n in sorted(counts.items()) if o != "ok")
            total = sum(counts.values())
            lines.append(f"{operation:<18}{total:>6}{counts.get('ok', 0):>6}  {errors or '-'}")
        lines += ["", f"{'reconciled with the emulator':<34}{'triggers':>10}{'uploads':>10}"]
        for field in dataclasses.fields(Reconciled):
            label = field.name.replace("_", " ")
            t, u = getattr(self.triggers, field.name), getattr(self.uploads, field.name)
            lines.append(f"{label:<34}{t:>10}{u:>10}")
        lines += ["", f"{'this process':<34}{'before':>8}{'after':>8}"]
        for field in dataclasses.fields(Resources):
            before, after = getattr(self.before, field.name), getattr(self.after, field.name)
            lines.append(f"{field.name:<34}{_show(before):>8}{_show(after):>8}")
        lines.append(f"{'peak sockets to the emulator':<34}{'':>8}{self.tally.peak_sockets:>8}")
        quarters = self.memory_quarters
        if quarters is None:
            lines.append("memory: not measured (no /proc/self/statm)")
        else:
            first, last = (q / 2**20 for q in quarters)
            lines.append(
                f"RSS high-water mark, MiB: first quarter {first:.1f}, last quarter {last:.1f}"
                f" (growth {last - first:+.1f}, tolerance {MEMORY_TOLERANCE / 2**20:g})"
            )
        lines.append("")
        lines += [f"[{'PASS' if ok else 'FAIL'}] {name}" for name, ok in self.checks.items()]
        lines += [f"  untyped: {text}" for text in self.tally.untyped]
        lines += [f"  warning: {text}" for text in self.warnings[:5]]
        lines.append(f"RESULT: {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)


def _not_more(after: int | None, before: int | None) -> bool:
    return after is None or before is None or after <= before


def _show(value: int | None) -> str:
    return "n/a" if value is None else str(value)


@contextlib.contextmanager
def _caught_warnings() -> Iterator[list[str]]:
    """Record warnings (ResourceWarning included) and unraisable errors instead of printing."""
    seen: list[str] = []
    previous_hook = sys.unraisablehook

    def unraisable(info: Any) -> None:
        seen.append(f"unraisable {info.exc_type.__name__}: {info.exc_value} in {info.object!r}")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sys.unraisablehook = unraisable
        try:
            yield seen
        finally:
            sys.unraisablehook = previous_hook
            seen.extend(f"{w.category.__name__}: {w.message}" for w in caught)


def run(calls: int = 10_000, seed: int = 1, *, progress: bool = False) -> Report:
    """Start an emulator, run the soak, stop it, reconcile; return the figures."""
    if calls < len(OPERATIONS):
        raise ValueError(f"--calls must be at least {len(OPERATIONS)}, got {calls}")
    ctx = Context(seed=seed)
    tally = Tally(total=calls, progress=progress)
    with tempfile.TemporaryDirectory(prefix="cfaisearch-soak-") as workdir:
        with EmulatorProcess(Path(workdir)) as emu:
            asyncio.run(setup(emu, ctx))
            with _caught_warnings() as seen:
                gc.collect()
                before = resources(emu.port)
                started = time.monotonic()
                asyncio.run(_exercise(emu, ctx, tally, calls))
                seconds = time.monotonic() - started
                gc.collect()
                after = resources(emu.port)
            faults = emu.command("injected")
        applied_jobs, applied_uploads = applied_counts(Path(workdir) / "data")
    for sent, applied in ((ctx.triggers, applied_jobs), (ctx.uploads, applied_uploads)):
        if "ok" in sent.values() and not applied:
            # Successful writes that left no trace: the query, not the SDK, is wrong.
            raise RuntimeError(
                "no applied write found in the emulator's data: has its schema changed?"
                " Update applied_counts() in scripts/soak.py."
            )
    return Report(
        calls=calls,
        seed=seed,
        seconds=seconds,
        tally=tally,
        faults=faults,
        triggers=reconcile(ctx.triggers, applied_jobs),
        uploads=reconcile(ctx.uploads, applied_uploads),
        before=before,
        after=after,
        warnings=seen,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=10_000, help="default %(default)s")
    parser.add_argument("--seed", type=int, default=1, help="default %(default)s")
    parser.add_argument(
        "--max-minutes", type=float, default=15.0, help="abort (and dump stacks) after this long"
    )
    parser.add_argument("--serve-emulator", nargs=2, metavar=("R2_ROOT", "DATA_DIR"), type=Path,
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args(argv)
    if args.serve_emulator:
        return serve_emulator(*args.serve_emulator)
    # A hung call is a failure too: dump every thread's stack and exit non-zero.
    faulthandler.dump_traceback_later(args.max_minutes * 60, exit=True)
    try:
        report = run(args.calls, args.seed, progress=True)
    except ValueError as exc:
        parser.error(str(exc))
    finally:
        faulthandler.cancel_dump_traceback_later()
    print(report.render())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())

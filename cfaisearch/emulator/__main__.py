"""``python -m cfaisearch.emulator``: serve the AI Search emulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import DEFAULT_ACCOUNT_ID, DEFAULT_HOST, DEFAULT_PORT, EmulatorConfig
from .faults import FaultConfig
from .server import AsyncEmulator
from .store import DB_FILENAME
from .vectors import SCORERS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cfaisearch.emulator",
        description="Local emulator of the Cloudflare AI Search REST API.",
    )
    add = parser.add_argument
    add("--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)")
    add(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port, 0 = any free one (default %(default)s)",
    )
    add("--data-dir", type=Path, help="keep state in a SQLite file here (default: in memory)")
    add("--token", help="API token to accept (default: generated, or reused from --data-dir)")
    add("--account-id", default=DEFAULT_ACCOUNT_ID, help="account id (default %(default)s)")
    add("--r2-root", type=Path, help="folder whose sub-folders stand for R2 buckets")
    add("--manual-sync-interval", type=float, default=30.0, help="seconds between user syncs")
    add(
        "--scorer",
        choices=SCORERS,
        default="auto",
        help="vector scorer: semantic needs cfaisearch[semantic]; auto picks it when"
        " installed, else lexical (default %(default)s)",
    )
    add(
        "--search-processes",
        type=int,
        default=min(2, os.cpu_count() or 1),
        metavar="N",
        help="worker processes for searches, 0 = threads of the server (default %(default)s)",
    )
    add("--log-level", default="WARNING", help="Python logging level (default %(default)s)")
    faults = parser.add_argument_group("fault injection (deterministic for a given seed)")
    faults.add_argument("--fault-500-rate", type=float, default=0.0, metavar="P")
    faults.add_argument("--fault-502-rate", type=float, default=0.0, metavar="P", help="HTML pages")
    faults.add_argument("--fault-429-rate", type=float, default=0.0, metavar="P")
    faults.add_argument(
        "--fault-drop-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="connection reset before the request is handled (nothing changes)",
    )
    faults.add_argument(
        "--fault-drop-after-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="request handled (changes stored), then the connection reset instead of answered",
    )
    faults.add_argument("--fault-latency-ms", type=float, default=0.0, metavar="MS")
    faults.add_argument(
        "--fault-retry-after",
        type=int,
        default=1,
        metavar="S",
        help="Retry-After seconds of injected 429s (default %(default)s)",
    )
    faults.add_argument("--fault-seed", type=int, default=0)
    faults.add_argument("--fault-routes", metavar="REGEX", help="only paths matching this regex")
    faults.add_argument("--fault-methods", metavar="M,M", help="only these methods, e.g. GET,POST")
    return parser


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _config(args: argparse.Namespace) -> EmulatorConfig:
    methods = (
        frozenset(m.strip() for m in args.fault_methods.split(",")) if args.fault_methods else None
    )
    faults = FaultConfig(
        error_500_rate=args.fault_500_rate,
        error_502_rate=args.fault_502_rate,
        error_429_rate=args.fault_429_rate,
        drop_rate=args.fault_drop_rate,
        drop_after_rate=args.fault_drop_after_rate,
        retry_after=args.fault_retry_after,
        latency_ms=args.fault_latency_ms,
        seed=args.fault_seed,
        routes=args.fault_routes,
        methods=methods,
    )
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        account_id=args.account_id,
        api_token=args.token,
        data_dir=args.data_dir,
        r2_root=args.r2_root,
        manual_sync_interval=args.manual_sync_interval,
        faults=faults,
        scorer=args.scorer,
        search_processes=args.search_processes,
    )


#: Seconds a thread may hold the GIL while others wait (Python's default is
#: 0.005). Search threads run Python code; a shorter slice lets the event
#: loop and the GET handlers' reader threads in sooner during a search storm.
SWITCH_INTERVAL = 0.0005


async def _serve(config: EmulatorConfig) -> None:
    # Only the CLI process does this: an in-process emulator leaves its host alone.
    sys.setswitchinterval(SWITCH_INTERVAL)
    emulator = AsyncEmulator(config)
    await emulator.start()
    try:
        storage = config.data_dir / DB_FILENAME if config.data_dir else "in memory (lost on exit)"
        print(f"AI Search emulator listening on {emulator.base_url}", flush=True)
        print(f"  account id : {emulator.account_id}")
        print(f"  api token  : {emulator.api_token}")
        print(f"  storage    : {storage}")
        print(f"  r2 root    : {config.r2_root or '(none: R2 instances unavailable)'}")
        print(f"  vectors    : {emulator.scorer_name}")
        print(f"export CLOUDFLARE_BASE_URL={emulator.base_url}")
        print(f"export CLOUDFLARE_API_TOKEN={emulator.api_token}")
        print(f"export CLOUDFLARE_ACCOUNT_ID={emulator.account_id}")
        print("Press Ctrl+C to stop.", flush=True)
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C still works
                loop.add_signal_handler(sig, stopped.set)
        await stopped.wait()
    finally:
        await emulator.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, serve until interrupted; the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        config = _config(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not _is_loopback(config.host):
        print(
            f"WARNING: binding to {config.host} exposes the emulator to your network; it is a"
            " test tool with a shared token and no TLS. Prefer 127.0.0.1.",
            file=sys.stderr,
            flush=True,
        )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(config))
    except ValueError as exc:  # e.g. --scorer semantic without the extra
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

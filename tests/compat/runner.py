"""Run the compat scenarios with one SDK, normalise, compare, and record the golden file.

    python -m tests.compat.runner            # both SDKs live, compared; golden must be current
    python -m tests.compat.runner --record   # rewrite tests/compat/official.json

The official SDK (``cloudflare==5.9.0``) is needed only here; the test suite
compares cfaisearch's observations with the golden file this writes.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import json
import re
import sys
import warnings
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from cfaisearch.emulator import Emulator
from tests.compat.scenarios import SCENARIOS, Run, jsonable

GOLDEN = Path(__file__).with_name("official.json")
FLAVOURS = ("sync", "async")


class Allowed(NamedTuple):
    """A deliberate difference: the observations at ``paths`` may differ.

    ``name`` is the first cell of its row in docs/migrating.md's table.
    """

    name: str
    paths: tuple[str, ...]


# Every entry is a row of docs/migrating.md (tests/compat/test_compat.py checks both ways).
ALLOWED: tuple[Allowed, ...] = (
    Allowed("HTTP library", ("client/base_url",)),
    Allowed("`api_version`", ("client/api_version",)),
    Allowed(
        "Errors",
        (
            "errors/not_found/str",
            "errors/bad_request/str",
            "errors/connection/str",
            "generic/patch/str",
        ),
    ),
    Allowed("Raw responses", ("raw/http_response",)),
    Allowed("Pages", ("pages/iter_pages", "pages/last.next_page_info")),
)


# -- the one normaliser ----------------------------------------------------------------

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
_TIME = re.compile(r"\d{4}-\d\d-\d\d([T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?)?")
_PORT = re.compile(r"127\.0\.0\.1:\d+")


def normalise(value: Any, api_token: str) -> Any:
    """``value`` with what differs run to run replaced by a placeholder.

    Random ids (UUIDs, 32-hex public endpoint ids), dates and timestamps, the
    emulator's port and its per-run API token. Nothing else.
    """
    if isinstance(value, dict):
        return {key: normalise(item, api_token) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item, api_token) for item in value]
    if isinstance(value, str):
        value = value.replace(api_token, "<api-token>")
        value = _UUID.sub("<uuid>", value)
        value = _HEX_ID.sub("<hex-id>", value)
        value = _TIME.sub("<time>", value)
        return _PORT.sub("127.0.0.1:<port>", value)
    return value


# -- running ---------------------------------------------------------------------------


def _run_sync(coroutine: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run a scenario on the sync client: it never suspends, so one step finishes it."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: dict[str, Any] = done.value
        return result
    coroutine.close()
    raise RuntimeError("a scenario suspended on the sync client")


async def _scenario(make: Callable[[], Run], name: str) -> dict[str, Any]:
    run = make()  # in the loop: the async clients are made where they are used
    try:
        observed: dict[str, Any] = jsonable(await SCENARIOS[name](run))
        return observed
    finally:
        await run.close()


def observe(sdk_name: str) -> dict[str, Any]:
    """Every scenario, sync then async, with ``sdk_name`` against a fresh emulator."""
    sdk = importlib.import_module(sdk_name)
    observed: dict[str, Any] = {}
    with Emulator(initial_sync=False, scheduler_enabled=False) as emulator:
        coordinates = (emulator.base_url, emulator.api_token, emulator.account_id)
        for flavour in FLAVOURS:
            for name in SCENARIOS:
                run = functools.partial(Run, sdk, flavour, *coordinates)
                try:
                    if flavour == "sync":
                        result = _run_sync(_scenario(run, name))
                    else:
                        result = asyncio.run(_scenario(run, name))
                except Exception as exc:  # a scenario that breaks is an observation too
                    result = {"raised": f"{type(exc).__name__}: {exc}"}
                observed[f"{flavour}.{name}"] = normalise(result, emulator.api_token)
    return observed


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{path}/{key}" if path else key)
    else:
        yield path, value


def _allowed(path: str) -> Allowed | None:
    # The paths are the same for both flavours: "sync.errors/..." matches "errors/...".
    bare = path.split(".", 1)[1]
    for allowed in ALLOWED:
        if any(bare == p or bare.startswith(p + "/") for p in allowed.paths):
            return allowed
    return None


def differences(official: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """Every leaf where the observations differ and no :data:`ALLOWED` entry covers it."""
    theirs = dict(_leaves(official))
    mine = dict(_leaves(ours))
    found = []
    for path in sorted(theirs.keys() | mine.keys()):
        missing = "<missing>"
        if theirs.get(path, missing) != mine.get(path, missing) and _allowed(path) is None:
            found.append(
                f"{path}: official {theirs.get(path, missing)!r}, "
                f"cfaisearch {mine.get(path, missing)!r}"
            )
    return found


def dump(observed: dict[str, Any]) -> str:
    return json.dumps(observed, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--record", action="store_true", help="rewrite the golden file")
    args = parser.parse_args(argv)
    # The official SDK marks the top-level family with typing_extensions.deprecated:
    # the scenario records those warnings itself.
    warnings.simplefilter("default")
    official = observe("cloudflare")
    ours = observe("cfaisearch")
    failed = False
    if args.record:
        GOLDEN.write_text(dump(official), encoding="utf-8")
        print(f"recorded {len(official)} observations in {GOLDEN.name}")
    elif not GOLDEN.exists() or GOLDEN.read_text(encoding="utf-8") != dump(official):
        print(f"{GOLDEN.name} is stale: run `nox -s compat -- --record`", file=sys.stderr)
        failed = True
    found = differences(official, ours)
    for line in found:
        print(f"DIFF {line}", file=sys.stderr)
    print(f"{len(official)} observations compared, {len(found)} unexplained differences")
    return 1 if failed or found else 0


if __name__ == "__main__":
    sys.exit(main())

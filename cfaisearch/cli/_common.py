"""What every command shares: configuration, the client, output, exit codes and errors."""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import AsyncCloudflare, BaseModel, CloudflareError

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_AUTHENTICATION",
    "EXIT_CODES",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_LOCAL_FILE",
    "EXIT_NOT_FOUND",
    "EXIT_RATE_LIMITED",
    "EXIT_SYNC_FAILED",
    "EXIT_USAGE",
    "EXIT_WAIT_TIMEOUT",
    "INT64",
    "CommandError",
    "Column",
    "FiniteFloat",
    "Glob",
    "Int64",
    "State",
    "call",
    "conceal",
    "concealed",
    "done",
    "err",
    "example",
    "forget_secrets",
    "interactive",
    "jsonable",
    "loads_json",
    "namespace_option",
    "out",
    "output_options",
    "print_json",
    "read_json_file",
    "redact",
    "run_interruptibly",
    "shown",
    "state",
    "stdout_console",
]

EXIT_LOCAL_FILE: Final = 1
EXIT_USAGE: Final = 2
EXIT_NOT_FOUND: Final = 3
EXIT_AUTHENTICATION: Final = 4
EXIT_RATE_LIMITED: Final = 5
EXIT_API_ERROR: Final = 6
EXIT_WAIT_TIMEOUT: Final = 7
EXIT_SYNC_FAILED: Final = 8
EXIT_INTERNAL: Final = 70
EXIT_INTERRUPTED: Final = 130
EXIT_CODES: Final = (
    (0, "success"),
    (EXIT_LOCAL_FILE, "the cli extra is missing, or a local file could not be read or written"),
    (EXIT_USAGE, "usage: a bad option, filter, file or setting, or missing configuration"),
    (EXIT_NOT_FOUND, "the API answered 404 Not Found"),
    (EXIT_AUTHENTICATION, "the API refused the credentials (401 or 403)"),
    (EXIT_RATE_LIMITED, "the API answered 429 Too Many Requests"),
    (EXIT_API_ERROR, "any other API or connection error"),
    (EXIT_WAIT_TIMEOUT, "a wait (--wait, jobs wait) timed out"),
    (EXIT_SYNC_FAILED, "sync finished, but some files failed"),
    (EXIT_INTERNAL, "an unexpected error in cfaisearch itself (a bug: please report it)"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C); nothing is cancelled on the server"),
)
"""(code, meaning): the table of the top-level help and docs/cli.md."""

_T = TypeVar("_T")
_F = TypeVar("_F", bound=Callable[..., Any])


class CommandError(Exception):
    """A failure the command reports in one line, exiting with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# -- what is shown: secrets redacted, terminal controls escaped ----------------------------

# Credentials this run knows (configured or given): never printed, whatever echoes them.
_secrets: list[str] = []
# Shorter "secrets" would blank out ordinary words of the output.
_MIN_SECRET: Final = 4
_REDACTED: Final = "***"
# C0 but newline and tab, DEL, C1 (terminal controls) and lone surrogates (undecodable bytes).
_UNSHOWABLE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# What JSON output must escape beyond json.dumps: C1 controls and lone surrogates.
_JSON_UNSAFE: Final = re.compile("[\x7f-\x9f\ud800-\udfff]")


def conceal(secret: str | None) -> None:
    """Redact ``secret`` from everything printed from now on (this run)."""
    if secret and len(secret) >= _MIN_SECRET and secret not in _secrets:
        _secrets.append(secret)
        _secrets.sort(key=len, reverse=True)  # a secret holding another goes first


def concealed() -> tuple[str, ...]:
    return tuple(_secrets)


def forget_secrets() -> None:
    _secrets.clear()


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, _REDACTED)
    return text


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte the file system name could not decode
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def shown(value: object) -> str:
    """``value`` as text safe for a terminal: secrets redacted, controls escaped (``\\x1b``).

    Newlines and tabs stay; everything the server or the user wrote goes through here.
    """
    return _UNSHOWABLE.sub(_escape, redact("" if value is None else str(value)))


@dataclass
class State:
    """The root options, shared by every command through click's context."""

    account_id: str | None = None
    api_token: str | None = None
    base_url: str | None = None
    json: bool = False
    debug: bool = False

    def client_options(self) -> dict[str, Any]:
        """Keywords of the client, or a CommandError naming the flag and variable missing."""
        account_id = self.account_id or os.environ.get("CLOUDFLARE_ACCOUNT_ID") or None
        if account_id is None:
            raise CommandError("no account id: pass --account-id or set CLOUDFLARE_ACCOUNT_ID")
        api_token = self.api_token or os.environ.get("CLOUDFLARE_API_TOKEN") or None
        conceal(api_token)
        other_credentials = os.environ.get("CLOUDFLARE_API_KEY") or os.environ.get(
            "CLOUDFLARE_API_USER_SERVICE_KEY"
        )
        if api_token is None and not other_credentials:
            raise CommandError("no API token: pass --api-token or set CLOUDFLARE_API_TOKEN")
        options: dict[str, Any] = {"account_id": account_id, "api_token": api_token}
        if self.base_url:
            options["base_url"] = self.base_url
        if self.debug:
            from ._debug import debug_hooks

            options["event_hooks"] = debug_hooks()
        return options


INT64: Final = (-(2**63), 2**64 - 1)
"""The integers JSON requests can carry (what the SDK's encoder accepts)."""


def _check_number(value: object) -> str | None:
    """Why ``value`` cannot go into a request, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        return f"{value} does not fit in 64 bits"
    return None


class Int64(click.types.IntParamType):
    """An integer option; one beyond 64 bits is a usage error, not an encoder crash."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        problem = _check_number(number)
        if problem:
            self.fail(problem, param, ctx)
        return number


class FiniteFloat(click.types.FloatParamType):
    """A number option refusing nan and inf (``sleep(nan)`` never ends), above ``minimum``."""

    def __init__(self, minimum: float | None = None) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        problem = _check_number(number)
        if problem:
            self.fail(problem, param, ctx)
        if self.minimum is not None and not number > self.minimum:
            self.fail(f"{number} is not above {self.minimum:g}", param, ctx)
        return number


class Glob(click.types.StringParamType):
    """A pattern matched here, never sent: any bytes are fine (to exclude a non-UTF-8 name)."""

    name = "glob"


def _json_number(text: str) -> Any:
    number = json.loads(text)
    problem = _check_number(number)
    if problem:
        raise ValueError(problem)
    return number


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


def loads_json(text: str) -> Any:
    """JSON read from the user; ValueError for numbers a request cannot carry (NaN, 2**64)."""
    return json.loads(
        text, parse_int=_json_number, parse_float=_json_number, parse_constant=_json_constant
    )


def state() -> State:
    return click.get_current_context().ensure_object(State)


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).json = True


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).debug = True


def output_options(function: _F) -> _F:
    """``--json`` and ``--debug`` on a command, as well as before it (``cfaisearch --json ...``)."""
    function = click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        callback=_set_debug,
        help="Show each HTTP request and response on stderr (credentials redacted).",
    )(function)
    return click.option(
        "--json",
        "json_output",
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        help="Print the API objects as JSON (JSON Lines for streams), nothing else on stdout.",
    )(function)


def namespace_option(function: _F) -> _F:
    return click.option(
        "-n",
        "--namespace",
        default="default",
        show_default=True,
        help="The namespace of the instance.",
    )(function)


def example(*lines: str) -> Callable[[_F], _F]:
    """Append an example to a command's help (kept as written: ``\\b`` stops rewrapping)."""

    def add(function: _F) -> _F:
        block = "\n".join(f"  {line}" for line in lines)
        function.__doc__ = f"{(function.__doc__ or '').rstrip()}\n\nExample:\n\n\b\n{block}\n"
        return function

    return add


def run_interruptibly(main: Coroutine[Any, Any, _T]) -> _T:
    """Run ``main`` on a new event loop; Ctrl-C cancels it, then raises KeyboardInterrupt.

    Unlike ``asyncio.run``, whose SIGINT handler cancels the task from inside the
    signal handler, that is between any two bytecodes, often halfway through one of
    the loop's callbacks: a future it cancels there is then set by the callback
    (InvalidStateError), which breaks aiohttp's connection or asyncio's timer on
    the way out. Here the signal only wakes the loop, which cancels the task
    between callbacks. A second Ctrl-C cancels the cleanup too.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    interrupted = False
    try:
        task = loop.create_task(main)

        def interrupt() -> None:
            nonlocal interrupted
            interrupted = True
            task.cancel()

        # Signals are the main thread's; a caller's own SIGINT handler stays in charge.
        handled = (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
        if handled:
            try:
                loop.add_signal_handler(signal.SIGINT, interrupt)
            except NotImplementedError:  # pragma: no cover - Windows: KeyboardInterrupt as is
                handled = False
        try:
            return loop.run_until_complete(task)
        except asyncio.CancelledError:
            if interrupted:
                raise KeyboardInterrupt from None
            raise
        finally:
            if handled:
                loop.remove_signal_handler(signal.SIGINT)  # back to default_int_handler
    finally:
        try:
            _finish(loop)
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _finish(loop: asyncio.AbstractEventLoop) -> None:
    """As ``asyncio.run`` ends: cancel leftover tasks, close async generators and executor."""
    leftover = asyncio.all_tasks(loop)
    for task in leftover:
        task.cancel()
    if leftover:
        loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())


def call(work: Callable[[AsyncCloudflare], Awaitable[_T]]) -> _T:
    """Run ``work`` with a client built from the root options, on a new event loop."""
    options = state().client_options()

    async def with_client() -> _T:
        async with AsyncCloudflare(**options) as client:
            return await work(client)

    try:
        return run_interruptibly(with_client())
    except CloudflareError:
        raise
    except ValueError as exc:
        # The SDK checks its arguments before sending: a ValueError is bad input (exit 2).
        # Any other error (TypeError, a ValueError in rendering) is not a usage error.
        raise CommandError(str(exc), EXIT_USAGE) from None


# -- output ------------------------------------------------------------------------------


class _Console(Console):
    """Text is shown as it is (no markup, no emoji codes); a closed pipe is left to the root."""

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **options)

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def err() -> Console:
    """Messages and progress: stderr, so stdout holds only results."""
    return _Console(stderr=True)


# Width of tables written to a file or pipe (a terminal's own width is used as it is).
_PIPE_WIDTH: Final = 160


def stdout_console() -> Console:
    width = None if sys.stdout.isatty() else _PIPE_WIDTH
    return _Console(file=sys.stdout, soft_wrap=False, width=width)


def jsonable(value: object) -> object:
    """API objects (and lists, dicts of them) as JSON-ready values."""
    if isinstance(value, BaseModel):
        return value.to_dict(mode="json")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _redacted(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def print_json(value: object, *, indent: int | None = 2) -> None:
    """One JSON document (``indent=None``: one JSON Lines line) on stdout."""
    text = json.dumps(_redacted(jsonable(value)), indent=indent, ensure_ascii=False)
    # These can only be inside strings; escaped, the output is valid UTF-8 and inert.
    target = sys.stdout
    target.write(_JSON_UNSAFE.sub(_json_escape, text) + "\n")
    target.flush()


def _cell(value: object) -> Text:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return Text(shown(value))


@dataclass(frozen=True)
class Column:
    """A table column: its title and the (JSON) field it shows."""

    title: str
    field: str


def out(
    value: object,
    columns: Sequence[Column] = (),
    *,
    title: str | None = None,
) -> None:
    """Print ``value``: JSON with ``--json``; else a table (a list) or fields (one object)."""
    if state().json:
        print_json(value)
        return
    data = jsonable(value)
    console = stdout_console()
    if isinstance(data, list):
        table = Table(title=title)
        for number, column in enumerate(columns):
            # The first column (an id or a key) is never cut: it is what people copy.
            table.add_column(column.title, overflow="fold", no_wrap=number == 0)
        for row in data:
            fields = row if isinstance(row, dict) else {}
            table.add_row(*(_cell(fields.get(c.field)) for c in columns))
        console.print(table)
        if not data:
            err().print("(none)")
        return
    if isinstance(data, dict):
        table = Table(title=title, show_header=False)
        table.add_column("field", no_wrap=True)
        table.add_column("value", overflow="fold")
        for key, field_value in data.items():
            table.add_row(_cell(key), _cell(field_value))
        console.print(table)
        return
    console.print(_cell(data))


def done(value: object, message: str) -> None:
    """``value`` as JSON with ``--json``; else just ``message``, for a change worth no table."""
    if state().json:
        print_json(value)
    else:
        stdout_console().print(Text(shown(message)))


def interactive() -> bool:
    """Whether progress bars are wanted: stdout and stderr are terminals, and not ``--json``."""
    return not state().json and sys.stdout.isatty() and sys.stderr.isatty()


def read_json_file(path: str, option: str) -> Any:
    """The JSON in ``path`` (``-`` = stdin); a CommandError naming ``option`` otherwise."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as file:
                text = file.read()
    except OSError as exc:
        raise CommandError(f"{option}: cannot read {path}: {exc.strerror or exc}") from None
    try:
        return loads_json(text)
    except ValueError as exc:
        raise CommandError(f"{option}: {path} is not JSON: {exc}") from None

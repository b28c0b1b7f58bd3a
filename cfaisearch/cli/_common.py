"""What every command shares: configuration, the client, output, exit codes and errors."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import click
from rich.console import Console
from rich.table import Table

from .. import AsyncCloudflare, BaseModel

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_AUTHENTICATION",
    "EXIT_CODES",
    "EXIT_INTERRUPTED",
    "EXIT_LOCAL_FILE",
    "EXIT_NOT_FOUND",
    "EXIT_RATE_LIMITED",
    "EXIT_SYNC_FAILED",
    "EXIT_USAGE",
    "EXIT_WAIT_TIMEOUT",
    "CommandError",
    "Column",
    "State",
    "call",
    "done",
    "err",
    "example",
    "interactive",
    "jsonable",
    "namespace_option",
    "out",
    "output_options",
    "print_json",
    "read_json_file",
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


def call(work: Callable[[AsyncCloudflare], Awaitable[_T]]) -> _T:
    """Run ``work`` with a client built from the root options, on a new event loop."""
    options = state().client_options()

    async def with_client() -> _T:
        async with AsyncCloudflare(**options) as client:
            return await work(client)

    return asyncio.run(with_client())


# -- output ------------------------------------------------------------------------------


def err() -> Console:
    """Messages and progress: stderr, so stdout holds only results."""
    return Console(stderr=True, highlight=False)


# Width of tables written to a file or pipe (a terminal's own width is used as it is).
_PIPE_WIDTH: Final = 160


def stdout_console() -> Console:
    width = None if sys.stdout.isatty() else _PIPE_WIDTH
    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=width)


def jsonable(value: object) -> object:
    """API objects (and lists, dicts of them) as JSON-ready values."""
    if isinstance(value, BaseModel):
        return value.to_dict(mode="json")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def print_json(value: object, *, indent: int | None = 2) -> None:
    """One JSON document (``indent=None``: one JSON Lines line) on stdout."""
    target = sys.stdout
    target.write(json.dumps(jsonable(value), indent=indent, ensure_ascii=False) + "\n")
    target.flush()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


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
            table.add_row(key, _cell(field_value))
        console.print(table)
        return
    console.print(_cell(data))


def done(value: object, message: str) -> None:
    """``value`` as JSON with ``--json``; else just ``message``, for a change worth no table."""
    if state().json:
        print_json(value)
    else:
        stdout_console().print(message, markup=False)


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
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{option}: {path} is not JSON: {exc}") from None

"""The ``cfaisearch`` command group: root options, the commands, errors as exit codes."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import Any, Final, NoReturn

import click

from .. import (
    APIError,
    AuthenticationError,
    CloudflareError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    WaitTimeoutError,
    __version__,
)
from . import extras, instances, items, jobs, namespaces, search, sync, tokens
from ._common import (
    EXIT_API_ERROR,
    EXIT_AUTHENTICATION,
    EXIT_CODES,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_LOCAL_FILE,
    EXIT_NOT_FOUND,
    EXIT_RATE_LIMITED,
    EXIT_USAGE,
    EXIT_WAIT_TIMEOUT,
    CommandError,
    State,
    conceal,
    forget_secrets,
    output_options,
    shown,
)

__all__ = ["cli", "exit_code", "run"]


def exit_code(error: CloudflareError) -> int:
    """The exit status for an error of the SDK."""
    if isinstance(error, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return EXIT_AUTHENTICATION
    if isinstance(error, RateLimitError):
        return EXIT_RATE_LIMITED
    if isinstance(error, WaitTimeoutError):
        return EXIT_WAIT_TIMEOUT
    if isinstance(error, APIError):
        return EXIT_API_ERROR
    # ConfigurationError: bad input.
    return EXIT_USAGE


def _fail(message: str, code: int) -> NoReturn:
    # One line, whatever the message holds; secrets redacted, terminal controls escaped.
    click.echo(f"error: {' '.join(shown(message).split())}", err=True)
    raise click.exceptions.Exit(code)


def _usage(error: click.UsageError) -> NoReturn:
    if isinstance(error, getattr(click.exceptions, "NoArgsIsHelpError", ())):
        raise error  # a group without a command (click >= 8.2): its help, as click shows it
    where = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
    _fail(f"{error.format_message()}{where}", EXIT_USAGE)


# The credentials the client reads from the environment: redacted wherever they appear.
_SECRET_VARIABLES: Final = (
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_API_KEY",
    "CLOUDFLARE_EMAIL",
    "CLOUDFLARE_API_USER_SERVICE_KEY",
    "CFAISEARCH_CF_API_KEY",
)


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {' '.join(shown(record.getMessage()).split())}"


@contextlib.contextmanager
def _session(root: State) -> Iterator[None]:
    """One run's secrets, and the SDK's log: with --debug one line a record, else silent.

    Silent by default: the table already shows what a tolerantly decoded response held,
    and a warning per record would bury the one line an error is.
    """
    conceal(root.api_token)
    for variable in _SECRET_VARIABLES:
        conceal(os.environ.get(variable))
    logger = logging.getLogger("cfaisearch")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    handler: logging.Handler = logging.NullHandler()
    if root.debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_OneLine())
    # Warnings only: the SDK's debug records repeat what --debug's hooks already show.
    logger.setLevel(logging.WARNING)
    logger.handlers = [handler]
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers, logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])
        forget_secrets()


def _quiet_stdout() -> None:
    """After a broken pipe: send what is left (and the interpreter's flush) nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test's capture): nothing to silence
        pass


class _Root(click.Group):
    """Turns errors into one line on stderr and an exit status, never a traceback."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:  # a bad root option
            _usage(error)

    def invoke(self, ctx: click.Context) -> Any:
        root = ctx.ensure_object(State)
        with _session(root):
            return self._invoke(ctx, root)

    def _invoke(self, ctx: click.Context, root: State) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.UsageError as error:
            _usage(error)
        except click.Abort:  # Ctrl-C (or end of input) at a prompt
            click.echo("aborted; nothing was sent", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except CommandError as error:
            _fail(str(error), error.exit_code)
        except CloudflareError as error:
            _fail(str(error), exit_code(error))
        except BrokenPipeError:
            # The reader stopped reading (`| head`): what it wanted was written.
            _quiet_stdout()
            raise click.exceptions.Exit(0) from None
        except OSError as error:  # a local file (the SDK wraps its network errors)
            where = f" ({error.filename})" if error.filename else ""
            _fail(f"{error.strerror or error}{where}", EXIT_LOCAL_FILE)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was cancelled on the server", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except Exception as error:
            if root.debug:
                click.echo(shown(traceback.format_exc()), err=True, nl=False)
            _fail(f"unexpected {type(error).__name__}: {error}", EXIT_INTERNAL)


_EPILOG = "Exit codes:\n\n\b\n" + "\n".join(
    f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES
)


@click.group(cls=_Root, epilog=_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--account-id",
    metavar="ID",
    help="Cloudflare account id [default: $CLOUDFLARE_ACCOUNT_ID].",
)
@click.option(
    "--api-token",
    metavar="TOKEN",
    help="API token [default: $CLOUDFLARE_API_TOKEN]. Never printed.",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="API base URL, e.g. a local emulator's [default: $CLOUDFLARE_BASE_URL, else Cloudflare].",
)
@output_options
@click.version_option(__version__, prog_name="cfaisearch")
@click.pass_context
def cli(
    ctx: click.Context,
    account_id: str | None,
    api_token: str | None,
    base_url: str | None,
) -> None:
    """Manage and query Cloudflare AI Search from the command line.

    Configuration is read from the options below or the same environment variables
    as the library. Start with `cfaisearch emulator` for a local API, or `cfaisearch demo`.

    Example:

    \b
      cfaisearch emulator --port 8787 &
      cfaisearch sync ./docs my-docs
      cfaisearch chat my-docs "How do retries work?"
    """
    found = ctx.ensure_object(State)
    found.account_id = account_id
    found.api_token = api_token
    found.base_url = base_url


for group in (instances.group, namespaces.group, jobs.group, items.group, tokens.group):
    cli.add_command(group)
for command in (sync.sync, search.search, search.chat, extras.emulator, extras.demo):
    cli.add_command(command)


class _Utf8Text(click.types.StringParamType):
    """Text that goes to the API: an undecodable byte in argv is a usage error naming it."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = super().convert(value, param, ctx)
        if isinstance(text, str) and any("\ud800" <= char <= "\udfff" for char in text):
            self.fail(f"{shown(text)!s} is not valid UTF-8", param, ctx)
        return text


def _text_parameters(command: click.Command) -> None:
    # Paths (click.Path) and globs keep their bytes: only plain text, which is sent, is checked.
    for parameter in command.params:
        if type(parameter.type) is click.types.StringParamType:
            parameter.type = _Utf8Text()
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _text_parameters(sub)


_text_parameters(cli)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status."""
    try:
        cli.main(args=None if argv is None else list(argv), prog_name="cfaisearch")
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0

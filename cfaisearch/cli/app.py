"""The ``cfaisearch`` command group: root options, the commands, errors as exit codes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

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
    EXIT_INTERRUPTED,
    EXIT_LOCAL_FILE,
    EXIT_NOT_FOUND,
    EXIT_RATE_LIMITED,
    EXIT_USAGE,
    EXIT_WAIT_TIMEOUT,
    CommandError,
    State,
    output_options,
)

__all__ = ["cli", "exit_code", "run"]


def exit_code(error: CloudflareError | ValueError) -> int:
    """The exit status for an error of the SDK (or a ValueError it raised on bad input)."""
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
    # ConfigurationError and the SDK's checks of arguments (ValueError): bad input.
    return EXIT_USAGE


def _fail(ctx: click.Context, message: str, code: int) -> NoReturn:
    # One line, whatever the message holds: the SDK's messages never carry a credential.
    click.echo(f"error: {' '.join(message.split())}", err=True)
    ctx.exit(code)


class _Root(click.Group):
    """Turns errors into one line on stderr and an exit status, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CommandError as error:
            _fail(ctx, str(error), error.exit_code)
        except (CloudflareError, ValueError) as error:
            _fail(ctx, str(error), exit_code(error))
        except OSError as error:  # a local file (the SDK wraps its network errors)
            where = f" ({error.filename})" if error.filename else ""
            _fail(ctx, f"{error.strerror or error}{where}", EXIT_LOCAL_FILE)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was cancelled on the server", err=True)
            ctx.exit(EXIT_INTERRUPTED)


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


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status."""
    try:
        cli.main(args=None if argv is None else list(argv), prog_name="cfaisearch")
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0

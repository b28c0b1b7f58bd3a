"""``cfaisearch emulator`` and ``cfaisearch demo``: the bundled local API and its tour."""

from __future__ import annotations

from typing import Final, NoReturn

import click

from ._common import CommandError, example

__all__ = ["demo", "emulator"]

_MAX_PORT: Final = 65535


def _refuse(message: str) -> NoReturn:
    raise CommandError(message)


class _EmulatorCommand(click.Command):
    """Its options are the emulator's own (``python -m cfaisearch.emulator``): help lists them."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from ..emulator.__main__ import _parser

        parser = _parser()
        parser.prog = "cfaisearch emulator"
        formatter.write_paragraph()
        formatter.write(parser.format_help())


@click.command(
    "emulator",
    cls=_EmulatorCommand,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
@example(
    "cfaisearch emulator --port 8787 --data-dir ./emulator-state",
    "export CLOUDFLARE_BASE_URL=http://127.0.0.1:8787/client/v4  # as it prints",
)
@click.pass_context
def emulator(ctx: click.Context, arguments: tuple[str, ...]) -> None:
    """Run the bundled AI Search emulator until Ctrl-C (all options below are passed on)."""
    from ..emulator.__main__ import _parser, main

    parser = _parser()
    parser.prog = "cfaisearch emulator"
    parser.error = _refuse  # type: ignore[method-assign]  # one line, as every CLI error
    port = parser.parse_args(list(arguments)).port
    if not 0 <= port <= _MAX_PORT:
        raise CommandError(f"--port: {port} is not a port (0 to {_MAX_PORT})")

    ctx.exit(main(list(arguments)))


@click.command("demo")
@example("cfaisearch demo")
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Index, search and chat over a bundled corpus in an in-process emulator (offline)."""
    from ..demo.__main__ import main

    ctx.exit(main([]))

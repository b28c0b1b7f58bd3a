"""``--debug``: each HTTP attempt on stderr, through the client's ``event_hooks``.

The events never carry credentials (the client redacts them before hooks
see them), so they can be printed as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from .. import RequestEvent, ResponseEvent
from ._common import shown

__all__ = ["debug_hooks"]


def _line(text: str) -> None:
    # The client redacts credentials; shown() also redacts what a server echoes in a URL.
    click.echo(shown(text).replace("\n", "\\n"), err=True)


def _headers(prefix: str, headers: Mapping[str, str]) -> None:
    for name, value in headers.items():
        _line(f"{prefix}   {name}: {value}")


def _on_request(event: RequestEvent) -> None:
    operation = f" [{event.operation}]" if event.operation else ""
    _line(f"> {event.method} {event.url} (attempt {event.attempt}){operation}")
    _headers(">", event.headers)


def _on_response(event: ResponseEvent) -> None:
    took = f"{event.elapsed:.3f}s"
    if event.status_code is None:
        _line(f"< {event.method} {event.url}: no response ({event.error}) after {took}")
        return
    ray = f" cf-ray {event.cf_ray}" if event.cf_ray else ""
    _line(f"< {event.status_code} {event.method} {event.url} in {took}{ray}")
    _headers("<", event.headers)


def debug_hooks() -> dict[str, list[Callable[[Any], object]]]:
    """The ``event_hooks`` of a client that shows its HTTP exchange on stderr."""
    return {"request": [_on_request], "response": [_on_response]}

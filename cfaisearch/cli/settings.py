"""Options made from the one declaration of instance settings (``types/params.py``).

Each key of ``_InstanceCreateSettings`` / ``_InstanceUpdateSettings`` becomes an
option: booleans a ``--x/--no-x`` pair, numbers and strings typed options,
literals a choice, and nested settings (objects, lists) a JSON value. A setting
added to the declaration appears here without a change.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import click

from ..types import params
from ._common import CommandError, FiniteFloat, Int64, loads_json, read_json_file

__all__ = ["CREATE_SETTINGS", "UPDATE_SETTINGS", "settings_from", "settings_options"]

_F = TypeVar("_F", bound=Callable[..., Any])

CREATE_SETTINGS: dict[str, Any] = typing.get_type_hints(params._InstanceCreateSettings)
UPDATE_SETTINGS: dict[str, Any] = typing.get_type_hints(params._InstanceUpdateSettings)


class _JSONValue(click.ParamType):  # type: ignore[type-arg]  # generic in newer click only
    """A JSON value written on the command line, e.g. ``'{"keyword": true, "vector": true}'``."""

    name = "json"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return loads_json(value)
        except ValueError as exc:
            self.fail(f"{value!r} is not JSON: {exc}", param, ctx)


class _LiteralChoice(click.Choice):  # type: ignore[type-arg]  # generic in newer click only
    """A choice among a Literal's values, given back as they are (``1800``, not ``"1800"``)."""

    def __init__(self, values: tuple[Any, ...]) -> None:
        super().__init__([str(v) for v in values])
        self._values = {str(v): v for v in values}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return self._values[super().convert(value, param, ctx)]


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _option(name: str, annotation: Any) -> Callable[[_F], _F]:
    flag = "--" + name.replace("_", "-")
    kind = _without_none(annotation)
    described = f"The instance's `{name}` setting."
    if kind is bool:
        return click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=described)
    if kind is int:
        return click.option(flag, name, type=Int64(), help=described)
    if kind is float:
        return click.option(flag, name, type=FiniteFloat(), help=described)
    if kind is str:
        return click.option(flag, name, type=str, help=described)
    if get_origin(kind) is Literal:
        return click.option(flag, name, type=_LiteralChoice(get_args(kind)), help=described)
    return click.option(flag, name, type=_JSONValue(), metavar="JSON", help=described + " (JSON)")


def settings_options(settings: Mapping[str, Any]) -> Callable[[_F], _F]:
    """Decorate a command with an option per setting, plus ``--json-body``."""

    def add(function: _F) -> _F:
        for name in sorted(settings, reverse=True):  # click lists them in the order added
            function = _option(name, settings[name])(function)
        return click.option(
            "--json-body",
            metavar="FILE|-",
            type=click.Path(allow_dash=True),
            help="A JSON object of settings (from a file, or - for stdin); options win over it.",
        )(function)

    return add


def settings_from(
    given: Mapping[str, Any], json_body: str | None, settings: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the keywords for the SDK call, the rest of ``--json-body`` for ``extra_body``)."""
    keywords: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if json_body is not None:
        body = read_json_file(json_body, "--json-body")
        if not isinstance(body, dict):
            raise CommandError("--json-body: expected a JSON object")
        for key, value in body.items():
            (keywords if key in settings else extra)[key] = value
    keywords.update({k: v for k, v in given.items() if k in settings and v is not None})
    return keywords, extra

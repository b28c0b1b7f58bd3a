"""The one cattrs converter that turns decoded JSON into attrs models.

Production decoding is lenient (unknown keys ignored, unknown enum values kept
as their raw value) so a new API field never breaks a deployed client. The
strict variant rejects both, and tests use it so fixtures catch schema drift.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override
from cattrs.strategies import configure_union_passthrough

from ._wire import MODEL_NAMES

__all__ = ["converter", "make_converter", "parse_datetime"]


def parse_datetime(value: object) -> datetime:
    """Parse the API's timestamps: RFC 3339 with ``Z``, or ``YYYY-MM-DD HH:MM:SS``."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a datetime string, got {type(value).__name__}")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    parsed = datetime.fromisoformat(text)
    # A zone-less stamp from the API is UTC; an aware datetime compares safely.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _is_literal(tp: Any) -> bool:
    return typing.get_origin(tp) is typing.Literal


def _literal_hook(strict: bool) -> Callable[[Any, Any], Any]:
    def structure(value: Any, tp: Any) -> Any:
        if value in typing.get_args(tp) or (not strict and isinstance(value, (str, int))):
            return value
        raise ValueError(f"{value!r} is not one of {typing.get_args(tp)!r}")

    return structure


def make_converter(*, strict: bool = False) -> cattrs.Converter:
    """Build a converter; ``strict`` rejects unknown keys and enum values."""
    conv = cattrs.Converter(forbid_extra_keys=strict)
    conv.register_structure_hook(datetime, lambda value, _: parse_datetime(value))
    conv.register_structure_hook_func(_is_literal, _literal_hook(strict))
    # Unions of JSON scalars (``str | float | bool`` metadata values, ``str |
    # list[Part] | None`` message content) are checked and passed through; any
    # other member (the list) is structured as usual.
    configure_union_passthrough(str | int | float | bool | None, conv)

    def attrs_hook_factory(cls: type[Any]) -> Callable[[Any, Any], Any]:
        renames = MODEL_NAMES.get(cls.__name__, {})
        overrides = {attr: override(rename=wire) for attr, wire in renames.items()}
        fn: Callable[[Any, Any], Any] = make_dict_structure_fn(
            cls,
            conv,
            _cattrs_forbid_extra_keys=strict,
            **overrides,  # type: ignore[arg-type]
        )
        return fn

    conv.register_structure_hook_factory(attrs.has, attrs_hook_factory)
    return conv


converter = make_converter()

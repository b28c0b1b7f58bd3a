"""The one cattrs converter that turns decoded JSON into attrs models.

Production decoding is lenient (unknown keys ignored, unknown enum values kept
as their raw value) so a new API field never breaks a deployed client. The
strict variant rejects both, and tests use it so fixtures catch schema drift.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Final

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override
from cattrs.strategies import configure_union_passthrough

from ._exceptions import ShapeError
from ._wire import MODEL_NAMES

__all__ = ["converter", "make_converter", "parse_datetime", "structure"]


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


def _literal_hook_factory(strict: bool) -> Callable[[Any], Callable[[Any, Any], Any]]:
    def factory(tp: Any) -> Callable[[Any, Any], Any]:
        allowed = frozenset(typing.get_args(tp))

        def structure(value: Any, _: Any) -> Any:
            if value in allowed or (not strict and isinstance(value, (str, int))):
                return value
            raise ValueError(f"{value!r} is not one of {sorted(allowed, key=repr)!r}")

        return structure

    return factory


_SCALARS: Final = (str, int, float, bool)


def _optional_inner(tp: Any) -> Any:
    """``X`` for ``X | None`` (one non-None member), else None."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    return args[0] if len(args) == 1 and len(typing.get_args(tp)) == 2 else None


def _scalar_hook(kind: type) -> Callable[[Any, Any], Any]:
    # JSON already delivers the right Python type almost always; convert only if not.
    def structure(value: Any, _: Any) -> Any:
        return value if type(value) is kind else kind(value)

    return structure


def make_converter(*, strict: bool = False) -> cattrs.Converter:
    """Build a converter; ``strict`` rejects unknown keys and enum values."""
    conv = cattrs.Converter(forbid_extra_keys=strict)
    conv.register_structure_hook(datetime, lambda value, _: parse_datetime(value))
    for kind in _SCALARS:
        conv.register_structure_hook(kind, _scalar_hook(kind))
    conv.register_structure_hook_factory(_is_literal, _literal_hook_factory(strict))

    def optional_hook_factory(tp: Any) -> Callable[[Any, Any], Any]:
        # Resolve the inner hook once, instead of dispatching on every value.
        inner = _optional_inner(tp)
        hook = conv.get_structure_hook(inner)

        def structure(value: Any, _: Any) -> Any:
            return None if value is None else hook(value, inner)

        return structure

    conv.register_structure_hook_factory(
        lambda tp: _optional_inner(tp) is not None, optional_hook_factory
    )
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


def structure(data: Any, model: Any) -> Any:
    """``converter.structure``, with every decoding failure as one :class:`ShapeError`."""
    try:
        return converter.structure(data, model)
    except cattrs.BaseValidationError as exc:
        raise ShapeError("; ".join(cattrs.transform_error(exc))) from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise ShapeError(str(exc)) from exc

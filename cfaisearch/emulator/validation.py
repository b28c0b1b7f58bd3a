"""Small type checkers for JSON bodies and query strings.

Each checker returns the value with a precise type or raises a 400 naming the
field, so handlers read like a schema and unknown keys are simply ignored
(as the real API does).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar, cast

from .errors import invalid

T = TypeVar("T")


def as_str(
    value: object,
    field: str,
    *,
    min_len: int = 0,
    max_len: int | None = None,
    pattern: re.Pattern[str] | None = None,
) -> str:
    if not isinstance(value, str):
        raise invalid(field, "must be a string")
    if len(value) < min_len:
        raise invalid(field, "must not be empty" if min_len == 1 else f"needs {min_len}+ chars")
    if max_len is not None and len(value) > max_len:
        raise invalid(field, f"must be at most {max_len} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise invalid(field, f"must match {pattern.pattern}")
    return value


def as_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(field, "must be a boolean")
    return value


def as_int(value: object, field: str, *, lo: int | None = None, hi: int | None = None) -> int:
    # JSON has one number type; accept 10.0 but refuse booleans and fractions.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(field, "must be an integer")
    if isinstance(value, float) and not value.is_integer():
        raise invalid(field, "must be an integer")
    number = int(value)
    _check_range(number, field, lo, hi)
    return number


def as_number(
    value: object, field: str, *, lo: float | None = None, hi: float | None = None
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(field, "must be a number")
    number = float(value)
    if number != number:  # NaN cannot be compared with bounds
        raise invalid(field, "must be a number")
    _check_range(number, field, lo, hi)
    return number


def _check_range(number: float, field: str, lo: float | None, hi: float | None) -> None:
    if lo is not None and hi is not None and not lo <= number <= hi:
        raise invalid(field, f"must be between {lo} and {hi}")
    if lo is not None and number < lo:
        raise invalid(field, f"must be >= {lo}")
    if hi is not None and number > hi:
        raise invalid(field, f"must be <= {hi}")


def as_enum(value: object, field: str, choices: Collection[T]) -> T:
    if value not in choices or isinstance(value, bool):
        shown = ", ".join(repr(c) for c in choices)
        raise invalid(field, f"must be one of {shown}")
    return cast(T, value)  # membership in choices proves the type


def as_object(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(field, "must be an object")
    return value


def as_list(value: object, field: str, *, max_len: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise invalid(field, "must be an array")
    if max_len is not None and len(value) > max_len:
        raise invalid(field, f"must have at most {max_len} entries")
    return value


def query_int(
    query: Mapping[str, str], name: str, default: int, *, lo: int, hi: int | None = None
) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        number = int(raw)
    except ValueError:
        raise invalid(name, "must be an integer") from None
    _check_range(number, name, lo, hi)
    return number


def query_str(query: Mapping[str, str], name: str, *, max_len: int | None = None) -> str | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if max_len is not None and len(raw) > max_len:
        raise invalid(name, f"must be at most {max_len} characters")
    return raw


def query_enum(query: Mapping[str, str], name: str, choices: Collection[str]) -> str | None:
    raw = query_str(query, name)
    return None if raw is None else as_enum(raw, name, choices)


# -- declarative checkers ------------------------------------------------------------
#
# A Checker validates one JSON value and returns its cleaned form; ``obj``
# composes them into object schemas that drop unknown keys, so responses only
# ever echo fields of the documented schema.

Checker = Callable[[object, str], Any]


def _nullable(check: Checker, nullable: bool) -> Checker:
    if not nullable:
        return check
    return lambda value, field: None if value is None else check(value, field)


def string(
    *,
    min_len: int = 0,
    max_len: int | None = None,
    pattern: re.Pattern[str] | None = None,
    nullable: bool = False,
) -> Checker:
    def check(value: object, field: str) -> str:
        return as_str(value, field, min_len=min_len, max_len=max_len, pattern=pattern)

    return _nullable(check, nullable)


def boolean(*, nullable: bool = False) -> Checker:
    return _nullable(as_bool, nullable)


def integer(*, lo: int | None = None, hi: int | None = None, nullable: bool = False) -> Checker:
    return _nullable(lambda value, field: as_int(value, field, lo=lo, hi=hi), nullable)


def number(*, lo: float | None = None, hi: float | None = None, nullable: bool = False) -> Checker:
    return _nullable(lambda value, field: as_number(value, field, lo=lo, hi=hi), nullable)


def enum(*choices: object, nullable: bool = False) -> Checker:
    return _nullable(lambda value, field: as_enum(value, field, choices), nullable)


def array(item: Checker, *, max_len: int | None = None, nullable: bool = False) -> Checker:
    def check(value: object, field: str) -> list[Any]:
        values = as_list(value, field, max_len=max_len)
        return [item(v, f"{field}[{i}]") for i, v in enumerate(values)]

    return _nullable(check, nullable)


def str_map(*, max_len: int | None = None) -> Checker:
    def check(value: object, field: str) -> dict[str, str]:
        mapping = as_object(value, field)
        if max_len is not None and len(mapping) > max_len:
            raise invalid(field, f"must have at most {max_len} entries")
        return {k: as_str(v, f"{field}.{k}") for k, v in mapping.items()}

    return check


def obj(
    schema: Mapping[str, Checker], *, required: Collection[str] = (), nullable: bool = False
) -> Checker:
    def check(value: object, field: str) -> dict[str, Any]:
        return clean(as_object(value, field), schema, field, required=required)

    return _nullable(check, nullable)


def clean(
    body: Mapping[str, Any],
    schema: Mapping[str, Checker],
    prefix: str = "",
    *,
    required: Collection[str] = (),
) -> dict[str, Any]:
    """Validate the known keys of ``body`` and return them; unknown keys are ignored."""
    for name in required:
        if name not in body:
            raise invalid(f"{prefix}.{name}" if prefix else name, "is required")
    return {
        key: schema[key](value, f"{prefix}.{key}" if prefix else key)
        for key, value in body.items()
        if key in schema
    }

"""Small type checkers for JSON bodies and query strings.

Each checker returns the value with a precise type or raises a 400 naming the
field, so handlers read like a schema and unknown keys are simply ignored
(as the real API does).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar, cast

from .errors import ApiError, ErrorCode, invalid

T = TypeVar("T")

#: SQLite's INTEGER range: a larger number could be stored nowhere.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Far deeper than any request of the API; bounds the work of one body.
MAX_JSON_DEPTH = 64


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored or echoed (NUL, lone surrogate), or ``None``."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode (no lone surrogates)"
    return None


def check_text(value: str, field: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise invalid(field, problem)
    return value


def decode_utf8(raw: bytes, what: str) -> str:
    """Strict UTF-8 (a leading BOM is dropped); ``what`` names the input in the 400."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, ErrorCode.MALFORMED_BODY, f"{what} is not valid UTF-8") from None


def load_json(text: str, field: str) -> Any:
    """Parse JSON text and refuse what could not be stored and sent back.

    Refused: non-finite numbers (``NaN``, ``Infinity``, ``1e999``), integers
    outside 64 bits, NUL characters and lone surrogates (in keys too), and
    nesting deeper than ``MAX_JSON_DEPTH``. ``field`` prefixes the names in
    errors; an empty one means the request body, which is malformed (10002)
    rather than invalid (10001) when it is not JSON at all.
    """
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting beyond the parser's stack
        if field:
            raise invalid(field, "must be valid JSON") from None
        raise ApiError(400, ErrorCode.MALFORMED_BODY, "request body is not valid JSON") from None
    _check_json_tree(value, field)
    return value


def _check_json_tree(root: object, field: str) -> None:
    # Iterative, so a deep document cannot exhaust the stack here.
    pending: list[tuple[object, str, int]] = [(root, field, 0)]
    while pending:
        value, where, depth = pending.pop()
        if isinstance(value, str):
            check_text(value, where)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            _check_int64(value, where)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise invalid(where, "must be a finite number (no NaN, Infinity or overflow)")
        elif depth >= MAX_JSON_DEPTH:
            raise invalid(where, f"is nested deeper than {MAX_JSON_DEPTH} levels")
        elif isinstance(value, dict):
            for key, child in value.items():
                child_where = f"{where}.{key}" if where else key
                check_text(key, child_where)
                pending.append((child, child_where, depth + 1))
        elif isinstance(value, list):
            pending.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(value))


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
    return _check_int64(number, field)


def as_number(
    value: object, field: str, *, lo: float | None = None, hi: float | None = None
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(field, "must be a number")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        raise invalid(field, "must be a finite number") from None
    if not math.isfinite(number):  # NaN cannot be compared with bounds; inf is no amount
        raise invalid(field, "must be a finite number")
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
    return _check_int64(number, name)


def _check_int64(number: int, field: str) -> int:
    if not INT64_MIN <= number <= INT64_MAX:
        raise invalid(field, "is out of range (64-bit integers only)")
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

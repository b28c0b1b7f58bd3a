"""``--filter`` expressions compiled into the API's metadata filter (Vectorize style).

``folder^=docs/``, ``year>=2024``, ``lang in en,fr``... become
``{"folder": {"$gte": "docs/", "$lt": "docs0"}, "year": {"$gte": 2024}, ...}``.
Several expressions AND together; on one key their operators combine (a range),
and the same operator twice on one key is refused rather than silently dropped.

Values: ``true``/``false`` are booleans, anything JSON reads as a number
(``5``, ``-1.5``, ``1e3``) is a number, anything else a string; quoting a value
(``"5"`` or ``'5'``) keeps it a string. A prefix (``^=``) is always a string.
This module imports nothing of the command line's extra, so it is tested alone.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Final

__all__ = ["FilterError", "Scalar", "compile_filters", "parse_value"]

Scalar = str | int | float | bool

_OPERATORS: Final = {
    "=": "$eq",
    "!=": "$ne",
    ">": "$gt",
    ">=": "$gte",
    "<": "$lt",
    "<=": "$lte",
}
# A key is any run of non-space characters but the operators' (``-m läng=x`` is a key).
_KEY: Final = r"[^\s=!<>^]+"
_COMPARISON: Final = re.compile(rf"^\s*({_KEY})\s*(!=|>=|<=|\^=|=|>|<)\s*(.*?)\s*$", re.S)
_MEMBERSHIP: Final = re.compile(rf"^\s*({_KEY})\s+(in|not\s+in)\s+(.*?)\s*$", re.S)
_NUMBER: Final = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
# The integers a JSON request can carry (the SDK's encoder refuses any other).
_INT_RANGE: Final = (-(2**63), 2**64 - 1)


class FilterError(ValueError):
    """A ``--filter`` expression that cannot be compiled; the message says why, on one line."""


def parse_value(text: str, expression: str) -> Scalar:
    """One value of an expression, typed as the module docstring says."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text == "":
        raise FilterError(f"{expression!r}: missing value (quote it, '', for an empty string)")
    if text[0] in "\"'" or text[-1] in "\"'":
        raise FilterError(f"{expression!r}: unbalanced quote in {text!r}")
    if text[0] in "=<>!^":
        # ``a==b``, ``a=>b``: a mistyped operator, not a value (quote it if it is one).
        raise FilterError(f"{expression!r}: value {text!r} starts with an operator; quote it")
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.match(text):
        number: int | float = json.loads(text)
        if isinstance(number, int) and not _INT_RANGE[0] <= number <= _INT_RANGE[1]:
            raise FilterError(f"{expression!r}: {text} does not fit in 64 bits; quote it")
        if isinstance(number, float) and not math.isfinite(number):
            raise FilterError(f"{expression!r}: {text} is too large a number; quote it")
        return number
    return text


def _split_list(text: str, expression: str) -> list[str]:
    """``a, 'b,c', d`` -> ``["a", "'b,c'", "d"]``: commas outside quotes separate."""
    parts: list[str] = []
    current = ""
    quote = ""
    for char in text:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
            current += char
        elif char == ",":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if quote:
        raise FilterError(f"{expression!r}: unbalanced quote")
    parts.append(current.strip())
    return parts


def _prefix_bounds(prefix: str, expression: str) -> tuple[str, str]:
    """``docs/`` -> (``docs/``, ``docs0``): every string starting with the prefix is in between."""
    if not prefix:
        raise FilterError(f"{expression!r}: a prefix (^=) needs at least one character")
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        raise FilterError(f"{expression!r}: the prefix cannot end with U+10FFFF")
    return prefix, prefix[:-1] + chr(last + 1)


def _conditions(expression: str) -> tuple[str, list[tuple[str, object]]]:
    membership = _MEMBERSHIP.match(expression)
    if membership:
        key, word, listed = membership.groups()
        values = [parse_value(v, expression) for v in _split_list(listed, expression)]
        operator = "$in" if word == "in" else "$nin"
        return key, [(operator, values)]
    comparison = _COMPARISON.match(expression)
    if comparison is None:
        raise FilterError(
            f"{expression!r}: expected KEY OP VALUE with OP one of = != > >= < <= ^= "
            "(or KEY in A,B)"
        )
    key, symbol, raw = comparison.groups()
    if symbol == "^=":
        quoted = len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'"
        if not quoted and raw and (raw[0] in "\"'" or raw[-1] in "\"'"):
            raise FilterError(f"{expression!r}: unbalanced quote in {raw!r}")
        text = raw[1:-1] if quoted else raw
        low, high = _prefix_bounds(text, expression)
        return key, [("$gte", low), ("$lt", high)]
    value = parse_value(raw, expression)
    operator = _OPERATORS[symbol]
    if operator in ("$gt", "$gte", "$lt", "$lte") and isinstance(value, bool):
        raise FilterError(f"{expression!r}: {symbol} compares numbers or strings, not booleans")
    return key, [(operator, value)]


def compile_filters(expressions: Iterable[str]) -> dict[str, dict[str, object]]:
    """The filter object for ``retrieval.filters``; raises :class:`FilterError`."""
    compiled: dict[str, dict[str, object]] = {}
    for expression in expressions:
        key, conditions = _conditions(expression)
        operators = compiled.setdefault(key, {})
        for operator, operand in conditions:
            if operator in operators:
                raise FilterError(f"{expression!r}: {key!r} already has a {operator} condition")
            operators[operator] = operand
    return compiled

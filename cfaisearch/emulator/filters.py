"""Vectorize-style metadata filters (API sheet §4.5).

``{"folder": {"$gte": "docs/", "$lt": "docs0"}, "category": "guide"}``: keys
combine with AND, a bare value means ``$eq``. No ``$and``/``$or``: the
AI Search API does not document them, so they are refused with a 400.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import invalid
from .validation import as_list, as_object

Scalar = str | int | float | bool
Condition = tuple[str, Any]
CompiledFilter = dict[str, list[Condition]]

_COMPARISONS = frozenset({"$eq", "$ne", "$lt", "$lte", "$gt", "$gte"})
_SETS = frozenset({"$in", "$nin"})


def _scalar(value: object, field: str) -> Scalar:
    if not isinstance(value, (str, int, float, bool)):
        raise invalid(field, "must be a string, number or boolean")
    return value


def compile_filter(raw: object, field: str) -> CompiledFilter:
    compiled: CompiledFilter = {}
    for key, spec in as_object(raw, field).items():
        where = f"{field}.{key}"
        if key.startswith("$"):
            raise invalid(where, "compound operators are not supported; list keys to AND them")
        if not isinstance(spec, dict):
            compiled[key] = [("$eq", _scalar(spec, where))]
            continue
        if not spec:
            raise invalid(where, "needs at least one operator")
        conditions: list[Condition] = []
        for op, operand in spec.items():
            if op in _SETS:
                values = as_list(operand, f"{where}.{op}")
                conditions.append(
                    (op, [_scalar(v, f"{where}.{op}[{i}]") for i, v in enumerate(values)])
                )
            elif op in _COMPARISONS:
                conditions.append((op, _scalar(operand, f"{where}.{op}")))
            else:
                raise invalid(f"{where}.{op}", "unknown operator")
        compiled[key] = conditions
    return compiled


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _timestamp_seconds(value: Any) -> Any:
    # Built-in timestamps are milliseconds but docs filter them with seconds;
    # comparisons happen on whole seconds, whichever unit the filter uses.
    if not _is_number(value):
        return value
    number = float(value)
    return math.floor(number / 1000 if abs(number) >= 1e11 else number)


def _same_kind(a: object, b: object) -> bool:
    if _is_number(a) and _is_number(b):
        return True
    return type(a) is type(b) and isinstance(a, (str, bool))


def _test(op: str, actual: Any, operand: Any) -> bool:
    if op == "$in":
        return any(_test("$eq", actual, v) for v in operand)
    if op == "$nin":
        return not _test("$in", actual, operand)
    if op == "$ne":
        return not _test("$eq", actual, operand)
    if not _same_kind(actual, operand):
        return False
    if op == "$eq":
        return bool(actual == operand)
    if op == "$lt":
        return bool(actual < operand)
    if op == "$lte":
        return bool(actual <= operand)
    if op == "$gt":
        return bool(actual > operand)
    return bool(actual >= operand)  # $gte


def matches(compiled: CompiledFilter, metadata: Mapping[str, Any]) -> bool:
    for key, conditions in compiled.items():
        present = key in metadata
        actual = metadata.get(key)
        for op, operand in conditions:
            if not present:
                # A missing field only satisfies negative operators.
                if op not in ("$ne", "$nin"):
                    return False
                continue
            if key == "timestamp":
                actual_s = _timestamp_seconds(actual)
                operand = (
                    [_timestamp_seconds(v) for v in operand]
                    if isinstance(operand, list)
                    else _timestamp_seconds(operand)
                )
                if not _test(op, actual_s, operand):
                    return False
            elif not _test(op, actual, operand):
                return False
    return True

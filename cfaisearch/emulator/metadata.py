"""Item metadata: built-in attributes plus custom fields cast to the instance schema."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

RESERVED_FIELDS = frozenset({"timestamp", "folder", "filename"})
TEXT_LIMIT = 500
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})

Schema = Mapping[str, str]  # lower-case field name -> data_type


def schema_of(custom_metadata: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    """The instance's ``custom_metadata`` as {lower-case field name: data type}."""
    return {f["field_name"]: f["data_type"] for f in custom_metadata or ()}


def builtin(key: str, modified_ms: int) -> dict[str, Any]:
    """The built-in attributes every item has: folder, filename, timestamp."""
    return {"folder": key[: key.rfind("/") + 1], "filename": key, "timestamp": modified_ms}


def _parse_datetime(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            # Numbers above ~1973 in milliseconds are read as milliseconds.
            seconds = value / 1000 if abs(value) >= 1e11 else value
            moment = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
        elif isinstance(value, str):
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.timezone.utc)
        else:
            return None
        # One normalised UTC form, so comparing strings compares instants.
        return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        return None  # not a date, or outside the years datetime can represent


def cast(value: object, data_type: str) -> str | float | bool | None:
    """The value converted to the schema type, or ``None`` when it cannot be."""
    if data_type == "text":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)[:TEXT_LIMIT]
        return None
    if data_type == "number":
        if isinstance(value, bool):
            return None
        if not isinstance(value, (int, float, str)):
            return None
        try:
            number = float(value)
        except (ValueError, OverflowError):
            return None
        # "nan" and "1e999" parse, but cannot be stored as JSON or compared.
        return number if math.isfinite(number) else None
    if data_type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower() if isinstance(value, (str, int)) else ""
        return True if text in _TRUE else False if text in _FALSE else None
    return _parse_datetime(value)


def build(
    key: str,
    modified_ms: int,
    raw: Mapping[str, Any],
    schema: Schema,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Item metadata and upload warnings.

    Fields outside the schema are kept (they are the uploader's own metadata)
    but are not filterable, and produce a warning.
    """
    metadata = builtin(key, modified_ms)
    warnings: list[dict[str, str]] = []
    for name, value in raw.items():
        field = name.lower()
        if field in RESERVED_FIELDS:
            continue
        if field in schema:
            converted = cast(value, schema[field])
            if converted is None:
                warnings.append(
                    {
                        "code": "custom_metadata_value_not_indexed",
                        "field": field,
                        "expected_type": schema[field],
                    }
                )
            else:
                metadata[field] = converted
        else:
            warnings.append({"code": "custom_metadata_field_not_filterable", "field": name})
            if isinstance(value, (str, int, float, bool)):
                metadata[name] = value
    return metadata, warnings


def filterable(metadata: Mapping[str, Any], schema: Schema) -> dict[str, Any]:
    """The metadata that filters can use: built-ins plus schema fields."""
    return {k: v for k, v in metadata.items() if k in RESERVED_FIELDS or k in schema}

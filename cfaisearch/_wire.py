"""How the wire (JSON) spells things differently from Python: names and booleans.

A model attribute whose JSON key differs from its Python name says so on the
field itself (``attrs.field(metadata=wire("fileKey"))``). Response decoding and
request building both read that one declaration, so they cannot disagree.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final

import attrs

__all__ = ["body_names", "wire", "wire_bool", "wire_name", "wire_names"]

_WIRE_KEY: Final = "cfaisearch.wire"
"""The attrs metadata key holding a field's JSON key."""

_REQUEST_ONLY_NAMES: Final[Mapping[str, str]] = {"aisearch_options": "ai_search_options"}
"""Body keywords that no response model has a field for: method keyword -> JSON key."""


def wire(name: str) -> dict[str, str]:
    """Field metadata saying the attribute is spelled ``name`` in JSON."""
    return {_WIRE_KEY: name}


def wire_name(field: attrs.Attribute[Any]) -> str:
    """The JSON key of an attrs field: its declared wire name, or its own name."""
    name: str = field.metadata.get(_WIRE_KEY, field.name)
    return name


def wire_names(cls: type[Any]) -> dict[str, str]:
    """Attribute -> JSON key, for the attributes of ``cls`` that JSON spells differently."""
    return {
        field.name: key
        for field in attrs.fields(cls)
        if (key := field.metadata.get(_WIRE_KEY)) is not None
    }


@functools.cache
def body_names() -> Mapping[str, str]:
    """Method keyword -> JSON key, for request bodies of every operation.

    The instance settings a request sends are the fields of the instance
    models, so their wire names are read from those fields.
    """
    # Imported here: the models import this module for ``wire``.
    from .types.instances import Instance, InstanceListItem

    return {**wire_names(Instance), **wire_names(InstanceListItem), **_REQUEST_ONLY_NAMES}


_BOOL_STRINGS: Final[Mapping[str, bool]] = {"true": True, "false": False, "1": True, "0": False}


def wire_bool(value: object) -> bool | None:
    """``value`` as a boolean: a JSON boolean, or a string the API may send for one.

    ``"false"``, ``"true"``, ``"0"`` and ``"1"`` (any case) count; anything else
    is None, so ``"false"`` can never be read as a truthy string.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _BOOL_STRINGS.get(value.lower())
    return None

"""What every response model can do besides hold data: become a dict or JSON, and back.

The spellings are the official SDK's (``to_dict``, ``to_json``) and pydantic's
(``model_dump``, ``model_dump_json``, ``model_validate``), with their defaults,
so code written for either keeps working. Models stay frozen attrs classes:
this is a base class they inherit, adding no attrs field or slot, so
equality, hashing and ``repr`` are unchanged.

A decoded model keeps what its fields cannot tell of the JSON object it was
decoded from: the keys sent as an explicit ``null`` and the keys it does not
know, with their values (one slot outside the attrs fields, set by the
converter, and only when there are such keys). So, as in the official SDK,
"unset" means "not in the response": an explicit ``null`` is dumped, and keys
the model does not know are dumped as received. A model made in code (or by
``attrs.evolve``, or unpickled) has no such record: a field holding None
counts as unset there.
"""

from __future__ import annotations

import copy
import json
import sys
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Literal, NamedTuple, Union

import attrs
import orjson

from ._wire import wire_name

if sys.version_info >= (3, 11):
    from typing import Self
else:
    from typing_extensions import Self

__all__ = ["BaseModel", "IncEx", "keep_received", "set_received"]

IncEx = Union[set[int], set[str], frozenset[int], frozenset[str], Mapping[Any, Any]]  # noqa: UP007 (runtime alias on 3.10)
"""pydantic's ``include``/``exclude`` shape: names (or list indexes, or
``"__all__"``) to keep or drop, or a mapping of them to ``True`` or a nested spec."""


class _Field(NamedTuple):
    name: str
    wire: str
    default: Any
    """The field's default, or ``attrs.NOTHING`` if it is required."""


class _Plan(NamedTuple):
    fields: tuple[_Field, ...]
    names: frozenset[str]
    """The fields' Python names: a received key that is none of them is dumped as received."""
    wires: frozenset[str]
    """The fields' names on the wire."""


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        fields = tuple(_Field(a.name, wire_name(a), a.default) for a in attrs.fields(cls))
        plan = _Plan(
            fields,
            frozenset(field.name for field in fields),
            frozenset(field.wire for field in fields),
        )
        _PLANS[cls] = plan
    return plan


class _Options(NamedTuple):
    json: bool
    use_api_names: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool


def _child(spec: Any, key: int | str) -> Any:
    """What ``spec`` (an :data:`IncEx`) says of ``key``: True (all), a nested spec, or None."""
    if spec is None:
        return None
    if isinstance(spec, (set, frozenset)):
        return True if key in spec or "__all__" in spec else None
    if isinstance(spec, Mapping):
        value = spec.get(key, spec.get("__all__"))
        if value is None or value is False:
            return None
        return True if value is True or value is ... else value
    raise TypeError(f"include/exclude must be a set or a mapping, got {type(spec).__name__}")


def _selected(key: int | str, include: Any, exclude: Any) -> tuple[bool, Any, Any]:
    """Whether ``key`` is kept, and the include and exclude specs for its value."""
    inner_include = None
    if include is not None:
        inner_include = _child(include, key)
        if inner_include is None:
            return False, None, None
        if inner_include is True:
            inner_include = None
    inner_exclude = _child(exclude, key)
    if inner_exclude is True:
        return False, None, None
    return True, inner_include, inner_exclude


def _iso(value: datetime) -> str:
    text = value.isoformat()
    # The official SDK (pydantic) writes UTC as ``Z``.
    return text[:-6] + "Z" if value.utcoffset() == timezone.utc.utcoffset(None) else text


def _dump_value(value: Any, opts: _Options, include: Any, exclude: Any) -> Any:
    if isinstance(value, BaseModel):
        return value._dump(opts, include, exclude)
    if isinstance(value, (list, tuple)):  # tuples: the fields of reports such as SyncReport
        if include is None and exclude is None:
            return [_dump_value(item, opts, None, None) for item in value]
        items = []
        for index, item in enumerate(value):
            keep, inner_include, inner_exclude = _selected(index, include, exclude)
            if keep:
                items.append(_dump_value(item, opts, inner_include, inner_exclude))
        return items
    if isinstance(value, dict):
        entries = {}
        for key, item in value.items():
            keep, inner_include, inner_exclude = _selected(key, include, exclude)
            if keep:
                entries[key] = _dump_value(item, opts, inner_include, inner_exclude)
        return entries
    if opts.json and isinstance(value, datetime):
        return _iso(value)
    # Scalars, and whatever a tolerant decode kept as received: already JSON values.
    return value


def _check_mode(mode: str) -> bool:
    """Whether ``mode`` asks for JSON-ready values."""
    if mode == "json":
        return True
    if mode == "python":
        return False
    raise ValueError(f"mode must be 'python' or 'json', got {mode!r}")


def _encode(data: dict[str, Any], indent: int | None, ensure_ascii: bool = False) -> str:
    if indent is None and not ensure_ascii:
        return orjson.dumps(data).decode()
    if indent == 2 and not ensure_ascii:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()
    # Through orjson first, so a non-finite float becomes null here too.
    return json.dumps(orjson.loads(orjson.dumps(data)), indent=indent, ensure_ascii=ensure_ascii)


class _FieldsOf:
    """``Model.model_fields``: the model's fields by Python name (attrs attributes)."""

    def __get__(self, instance: object, owner: type) -> dict[str, attrs.Attribute[Any]]:
        return {field.name: field for field in attrs.fields(owner)}


class BaseModel:
    """The base of every response model (see the module docstring)."""

    # One slot, outside the attrs fields (so equality, hashing and repr ignore
    # it): the JSON object the model was decoded from. attrs adds the fields'
    # slots in each model. ``__weakref__`` lives here rather than in each model
    # so that a model's own slots are its fields alone: the converter can then
    # fill a twin class with the same layout and retype it (see ``_converter``).
    __slots__ = ("__weakref__", "_received")

    model_fields = _FieldsOf()
    """pydantic's spelling, on the class: the fields by Python name."""

    def _dump(self, opts: _Options, include: Any, exclude: Any) -> dict[str, Any]:
        received: Mapping[str, Any] | None = getattr(self, "_received", None)
        plan = _plan(type(self))
        out: dict[str, Any] = {}
        for field in plan.fields:
            value = getattr(self, field.name)
            if opts.exclude_none and value is None:
                continue
            if opts.exclude_unset and (
                value is None and (received is None or field.wire not in received)
            ):
                continue
            if (
                opts.exclude_defaults
                and field.default is not attrs.NOTHING
                and value == field.default
            ):
                continue
            keep, inner_include, inner_exclude = _selected(field.name, include, exclude)
            if keep:
                key = field.wire if opts.use_api_names else field.name
                out[key] = _dump_value(value, opts, inner_include, inner_exclude)
        if received is not None and not plan.names.issuperset(received):
            # Keys that are no field's name, as the server sent them. As in the
            # official SDK, that includes the wire name of a renamed field: it
            # shows beside the Python name, and once under the API's names.
            for key, value in received.items():
                if key in plan.names or key in out or (opts.exclude_none and value is None):
                    continue
                keep, inner_include, inner_exclude = _selected(key, include, exclude)
                if keep:
                    out[key] = _dump_value(value, opts, inner_include, inner_exclude)
        return out

    def to_dict(
        self,
        *,
        mode: Literal["python", "json"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> dict[str, object]:
        """The model as a new dict, keyed by the API's names (``use_api_names``).

        ``mode="json"`` gives JSON-ready values (datetimes as ISO 8601 strings);
        ``exclude_unset`` (the default) leaves out fields the response did not
        have (see the module docstring). Keys the model does not know are kept.
        ``warnings`` is accepted for compatibility: nothing here warns (a
        response that did not fit the model was logged when it was decoded).
        """
        opts = _Options(
            _check_mode(mode), use_api_names, exclude_unset, exclude_defaults, exclude_none
        )
        return self._dump(opts, None, None)

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        """The model as a JSON string (see :meth:`to_dict`); ``indent=None`` is compact."""
        opts = _Options(True, use_api_names, exclude_unset, exclude_defaults, exclude_none)
        return _encode(self._dump(opts, None, None), indent)

    def model_dump(
        self,
        *,
        mode: Literal["python", "json"] = "python",
        include: IncEx | None = None,
        exclude: IncEx | None = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        round_trip: bool = False,
        warnings: bool | Literal["none", "warn", "error"] = True,
    ) -> dict[str, Any]:
        """pydantic's spelling: every field, by Python name unless ``by_alias``.

        ``round_trip`` and ``warnings`` are accepted for compatibility; the
        output always decodes back (:meth:`model_validate`), and nothing warns.
        """
        opts = _Options(
            _check_mode(mode), bool(by_alias), exclude_unset, exclude_defaults, exclude_none
        )
        return self._dump(opts, include, exclude)

    def model_dump_json(
        self,
        *,
        indent: int | None = None,
        ensure_ascii: bool = False,
        include: IncEx | None = None,
        exclude: IncEx | None = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        round_trip: bool = False,
        warnings: bool | Literal["none", "warn", "error"] = True,
    ) -> str:
        """pydantic's spelling of :meth:`to_json`: compact, Python names unless ``by_alias``."""
        opts = _Options(True, bool(by_alias), exclude_unset, exclude_defaults, exclude_none)
        return _encode(self._dump(opts, include, exclude), indent, ensure_ascii)

    @property
    def model_fields_set(self) -> set[str]:
        """pydantic's spelling: the fields the response set (an explicit null counts).

        A field holding a value counts as set; see the module docstring.
        """
        received: Mapping[str, Any] | None = getattr(self, "_received", None)
        return {
            field.name
            for field in _plan(type(self)).fields
            if getattr(self, field.name) is not None
            or (received is not None and field.wire in received)
        }

    @property
    def model_extra(self) -> dict[str, Any]:
        """pydantic's spelling: the keys of the response that no field knows, as received."""
        received: Mapping[str, Any] | None = getattr(self, "_received", None)
        if received is None:
            return {}
        plan = _plan(type(self))
        known = plan.names | plan.wires
        return {key: value for key, value in received.items() if key not in known}

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """pydantic's spelling of ``attrs.evolve``: a copy with ``update`` (Python names) applied.

        The copy keeps what the original received (explicit nulls, unknown
        keys); ``deep`` copies the values too. Models are frozen: this is how
        to change one.
        """
        changes = dict(update or {})
        if deep:
            for field in _plan(type(self)).fields:
                if field.name not in changes:
                    changes[field.name] = copy.deepcopy(getattr(self, field.name))
        copied: Self = attrs.evolve(typing.cast(Any, self), **changes)
        received: Mapping[str, Any] | None = getattr(self, "_received", None)
        if received is not None and update:
            # A renamed field's wire key, kept as received, shows its new value
            # too: a dump must not carry the old one beside the update.
            renamed = {
                field.wire: changes[field.name]
                for field in _plan(type(self)).fields
                if field.name in update and field.wire != field.name and field.wire in received
            }
            if renamed:
                received = {**received, **renamed}
        if received is not None:
            _store_received(copied, copy.deepcopy(received) if deep else received)
        return copied

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Self:
        """pydantic's spelling: a model from Python-named values, checked by nobody.

        Keys that are no field's name are kept as unknown keys (``model_extra``).
        ``_fields_set`` is accepted for compatibility; unset means None here.
        """
        names = _plan(cls).names
        model = cls(**{key: value for key, value in values.items() if key in names})
        extra = {key: value for key, value in values.items() if key not in names}
        if extra:
            _store_received(model, extra)
        return model

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """A model from a dict such as :meth:`to_dict` or :meth:`model_dump` made.

        Decoded as responses are (tolerantly: values that do not fit are kept
        as given); keys may be the API's names or the Python ones.
        """
        # Imported here: the converter imports this module.
        from ._converter import structure

        if not isinstance(data, Mapping):
            raise TypeError(f"data must be a mapping, got {type(data).__name__}")
        model: Self = structure(_with_wire_keys(data, cls), cls, tolerant=True)
        return model

    @classmethod
    def model_validate(cls, obj: Mapping[str, Any]) -> Self:
        """pydantic's spelling of :meth:`from_dict`."""
        return cls.from_dict(obj)


def _with_wire_keys(data: Any, tp: Any) -> Any:
    """``data`` with the Python names of renamed fields (at any depth) spelled as on the wire."""
    if isinstance(data, Mapping):
        if isinstance(tp, type) and attrs.has(tp):
            renamed = dict(data)
            for field in attrs.fields(attrs.resolve_types(tp)):
                key = wire_name(field)
                if key != field.name and field.name in renamed and key not in renamed:
                    renamed[key] = renamed.pop(field.name)
                if key in renamed:
                    renamed[key] = _with_wire_keys(renamed[key], field.type)
            return renamed
        if typing.get_origin(tp) is dict:
            item_type = typing.get_args(tp)[1]
            return {key: _with_wire_keys(value, item_type) for key, value in data.items()}
    elif isinstance(data, list) and typing.get_origin(tp) is list:
        (item_type,) = typing.get_args(tp)
        return [_with_wire_keys(item, item_type) for item in data]
    if typing.get_origin(tp) in (Union, types.UnionType):
        # ``X | None``, ``str | list[Part] | None``: the member of the data's kind.
        for member in typing.get_args(tp):
            if _fits_kind(data, member):
                return _with_wire_keys(data, member)
    return data


def _fits_kind(data: Any, tp: Any) -> bool:
    """Whether ``tp`` is decoded from JSON of ``data``'s kind (an object or an array)."""
    if isinstance(data, Mapping):
        return (isinstance(tp, type) and attrs.has(tp)) or typing.get_origin(tp) is dict
    return isinstance(data, list) and typing.get_origin(tp) is list


_store_received: Callable[[BaseModel, Mapping[str, Any]], None] = BaseModel._received.__set__  # type: ignore[attr-defined]


def keep_received(model: BaseModel, names: frozenset[str], data: Mapping[str, Any]) -> None:
    """Record the keys of ``data`` that ``model``'s fields (named ``names``) cannot tell.

    Those are explicit nulls and keys that are no field's name. Keeping only
    them, and nothing when there are none (one check in C), spares a decoded
    page a second copy of its JSON tree.
    """
    if None in data.values() or not names.issuperset(data):
        _store_received(
            model, {key: value for key, value in data.items() if value is None or key not in names}
        )


def set_received(model: BaseModel, data: Mapping[str, Any]) -> None:
    """:func:`keep_received` for a model whose field names are not at hand."""
    keep_received(model, _plan(type(model)).names, data)

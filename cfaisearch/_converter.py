"""The one cattrs converter that turns decoded JSON into attrs models.

Decoding has two modes, chosen per client (``_strict_response_validation``):

- strict: a missing required field or a value of the wrong type raises
  :class:`ShapeError` (the client turns it into ``APIResponseValidationError``);
- tolerant (the default, as in the official SDK): the same response decodes
  anyway. A missing field reads as None, a value of the wrong type is kept as
  received, and each (model, field) drift is logged once at WARNING.

Both modes keep unknown keys out of the fields (the model holds on to the
object it came from, so ``to_dict()`` still shows them) and keep unknown enum
values as their raw value, so a new API field never breaks a deployed client.
Both run the same generated
cattrs functions first; the field-by-field tolerant walk runs only for a
response they reject, so a well-formed response costs the same in either mode.

``make_converter(strict=True)`` is stricter still (unknown keys and enum values
are refused): tests use it so fixtures catch schema drift.

Well-formed responses take generated fast paths (see "fast paths" below);
whatever they cannot take as it is goes to cattrs' functions, so errors and
tolerant decoding are the same either way.
"""

from __future__ import annotations

import functools
import logging
import sys
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Final, NamedTuple

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.gen import make_dict_structure_fn, override
from cattrs.strategies import configure_union_passthrough

from ._exceptions import ShapeError
from ._models import BaseModel, keep_received, set_received
from ._wire import wire_bool, wire_name, wire_names

__all__ = ["converter", "make_converter", "parse_datetime", "structure"]

log = logging.getLogger("cfaisearch")


# Python 3.11 reads RFC 3339 (``Z`` included) itself, several times faster than
# the string surgery below; big pages hold a few timestamps per item.
_FROMISOFORMAT_READS_Z: Final = sys.version_info >= (3, 11)


def parse_datetime(value: object) -> datetime:
    """Parse the API's timestamps: RFC 3339 with ``Z``, or ``YYYY-MM-DD HH:MM:SS``."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a datetime string, got {_json_type(value)}")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    parsed = datetime.fromisoformat(text)
    # A zone-less stamp from the API is UTC; an aware datetime compares safely.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _json_type(value: object) -> str:
    """The JSON name of ``value``'s type, for messages (never the value: it may be large)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _type_name(tp: Any) -> str:
    """``list[Job]``, ``float | None``: how a type reads in the source."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in args)
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin is not None:
        return f"{_type_name(origin)}[{', '.join(_type_name(arg) for arg in args)}]"
    if tp is type(None):
        return "None"
    return getattr(tp, "__name__", str(tp))


def _is_list(tp: Any) -> bool:
    origin: Any = typing.get_origin(tp)
    return origin is list


def _is_literal(tp: Any) -> bool:
    return typing.get_origin(tp) is typing.Literal


def _literal_hook_factory(strict: bool) -> Callable[[Any], Callable[[Any, Any], Any]]:
    def factory(tp: Any) -> Callable[[Any, Any], Any]:
        allowed = frozenset(typing.get_args(tp))

        def structure(value: Any, _: Any) -> Any:
            if (type(value) is str or type(value) is int) and (not strict or value in allowed):
                return value
            raise ValueError(f"expected one of {sorted(allowed, key=repr)!r}, got {value!r:.80}")

        return structure

    return factory


def _optional_inner(tp: Any) -> Any:
    """``X`` for ``X | None`` (one non-None member), else None."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    return args[0] if len(args) == 1 and len(typing.get_args(tp)) == 2 else None


# JSON already delivers the right type almost always; each hook returns it as
# it is then, converts only what plainly means the same value, and rejects the
# rest (a bool is not a number, an object is not a string).


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    if type(value) is int or type(value) is float:
        return str(value)
    raise TypeError(f"expected a string, got {_json_type(value)}")


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is str:
        return int(value)
    raise TypeError(f"expected an integer, got {_json_type(value)}")


def _structure_float(value: Any, _: Any) -> float:
    if type(value) is float:
        return value
    if type(value) is int or type(value) is str:
        return float(value)
    raise TypeError(f"expected a number, got {_json_type(value)}")


def _structure_bool(value: Any, _: Any) -> bool:
    parsed = wire_bool(value)
    if parsed is None:
        raise TypeError(f"expected a boolean, got {_json_type(value)}")
    return parsed


def _structure_datetime(value: Any, _: Any) -> datetime:
    if _FROMISOFORMAT_READS_Z and type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass  # parse_datetime gives the error
        else:
            # A zone-less stamp from the API is UTC, as in parse_datetime.
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return parse_datetime(value)


_SCALAR_HOOKS: Final[Mapping[type, Callable[[Any, Any], Any]]] = {
    str: _structure_str,
    int: _structure_int,
    float: _structure_float,
    bool: _structure_bool,
}


def make_converter(*, strict: bool = False, fast: bool = True) -> cattrs.Converter:
    """Build a converter; ``strict`` rejects unknown keys and enum values.

    ``fast=False`` leaves out the generated fast paths (a strict converter has
    none): cattrs' functions alone, which tests hold the fast paths against.
    """
    conv = cattrs.Converter(forbid_extra_keys=strict)
    conv.register_structure_hook(datetime, _structure_datetime)
    for kind, hook in _SCALAR_HOOKS.items():
        conv.register_structure_hook(kind, hook)
    conv.register_structure_hook_factory(_is_literal, _literal_hook_factory(strict))

    def optional_hook_factory(tp: Any) -> Callable[[Any, Any], Any]:
        # Resolve the inner hook once, instead of dispatching on every value.
        inner = _optional_inner(tp)
        hook = conv.get_structure_hook(inner)
        if inner in _SCALAR_HOOKS:
            # Most fields are optional scalars: answer the usual value in one call.
            def structure_scalar(value: Any, _: Any) -> Any:
                return value if value is None or type(value) is inner else hook(value, inner)

            return structure_scalar

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
        overrides = {attr: override(rename=key) for attr, key in wire_names(cls).items()}
        fn: Callable[[Any, Any], Any] = make_dict_structure_fn(
            cls,
            conv,
            _cattrs_forbid_extra_keys=strict,
            **overrides,  # type: ignore[arg-type]
        )
        if issubclass(cls, BaseModel):
            fn = _recording(fn)
        if strict or not fast:  # the fast path does not look for unknown keys
            return fn
        return _fast_model_hook(conv, cls, fn) or fn

    conv.register_structure_hook_factory(attrs.has, attrs_hook_factory)
    if fast and not strict:
        conv.register_structure_hook_factory(_is_list, lambda tp: _fast_list_hook(conv, tp))
    return conv


def _recording(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``fn``, keeping on the model the object it was decoded from (see ``_models``)."""

    @functools.wraps(fn)
    def structure(data: Any, tp: Any) -> Any:
        model = fn(data, tp)
        set_received(model, data)
        return model

    return structure


# -- fast paths ---------------------------------------------------------------------
#
# cattrs' generated functions guard every field with try/except bookkeeping,
# call a hook even for a string that is already a string, and build the
# object through keyword arguments and attrs' frozen __init__. Big pages and
# search results spend most of their decoding there. The functions below are
# generated per model for the well-formed case: scalars of the right type are
# taken as they are, other values go through the same hooks cattrs would call,
# and slots are filled directly. Anything that raises is handed to cattrs'
# function, so errors (and tolerant decoding) are exactly what they were.


def _fast_check(tp: Any) -> str | None:
    """A Python expression true when ``v`` needs no conversion as ``tp``; None: always convert."""
    inner = _optional_inner(tp)
    if inner is not None:
        check = _fast_check(inner)
        return None if check is None else f"v is None or {check}"
    if tp in _SCALAR_HOOKS:
        return f"type(v) is {tp.__name__}"
    if _is_literal(tp):  # the lenient converter keeps any string or integer
        return "type(v) is str or type(v) is int"
    return None


def _fast_model_hook(
    conv: cattrs.Converter, cls: type[Any], slow: Callable[[Any, Any], Any]
) -> Callable[[Any, Any], Any] | None:
    """A structure function for ``cls`` that falls back to ``slow``; None if ``cls`` is unusual."""
    if not isinstance(cls, type) or getattr(cls, "__parameters__", None):
        return None  # generic models keep cattrs' type-variable handling
    if hasattr(cls, "__attrs_post_init__") or "__slots__" not in cls.__dict__:
        return None
    fields = attrs.fields(attrs.resolve_types(cls))
    namespace: dict[str, Any] = {"cls": cls, "slow": slow, "new": object.__new__}
    lines = [
        "def structure(o, _):",
        "    if type(o) is not dict:",
        "        return slow(o, _)",
        "    try:",
        "        self = new(cls)",
    ]
    if issubclass(cls, BaseModel):
        namespace["keep_received"] = keep_received
        namespace["names"] = frozenset(field.name for field in fields)
        lines.append("        keep_received(self, names, o)")
    for n, field in enumerate(fields):
        setter = getattr(cls, field.name, None)
        if (
            not field.init
            or field.validator is not None
            or field.converter is not None
            or not isinstance(setter, types.MemberDescriptorType)
            or (isinstance(field.default, attrs.Factory) and field.default.takes_self)  # type: ignore[arg-type]
        ):
            return None
        key = wire_name(field)
        namespace[f"set{n}"] = setter.__set__
        tp, check = field.type, _fast_check(field.type)
        inner = _optional_inner(tp)
        if inner is not None:
            # The check lets None through, so anything else goes to the inner hook directly.
            tp, check = inner, check or "v is None"
        namespace[f"type{n}"] = tp
        namespace[f"hook{n}"] = conv.get_structure_hook(tp)
        convert = f"hook{n}(v, type{n})"
        lines.append(f"        if {key!r} in o:")
        lines.append(f"            v = o[{key!r}]")
        if check is None:
            lines.append(f"            v = {convert}")
        else:
            lines.append(f"            if not ({check}):")
            lines.append(f"                v = {convert}")
        lines.append("        else:")
        if field.default is attrs.NOTHING:
            lines.append("            return slow(o, _)  # a required field is missing")
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            namespace[f"factory{n}"] = field.default.factory
            lines.append(f"            v = factory{n}()")
        else:
            namespace[f"default{n}"] = field.default
            lines.append(f"            v = default{n}")
        lines.append(f"        set{n}(self, v)")
    lines += [
        "    except Exception:",
        "        return slow(o, _)",
        "    return self",
    ]
    code = compile("\n".join(lines), f"<cfaisearch fast structure {cls.__qualname__}>", "exec")
    exec(code, namespace)
    fast: Callable[[Any, Any], Any] = namespace["structure"]
    return fast


def _fast_list_hook(conv: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    """``list[X]``: the elements through X's hook; anything else as cattrs would."""
    slow = list_structure_factory(tp, conv)
    args = typing.get_args(tp)
    if not args:
        return slow
    (item_type,) = args
    item_hook = conv.get_structure_hook(item_type)
    if item_type in _SCALAR_HOOKS:  # e.g. list[str]: no call for an item of the right type

        def structure_scalars(value: Any, _: Any) -> Any:
            if type(value) is list:
                try:
                    return [
                        item if type(item) is item_type else item_hook(item, item_type)
                        for item in value
                    ]
                except Exception:
                    pass  # cattrs' function raises the same error with its path
            return slow(value, _)

        return structure_scalars

    def structure(value: Any, _: Any) -> Any:
        if type(value) is list:
            try:
                return [item_hook(item, item_type) for item in value]
            except Exception:
                pass  # cattrs' function raises the same error with its path
        return slow(value, _)

    return structure


converter = make_converter()

# -- tolerant decoding -------------------------------------------------------------

_reported: set[tuple[str, str]] = set()
"""(model, field) pairs whose drift was logged: each is logged once per process."""


def _report(owner: str, field: str, problem: str) -> None:
    key = (owner, field)
    if key in _reported:
        return
    _reported.add(key)
    subject = f"{owner}.{field}" if field else f"an element of {owner}"
    log.warning(
        "Response does not fit the model: %s %s (decoded anyway; logged once per field; "
        "_strict_response_validation=True would raise)",
        subject,
        problem,
    )


class _Field(NamedTuple):
    name: str
    alias: str
    wire: str
    type: Any
    required: bool


def _container_kind(tp: Any) -> type | None:
    """``Mapping`` or ``list`` when ``tp`` is decoded from a JSON object or array."""
    origin = typing.get_origin(tp)
    if origin is None:
        return Mapping if isinstance(tp, type) and attrs.has(tp) else None
    if origin in (list, typing.get_origin(typing.Sequence)):
        return list
    if origin in (dict, typing.get_origin(typing.Mapping)):
        return Mapping
    return None


class _Tolerant:
    """Field-by-field decoding of a response the generated functions rejected.

    Every subtree is first tried with the fast converter; only what still fails
    is taken apart, down to the values that do not fit, which are kept as received.
    """

    def __init__(self, conv: cattrs.Converter) -> None:
        self._conv = conv
        self._fields: dict[type, tuple[_Field, ...]] = {}

    def top(self, data: Any, model: Any) -> Any:
        """``data`` as ``model``; only a result of the wrong kind altogether raises."""
        kind = _container_kind(model)
        if kind is None or not isinstance(data, kind):
            raise ShapeError(f"expected {_type_name(model)}, got {_json_type(data)}")
        return self._salvage(data, model, _type_name(model), "")

    def _value(self, value: Any, tp: Any, owner: str, field: str) -> Any:
        try:
            return self._conv.structure(value, tp)
        except Exception:  # anything a foreign document makes a hook raise
            return self._salvage(value, tp, owner, field)

    def _salvage(self, value: Any, tp: Any, owner: str, field: str) -> Any:
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            for member in typing.get_args(tp):
                kind = _container_kind(member)
                if kind is not None and isinstance(value, kind):
                    return self._salvage(value, member, owner, field)
        else:
            kind = _container_kind(tp)
            if kind is Mapping and isinstance(value, Mapping):
                if origin is None:
                    return self._model(value, tp)
                item_type = typing.get_args(tp)[1]
                return {key: self._value(v, item_type, owner, field) for key, v in value.items()}
            if kind is list and isinstance(value, list):
                (item_type,) = typing.get_args(tp)
                return [self._value(v, item_type, owner, field) for v in value]
        expected = _type_name(tp)
        _report(owner, field, f"holds {_json_type(value)} where {expected} was expected; kept")
        return value

    def _model(self, data: Mapping[str, Any], cls: type[Any]) -> Any:
        owner = cls.__name__
        values: dict[str, Any] = {}
        for field in self._plan(cls):
            if field.wire in data:
                values[field.alias] = self._value(data[field.wire], field.type, owner, field.name)
            elif field.required:
                _report(owner, field.name, "is missing; it reads as None")
                values[field.alias] = None
        model = cls(**values)
        if isinstance(model, BaseModel):
            set_received(model, data)
        return model

    def _plan(self, cls: type[Any]) -> tuple[_Field, ...]:
        plan = self._fields.get(cls)
        if plan is None:
            plan = tuple(
                _Field(
                    name=a.name,
                    alias=a.alias,
                    wire=wire_name(a),
                    type=a.type,
                    required=a.default is attrs.NOTHING,
                )
                for a in attrs.fields(attrs.resolve_types(cls))
            )
            self._fields[cls] = plan
        return plan


_tolerant = _Tolerant(converter)


def structure(data: Any, model: Any, *, tolerant: bool = False) -> Any:
    """``data`` decoded as ``model``.

    Strict (the default here) raises one :class:`ShapeError` for any mismatch;
    ``tolerant`` raises only when ``data`` is not even the right kind of JSON
    value (an array for a list, an object for a model).
    """
    try:
        return converter.structure(data, model)
    except cattrs.BaseValidationError as exc:
        if not tolerant:
            raise ShapeError("; ".join(cattrs.transform_error(exc))) from exc
    except Exception as exc:  # a hook's error on a foreign document
        if not tolerant:
            raise ShapeError(str(exc) or type(exc).__name__) from exc
    return _tolerant.top(data, model)

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
from ._models import BaseModel, _store_received, keep_received, set_received
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
    else:
        conv.register_structure_hook_factory(
            _is_list, lambda tp: _arrays_only(list_structure_factory(tp, conv))
        )
    return conv


def _arrays_only(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """cattrs' list function, refusing what is not an array.

    cattrs iterates any iterable, so a string would become its characters and
    an object its keys; both are a different kind of JSON value.
    """

    @functools.wraps(fn)
    def structure(value: Any, tp: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"expected an array, got {_json_type(value)}")
        return fn(value, tp)

    return structure


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
# search results spend most of their decoding there. The code below generates,
# per model, one function for the well-formed case: scalars of the right type
# are taken as they are, nested models, lists of them and timestamps are
# decoded inline (no call per object), other values go through the hooks
# cattrs would call, and objects are filled through plain slot stores. If
# anything raises, the whole object is handed to cattrs' function, so errors
# (and tolerant decoding) are exactly what they were.

_INLINE_DEPTH: Final = 6
"""How deep nested models are decoded inline; deeper ones are called."""


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


_BUILDERS: dict[type, type[Any] | None] = {}


def _builder(cls: type[Any], names: list[str]) -> type[Any] | None:
    """The twin of ``cls`` (see :func:`_make_builder`), made once per class.

    A model is inlined in every function that decodes it, and each would
    otherwise get a class of its own.
    """
    if cls not in _BUILDERS:
        _BUILDERS[cls] = _make_builder(cls, names)
    return _BUILDERS[cls]


def _make_builder(cls: type[Any], names: list[str]) -> type[Any] | None:
    """A mutable twin of the frozen model ``cls`` (same base, same slots), or None.

    An attrs frozen class refuses plain attribute stores, and filling a slot
    through its descriptor is a call per field. A twin built on the same base
    with the same slots takes plain stores (the interpreter's fastest path),
    and the finished object is then retyped as ``cls``: Python allows that
    between classes of identical layout.
    """
    if (
        cls.__bases__ != (BaseModel,)
        or cls.__dict__.get("__slots__") != tuple(names)
        or not all(name.isidentifier() and not name.startswith("__") for name in names)
    ):
        return None
    twin: type[Any] = type(f"_{cls.__name__}Builder", (BaseModel,), {"__slots__": tuple(names)})
    try:  # the interpreter compares the layouts: trust it, not this module
        probe = object.__new__(twin)
        probe.__class__ = cls
    except TypeError:
        return None
    return twin


_SHARED_LIMIT: Final = 256
"""How many distinct values of one shareable model are remembered."""

_SHARED_TEXT: Final = 64
"""Only objects whose strings are all at most this long are remembered: a cache
must not keep a large value alive after the caller dropped it."""

_SHARED: dict[type, dict[tuple[Any, ...], Any]] = {}


def _shared_cache(cls: type[Any]) -> dict[tuple[Any, ...], Any]:
    return _SHARED.setdefault(cls, {})


def _shareable(fields: Any) -> bool:
    """Whether equal values of a model can be one object: a few fields, all plain scalars.

    Only types whose decoded values are equal exactly when they are the same
    value of the same type: no floats (``0.0 == -0.0``), no containers, no
    other models.
    """
    if len(fields) > 8:
        return False
    for field in fields:
        tp = _optional_inner(field.type) or field.type
        if tp not in (str, int, bool) and not _is_literal(tp):
            return False
        if (
            not isinstance(field.default, (str, int, bool, type(None)))
            and field.default is not attrs.NOTHING
        ):
            return False
    return True


def _in_received_order(
    record: dict[str, Any], data: Mapping[str, Any], wires: frozenset[str]
) -> dict[str, Any]:
    """``record`` with the renamed fields' wire keys (``wires``) in ``data``'s order."""
    # filter() walks the keys in C, without a Python step per key.
    written = tuple(filter(wires.__contains__, record))
    if len(written) < 2:
        return record
    if len(written) == 2:  # the usual case: the first one in ``data`` settles it
        if next(filter(wires.__contains__, data)) == written[0]:
            return record
        received: tuple[str, ...] = written[::-1]
    else:
        received = tuple(filter(wires.__contains__, data))
        if received == written:
            return record
    ordered = {key: value for key, value in record.items() if key not in wires}
    for key in received:
        ordered[key] = record[key]
    return ordered


def _inlinable(cls: Any) -> bool:
    """Whether the generated code can build ``cls`` itself (slots filled one by one)."""
    if not (isinstance(cls, type) and attrs.has(cls)) or getattr(cls, "__parameters__", None):
        return False  # generic models keep cattrs' type-variable handling
    if hasattr(cls, "__attrs_post_init__") or "__slots__" not in cls.__dict__:
        return False
    for field in attrs.fields(attrs.resolve_types(cls)):
        if (
            not field.init
            or field.validator is not None
            or field.converter is not None
            or not isinstance(getattr(cls, field.name, None), types.MemberDescriptorType)
            or (isinstance(field.default, attrs.Factory) and field.default.takes_self)  # type: ignore[arg-type]
        ):
            return False
    return True


class _Generator:
    """Writes the source of one model's fast structure function."""

    def __init__(self, conv: cattrs.Converter) -> None:
        self._conv = conv
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "new": object.__new__,
            "keep_received": keep_received,
            "utc": timezone.utc,
        }
        self._count = 0

    def _name(self, prefix: str, value: Any) -> str:
        self._count += 1
        name = f"{prefix}{self._count}"
        self.namespace[name] = value
        return name

    def _emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def model(
        self, cls: type[Any], src: str, dst: str, depth: int, stack: tuple[type, ...]
    ) -> None:
        """Code that builds ``cls`` from the dict in variable ``src`` into variable ``dst``."""
        fields = attrs.fields(attrs.resolve_types(cls))
        is_model = issubclass(cls, BaseModel)
        builder = _builder(cls, [field.name for field in fields]) if is_model else None
        shared = builder is not None and _shareable(fields)
        level = len(stack)
        rec, miss = f"rec{level}", f"miss{level}"
        cls_name = self._name("cls", cls)
        make = self._name("builder", builder) if builder is not None else None
        if not shared:
            # Calling the twin is quicker than object.__new__ (it has no __init__).
            self._emit(depth, f"{dst} = {make}()" if make else f"{dst} = new({cls_name})")
        if is_model:
            self._emit(depth, f"{rec} = None")
            self._emit(depth, f"{miss} = 0")
        for n, field in enumerate(fields):
            key = wire_name(field)
            self._emit(depth, f"if {key!r} in {src}:")
            self._emit(depth + 1, f"v = {src}[{key!r}]")
            self._value(field.type, key, depth + 1, (*stack, cls), rec if is_model else None)
            if is_model and key != field.name:
                # As cattrs' path does, the wire name of a renamed field is kept as received.
                self._emit(depth + 1, f"if {rec} is None:")
                self._emit(depth + 2, f"{rec} = {{}}")
                self._emit(depth + 1, f"{rec}[{key!r}] = {src}[{key!r}]")
            self._emit(depth, "else:")
            if is_model and field.default is not attrs.NOTHING:
                self._emit(depth + 1, f"{miss} += 1")
            if field.default is attrs.NOTHING:
                self._emit(depth + 1, f"raise KeyError({key!r})  # a required field is missing")
            elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
                self._emit(depth + 1, f"v = {self._name('factory', field.default.factory)}()")
            else:
                self._emit(depth + 1, f"v = {self._name('default', field.default)}")
            if shared:
                self._emit(depth, f"a{level}_{n} = v")
            elif builder is not None:
                self._emit(depth, f"{dst}.{field.name} = v")
            else:
                setter = getattr(cls, field.name).__set__
                self._emit(depth, f"{self._name('set', setter)}({dst}, v)")
        if not is_model:
            return
        # What keep_received would keep, found while reading: unknown keys
        # show as a count that does not add up (then it looks for itself).
        names = self._name("names", frozenset(field.name for field in fields))
        self._emit(depth, f"if len({src}) != {len(fields)} - {miss}:")
        if shared:
            self._fill(depth + 1, dst, make, fields, level)
        self._emit(depth + 1, f"keep_received({dst}, {names}, {src})")
        if shared:
            self._emit(depth + 1, f"{dst}.__class__ = {cls_name}")
        renamed = [n for n, field in enumerate(fields) if wire_name(field) != field.name]
        # A shared object may keep one renamed field's wire key, holding the value
        # as received: the values still say it all, unless an absent key reads as
        # a value other than None.
        keeps_wire = (
            shared and len(renamed) == 1 and fields[renamed[0]].default in (None, attrs.NOTHING)
        )
        if keeps_wire:
            n = renamed[0]
            wire = wire_name(fields[n])
            self._emit(
                depth,
                f"elif {rec} is not None and not (len({rec}) == 1"
                f" and a{level}_{n} is not None and {rec}.get({wire!r}) is a{level}_{n}):",
            )
        else:
            self._emit(depth, f"elif {rec} is not None:")
        if len(renamed) > 1:
            # The record was written in field order; dumps list these keys as received.
            order = self._name("in_received_order", _in_received_order)
            wires = self._name("wires", frozenset(wire_name(fields[n]) for n in renamed))
            self._emit(depth + 1, f"{rec} = {order}({rec}, {src}, {wires})")
        if shared:
            self._fill(depth + 1, dst, make, fields, level)
        if builder is not None:
            self._emit(depth + 1, f"{dst}._received = {rec}")
        else:
            self._emit(depth + 1, f"{self._name('store', _store_received)}({dst}, {rec})")
        if shared:
            self._emit(depth + 1, f"{dst}.__class__ = {cls_name}")
            # Nothing but its values describes this object: an equal one
            # decoded earlier is the same immutable value, so it is reused.
            cache = self._name("shared", _shared_cache(cls))
            values = "".join(f"a{level}_{n}, " for n in range(len(fields)))
            self._emit(depth, "else:")
            self._emit(depth + 1, f"k = ({values})")
            self._emit(depth + 1, f"{dst} = {cache}.get(k)")
            self._emit(depth + 1, f"if {dst} is None:")
            self._fill(depth + 2, dst, make, fields, level)
            if keeps_wire:
                self._emit(depth + 2, f"if {rec} is not None:")
                self._emit(depth + 3, f"{dst}._received = {rec}")
            self._emit(depth + 2, f"{dst}.__class__ = {cls_name}")
            short = "".join(
                f" and (type(a{level}_{n}) is not str or len(a{level}_{n}) <= {_SHARED_TEXT})"
                for n in range(len(fields))
            )
            self._emit(depth + 2, f"if len({cache}) < {_SHARED_LIMIT}{short}:")
            self._emit(depth + 3, f"{cache}[k] = {dst}")
        elif builder is not None:
            self._emit(depth, f"{dst}.__class__ = {cls_name}")

    def _fill(self, depth: int, dst: str, make: str | None, fields: Any, level: int) -> None:
        """Code that builds the twin of a shareable model from its values in locals."""
        self._emit(depth, f"{dst} = {make}()")
        for n, field in enumerate(fields):
            self._emit(depth, f"{dst}.{field.name} = a{level}_{n}")

    def _value(
        self, tp: Any, key: str, depth: int, stack: tuple[type, ...], rec: str | None
    ) -> None:
        """Code that turns ``v`` (a present value) into ``tp`` in place."""
        inner = _optional_inner(tp)
        if inner is not None:
            self._emit(depth, "if v is None:")
            self._null(depth + 1, rec, key)
            self._emit(depth, "else:")
            self._present(inner, depth + 1, stack)
            return
        check = _fast_check(tp)
        if check is not None:
            self._emit(depth, f"if not ({check}):")
            depth += 1
        if rec is not None:  # a null that the hook accepts is still an explicit null
            self._emit(depth, "if v is None:")
            self._null(depth + 1, rec, key)
        self._convert(tp, depth)

    def _null(self, depth: int, rec: str | None, key: str) -> None:
        if rec is None:
            self._emit(depth, "pass")
            return
        self._emit(depth, f"if {rec} is None:")
        self._emit(depth + 1, f"{rec} = {{}}")
        self._emit(depth, f"{rec}[{key!r}] = None")

    def _convert(self, tp: Any, depth: int) -> None:
        hook = self._name("hook", self._conv.get_structure_hook(tp))
        self._emit(depth, f"v = {hook}(v, {self._name('type', tp)})")

    def _present(self, tp: Any, depth: int, stack: tuple[type, ...]) -> None:
        """Code that turns ``v`` (present, not None) into ``tp`` in place."""
        check = _fast_check(tp)
        if check is not None:
            self._emit(depth, f"if not ({check}):")
            self._convert(tp, depth + 1)
            return
        if self._inline(tp, stack):
            level = len(stack)
            self._emit(depth, "if type(v) is dict:")
            self._emit(depth + 1, f"o{level} = v")
            self.model(tp, f"o{level}", f"x{level}", depth + 1, stack)
            self._emit(depth + 1, f"v = x{level}")
            self._emit(depth, "else:")
            self._convert(tp, depth + 1)
            return
        if _is_list(tp) and typing.get_args(tp):
            (item,) = typing.get_args(tp)
            level = len(stack)
            if self._inline(item, stack):
                self._emit(depth, "if type(v) is list:")
                self._emit(depth + 1, f"l{level} = []")
                self._emit(depth + 1, f"for o{level} in v:")
                self._emit(depth + 2, f"if type(o{level}) is not dict:")
                self._emit(depth + 3, "raise TypeError  # an element that is not an object")
                self.model(item, f"o{level}", f"x{level}", depth + 2, stack)
                self._emit(depth + 2, f"l{level}.append(x{level})")
                self._emit(depth + 1, f"v = l{level}")
                self._emit(depth, "else:")
                self._convert(tp, depth + 1)
                return
            if item in _SCALAR_HOOKS:
                hook = self._name("hook", self._conv.get_structure_hook(item))
                self._emit(depth, "if type(v) is list:")
                self._emit(
                    depth + 1,
                    f"v = [e if type(e) is {item.__name__}"
                    f" else {hook}(e, {item.__name__}) for e in v]",
                )
                self._emit(depth, "else:")
                self._convert(tp, depth + 1)
                return
        if tp is datetime and _FROMISOFORMAT_READS_Z:
            fromiso = self._name("fromiso", datetime.fromisoformat)
            self._emit(depth, "if type(v) is str:")
            self._emit(depth + 1, f"v = {fromiso}(v)")
            self._emit(depth + 1, "if v.tzinfo is None:  # a zone-less stamp from the API is UTC")
            self._emit(depth + 2, "v = v.replace(tzinfo=utc)")
            self._emit(depth, "else:")
            self._convert(tp, depth + 1)
            return
        self._convert(tp, depth)

    def _inline(self, tp: Any, stack: tuple[type, ...]) -> bool:
        return len(stack) < _INLINE_DEPTH and tp not in stack and _inlinable(tp)


def _fast_model_hook(
    conv: cattrs.Converter, cls: type[Any], slow: Callable[[Any, Any], Any]
) -> Callable[[Any, Any], Any] | None:
    """A structure function for ``cls`` that falls back to ``slow``; None if ``cls`` is unusual."""
    if not _inlinable(cls):
        return None
    gen = _Generator(conv)
    gen.namespace["slow"] = slow
    gen.lines += [
        "def structure(o, _):",
        "    if type(o) is not dict:",
        "        return slow(o, _)",
        "    try:",
    ]
    gen.model(cls, "o", "self", 2, ())
    gen.lines += [
        "    except Exception:",
        "        return slow(o, _)",
        "    return self",
    ]
    code = compile("\n".join(gen.lines), f"<cfaisearch fast structure {cls.__qualname__}>", "exec")
    exec(code, gen.namespace)
    fast: Callable[[Any, Any], Any] = gen.namespace["structure"]
    return fast


def _fast_list_hook(conv: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    """``list[X]``: the elements through X's hook; anything else as cattrs would."""
    slow = _arrays_only(list_structure_factory(tp, conv))
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

"""Per-call request options and the NOT_GIVEN sentinel.

``NOT_GIVEN`` marks a keyword the caller did not pass, so that "leave this field
out of the request" stays distinct from "send an explicit null".
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, TypedDict

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import Unpack

import attrs
import orjson

__all__ = [
    "NOT_GIVEN",
    "NotGiven",
    "Omit",
    "RequestOptions",
    "ResolvedOptions",
    "Unpack",
    "json_body",
    "not_given",
    "omit",
    "resolve_options",
]


class NotGiven:
    """Type of :data:`NOT_GIVEN`; falsy, a singleton, and never sent on the wire."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

# The official SDK's other spellings: its ``omit`` (leave a parameter out) is
# what NOT_GIVEN already does here, so all of them are the one sentinel.
not_given: Final = NOT_GIVEN
omit: Final = NOT_GIVEN
Omit = NotGiven


class RequestOptions(TypedDict, total=False):
    """Keywords every API method accepts on top of its own parameters."""

    timeout: float | None
    """Seconds for the whole call, retries and their waits included; ``None`` waits forever.

    For a streamed response (chat stream, download) it bounds the wait for the
    response headers; the body may then take as long as it keeps arriving, each
    wait for more data bounded by the client's ``read_timeout`` (by default
    this same ``timeout``).
    """
    max_retries: int
    """Overrides the client's ``max_retries`` for this call."""
    extra_headers: Mapping[str, str]
    """Headers merged over the client's (a value replaces the client's one)."""
    extra_query: Mapping[str, str | int | float | bool]
    """Query parameters merged over the method's own."""
    extra_body: Mapping[str, Any]
    """JSON properties merged over the method's own body."""


_OPTION_NAMES: Final = frozenset(RequestOptions.__annotations__)


@attrs.frozen(kw_only=True)
class ResolvedOptions:
    """Request options after validation; what the request path consumes."""

    timeout: float | NotGiven | None = NOT_GIVEN
    max_retries: int | NotGiven = NOT_GIVEN
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, str | int | float | bool] | None = None
    extra_body: Mapping[str, Any] | None = None


_NO_OPTIONS: Final = ResolvedOptions()


def resolve_options(options: Mapping[str, Any]) -> ResolvedOptions:
    """Validate the ``**options`` a method received.

    ``**options`` is typed for checkers, but at run time Python accepts any
    keyword there; a misspelt parameter must fail loudly rather than vanish.
    """
    if not options:
        return _NO_OPTIONS
    unknown = set(options) - _OPTION_NAMES
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TypeError(f"unexpected keyword argument(s): {names}")
    timeout = options.get("timeout", NOT_GIVEN)
    if (
        not isinstance(timeout, NotGiven)
        and timeout is not None
        and (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            # nan compares false with everything, so it would pass a plain "<= 0".
            or not (math.isfinite(timeout) and timeout > 0)
        )
    ):
        raise ValueError(
            f"`timeout` must be a finite, positive number of seconds or None, got {timeout!r}"
        )
    max_retries = options.get("max_retries", NOT_GIVEN)
    if not isinstance(max_retries, NotGiven) and (
        isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0
    ):
        raise ValueError(f"`max_retries` must be a non-negative integer, got {max_retries!r}")
    return ResolvedOptions(
        timeout=timeout,
        max_retries=max_retries,
        extra_headers=options.get("extra_headers"),
        extra_query=options.get("extra_query"),
        extra_body=options.get("extra_body"),
    )


def _as_arrays(value: object) -> object:
    """``value`` with every iterable that is no string, bytes or mapping made a list."""
    if isinstance(value, Mapping):
        return {key: _as_arrays(item) for key, item in value.items()}
    if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, Iterable):
        return value
    return [_as_arrays(item) for item in value]


def json_body(value: object, where: str = "") -> bytes:
    """``value`` as JSON; a non-finite number in it is a ``ValueError`` naming its place.

    orjson writes NaN and infinities as ``null``, which would silently reset a
    setting instead of failing. Only a document holding a ``null`` can hide
    one, so most bodies are not walked at all.
    """
    try:
        data = orjson.dumps(value)
    except orjson.JSONEncodeError:
        # Any iterable stands for a JSON array, as in the official SDK (a generator
        # for an ``Iterable[...]`` parameter); the second try names what is left.
        value = _as_arrays(value)
        data = orjson.dumps(value)
    if b"null" not in data:
        return data
    pending: list[tuple[object, str]] = [(value, where)]
    while pending:
        item, path = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"`{path or 'body'}` must be a finite number, got {item!r}")
        if isinstance(item, Mapping):
            pending.extend((v, f"{path}.{k}" if path else str(k)) for k, v in item.items())
        elif isinstance(item, (list, tuple)):
            pending.extend((v, f"{path}[{i}]") for i, v in enumerate(item))
    return data

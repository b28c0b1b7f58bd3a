"""What every async resource shares: its client, and argument checks."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import math
import re
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import quote

from .._envelope import retry_after
from .._exceptions import APIConnectionError, APIStatusError, WaitTimeoutError
from .._options import NotGiven
from .._wire import body_names
from .._with_raw import WithRawResponse, WithStreamingResponse

if TYPE_CHECKING:
    from .._client import AsyncCloudflare

__all__ = [
    "AsyncResource",
    "body",
    "body_of",
    "check_int",
    "deprecated_alias",
    "new_instance_id",
    "page_params",
    "poll",
    "required_str",
    "search_body",
    "segment",
    "to_messages",
]

_T = TypeVar("_T")
_F = TypeVar("_F", bound=Callable[..., Any])

_UNRESERVED: Final = re.compile(r"[A-Za-z0-9._~-]+")
# What no path segment may hold: a slash (many servers and proxies decode %2F
# before routing) and control characters.
_NOT_IN_SEGMENT: Final = re.compile(r"[/\x00-\x1f\x7f]")
_INSTANCE_ID: Final = re.compile(r"[a-z0-9_-]{1,64}")
_CANCEL_AGAIN_AFTER: Final = 0.05
# Set while a deprecated method runs: the calls it makes on the way (the sync
# facade's to the async method, on the client's loop) do not warn again.
_in_deprecated_call: Final[contextvars.ContextVar[bool]] = contextvars.ContextVar(
    "cfaisearch_in_deprecated_call", default=False
)


class AsyncResource:
    """Base of the resource tree; each node keeps the client that sends requests."""

    with_raw_response = WithRawResponse()
    with_streaming_response = WithStreamingResponse()

    def __init__(self, client: AsyncCloudflare) -> None:
        self._client = client

    def _ai_search(self, account_id: str | None, *parts: str) -> str:
        """``/accounts/{account}/ai-search/<parts>``; parts arrive checked and encoded."""
        account = segment("account_id", self._client.resolve_account_id(account_id))
        return "/".join((f"/accounts/{account}/ai-search", *parts))


def _outside_package() -> int:
    """The ``stacklevel`` of the nearest caller outside cfaisearch (the user's line)."""
    frame = sys._getframe(2)  # the caller of the deprecated method's wrapper
    level = 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(
        "cfaisearch."
    ):
        frame = frame.f_back
        level += 1
    return level


def deprecated_alias(old: str, new: str) -> Callable[[_F], _F]:
    """Make a method warn, when called, that ``old`` is deprecated in favour of ``new``.

    The warning points at the user's line, as the official SDK's does, and is
    given once per call: not again by the calls the method makes inside.
    """
    message = f"`{old}` is deprecated; use `{new}` instead"

    def decorate(method: _F) -> _F:
        @functools.wraps(method)
        def warn_then_call(*args: Any, **kwargs: Any) -> Any:
            if not _in_deprecated_call.get():
                warnings.warn(message, DeprecationWarning, stacklevel=_outside_package())
            token = _in_deprecated_call.set(True)
            try:
                return method(*args, **kwargs)
            finally:
                _in_deprecated_call.reset(token)

        # Still a coroutine function to introspection, where Python can say so (3.12+).
        mark = getattr(inspect, "markcoroutinefunction", None)
        if mark is not None and inspect.iscoroutinefunction(method):
            mark(warn_then_call)
        return warn_then_call  # type: ignore[return-value]

    return decorate


def segment(name: str, value: object) -> str:
    """Check a path parameter and percent-encode it as exactly one path segment.

    Only what cannot be one segment is refused (the server decides what it
    holds): empty, ``.`` or ``..``, a ``/``, or a control character.
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"`{name}` must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        raise ValueError(f"`{name}` must not be {value!r}")
    # Most ids need no escaping; skipping quote() matters on the per-request path.
    if _UNRESERVED.fullmatch(value):
        return value
    if _NOT_IN_SEGMENT.search(value):
        raise ValueError(f"`{name}` must not contain '/' or control characters, got {value!r}")
    return quote(value, safe="")


def required_str(name: str, value: object, *, secret: bool = False) -> str:
    """A required string body value; a secret's value is never echoed in the error."""
    if not isinstance(value, str) or not value:
        shown = "''" if value == "" else type(value).__name__ if secret else repr(value)
        raise ValueError(f"`{name}` must be a non-empty string, got {shown}")
    return value


def new_instance_id(value: object) -> str:
    """The ``id`` of an instance to create: 1-64 lowercase letters, digits, ``-`` or ``_``.

    Only creation checks the documented pattern: instances made earlier or
    elsewhere may not match it and must stay reachable.
    """
    if not isinstance(value, str) or not _INSTANCE_ID.fullmatch(value):
        raise ValueError(
            "`id` must be an AI Search instance id (1-64 lowercase letters, digits, "
            f"'-' or '_'), got {value!r}"
        )
    return value


def check_int(name: str, value: object, low: int | None = None, high: int | None = None) -> None:
    """Refuse a non-integer, or one outside ``low``..``high`` (None: no bound that side)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        limits = [f"at least {low}"] if low is not None else []
        if high is not None:
            limits.append(f"at most {high}")
        raise ValueError(f"`{name}` must be {' and '.join(limits)}, got {value!r}")


def page_params(
    page: int | None,
    per_page: int | None,
    *,
    per_page_range: tuple[int, int] | None,
    page_from: int | None = 1,
) -> dict[str, int]:
    """Validated ``page``/``per_page`` query parameters (unset ones left out).

    Only documented bounds are enforced: ``per_page_range`` is None, and
    ``page_from`` None, where the API documents none.
    """
    params: dict[str, int] = {}
    if page is not None:
        check_int("page", page, page_from)
        params["page"] = page
    if per_page is not None:
        check_int("per_page", per_page, *(per_page_range or (None, None)))
        params["per_page"] = per_page
    return params


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body of the fields the caller gave, under their wire names.

    NOT_GIVEN is left out; an explicit None is sent as JSON null.
    """
    names = body_names()
    return {
        names.get(name, name): value
        for name, value in fields.items()
        if not isinstance(value, NotGiven)
    }


def body_of(arguments: Mapping[str, Any], *path_params: str) -> dict[str, Any]:
    """:func:`body` of a method's ``locals()``, minus ``self``, ``options`` and path parameters.

    For the instance methods, whose dozens of body keywords would otherwise be
    listed twice; call it before binding any other local name.
    """
    skip = {"self", "options", "account_id", *path_params}
    return body(**{name: value for name, value in arguments.items() if name not in skip})


def to_messages(value: Iterable[Any]) -> list[Any]:
    """A conversation as a JSON array (any iterable of message dicts is accepted)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"`messages` must be an iterable of message dicts, got {value!r}")
    conversation = list(value)
    if not conversation:
        raise ValueError("`messages` must hold at least one message")
    return conversation


def search_body(
    query: str | NotGiven, messages: Iterable[Any] | NotGiven, **fields: Any
) -> dict[str, Any]:
    """The body of a search: exactly one of ``query`` and ``messages``, plus ``fields``."""
    if isinstance(query, NotGiven) == isinstance(messages, NotGiven):
        raise ValueError("pass exactly one of `query` and `messages`")
    if isinstance(messages, NotGiven):
        if not isinstance(query, str) or not query:
            raise ValueError(f"`query` must be a non-empty string, got {query!r}")
        return body(query=query, **fields)
    return body(messages=to_messages(messages), **fields)


async def notify(callback: Callable[[_T], object] | None, value: _T) -> None:
    """Call ``callback`` (if any) with ``value``, awaiting it if it is a coroutine
    function, as event hooks are."""
    if callback is not None:
        result = callback(value)
        if inspect.isawaitable(result):
            await result


async def _within(seconds: float, awaitable: Awaitable[_T]) -> _T:
    """``awaitable``'s outcome, or TimeoutError once ``seconds`` have passed.

    It runs as a task of its own, cancelled again until it ends: aiohttp can
    swallow a cancellation that lands together with its own timeout, and the
    client would then go on retrying.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        await asyncio.wait((task,), timeout=seconds)
    finally:
        # Reached on timeout, and when the caller itself is cancelled.
        while not task.done():
            task.cancel()
            await asyncio.wait((task,), timeout=_CANCEL_AGAIN_AFTER)
    if task.cancelled():
        raise asyncio.TimeoutError
    return task.result()


def _seconds(name: str, value: object) -> float:
    """A finite, positive number of seconds (``nan`` and ``inf`` are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a number of seconds, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"`{name}` must be a finite, positive number of seconds, got {value!r}")
    return float(value)


async def poll(
    fetch: Callable[[float], Awaitable[_T]],
    done: Callable[[_T], bool],
    *,
    poll_interval: float,
    timeout: float,
    request_timeout: float | None,
    subject: str,
    progress: Callable[[_T], str],
) -> _T:
    """Fetch until ``done`` says so; return the last value.

    ``fetch(seconds)`` makes one request bounded by ``seconds``: the smaller of
    ``request_timeout`` (the client's) and what is left of ``timeout``. Retries
    inside one fetch are bounded by what is left too. Once ``timeout`` seconds
    have passed, raises :class:`~cfaisearch.WaitTimeoutError` carrying the last
    value (None if no poll was answered), its message ``subject`` plus
    ``progress(last)``; a timeout or connection error at the deadline is
    chained to it.
    """
    poll_interval = _seconds("poll_interval", poll_interval)
    timeout = _seconds("timeout", timeout)
    deadline = time.monotonic() + timeout
    last: _T | None = None

    def gave_up() -> WaitTimeoutError:
        state = f"{subject} {progress(last)}" if last is not None else f"{subject} never answered"
        return WaitTimeoutError(f"{state}; gave up after {timeout}s", last=last)

    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise gave_up()
        per_request = remaining if request_timeout is None else min(request_timeout, remaining)
        try:
            value = await _within(remaining, fetch(per_request))
        except asyncio.TimeoutError as exc:
            raise gave_up() from exc
        except APIConnectionError as exc:
            # The request's own timeout is capped at the deadline, so it fires
            # right there; an earlier failure is the caller's to see.
            if time.monotonic() < deadline:
                raise
            raise gave_up() from exc
        except APIStatusError as exc:
            # A request gives up at once when the server asks for a wait past
            # its budget: that wait is past this deadline too.
            asked = retry_after(exc.headers)
            if asked is None or time.monotonic() + asked < deadline:
                raise
            raise gave_up() from exc
        if done(value):
            return value
        last = value
        await asyncio.sleep(min(poll_interval, max(0.0, deadline - time.monotonic())))

"""The retry policy: what may be repeated, and how long to wait first.

AI Search has no idempotency keys, so a request that creates or changes state
(start a job, upload an item) is repeated only when it provably never reached
the server, or when the server explicitly refused it with 429. Reads, PUT and
DELETE (idempotent by HTTP's definition) and POSTs that only read (search,
chat completions) are repeated on any transient failure.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import attrs

from ._envelope import retry_after
from ._exceptions import APIConnectionError

__all__ = ["RetryPolicy"]

# Besides these, every 5xx (edge errors 520-524 included) is transient.
_RETRYABLE_STATUS: Final = frozenset({408, 429})


def _seconds(_: object, field: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise ValueError(f"`{field.name}` must be a number of seconds >= 0, got {value!r}")


def _fraction(_: object, field: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"`{field.name}` must be a number from 0 to 1, got {value!r}")


def _callable(_: object, field: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise TypeError(f"`{field.name}` must be an async function, got {value!r}")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How long to wait before each retry: exponential backoff with jitter, or ``Retry-After``.

    Pass one as ``AsyncCloudflare(retry_policy=...)`` (or ``Cloudflare``);
    ``max_retries`` says how many retries there may be, and which requests may
    be retried at all is not configurable (see docs/reliability.md). Retry
    number *n* waits ``min(initial_delay * 2**(n-1), max_delay)``, minus up to
    ``jitter`` of it at random, unless the answer asked for a wait with
    ``Retry-After``.
    """

    initial_delay: float = attrs.field(default=0.5, validator=_seconds)
    """Seconds before the first retry."""
    max_delay: float = attrs.field(default=8.0, validator=_seconds)
    """The longest backoff, in seconds (a ``Retry-After`` may ask for more)."""
    jitter: float = attrs.field(default=0.25, validator=_fraction)
    """Fraction of the delay that may be randomly removed, so clients desynchronise."""
    max_retry_after: float = attrs.field(default=60.0, validator=_seconds)
    """The longest ``Retry-After`` waited for; a longer one fails the call at once."""
    sleep: Callable[[float], Awaitable[None]] = attrs.field(
        default=asyncio.sleep, validator=_callable
    )
    """How to wait (``asyncio.sleep``); tests pass one that returns at once."""

    def status_reason(self, status: int, *, retry_safe: bool) -> str | None:
        """Why a response with this status may be retried, or None if it may not."""
        if status == 429:
            return "HTTP 429 (rate limited)"
        if retry_safe and (status in _RETRYABLE_STATUS or status >= 500):
            return f"HTTP {status}"
        return None

    def error_reason(self, error: APIConnectionError, *, retry_safe: bool) -> str | None:
        """Why a failed exchange may be retried, or None if it may not."""
        if retry_safe or not error.reached_server:
            return type(error).__name__ + ": " + error.message
        return None

    def delay(self, retries_taken: int, headers: Mapping[str, str] | None = None) -> float:
        """Seconds to wait before retry number ``retries_taken + 1``."""
        if headers is not None:
            asked = retry_after(headers)
            if asked is not None:
                return asked
        base: float = min(self.initial_delay * 2.0**retries_taken, self.max_delay)
        return base * (1 - self.jitter * random.random())

"""The retry policy: what may be repeated, and how long to wait first.

AI Search has no idempotency keys, so a request that creates or changes state
(start a job, upload an item) is repeated only when it provably never reached
the server, or when the server explicitly refused it with 429. Reads, PUT and
DELETE (idempotent by HTTP's definition) and POSTs that only read (search,
chat completions) are repeated on any transient failure.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

import attrs

from ._envelope import retry_after
from ._exceptions import APIConnectionError

__all__ = ["RetryPolicy"]

# Besides these, every 5xx (edge errors 520-524 included) is transient.
_RETRYABLE_STATUS: Final = frozenset({408, 429})


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded, honouring ``Retry-After``."""

    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    """Fraction of the delay that may be randomly removed, so clients desynchronise."""
    max_retry_after: float = 60.0
    """The longest ``Retry-After`` waited for; a longer one fails the call at once."""
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

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

"""Deterministic fault injection: random rates from a seeded RNG plus scripted faults.

Pure bookkeeping; middleware.py turns a decision into a response. The injector
is shared with the thread that owns a threaded ``Emulator``, hence the lock.
"""

from __future__ import annotations

import dataclasses
import random
import re
import threading
from collections import deque
from typing import Any, Literal

DROP: Literal["drop"] = "drop"
DROP_AFTER: Literal["drop_after"] = "drop_after"

FaultKind = int | Literal["drop", "drop_after"]


# The order in which one random draw is mapped to a fault kind: changing it
# would change which faults a given seed injects.
_RATES: tuple[str, ...] = (
    "drop_rate",
    "error_502_rate",
    "error_500_rate",
    "error_429_rate",
    "drop_after_rate",
)
_KINDS: tuple[FaultKind, ...] = (DROP, 502, 500, 429, DROP_AFTER)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FaultConfig:
    """Random faults; rates are probabilities per matching request (0-1)."""

    error_500_rate: float = 0.0
    #: HTML "bad gateway" pages, like Cloudflare's edge serves them.
    error_502_rate: float = 0.0
    error_429_rate: float = 0.0
    #: Connection reset before the request reaches the application: it is never
    #: handled, so nothing changes.
    drop_rate: float = 0.0
    #: The request is handled (its changes are stored), then the connection is
    #: reset instead of answering: the client cannot tell whether it was applied.
    drop_after_rate: float = 0.0
    #: Added to every matching request, faulty or not.
    latency_ms: float = 0.0
    seed: int = 0
    #: Regular expression searched in the request path; ``None`` matches all.
    routes: str | None = None
    #: HTTP methods to affect (upper case); ``None`` means all.
    methods: frozenset[str] | None = None
    #: ``Retry-After`` seconds sent with injected 429/503 responses.
    retry_after: int = 1

    def __post_init__(self) -> None:
        rates = [getattr(self, name) for name in _RATES]
        for name, rate in zip(_RATES, rates, strict=True):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        total = sum(rates)
        if total > 1.0:
            raise ValueError(f"fault rates add up to {total}, more than 1")
        if self.latency_ms < 0 or self.retry_after < 0:
            raise ValueError("latency_ms and retry_after must not be negative")
        if self.routes is not None:
            re.compile(self.routes)
        if self.methods is not None:
            object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        return self.routes is None or re.search(self.routes, path) is not None


@dataclasses.dataclass(frozen=True)
class Fault:
    """What to do with a request: answer an HTTP status or ``"drop"`` instead of
    handling it, or handle it and then ``"drop_after"``."""

    kind: FaultKind
    retry_after: int


@dataclasses.dataclass(frozen=True)
class InjectedFault:
    """Record of a fault that was applied, for assertions in tests."""

    method: str
    path: str
    kind: FaultKind


@dataclasses.dataclass
class _Scripted:
    fault: Fault
    remaining: int
    route: re.Pattern[str] | None
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.route is None or self.route.search(path) is not None


class FaultInjector:
    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._rng = random.Random(self._config.seed)
        self._scripted: deque[_Scripted] = deque()
        self._injected: list[InjectedFault] = []

    @property
    def config(self) -> FaultConfig:
        return self._config

    @property
    def injected(self) -> list[InjectedFault]:
        with self._lock:
            return list(self._injected)

    def configure(self, config: FaultConfig | None = None, **changes: Any) -> FaultConfig:
        """Replace (``config``) and/or update (keyword fields) the random faults.

        The RNG is reseeded, so the same configuration followed by the same
        requests always injects the same faults.
        """
        with self._lock:
            new = dataclasses.replace(config or self._config, **changes)
            self._config = new
            self._rng = random.Random(new.seed)
            return new

    def inject(
        self,
        fault: FaultKind,
        *,
        times: int = 1,
        route: str | None = None,
        method: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Give the next ``times`` matching requests this fault.

        ``fault`` is an HTTP status, ``"drop"`` (reset before the request is
        handled) or ``"drop_after"`` (handled, then reset instead of answered).

        Scripted faults are served in the order they were added, before any
        random fault, e.g. ``inject(503, times=2, route=r"/items$", method="POST")``.
        """
        if fault not in (DROP, DROP_AFTER) and not (isinstance(fault, int) and 400 <= fault <= 599):
            raise ValueError(
                f"fault must be an HTTP status 400-599, 'drop' or 'drop_after', got {fault!r}"
            )
        if times < 1:
            raise ValueError("times must be >= 1")
        pattern = re.compile(route) if route is not None else None
        with self._lock:
            wait = self._config.retry_after if retry_after is None else retry_after
            entry = _Scripted(Fault(fault, wait), times, pattern, method and method.upper())
            self._scripted.append(entry)

    def clear(self) -> None:
        """Drop scripted faults, zero every rate and latency, forget the history."""
        with self._lock:
            self._scripted.clear()
            self._injected.clear()
            self._config = FaultConfig(seed=self._config.seed)
            self._rng = random.Random(self._config.seed)

    def decide(self, method: str, path: str) -> tuple[Fault | None, float]:
        """The fault (if any) and the latency in seconds for one incoming request."""
        with self._lock:
            config = self._config
            latency = config.latency_ms / 1000 if config.matches(method, path) else 0.0
            fault = self._take_scripted(method, path) or self._draw(config, method, path)
            if fault is not None:
                self._injected.append(InjectedFault(method, path, fault.kind))
            return fault, latency

    def _take_scripted(self, method: str, path: str) -> Fault | None:
        for entry in self._scripted:
            if entry.matches(method, path):
                entry.remaining -= 1
                if entry.remaining == 0:
                    self._scripted.remove(entry)
                return entry.fault
        return None

    def _draw(self, config: FaultConfig, method: str, path: str) -> Fault | None:
        if not config.matches(method, path):
            return None
        rates = [getattr(config, name) for name in _RATES]
        if not any(rates):
            return None  # no draw: keeps the sequence stable when faults are off
        # One draw per matching request: the outcome depends only on the seed
        # and the position of the request in the sequence.
        roll = self._rng.random()
        threshold = 0.0
        for kind, rate in zip(_KINDS, rates, strict=True):
            threshold += rate
            if roll < threshold:
                return Fault(kind, config.retry_after)
        return None

"""A local, offline emulator of the Cloudflare AI Search REST API.

``from cfaisearch.emulator import AsyncEmulator, Emulator``; see docs/emulator.md.
Importing this package is cheap: the server modules (and aiohttp) load on
first use of an exported name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .config import EmulatorConfig
    from .faults import FaultConfig, FaultInjector, InjectedFault
    from .server import AsyncEmulator, Emulator

__all__ = [
    "AsyncEmulator",
    "Emulator",
    "EmulatorConfig",
    "FaultConfig",
    "FaultInjector",
    "InjectedFault",
    "create_app",
]

_HOMES = {
    "AsyncEmulator": ".server",
    "Emulator": ".server",
    "EmulatorConfig": ".config",
    "FaultConfig": ".faults",
    "FaultInjector": ".faults",
    "InjectedFault": ".faults",
    "create_app": ".app",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value

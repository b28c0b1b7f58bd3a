"""Fixtures for the emulator tests: a fresh in-memory emulator and a raw HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from cfaisearch.emulator import AsyncEmulator
from tests.support.emulator_api import Api


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Overridden by tests that need other timings."""
    return {}


@pytest.fixture
async def emulator(emulator_options: dict[str, Any]) -> AsyncIterator[AsyncEmulator]:
    options = {"manual_sync_interval": 0.0, "scheduler_enabled": False, **emulator_options}
    async with AsyncEmulator(**options) as emu:
        yield emu


@pytest.fixture
async def api(emulator: AsyncEmulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, emulator)

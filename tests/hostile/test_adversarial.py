"""Adversarial checks of the reliability rules: hostile servers and careless callers.

Each test names the rule it attacks in its docstring and failed before the
fix that came with it. Servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import math

import pytest

from cfaisearch import AsyncCloudflare, Cloudflare

from ..conftest import TOKEN


async def get_job(client: AsyncCloudflare) -> object:
    return await client.aisearch.instances.jobs.get("j1", id="docs")


# -- rule 6 (client options): an infinite timeout is refused like a per-call one ------------


@pytest.mark.parametrize("option", ["timeout", "connect_timeout", "read_timeout"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_client_timeouts_are_a_value_error(option: str, value: float) -> None:
    """Rule 6: an infinite client timeout was accepted, then every call raised OverflowError."""
    for client_type in (AsyncCloudflare, Cloudflare):
        with pytest.raises(ValueError, match=option):
            client_type(api_token=TOKEN, **{option: value})  # type: ignore[arg-type]

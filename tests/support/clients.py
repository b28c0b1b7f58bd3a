"""Credentials, response envelopes and clients pointed at mocks, with fast retries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from cfaisearch import AsyncCloudflare, Cloudflare, RetryPolicy

TOKEN = "test-token-0123456789abcdef"
ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
BASE = "https://api.cloudflare.com/client/v4"
JOBS = f"{BASE}/accounts/{ACCOUNT}/ai-search/instances/my-ai-search/jobs"


async def _no_sleep(delay: float) -> None:
    """Retries in tests skip the backoff wait; the delay chosen is asserted separately."""


FAST_RETRIES = RetryPolicy(sleep=_no_sleep)


# Tests decode strictly, so a fixture or mock that does not fit the models fails.
STRICT = {"_strict_response_validation": True}


def make_async(**kwargs: object) -> AsyncCloudflare:
    options: dict[str, object] = {
        "api_token": TOKEN,
        "account_id": ACCOUNT,
        "retry_policy": FAST_RETRIES,
        **STRICT,
    }
    options.update(kwargs)
    return AsyncCloudflare(**options)  # type: ignore[arg-type]


def make_sync(**kwargs: object) -> Cloudflare:
    options: dict[str, object] = {
        "api_token": TOKEN,
        "account_id": ACCOUNT,
        "retry_policy": FAST_RETRIES,
        **STRICT,
    }
    options.update(kwargs)
    return Cloudflare(**options)  # type: ignore[arg-type]


ServeFn = Callable[[web.Application], Awaitable[str]]


def envelope(result: object, **extra: object) -> dict[str, object]:
    return {"success": True, "errors": [], "messages": [], "result": result, **extra}

"""Retries, Retry-After and timeouts against a real loopback server."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

import pytest
from aiohttp import web

import cfaisearch as cf
from cfaisearch.emulator import Emulator
from cfaisearch.testing import async_client_for, client_for
from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

PATH = f"/client/v4/accounts/{ACCOUNT}/ai-search/instances/docs/jobs"
JOB = {"id": "j1", "source": "user"}


Answer = tuple[int, object, dict[str, str]]  # status, JSON body (or HTML bytes), headers


class Script:
    """A route that answers from a list of (status, body, headers) and counts calls."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.calls += 1
        await request.read()
        status, body, headers = self.answers[min(self.calls, len(self.answers)) - 1]
        if isinstance(body, bytes):
            return web.Response(status=status, body=body, headers=headers, content_type="text/html")
        return web.json_response(body, status=status, headers=headers)


def failure(code: int = 1000) -> dict[str, object]:
    return {"success": False, "errors": [{"code": code, "message": "boom"}], "result": None}


def app_for(method: str, path: str, script: Script) -> web.Application:
    app = web.Application()
    app.router.add_route(method, path, script.handle)
    return app


OK_GET: Answer = (200, envelope(JOB), {})
OK_POST: Answer = (200, envelope(JOB), {})


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_get_is_retried_on_transient_status(serve: ServeFn, status: int) -> None:
    script = Script((status, failure(), {}), OK_GET)
    base = await serve(app_for("GET", f"{PATH}/j1", script))
    async with make_async(base_url=base) as client:
        job = await client.aisearch.instances.jobs.get("j1", id="docs")
    assert job.id == "j1"
    assert script.calls == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_client_errors_are_not_retried(serve: ServeFn, status: int) -> None:
    script = Script((status, failure(), {}), OK_GET)
    base = await serve(app_for("GET", f"{PATH}/j1", script))
    async with make_async(base_url=base) as client:
        with pytest.raises(cf.APIStatusError) as info:
            await client.aisearch.instances.jobs.get("j1", id="docs")
    assert info.value.status_code == status
    assert script.calls == 1


async def test_retries_stop_after_max_retries(serve: ServeFn) -> None:
    script = Script((503, failure(), {}))
    base = await serve(app_for("GET", f"{PATH}/j1", script))
    async with make_async(base_url=base, max_retries=3) as client:
        with pytest.raises(cf.InternalServerError):
            await client.aisearch.instances.jobs.get("j1", id="docs")
        assert script.calls == 4
        with pytest.raises(cf.InternalServerError):
            await client.aisearch.instances.jobs.get("j1", id="docs", max_retries=0)
        assert script.calls == 5


async def test_html_502_from_the_edge_is_retried_then_raised_typed(serve: ServeFn) -> None:
    page = b"<html><title>502 Bad Gateway</title><body>cloudflare</body></html>"
    script = Script((502, page, {"cf-ray": "77aa-SJC"}))
    base = await serve(app_for("GET", f"{PATH}/j1", script))
    async with make_async(base_url=base, max_retries=1) as client:
        with pytest.raises(cf.InternalServerError) as info:
            await client.aisearch.instances.jobs.get("j1", id="docs")
    assert script.calls == 2
    assert info.value.request_id == "77aa-SJC"
    assert "502 Bad Gateway" in str(info.value)


@pytest.mark.parametrize("status", [500, 502, 503, 408])
async def test_job_create_is_not_retried_after_reaching_the_server(
    serve: ServeFn, status: int
) -> None:
    script = Script((status, failure(), {}), OK_POST)
    base = await serve(app_for("POST", PATH, script))
    async with make_async(base_url=base) as client:
        with pytest.raises(cf.APIStatusError):
            await client.aisearch.instances.jobs.create("docs")
    assert script.calls == 1


async def test_job_create_is_retried_on_429(serve: ServeFn) -> None:
    script = Script((429, failure(), {"Retry-After": "1"}), OK_POST)
    base = await serve(app_for("POST", PATH, script))
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    async with make_async(base_url=base, retry_policy=cf.RetryPolicy(sleep=record)) as client:
        job = await client.aisearch.instances.jobs.create("docs")
    assert job.id == "j1"
    assert script.calls == 2
    assert delays == [1.0]  # Retry-After wins over the backoff


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_retried_even_for_create() -> None:
    base = f"http://127.0.0.1:{closed_port()}/client/v4"
    attempts: list[float] = []

    async def record(delay: float) -> None:
        attempts.append(delay)

    async with make_async(base_url=base, retry_policy=cf.RetryPolicy(sleep=record)) as client:
        with pytest.raises(cf.APIConnectionError) as info:
            await client.aisearch.instances.jobs.create("docs")
    assert not info.value.reached_server
    assert len(attempts) == 2
    assert 0.375 <= attempts[0] <= 0.5
    assert 0.75 <= attempts[1] <= 1.0


def hanging(seconds: float, calls: list[str]) -> Callable[[web.Request], object]:
    async def handler(request: web.Request) -> web.Response:
        calls.append(request.method)
        await asyncio.sleep(seconds)
        return web.json_response(envelope(JOB))

    return handler


async def test_a_timeout_spends_the_whole_budget_so_nothing_is_retried(serve: ServeFn) -> None:
    calls: list[str] = []
    app = web.Application()
    app.router.add_get(f"{PATH}/j1", hanging(5, calls))  # type: ignore[arg-type]
    app.router.add_post(PATH, hanging(5, calls))  # type: ignore[arg-type]
    base = await serve(app)
    async with make_async(base_url=base, timeout=0.2, max_retries=1) as client:
        with pytest.raises(cf.APITimeoutError) as info:
            await client.aisearch.instances.jobs.get("j1", id="docs")
        assert info.value.reached_server
        assert calls == ["GET"]
        calls.clear()
        with pytest.raises(cf.APITimeoutError):
            await client.aisearch.instances.jobs.create("docs")
        assert calls == ["POST"]


async def test_per_call_timeout_overrides_the_client(serve: ServeFn) -> None:
    calls: list[str] = []
    app = web.Application()
    app.router.add_get(f"{PATH}/j1", hanging(0.3, calls))  # type: ignore[arg-type]
    base = await serve(app)
    async with make_async(base_url=base, timeout=0.05, max_retries=0) as client:
        job = await client.aisearch.instances.jobs.get("j1", id="docs", timeout=5)
        assert job.id == "j1"
        with pytest.raises(cf.APITimeoutError, match=r"0\.05"):
            await client.aisearch.instances.jobs.get("j1", id="docs")


async def test_slow_body_counts_against_the_timeout(serve: ServeFn) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"success": true, "result": ')
        await asyncio.sleep(5)
        return response

    app = web.Application()
    app.router.add_get(f"{PATH}/j1", trickle)
    base = await serve(app)
    async with make_async(base_url=base, timeout=0.2, max_retries=0) as client:
        with pytest.raises(cf.APITimeoutError):
            await client.aisearch.instances.jobs.get("j1", id="docs")


async def test_dropped_connection_is_retried_for_get(serve: ServeFn) -> None:
    calls = 0

    async def drop_once(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(0.1)
        return web.json_response(envelope(JOB))

    app = web.Application()
    app.router.add_get(f"{PATH}/j1", drop_once)
    base = await serve(app)
    async with make_async(base_url=base) as client:
        job = await client.aisearch.instances.jobs.get("j1", id="docs")
    assert job.id == "j1"
    assert calls == 2


async def test_each_retry_is_logged_at_debug(
    serve: ServeFn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cfaisearch")
    script = Script((503, failure(), {}), OK_GET)
    base = await serve(app_for("GET", f"{PATH}/j1", script))
    async with make_async(base_url=base) as client:
        await client.aisearch.instances.jobs.get("j1", id="docs")
    retries = [r for r in caplog.records if r.getMessage().startswith("Retrying")]
    assert len(retries) == 1
    assert retries[0].levelno == logging.DEBUG
    assert "HTTP 503" in retries[0].getMessage()


def test_backoff_doubles_and_is_capped() -> None:
    policy = cf.RetryPolicy()
    for retries, (low, high) in enumerate(
        [(0.375, 0.5), (0.75, 1.0), (1.5, 2.0), (3.0, 4.0), (6.0, 8.0), (6.0, 8.0)]
    ):
        delay = policy.delay(retries)
        assert low <= delay <= high


async def test_the_retry_policy_option_sets_the_waits(serve: ServeFn) -> None:
    script = Script((503, failure(), {}), (503, failure(), {}), OK_GET)
    base = await serve(app_for("GET", f"{PATH}/j1", script))
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    policy = cf.RetryPolicy(initial_delay=0.1, jitter=0, sleep=record)
    async with make_async(base_url=base, retry_policy=policy) as client:
        assert client.retry_policy is policy
        await client.aisearch.instances.jobs.get("j1", id="docs")
    assert delays == [0.1, 0.2]


async def test_a_retry_after_over_the_policys_limit_fails_at_once(serve: ServeFn) -> None:
    script = Script((429, failure(), {"Retry-After": "5"}), OK_GET)
    base = await serve(app_for("GET", f"{PATH}/j1", script))
    policy = cf.RetryPolicy(max_retry_after=2)
    async with make_async(base_url=base, retry_policy=policy) as client:
        with pytest.raises(cf.RateLimitError):
            await client.aisearch.instances.jobs.get("j1", id="docs")
    assert script.calls == 1


def test_the_sync_client_takes_the_same_retry_policy() -> None:
    policy = cf.RetryPolicy(initial_delay=2)
    with cf.Cloudflare(api_token="t", account_id=ACCOUNT, retry_policy=policy) as client:
        assert client.retry_policy is policy
    with cf.Cloudflare(api_token="t", account_id=ACCOUNT) as client:
        assert client.retry_policy == cf.RetryPolicy()


def test_a_retry_policy_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError, match=r"`retry_policy` must be a cfaisearch\.RetryPolicy"):
        cf.AsyncCloudflare(api_token="t", retry_policy={"initial_delay": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("initial_delay", -1),
        ("max_delay", float("inf")),
        ("max_retry_after", "60"),
        ("jitter", 1.5),
        ("jitter", True),
        ("sleep", 0.5),
    ],
)
def test_a_retry_policy_refuses_bad_settings_naming_them(field: str, value: object) -> None:
    with pytest.raises((TypeError, ValueError), match=f"`{field}` must be"):
        cf.RetryPolicy(**{field: value})  # type: ignore[arg-type]


def test_plugin_clients_skip_the_waits_unless_given_a_policy() -> None:
    policy = cf.RetryPolicy()
    with Emulator() as emulator:
        assert async_client_for(emulator).retry_policy.sleep is not asyncio.sleep
        assert async_client_for(emulator, retry_policy=policy).retry_policy is policy
        with client_for(emulator) as fast:
            assert fast.retry_policy.sleep is not asyncio.sleep
        with client_for(emulator, retry_policy=policy) as real:
            assert real.retry_policy is policy

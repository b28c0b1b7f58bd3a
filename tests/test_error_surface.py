"""What official-SDK code reads off an error: the class tree, ``status_code``, ``body``,
``errors``, ``response`` and ``request`` (without credentials), ``retry_after``
(issue 8, item 4)."""

from __future__ import annotations

import pickle

import pytest
from aiohttp import web
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch import AsyncCloudflare, Cloudflare
from tests.support.clients import ACCOUNT, FAST_RETRIES, JOBS, TOKEN, ServeFn

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")


URL = f"{JOBS}/job-1"


def make(**kwargs: object) -> AsyncCloudflare:
    options: dict[str, object] = {
        "api_token": TOKEN,
        "account_id": ACCOUNT,
        "retry_policy": FAST_RETRIES,
        "max_retries": 0,
        "default_headers": {"X-Trace": "t-1", "X-Custom-Api-Key": "hidden-too"},
    }
    options.update(kwargs)
    return AsyncCloudflare(**options)  # type: ignore[arg-type]


async def get_job(client: AsyncCloudflare) -> None:
    await client.aisearch.instances.jobs.get("job-1", id="my-ai-search")


def assert_request_without_credentials(err: cf.APIError, method: str, url: str) -> None:
    assert (err.request.method, err.request.url) == (method, url)
    assert err.request.headers["X-Trace"] == "t-1"
    names = {name.lower() for name in err.request.headers}
    assert not names & {"authorization", "x-custom-api-key"}
    assert TOKEN not in repr(err.request.headers)
    assert "hidden-too" not in repr(vars(err))


async def test_a_status_error_carries_response_and_request(mocked: aioresponses) -> None:
    body = {"success": False, "errors": [{"code": 7003, "message": "no such job"}]}
    mocked.get(URL, status=404, payload=body, headers={"cf-ray": "ray-1"})
    async with make() as client:
        with pytest.raises(cf.NotFoundError) as caught:
            await get_job(client)
    err = caught.value
    assert (err.status_code, err.body, err.errors[0].code) == (404, body, 7003)
    response = err.response
    assert isinstance(response, cf.ErrorResponse)
    assert (response.status_code, response.reason_phrase) == (404, "Not Found")
    assert response.headers["CF-Ray"] == "ray-1"
    assert response.json() == body
    assert '"no such job"' in response.text
    assert response.request is err.request
    assert_request_without_credentials(err, "GET", URL)


async def test_a_body_that_is_not_json_stays_text(mocked: aioresponses) -> None:
    mocked.get(URL, status=502, body=b"<html><title>Bad gateway</title></html>")
    async with make() as client:
        with pytest.raises(cf.InternalServerError) as caught:
            await get_job(client)
    err = caught.value
    assert err.body == "<html><title>Bad gateway</title></html>"
    assert err.response.text == err.body
    assert err.errors == ()
    with pytest.raises(ValueError, match="expected a JSON value"):
        err.response.json()


async def test_rate_limit_error_has_retry_after_and_the_headers(mocked: aioresponses) -> None:
    mocked.get(URL, status=429, payload={"success": False}, headers={"Retry-After": "3"})
    async with make() as client:
        with pytest.raises(cf.RateLimitError) as caught:
            await get_job(client)
    assert caught.value.retry_after == 3.0
    assert caught.value.response.headers["retry-after"] == "3"


async def test_a_validation_error_carries_the_response(mocked: aioresponses) -> None:
    mocked.get(URL, payload={"success": True, "result": {"id": 5}})
    async with make(_strict_response_validation=True) as client:
        with pytest.raises(cf.APIResponseValidationError) as caught:
            await get_job(client)
    err = caught.value
    assert (err.status_code, err.response.status_code) == (200, 200)
    assert err.response.json() == {"success": True, "result": {"id": 5}}
    assert_request_without_credentials(err, "GET", URL)


async def test_a_connection_error_names_its_request_without_credentials(serve: ServeFn) -> None:
    async def reset(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    app = web.Application()
    app.router.add_get("/{tail:.*}", reset)
    base = await serve(app)
    async with make(base_url=base) as client:
        with pytest.raises(cf.APIConnectionError) as caught:
            await get_job(client)
    err = caught.value
    assert (err.body, err.errors) == (None, ())
    assert_request_without_credentials(
        err, "GET", f"{base}/accounts/{ACCOUNT}/ai-search/instances/my-ai-search/jobs/job-1"
    )


async def test_errors_with_their_response_survive_pickling(mocked: aioresponses) -> None:
    mocked.get(URL, status=429, payload={"success": False}, headers={"Retry-After": "3"})
    async with make() as client:
        with pytest.raises(cf.RateLimitError) as caught:
            await get_job(client)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert copy.response == caught.value.response
    assert copy.response.headers["RETRY-AFTER"] == "3"
    assert copy.request == caught.value.request
    assert copy.retry_after == 3.0


async def test_a_huge_error_body_makes_a_short_one_line_message(mocked: aioresponses) -> None:
    message = "boom\n" * 100_000
    mocked.get(URL, status=500, payload={"success": False, "errors": [{"message": message}]})
    async with make() as client:
        with pytest.raises(cf.InternalServerError) as caught:
            await get_job(client)
    text = str(caught.value)
    assert "\n" not in text
    assert len(text) <= 2100
    assert len(caught.value.response.content) > 500_000


def test_the_sync_client_raises_the_same_surface(mocked: aioresponses) -> None:
    mocked.get(URL, status=403, payload={"success": False, "errors": [{"code": 10000}]})
    with (
        Cloudflare(api_token=TOKEN, account_id=ACCOUNT, max_retries=0) as client,
        pytest.raises(cf.PermissionDeniedError) as caught,
    ):
        client.aisearch.instances.jobs.get("job-1", id="my-ai-search")
    err = caught.value
    assert (err.response.status_code, err.request.method, err.errors[0].code) == (403, "GET", 10000)
    assert "authorization" not in {name.lower() for name in err.request.headers}

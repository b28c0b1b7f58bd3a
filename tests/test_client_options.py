"""The client's official spellings: constructor keywords, copy/with_options, auth_headers,
and the generic get/post/put/patch/delete for endpoints the SDK lacks (issue 8, item 2)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch import AsyncCloudflare, Cloudflare
from cfaisearch.types import Job
from tests.support.clients import ACCOUNT, BASE, FAST_RETRIES, JOBS, TOKEN, envelope

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")


JOB = {"id": "job-1", "source": "user"}
CREDENTIAL_ENV = (
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_API_KEY",
    "CLOUDFLARE_EMAIL",
    "CLOUDFLARE_API_USER_SERVICE_KEY",
    "CLOUDFLARE_BASE_URL",
    "CLOUDFLARE_CUSTOM_HEADERS",
)
SERVICE_KEY = "v1.0-service-key-0123456789"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)


def sent(mocked: aioresponses) -> list[tuple[str, str, dict[str, str]]]:
    """(method, url, headers) of every request the mock received, in order."""
    return [
        (method, str(url), dict(call.kwargs["headers"]))
        for (method, url), calls in mocked.requests.items()
        for call in calls
    ]


async def get_job(client: AsyncCloudflare) -> None:
    await client.aisearch.instances.jobs.get("job-1", id="my-ai-search")


# -- constructor keywords ----------------------------------------------------------------


async def test_user_service_key_is_sent_as_its_header(mocked: aioresponses) -> None:
    mocked.get(f"{JOBS}/job-1", payload=envelope(JOB))
    async with AsyncCloudflare(user_service_key=SERVICE_KEY, account_id=ACCOUNT) as client:
        await get_job(client)
        assert client.auth_headers == {"X-Auth-User-Service-Key": SERVICE_KEY}
        assert SERVICE_KEY not in repr(client)
    ((_, _, headers),) = sent(mocked)
    assert headers["X-Auth-User-Service-Key"] == SERVICE_KEY
    assert "Authorization" not in headers


def test_user_service_key_comes_from_the_environment_and_ranks_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_USER_SERVICE_KEY", SERVICE_KEY)
    assert AsyncCloudflare().auth_headers == {"X-Auth-User-Service-Key": SERVICE_KEY}
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    assert AsyncCloudflare().auth_headers == {"Authorization": f"Bearer {TOKEN}"}
    with pytest.raises(cf.ConfigurationError, match="user_service_key"):
        AsyncCloudflare(user_service_key="")


def test_auth_headers_name_the_credentials_in_use() -> None:
    assert AsyncCloudflare(api_token=TOKEN).auth_headers == {"Authorization": f"Bearer {TOKEN}"}
    client = AsyncCloudflare(api_key=TOKEN, api_email="me@example.com")
    assert client.auth_headers == {"X-Auth-Key": TOKEN, "X-Auth-Email": "me@example.com"}
    client.auth_headers.clear()  # a copy: the client's own stay intact
    assert client.auth_headers
    with Cloudflare(api_token=TOKEN) as sync:
        assert sync.auth_headers == {"Authorization": f"Bearer {TOKEN}"}


async def test_api_version_is_sent_only_when_given(mocked: aioresponses) -> None:
    mocked.get(f"{JOBS}/job-1", payload=envelope(JOB), repeat=True)
    async with AsyncCloudflare(api_token=TOKEN, account_id=ACCOUNT) as client:
        await get_job(client)
        assert client.api_version is None
    async with AsyncCloudflare(
        api_token=TOKEN, account_id=ACCOUNT, api_version="2025-01-01"
    ) as client:
        await get_job(client)
    (_, _, first), (_, _, second) = sent(mocked)
    assert "api-version" not in {name.lower() for name in first}
    assert second["api-version"] == "2025-01-01"
    with pytest.raises(cf.ConfigurationError, match="api_version"):
        AsyncCloudflare(api_token=TOKEN, api_version="2025\n01")


@pytest.mark.parametrize("timeout", ["30", aiohttp.ClientTimeout(total=5), True])
def test_a_timeout_that_is_not_seconds_is_a_type_error_saying_what_to_pass(
    timeout: object,
) -> None:
    with pytest.raises(TypeError, match=r"`timeout` must be a number of seconds.*connect_timeout"):
        AsyncCloudflare(api_token=TOKEN, timeout=timeout)  # type: ignore[arg-type]


async def test_default_query_is_added_to_every_request(mocked: aioresponses) -> None:
    mocked.get(re.compile(r".*"), payload=envelope(JOB), repeat=True)
    async with AsyncCloudflare(
        api_token=TOKEN, account_id=ACCOUNT, default_query={"tag": "a b", "flag": True}
    ) as client:
        await get_job(client)
        await client.aisearch.instances.jobs.get(
            "job-1", id="my-ai-search", extra_query={"tag": "mine"}
        )
    first, second = (parse_qs(urlsplit(url).query) for _, url, _ in sent(mocked))
    assert first == {"tag": ["a b"], "flag": ["true"]}
    assert second == {"tag": ["mine"], "flag": ["true"]}


@pytest.mark.parametrize("query", [{"x": None}, {"x": [1]}, {1: "a"}])
def test_default_query_values_must_be_scalars(query: dict[object, object]) -> None:
    with pytest.raises(cf.ConfigurationError, match="default_query"):
        AsyncCloudflare(api_token=TOKEN, default_query=query)  # type: ignore[arg-type]


async def test_http_client_is_the_callers_session(mocked: aioresponses) -> None:
    mocked.get(f"{JOBS}/job-1", payload=envelope(JOB))
    async with aiohttp.ClientSession() as session:
        async with AsyncCloudflare(
            api_token=TOKEN, account_id=ACCOUNT, http_client=session
        ) as client:
            assert client.borrows_session
            await get_job(client)
        assert not session.closed
        with pytest.raises(cf.ConfigurationError, match="not both"):
            AsyncCloudflare(api_token=TOKEN, http_client=session, http_session=session)


def test_http_client_must_be_an_aiohttp_session() -> None:
    with pytest.raises(cf.ConfigurationError, match="`http_client` must be an aiohttp"):
        AsyncCloudflare(api_token=TOKEN, http_client=object())  # type: ignore[arg-type]


async def test_sync_client_refuses_a_ready_made_session_and_says_what_to_pass() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(cf.ConfigurationError, match="http_session_factory"):
            Cloudflare(api_token=TOKEN, http_client=session)
        with (
            Cloudflare(api_token=TOKEN) as client,
            pytest.raises(cf.ConfigurationError, match="http_session_factory"),
        ):
            client.copy(http_client=session)


# -- copy / with_options ---------------------------------------------------------------------


async def test_with_options_shares_the_pool_and_closing_the_copy_leaves_it_open(
    mocked: aioresponses,
) -> None:
    mocked.get(f"{JOBS}/job-1", payload=envelope(JOB), repeat=True)
    client = AsyncCloudflare(api_token=TOKEN, account_id=ACCOUNT, retry_policy=FAST_RETRIES)
    copy = client.with_options(timeout=7, max_retries=0)
    assert (copy.timeout, copy.max_retries) == (7, 0)
    assert (client.timeout, client.max_retries) == (60.0, 2)
    assert copy.retry_policy is client.retry_policy
    await get_job(copy)
    session = client._transport._session
    assert session is not None
    await copy.aclose()
    assert not session.closed
    await get_job(client)
    await get_job(copy)  # still the shared, open pool
    await client.aclose()
    assert session.closed
    with pytest.raises(cf.CloudflareError, match="closed"):
        await get_job(copy)


async def test_copy_merges_or_replaces_default_headers_and_query(mocked: aioresponses) -> None:
    mocked.get(re.compile(r".*"), payload=envelope(JOB), repeat=True)
    async with AsyncCloudflare(
        api_token=TOKEN,
        account_id=ACCOUNT,
        default_headers={"X-A": "1"},
        default_query={"a": "1"},
    ) as client:
        await get_job(client.copy(default_headers={"X-B": "2"}, default_query={"b": "2"}))
        await get_job(client.copy(set_default_headers={"X-B": "2"}, set_default_query={"b": "2"}))
    (_, merged_url, merged), (_, set_url, replaced) = sent(mocked)
    assert (merged["X-A"], merged["X-B"]) == ("1", "2")
    assert parse_qs(urlsplit(merged_url).query) == {"a": ["1"], "b": ["2"]}
    assert "X-A" not in replaced
    assert replaced["X-B"] == "2"
    assert parse_qs(urlsplit(set_url).query) == {"b": ["2"]}
    with pytest.raises(ValueError, match="set_default_headers"):
        client.copy(default_headers={}, set_default_headers={})
    with pytest.raises(ValueError, match="set_default_query"):
        client.copy(default_query={}, set_default_query={})


def test_copy_keeps_the_credentials_not_passed_as_officially() -> None:
    client = AsyncCloudflare(api_key=TOKEN, api_email="me@example.com", account_id=ACCOUNT)
    moved = client.copy(api_email="you@example.com")
    assert moved.auth_headers == {"X-Auth-Key": TOKEN, "X-Auth-Email": "you@example.com"}
    # A token outranks the key, as in the constructor.
    copy = client.copy(api_token="other-token")
    assert copy.auth_headers == {"Authorization": "Bearer other-token"}
    assert copy.account_id == ACCOUNT
    assert client.copy().auth_headers == client.auth_headers
    # None drops a credential: how a token client becomes a key client.
    switched = AsyncCloudflare(api_token=TOKEN).copy(
        api_token=None, api_key=TOKEN, api_email="me@example.com"
    )
    assert switched.auth_headers == {"X-Auth-Key": TOKEN, "X-Auth-Email": "me@example.com"}


def test_the_credentials_in_use_are_attributes_as_officially() -> None:
    token = AsyncCloudflare(api_token=TOKEN, default_headers={"X-Team": "search"})
    assert (token.api_token, token.api_key, token.api_email) == (TOKEN, None, None)
    assert token.default_headers["X-Team"] == "search"
    assert "Authorization" not in token.default_headers
    key = AsyncCloudflare(api_key=TOKEN, api_email="me@example.com")
    assert (key.api_token, key.api_key, key.api_email) == (None, TOKEN, "me@example.com")
    assert AsyncCloudflare(user_service_key="v1.0-abc").user_service_key == "v1.0-abc"
    with Cloudflare(api_key=TOKEN, api_email="me@example.com") as sync:
        assert (sync.api_token, sync.api_key, sync.api_email) == (None, TOKEN, "me@example.com")
        assert sync.user_service_key is None
        assert sync.default_headers == key.default_headers


async def test_copy_changing_the_pool_gets_its_own_and_closes_it(mocked: aioresponses) -> None:
    mocked.get(f"{JOBS}/job-1", payload=envelope(JOB), repeat=True)
    async with AsyncCloudflare(api_token=TOKEN, account_id=ACCOUNT) as client:
        await get_job(client)
        copy = client.copy(connection_pool_size=3)
        await get_job(copy)
        assert copy._transport is not client._transport
        own = copy._transport._session
        assert own is not None
        await copy.aclose()
        assert own.closed
        assert client._transport._session is not None
        assert not client._transport._session.closed
        assert client.copy(base_url="http://127.0.0.1:9/client/v4")._transport is not (
            client._transport
        )


def test_sync_copy_shares_the_loop_and_closing_it_leaves_the_original_working(
    mocked: aioresponses,
) -> None:
    mocked.get(f"{JOBS}/job-1", payload=envelope(JOB), repeat=True)
    with Cloudflare(api_token=TOKEN, account_id=ACCOUNT) as client:
        copy = client.with_options(max_retries=0, timeout=5)
        assert (copy.max_retries, copy.timeout) == (0, 5)
        assert copy._portal is client._portal
        copy.aisearch.instances.jobs.get("job-1", id="my-ai-search")
        copy.close()
        assert not client._portal.closed
        client.aisearch.instances.jobs.get("job-1", id="my-ai-search")
    assert copy._portal.closed


# -- generic requests --------------------------------------------------------------------------

CUSTOM = f"{BASE}/accounts/{ACCOUNT}/custom"


async def test_generic_get_decodes_a_model_from_the_result(mocked: aioresponses) -> None:
    mocked.get(f"{CUSTOM}?q=1", payload=envelope(JOB))
    async with AsyncCloudflare(api_token=TOKEN) as client:
        job = await client.get(
            f"/accounts/{ACCOUNT}/custom",
            cast_to=Job,
            options={"params": {"q": 1}, "headers": {"X-Trace": "t"}, "timeout": 5},
        )
    assert job == Job(id="job-1", source="user")
    ((method, _, headers),) = sent(mocked)
    assert (method, headers["X-Trace"]) == ("GET", "t")


@pytest.mark.parametrize("verb", ["post", "put", "patch", "delete"])
async def test_generic_verbs_send_the_body_and_return_the_json(
    mocked: aioresponses, verb: str
) -> None:
    getattr(mocked, verb)(CUSTOM, payload=envelope({"ok": True}))
    async with AsyncCloudflare(api_token=TOKEN) as client:
        result = await getattr(client, verb)(
            f"accounts/{ACCOUNT}/custom",
            cast_to=object,
            body={"name": "x"},
            options={"extra_json": {"more": 1}},
        )
    assert result == envelope({"ok": True})
    (((_, _), (call,)),) = mocked.requests.items()
    assert call.kwargs["data"] == b'{"name":"x","more":1}'


async def test_generic_requests_are_retried_and_raise_typed_errors(mocked: aioresponses) -> None:
    mocked.get(CUSTOM, status=503, payload={"success": False, "errors": []})
    mocked.get(CUSTOM, status=200, body=b"plain")
    mocked.post(CUSTOM, status=404, payload={"success": False, "errors": [{"code": 7}]})
    mocked.get(CUSTOM, status=200, payload={"success": False, "errors": [{"code": 8}]})
    async with AsyncCloudflare(api_token=TOKEN, retry_policy=FAST_RETRIES) as client:
        assert await client.get(f"/accounts/{ACCOUNT}/custom", cast_to=str) == "plain"
        with pytest.raises(cf.NotFoundError) as caught:
            await client.post(f"/accounts/{ACCOUNT}/custom", cast_to=object)
        assert caught.value.errors[0].code == 7
        with pytest.raises(cf.APIStatusError) as failed:
            await client.get(f"/accounts/{ACCOUNT}/custom", cast_to=dict)
        assert failed.value.status_code == 200


async def test_generic_requests_check_their_arguments_before_sending(
    mocked: aioresponses,
) -> None:
    async with AsyncCloudflare(api_token=TOKEN) as client:
        with pytest.raises(TypeError, match="idempotency_key"):
            await client.get("/x", cast_to=object, options={"idempotency_key": "k"})
        with pytest.raises(ValueError, match="relative to base_url"):
            await client.get("https://elsewhere.example/x", cast_to=object)
        with pytest.raises(TypeError, match="`body` must be a mapping"):
            await client.post("/x", cast_to=object, body=[1])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="timeout"):
            await client.get("/x", cast_to=object, options={"timeout": -1})
    assert not mocked.requests


def test_sync_generic_requests(mocked: aioresponses) -> None:
    mocked.get(CUSTOM, payload=envelope(JOB))
    mocked.post(CUSTOM, payload=envelope(None))
    with Cloudflare(api_token=TOKEN) as client:
        assert client.get(f"{BASE}/accounts/{ACCOUNT}/custom", cast_to=Job).id == "job-1"
        assert client.post(f"/accounts/{ACCOUNT}/custom", cast_to=dict, body={})["success"]


async def test_custom_headers_come_from_the_environment(
    mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_CUSTOM_HEADERS", "X-A: 1\nno colon here\n X-B :  two words ")
    mocked.get(f"{JOBS}/job-1", payload=envelope(JOB))
    async with AsyncCloudflare(
        api_token=TOKEN, account_id=ACCOUNT, default_headers={"X-A": "mine"}
    ) as client:
        await get_job(client)
    ((_, _, headers),) = sent(mocked)
    assert (headers["X-A"], headers["X-B"]) == ("mine", "two words")
    monkeypatch.setenv("CLOUDFLARE_CUSTOM_HEADERS", "X-C: caf\u00e9")
    with pytest.raises(cf.ConfigurationError, match="CLOUDFLARE_CUSTOM_HEADERS"):
        AsyncCloudflare(api_token=TOKEN)


def test_a_sync_copy_with_its_own_pool_has_its_own_loop(mocked: aioresponses) -> None:
    mocked.get(f"{JOBS}/job-1", payload=envelope(JOB), repeat=True)
    with Cloudflare(api_token=TOKEN, account_id=ACCOUNT) as client:
        copy = client.copy(connection_pool_size=2)
        assert copy._portal is not client._portal
        copy.aisearch.instances.jobs.get("job-1", id="my-ai-search")
        copy.close()
        assert copy._portal.closed
        assert not client._portal.closed
        client.aisearch.instances.jobs.get("job-1", id="my-ai-search")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"follow_redirects": "yes"}, "`follow_redirects` must be a bool"),
        ({"verify": "no"}, "`verify` must be a bool or an ssl.SSLContext"),
    ],
)
def test_pool_options_of_the_wrong_type_are_refused(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        AsyncCloudflare(api_token=TOKEN, **options)  # type: ignore[arg-type]


async def test_generic_requests_return_bytes_and_refuse_an_empty_path(
    mocked: aioresponses,
) -> None:
    mocked.get(CUSTOM, status=200, body=b"\x00raw")
    async with AsyncCloudflare(api_token=TOKEN) as client:
        assert await client.get(f"/accounts/{ACCOUNT}/custom", cast_to=bytes) == b"\x00raw"
        with pytest.raises(TypeError, match="`path` must be a non-empty string"):
            await client.get("", cast_to=object)
        with pytest.raises(TypeError, match=re.escape("`options['params']` must be a mapping")):
            await client.get("/x", cast_to=object, options={"params": [("a", "b")]})


@pytest.mark.parametrize("verb", ["put", "patch", "delete"])
def test_sync_generic_verbs_send_the_body(mocked: aioresponses, verb: str) -> None:
    getattr(mocked, verb)(CUSTOM, payload=envelope({"ok": True}))
    with Cloudflare(api_token=TOKEN, api_version="2026-01-01") as client:
        assert client.api_version == "2026-01-01"
        result = getattr(client, verb)(f"/accounts/{ACCOUNT}/custom", cast_to=dict, body={"a": 1})
    assert result == envelope({"ok": True})
    (((_, _), (call,)),) = mocked.requests.items()
    assert call.kwargs["data"] == b'{"a":1}'


async def test_an_empty_object_for_a_list_is_no_entries_when_tolerant(
    mocked: aioresponses,
) -> None:
    """`"result": {}` on a list read as an empty list before lists refused non-arrays."""
    mocked.get(f"{JOBS}?page=1&per_page=20", payload=envelope({}, result_info={"page": 1}))
    async with AsyncCloudflare(api_token=TOKEN, account_id=ACCOUNT) as client:
        page = await client.aisearch.instances.jobs.list("my-ai-search", page=1, per_page=20)
    assert page.result == []

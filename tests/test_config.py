"""Client configuration: credentials, environment variables, repr, lifecycle."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch import AsyncCloudflare, Cloudflare
from tests.support.clients import ACCOUNT, FAST_RETRIES, JOBS, TOKEN, envelope

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

ENV = (
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_API_KEY",
    "CLOUDFLARE_EMAIL",
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_BASE_URL",
)
JOB = {"id": "job-1", "source": "user"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def sent_headers(mocked: aioresponses) -> dict[str, str]:
    (call,) = [c for calls in mocked.requests.values() for c in calls]
    return dict(call.kwargs["headers"])


async def test_api_token_is_sent_as_bearer(mocked: aioresponses) -> None:
    mocked.get(f"{JOBS}/job-1", payload=envelope(JOB))
    async with AsyncCloudflare(api_token=TOKEN, account_id=ACCOUNT) as client:
        await client.aisearch.instances.jobs.get("job-1", id="my-ai-search")
    headers = sent_headers(mocked)
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert "X-Auth-Key" not in headers
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("cfaisearch/")


async def test_legacy_key_and_email_scheme(mocked: aioresponses) -> None:
    mocked.get(f"{JOBS}/job-1", payload=envelope(JOB))
    async with AsyncCloudflare(
        api_key="k" * 37, api_email="me@example.com", account_id=ACCOUNT
    ) as c:
        await c.aisearch.instances.jobs.get("job-1", id="my-ai-search")
    headers = sent_headers(mocked)
    assert headers["X-Auth-Key"] == "k" * 37
    assert headers["X-Auth-Email"] == "me@example.com"
    assert "Authorization" not in headers


async def test_environment_supplies_token_account_and_base_url(
    mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "env-token")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "env-account")
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "http://127.0.0.1:8787/client/v4/")
    url = "http://127.0.0.1:8787/client/v4/accounts/env-account/ai-search/instances/i/jobs/j"
    mocked.get(url, payload=envelope(JOB))
    async with AsyncCloudflare() as client:
        assert client.account_id == "env-account"
        assert client.base_url == "http://127.0.0.1:8787/client/v4"
        await client.aisearch.instances.jobs.get("j", id="i")
    assert sent_headers(mocked)["Authorization"] == "Bearer env-token"


async def test_environment_key_and_email(
    mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_KEY", "env-key")
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "env@example.com")
    mocked.get(f"{JOBS}/j", payload=envelope(JOB))
    async with AsyncCloudflare(account_id=ACCOUNT) as client:
        await client.aisearch.instances.jobs.get("j", id="my-ai-search")
    assert sent_headers(mocked)["X-Auth-Email"] == "env@example.com"


def test_explicit_token_beats_a_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_KEY", "env-key")
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "env@example.com")
    client = AsyncCloudflare(api_token=TOKEN)
    assert client._headers["Authorization"] == f"Bearer {TOKEN}"
    assert "X-Auth-Key" not in client._headers


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"api_key": "k"}, ("api_email", "CLOUDFLARE_EMAIL")),
        ({"api_email": "e@x"}, ("api_key", "CLOUDFLARE_API_KEY")),
        ({"api_token": ""}, ("api_token",)),
        ({"api_token": "t", "base_url": "ftp://x"}, ("base_url",)),
        ({"api_token": "t", "base_url": "https://user:pw@host/v4"}, ("base_url",)),
    ],
)
def test_bad_configuration_names_the_keyword_and_variable(
    kwargs: dict[str, str], names: tuple[str, ...]
) -> None:
    with pytest.raises(cf.ConfigurationError) as info:
        AsyncCloudflare(**kwargs)  # type: ignore[arg-type]
    for name in names:
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"timeout": 0}, "timeout"), ({"max_retries": -1}, "max_retries")]
)
def test_bad_numbers_are_rejected(kwargs: dict[str, int], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        AsyncCloudflare(api_token=TOKEN, **kwargs)  # type: ignore[arg-type]


async def test_no_credentials_fail_at_the_first_request_naming_keywords_and_variables(
    mocked: aioresponses,
) -> None:
    """As in the official SDK, a client builds without credentials (a module-level one in tests)."""
    async with AsyncCloudflare(account_id=ACCOUNT) as client:
        assert "auth='none'" in repr(client)
        with pytest.raises(cf.ConfigurationError) as info:
            await client.aisearch.instances.jobs.get("j", id="my-ai-search")
        # Credentials given for one call are enough.
        mocked.get(f"{JOBS}/j", payload=envelope(JOB))
        job = await client.aisearch.instances.jobs.get(
            "j", id="my-ai-search", extra_headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert job.id == "job-1"
    for name in ("api_token", "CLOUDFLARE_API_TOKEN", "api_key", "CLOUDFLARE_EMAIL"):
        assert name in str(info.value)
    assert len(mocked.requests) == 1
    with Cloudflare(account_id=ACCOUNT) as sync_client, pytest.raises(cf.ConfigurationError):
        sync_client.aisearch.instances.jobs.get("j", id="my-ai-search")


async def test_missing_account_id_names_keyword_and_variable(mocked: aioresponses) -> None:
    async with AsyncCloudflare(api_token=TOKEN) as client:
        with pytest.raises(cf.ConfigurationError, match=r"account_id=.*CLOUDFLARE_ACCOUNT_ID"):
            await client.aisearch.instances.jobs.get("j", id="my-ai-search")
        # A per-call account id is enough.
        mocked.get(f"{JOBS}/j", payload=envelope(JOB))
        job = await client.aisearch.instances.jobs.get("j", id="my-ai-search", account_id=ACCOUNT)
        assert job.id == "job-1"
    assert len(mocked.requests) == 1


async def test_default_headers_and_extra_headers_merge(mocked: aioresponses) -> None:
    mocked.get(f"{JOBS}/j", payload=envelope(JOB))
    async with AsyncCloudflare(
        api_token=TOKEN,
        account_id=ACCOUNT,
        default_headers={"X-Team": "search", "User-Agent": "mine"},
    ) as c:
        await c.aisearch.instances.jobs.get(
            "j", id="my-ai-search", extra_headers={"X-Team": "override", "X-Trace": "1"}
        )
    headers = sent_headers(mocked)
    assert headers["X-Team"] == "override"
    assert headers["X-Trace"] == "1"
    assert headers["User-Agent"] == "mine"


async def test_auth_in_default_headers_is_enough(mocked: aioresponses) -> None:
    mocked.get(f"{JOBS}/j", payload=envelope(JOB))
    async with AsyncCloudflare(
        default_headers={"Authorization": "Bearer from-proxy"}, account_id=ACCOUNT
    ) as client:
        assert "from-proxy" not in repr(client)
        await client.aisearch.instances.jobs.get("j", id="my-ai-search")
    assert sent_headers(mocked)["Authorization"] == "Bearer from-proxy"


@pytest.mark.parametrize("cls", [AsyncCloudflare, Cloudflare])
def test_repr_never_shows_secrets(cls: type[AsyncCloudflare] | type[Cloudflare]) -> None:
    for kwargs in ({"api_token": TOKEN}, {"api_key": TOKEN, "api_email": "me@example.com"}):
        client = cls(account_id=ACCOUNT, **kwargs)  # type: ignore[arg-type]
        text = repr(client)
        assert TOKEN not in text
        assert cls.__name__ + "(" in text
        assert ACCOUNT in text
        if isinstance(client, Cloudflare):
            client.close()


async def test_secrets_never_reach_logs_or_errors(
    mocked: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cfaisearch")
    mocked.get(
        f"{JOBS}/j",
        status=500,
        payload={"success": False, "errors": [{"code": 1, "message": "x"}]},
        repeat=True,
    )
    async with AsyncCloudflare(
        api_token=TOKEN, account_id=ACCOUNT, max_retries=1, retry_policy=FAST_RETRIES
    ) as client:
        with pytest.raises(cf.InternalServerError) as info:
            await client.aisearch.instances.jobs.get("j", id="my-ai-search")
    assert "Retrying GET" in caplog.text
    for text in (caplog.text, str(info.value), repr(info.value), repr(info.value.__dict__)):
        assert TOKEN not in text


async def test_caller_owned_session_is_left_open(mocked: aioresponses) -> None:
    mocked.get(f"{JOBS}/j", payload=envelope(JOB))
    async with aiohttp.ClientSession() as session:
        async with AsyncCloudflare(api_token=TOKEN, account_id=ACCOUNT, http_session=session) as c:
            await c.aisearch.instances.jobs.get("j", id="my-ai-search")
        assert not session.closed


async def test_owned_session_is_closed_and_client_refuses_use(mocked: aioresponses) -> None:
    mocked.get(f"{JOBS}/j", payload=envelope(JOB))
    client = AsyncCloudflare(api_token=TOKEN, account_id=ACCOUNT)
    await client.aisearch.instances.jobs.get("j", id="my-ai-search")
    session = client._transport._session
    assert session is not None
    await client.close()
    await client.aclose()  # idempotent
    assert session.closed
    with pytest.raises(cf.CloudflareError, match="closed"):
        await client.aisearch.instances.jobs.get("j", id="my-ai-search")


async def test_unknown_keyword_is_not_silently_dropped(client: AsyncCloudflare) -> None:
    with pytest.raises(TypeError, match="per_pag"):
        await client.aisearch.instances.jobs.get("j", id="my-ai-search", per_pag=3)  # type: ignore[call-arg]


def test_import_is_lazy() -> None:
    import subprocess
    import sys

    code = "import sys, cfaisearch; print('aiohttp' in sys.modules, 'cattrs' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]

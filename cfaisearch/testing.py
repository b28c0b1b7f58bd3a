"""A pytest plugin for testing code that uses AI Search, against the local emulator.

Opt in from your top-level ``conftest.py``::

    pytest_plugins = ["cfaisearch.testing"]

Each test that asks for ``aisearch_emulator`` (or a client fixture) gets its
own emulator with an empty in-memory store, served on 127.0.0.1 from a thread,
so the same fixtures work in sync tests and in pytest-asyncio tests. See
docs/testing.md. Nothing here is imported by ``import cfaisearch``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, Final, TypeVar, cast

import pytest

from ._client import AsyncCloudflare
from ._exceptions import ConflictError
from ._files import UploadFile
from ._retry import RetryPolicy
from ._sync import Cloudflare
from .emulator import AsyncEmulator, Emulator, EmulatorConfig
from .types.items import Item

__all__ = [
    "TEST_SETTINGS",
    "aisearch_async_client",
    "aisearch_client",
    "aisearch_emulator",
    "aisearch_emulator_config",
    "aisearch_emulator_session",
    "aisearch_emulator_settings",
    "aisearch_env",
    "async_client_for",
    "async_seed_documents",
    "client_for",
    "seed_documents",
]

TEST_SETTINGS: Final[Mapping[str, Any]] = {
    # Tests start jobs back to back; the real 30 s spacing would make them fail with 429.
    "manual_sync_interval": 0.0,
    # Scheduled syncs starting at arbitrary moments would make tests flaky.
    "scheduler_enabled": False,
}
"""How the fixtures' emulators differ from ``EmulatorConfig()``."""

MARKER: Final = "aisearch_emulator"
_SEED_CONCURRENCY: Final = 8
_WAIT_POLL_INTERVAL: Final = 0.02


async def _no_wait(delay: float) -> None:
    """Fixture clients retry at once rather than sleep the backoff or Retry-After delay."""


_FIXTURE_OPTIONS: Final[Mapping[str, Any]] = {
    "retry_policy": RetryPolicy(sleep=_no_wait),
    "_strict_response_validation": True,
}
"""Client keywords of the fixture clients, unless the caller passes its own."""

Server = Emulator | AsyncEmulator
_F = TypeVar("_F", bound=Callable[..., Any])


def _async_fixture(function: _F) -> _F:
    """pytest-asyncio's decorator, which its strict mode needs; sync-only projects lack it."""
    try:
        from pytest_asyncio import fixture
    except ImportError:  # pragma: no cover - the sync fixtures still work
        return cast(_F, pytest.fixture(function))
    return cast(_F, fixture(function))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): EmulatorConfig fields for this test's emulator "
        "(cfaisearch.testing), e.g. index_delay=0.1",
    )


# -- clients -------------------------------------------------------------------------


def async_client_for(server: Server, **options: Any) -> AsyncCloudflare:
    """An ``AsyncCloudflare`` pointed at ``server``, retrying without backoff waits.

    ``options`` are ``AsyncCloudflare`` keywords (``max_retries``, ``timeout``, ...);
    pass ``retry_policy=RetryPolicy()`` to wait between retries as a real client does.
    Responses are validated strictly unless ``_strict_response_validation=False``
    is passed: a test should fail on a response that does not fit the models.
    """
    return AsyncCloudflare(
        api_token=server.api_token,
        account_id=server.account_id,
        base_url=server.base_url,
        **{**_FIXTURE_OPTIONS, **options},
    )


def client_for(server: Server, **options: Any) -> Cloudflare:
    """A ``Cloudflare`` (sync) client pointed at ``server``, retrying without backoff waits.

    Strict about responses, like :func:`async_client_for`.
    """
    return Cloudflare(
        api_token=server.api_token,
        account_id=server.account_id,
        base_url=server.base_url,
        **{**_FIXTURE_OPTIONS, **options},
    )


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture
def aisearch_emulator_settings() -> dict[str, Any]:
    """``EmulatorConfig`` fields for the tests in scope: override it in a ``conftest.py``."""
    return {}


@pytest.fixture
def aisearch_emulator_config(
    request: pytest.FixtureRequest, aisearch_emulator_settings: dict[str, Any]
) -> EmulatorConfig:
    """Settings of ``aisearch_emulator``.

    ``TEST_SETTINGS``, then ``aisearch_emulator_settings``, then the fields of
    ``@pytest.mark.aisearch_emulator(...)`` markers on the test, its class and
    module (the closest wins).
    """
    settings = {**TEST_SETTINGS, **aisearch_emulator_settings}
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        if marker.args:
            raise TypeError(f"@pytest.mark.{MARKER} takes keyword arguments only")
        settings.update(marker.kwargs)
    return EmulatorConfig(**settings)


@pytest.fixture
def aisearch_emulator(aisearch_emulator_config: EmulatorConfig) -> Iterator[Emulator]:
    """A running emulator with empty state, for one test.

    Use ``.base_url``, ``.api_token``, ``.account_id``, and ``.faults`` to inject errors.
    """
    with Emulator(aisearch_emulator_config) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def aisearch_emulator_session() -> Iterator[Emulator]:
    """One emulator shared by the whole test session (state persists between tests)."""
    with Emulator(EmulatorConfig(**TEST_SETTINGS)) as emulator:
        yield emulator


@_async_fixture
async def aisearch_async_client(aisearch_emulator: Emulator) -> AsyncIterator[AsyncCloudflare]:
    """An ``AsyncCloudflare`` pointed at ``aisearch_emulator``, closed after the test."""
    async with async_client_for(aisearch_emulator) as client:
        yield client


@pytest.fixture
def aisearch_client(aisearch_emulator: Emulator) -> Iterator[Cloudflare]:
    """A ``Cloudflare`` (sync) client pointed at ``aisearch_emulator``, closed after the test."""
    with client_for(aisearch_emulator) as client:
        yield client


@pytest.fixture
def aisearch_env(aisearch_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point clients built from the environment (``AsyncCloudflare()``) at the emulator.

    Sets ``CLOUDFLARE_BASE_URL``, ``CLOUDFLARE_API_TOKEN`` and ``CLOUDFLARE_ACCOUNT_ID``
    for the test (and unsets the legacy key variables); returns them.
    """
    env = {
        "CLOUDFLARE_BASE_URL": aisearch_emulator.base_url,
        "CLOUDFLARE_API_TOKEN": aisearch_emulator.api_token,
        "CLOUDFLARE_ACCOUNT_ID": aisearch_emulator.account_id,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CLOUDFLARE_API_KEY", raising=False)
    monkeypatch.delenv("CLOUDFLARE_EMAIL", raising=False)
    return env


# -- seeding ---------------------------------------------------------------------------


async def async_seed_documents(
    client: AsyncCloudflare,
    documents: Mapping[str, str | bytes],
    *,
    instance: str = "docs",
    namespace: str = "default",
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
    wait: bool = True,
    instance_settings: Mapping[str, Any] | None = None,
) -> list[Item]:
    """Upload ``documents`` (file name → text or bytes) to ``instance``, creating it if needed.

    The namespace and instance are created when they do not exist yet, the
    instance with ``instance_settings`` (``namespaces.instances.create``
    keywords). ``metadata`` maps a file name to its custom metadata. With
    ``wait`` each item has finished indexing on return. Returns the items, in
    the order of ``documents``; check ``item.status`` to see if one failed.
    """
    if isinstance(documents, (str, bytes)) or not isinstance(documents, Mapping):
        raise TypeError("`documents` must be a mapping of file name to text or bytes")
    metadata = metadata or {}
    unknown = set(metadata) - set(documents)
    if unknown:
        raise ValueError(f"`metadata` names files not in `documents`: {sorted(unknown)}")
    aisearch = client.aisearch
    if namespace != "default":
        with contextlib.suppress(ConflictError):
            await aisearch.namespaces.create(name=namespace)
    with contextlib.suppress(ConflictError):
        await aisearch.namespaces.instances.create(
            namespace, id=instance, **dict(instance_settings or {})
        )
    items = aisearch.namespaces.instances.items
    limit = asyncio.Semaphore(_SEED_CONCURRENCY)

    async def upload(key: str, content: str | bytes) -> Item:
        data = content.encode() if isinstance(content, str) else content
        form: UploadFile = {"file": (key, data), "wait_for_completion": wait}
        if key in metadata:
            form["metadata"] = metadata[key]
        async with limit:
            item: Item = await items.upload(instance, name=namespace, file=form)
        if wait and not item.done:
            # The emulator answered before indexing ended (its wait_timeout ran out).
            item = await items.wait(
                item.id, name=namespace, id=instance, poll_interval=_WAIT_POLL_INTERVAL
            )
        return item

    return list(await asyncio.gather(*(upload(k, v) for k, v in documents.items())))


def seed_documents(
    client: Cloudflare,
    documents: Mapping[str, str | bytes],
    *,
    instance: str = "docs",
    namespace: str = "default",
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
    wait: bool = True,
    instance_settings: Mapping[str, Any] | None = None,
) -> list[Item]:
    """:func:`async_seed_documents` for the sync ``Cloudflare`` client."""
    # The uploads run concurrently on the sync client's own event loop.
    return client.run(
        async_seed_documents,
        documents,
        instance=instance,
        namespace=namespace,
        metadata=metadata,
        wait=wait,
        instance_settings=instance_settings,
    )

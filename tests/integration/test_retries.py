"""Retries against the emulator's injected faults: what is repeated, and what never is."""

from __future__ import annotations

import pytest

from cfaisearch import (
    APIConnectionError,
    AsyncCloudflare,
    Cloudflare,
    InternalServerError,
    RateLimitError,
)
from cfaisearch.emulator import Emulator
from cfaisearch.testing import async_seed_documents
from tests.support.integration import make_r2_instance

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

JOBS = r"/instances/kb/jobs$"


async def test_a_read_is_retried_through_503s(
    aisearch_async_client: AsyncCloudflare, aisearch_emulator: Emulator
) -> None:
    aisearch_emulator.faults.inject(503, times=2, route=r"/namespaces/default$", method="GET")
    namespace = await aisearch_async_client.aisearch.namespaces.read("default")
    assert namespace.name == "default"
    assert [f.kind for f in aisearch_emulator.faults.injected] == [503, 503]


async def test_retries_stop_after_max_retries(
    aisearch_async_client: AsyncCloudflare, aisearch_emulator: Emulator
) -> None:
    aisearch_emulator.faults.inject(503, times=5, route=r"/namespaces$", method="GET")
    with pytest.raises(InternalServerError) as caught:
        await aisearch_async_client.aisearch.namespaces.list()
    assert caught.value.status_code == 503
    assert len(aisearch_emulator.faults.injected) == 3  # the first attempt and two retries
    with pytest.raises(InternalServerError):
        await aisearch_async_client.aisearch.namespaces.list(max_retries=0)
    assert len(aisearch_emulator.faults.injected) == 4


async def test_a_500_on_job_create_is_not_retried(
    aisearch_async_client: AsyncCloudflare, aisearch_emulator: Emulator
) -> None:
    await make_r2_instance(aisearch_async_client, "kb")
    jobs = aisearch_async_client.aisearch.instances.jobs
    aisearch_emulator.faults.inject(500, times=3, route=JOBS, method="POST")
    with pytest.raises(InternalServerError):
        await jobs.create("kb")
    # One attempt only: a repeat could have started a second job.
    assert len(aisearch_emulator.faults.injected) == 1
    assert [j async for j in jobs.list("kb")] == []


async def test_a_429_on_job_create_is_retried(
    aisearch_async_client: AsyncCloudflare, aisearch_emulator: Emulator
) -> None:
    await make_r2_instance(aisearch_async_client, "kb")
    jobs = aisearch_async_client.aisearch.instances.jobs
    aisearch_emulator.faults.inject(429, times=1, route=JOBS, method="POST")
    job = await jobs.create("kb")
    assert [j.id async for j in jobs.list("kb")] == [job.id]
    assert [f.kind for f in aisearch_emulator.faults.injected] == [429]

    aisearch_emulator.faults.inject(429, times=3, route=JOBS, method="POST")
    with pytest.raises(RateLimitError) as caught:
        await jobs.create("kb")
    assert caught.value.errors[0].code == 971


async def test_a_dropped_upload_is_not_replayed(
    aisearch_async_client: AsyncCloudflare, aisearch_emulator: Emulator
) -> None:
    aisearch = aisearch_async_client.aisearch
    await aisearch.namespaces.instances.create("default", id="kb")
    aisearch_emulator.faults.inject("drop", times=1, route=r"/items$", method="POST")
    with pytest.raises(APIConnectionError) as caught:
        await aisearch.namespaces.instances.items.upload(
            "kb", name="default", file={"file": ("a.md", b"text")}
        )
    assert caught.value.reached_server
    assert [i async for i in aisearch.namespaces.instances.items.list("kb", name="default")] == []


async def test_read_only_posts_are_retried(
    aisearch_async_client: AsyncCloudflare, aisearch_emulator: Emulator
) -> None:
    await async_seed_documents(aisearch_async_client, {"a.md": "Retries keep searches alive."})
    instances = aisearch_async_client.aisearch.namespaces.instances
    faults = aisearch_emulator.faults
    faults.inject(502, times=1, route=r"/search$", method="POST")  # an HTML error page
    faults.inject("drop", times=1, route=r"/search$", method="POST")
    result = await instances.search("docs", name="default", query="retries")
    assert result.chunks

    faults.inject(503, times=2, route=r"/chat/completions$", method="POST")
    stream = await instances.chat_completions(
        "docs", name="default", messages=[{"role": "user", "content": "retries?"}], stream=True
    )
    async with stream:
        completion = await stream.get_final_completion()
    assert "Retries" in str(completion.choices[0].message.content)
    assert [f.kind for f in faults.injected] == [502, "drop", 503, 503]


async def test_random_faults_are_survived_with_enough_retries(
    aisearch_async_client: AsyncCloudflare, aisearch_emulator: Emulator
) -> None:
    aisearch_emulator.faults.configure(
        error_500_rate=0.2, error_502_rate=0.2, seed=4, methods=frozenset({"GET"})
    )
    for _ in range(20):
        await aisearch_async_client.aisearch.namespaces.read("default", max_retries=10)
    assert len(aisearch_emulator.faults.injected) > 0


def test_the_sync_client_retries_too(
    aisearch_client: Cloudflare, aisearch_emulator: Emulator
) -> None:
    aisearch_emulator.faults.inject(503, times=2, route=r"/tokens$", method="GET")
    assert list(aisearch_client.aisearch.tokens.list()) == []
    assert len(aisearch_emulator.faults.injected) == 2
    aisearch_emulator.faults.inject(500, times=1, route=r"/namespaces$", method="POST")
    with pytest.raises(InternalServerError):
        aisearch_client.aisearch.namespaces.create(name="once")
    assert len(aisearch_emulator.faults.injected) == 3

"""Sync jobs, top-level and namespaced: create, get, list, logs, wait, cancel; async client."""

from __future__ import annotations

import pytest

from cfaisearch import AsyncCloudflare, BadRequestError, NotFoundError, WaitTimeoutError
from cfaisearch.types import Job
from tests.support.integration import BUCKET, BUCKET_FILES, make_r2_instance

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

FAST = 0.02  # poll interval of wait() in these tests


async def test_top_level_jobs(aisearch_async_client: AsyncCloudflare) -> None:
    aisearch = aisearch_async_client.aisearch
    await make_r2_instance(aisearch_async_client, "kb")
    instance = await aisearch.instances.read("kb")
    assert (instance.type, instance.source) == ("r2", BUCKET)
    jobs = aisearch.instances.jobs

    job = await jobs.create("kb", description="first sync")
    assert (job.source, job.description) == ("user", "first sync")
    assert (await jobs.get(job.id, id="kb")).id == job.id
    done = await jobs.wait(job.id, id="kb", poll_interval=FAST, timeout=10)
    assert done.end_reason == "completed"
    assert done.ended_at is not None

    logs = await jobs.logs(job.id, id="kb", per_page=50)
    assert logs
    assert all(isinstance(entry.message, str) for entry in logs)
    assert any(key in entry.message for entry in logs for key in BUCKET_FILES)

    second = await jobs.create("kb")
    await jobs.wait(second.id, id="kb", poll_interval=FAST, timeout=10)
    assert sorted([j.id async for j in jobs.list("kb", per_page=1)]) == sorted([job.id, second.id])
    page = await jobs.list("kb", per_page=1)
    assert len(page.result) == 1

    # The job indexed every file of the bucket.
    items = aisearch.namespaces.instances.items
    keys = sorted([i.key async for i in items.list("kb", name="default")])
    assert keys == sorted(BUCKET_FILES)
    assert {i.source_id async for i in items.list("kb", name="default")} != {"builtin"}

    with pytest.raises(NotFoundError):
        await jobs.get("no-such-job", id="kb")


@pytest.mark.aisearch_emulator(job_step_delay=0.2)
async def test_namespaced_jobs_and_cancel(aisearch_async_client: AsyncCloudflare) -> None:
    aisearch = aisearch_async_client.aisearch
    await aisearch.namespaces.create(name="team")
    await make_r2_instance(aisearch_async_client, "kb", namespace="team")
    jobs = aisearch.namespaces.instances.jobs

    job = await jobs.create("kb", name="team", description="to cancel")
    assert (await jobs.get(job.id, name="team", id="kb")).ended_at is None
    cancelled = await jobs.update(job.id, name="team", id="kb", action="cancel")
    assert cancelled.id == job.id
    final = await jobs.wait(job.id, name="team", id="kb", poll_interval=FAST, timeout=10)
    assert final.end_reason == "cancelled"

    slow = await jobs.create("kb", name="team")
    with pytest.raises(WaitTimeoutError) as caught:
        await jobs.wait(slow.id, name="team", id="kb", poll_interval=FAST, timeout=0.1)
    last = caught.value.last
    assert isinstance(last, Job)
    assert last.id == slow.id
    finished = await jobs.wait(slow.id, name="team", id="kb", poll_interval=FAST, timeout=10)
    assert finished.end_reason == "completed"

    logs = await jobs.logs(slow.id, name="team", id="kb", page=1, per_page=2)
    assert 0 < len(logs) <= 2
    listed = [j.id async for j in jobs.list("kb", name="team", per_page=1)]
    assert sorted(listed) == sorted([job.id, slow.id])


async def test_upload_only_instances_have_no_jobs(aisearch_async_client: AsyncCloudflare) -> None:
    aisearch = aisearch_async_client.aisearch
    await aisearch.namespaces.instances.create("default", id="uploads")
    with pytest.raises(BadRequestError) as caught:
        await aisearch.namespaces.instances.jobs.create("uploads", name="default")
    assert caught.value.errors[0].code == 7031

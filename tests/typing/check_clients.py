"""Static typing assertions for both clients; checked by mypy (nox -s typecheck), never run."""

from __future__ import annotations

from typing_extensions import assert_type

from cfaisearch import AsyncCloudflare, AsyncPaginator, Cloudflare, Page, SyncPager
from cfaisearch.types import Job, JobLog


async def async_client(client: AsyncCloudflare) -> None:
    jobs = client.aisearch.instances.jobs
    assert_type(await jobs.get("j", id="i"), Job)
    assert_type(await jobs.create("i", description="d"), Job)
    assert_type(await jobs.logs("j", id="i"), list[JobLog])
    assert_type(await jobs.wait("j", id="i"), Job)
    assert_type(jobs.list("i"), AsyncPaginator[Job])
    assert_type(await jobs.list("i"), Page[Job])
    async for job in jobs.list("i"):
        assert_type(job, Job)


def sync_client(client: Cloudflare) -> None:
    jobs = client.aisearch.instances.jobs
    assert_type(jobs.get("j", id="i"), Job)
    assert_type(jobs.logs("j", id="i", timeout=5), list[JobLog])
    assert_type(jobs.list("i"), SyncPager[Job])
    for job in jobs.list("i"):
        assert_type(job, Job)

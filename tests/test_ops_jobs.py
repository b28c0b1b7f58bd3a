"""Jobs of a namespaced instance: every operation on the wire, both clients, and wait()."""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch.types import Job
from tests.support.clients import make_async, make_sync
from tests.support.ops import (
    KINDS,
    ROOT,
    Op,
    assert_refused,
    assert_request,
    envelope,
    ids,
    run_op,
    sent_requests,
)
from tests.support.ops_jobs import JOB, JOBS, OPS, RUNNING

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("op", OPS, ids=ids(OPS))
async def test_request_and_decoding(kind: str, op: Op, mocked: aioresponses) -> None:
    result, request = await run_op(kind, op, mocked)
    assert_request(op, request)
    assert result == op.expected


async def test_wait_polls_until_the_job_ends(mocked: aioresponses) -> None:
    url = f"{ROOT}{JOBS}/j1"
    mocked.get(url, payload=envelope(RUNNING))
    mocked.get(url, payload=envelope(RUNNING))
    mocked.get(url, payload=envelope(JOB))
    async with make_async() as client:
        job = await client.aisearch.namespaces.instances.jobs.wait(
            "j1", name="default", id="docs-search", poll_interval=0.001
        )
    assert job.end_reason == "completed"
    assert len(sent_requests(mocked)) == 3


def test_sync_wait_times_out_with_the_last_job(mocked: aioresponses) -> None:
    mocked.get(f"{ROOT}{JOBS}/j1", payload=envelope(RUNNING), repeat=True)
    with make_sync() as client, pytest.raises(cf.WaitTimeoutError, match="still running") as info:
        client.aisearch.namespaces.instances.jobs.wait(
            "j1", name="default", id="docs-search", poll_interval=0.01, timeout=0.03
        )
    assert info.value.last == Job(**RUNNING)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda j: j.create("docs", name=""), "name"),
        (lambda j: j.create("a/b", name="default"), "id"),
        (lambda j: j.update("", name="default", id="docs", action="cancel"), "job_id"),
        (lambda j: j.get("..", name="default", id="docs"), "job_id"),
        (lambda j: j.list("docs", name="default", per_page=51), "per_page"),
        (lambda j: j.list("docs", name="default", page=0), "page"),
        (lambda j: j.wait("j", name="default", id="docs", timeout=0), "timeout"),
        (lambda j: j.wait("j", name="", id="docs"), "name"),
    ],
)
async def test_bad_input_fails_before_any_request(
    mocked: aioresponses, call: Any, name: str
) -> None:
    await assert_refused(mocked, call, name, on="namespaces.instances.jobs")

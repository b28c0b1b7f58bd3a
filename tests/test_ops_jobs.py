"""Jobs of a namespaced instance: every operation on the wire, both clients, and wait()."""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch.types import Job, JobLog

from .conftest import make_async, make_sync
from .ops_helpers import (
    KINDS,
    ROOT,
    Op,
    assert_refused,
    assert_request,
    envelope,
    fixture,
    ids,
    run_op,
    sent_requests,
    strict,
)

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

JOB = fixture("job")
JOBS = "/namespaces/default/instances/docs-search/jobs"
RUNNING = {**JOB, "ended_at": None, "end_reason": None}

OPS = [
    Op(
        "namespaces.instances.jobs.create",
        lambda ai: ai.namespaces.instances.jobs.create("docs-search", name="default"),
        "POST",
        JOBS,
        envelope(JOB),
        strict("job", Job),
        body={},
    ),
    Op(
        "namespaces.instances.jobs.update",
        lambda ai: ai.namespaces.instances.jobs.update(
            "9f2c1e7a", name="default", id="docs-search", action="cancel"
        ),
        "PATCH",
        f"{JOBS}/9f2c1e7a",
        envelope(JOB),
        strict("job", Job),
        body={"action": "cancel"},
    ),
    Op(
        "namespaces.instances.jobs.list",
        lambda ai: ai.namespaces.instances.jobs.list(
            "docs-search", name="default", page=3, per_page=50
        ),
        "GET",
        JOBS,
        envelope([JOB], result_info={"page": 3, "per_page": 50, "count": 1, "total_count": 101}),
        [strict("job", Job)],
        query={"page": "3", "per_page": "50"},
        retried=True,
    ),
    Op(
        "namespaces.instances.jobs.get",
        lambda ai: ai.namespaces.instances.jobs.get("9f2c1e7a", name="default", id="docs-search"),
        "GET",
        f"{JOBS}/9f2c1e7a",
        envelope(JOB),
        strict("job", Job),
        retried=True,
    ),
    Op(
        "namespaces.instances.jobs.logs",
        lambda ai: ai.namespaces.instances.jobs.logs(
            "9f2c1e7a", name="default", id="docs-search", per_page=1
        ),
        "GET",
        f"{JOBS}/9f2c1e7a/logs",
        envelope([fixture("job_log")], result_info={"page": 1, "per_page": 1, "count": 1}),
        [strict("job_log", JobLog)],
        query={"per_page": "1"},
        retried=True,
    ),
]


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

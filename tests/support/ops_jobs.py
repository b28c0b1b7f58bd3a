"""The jobs operations as table rows: each call, its exact request and the mocked answer."""

from __future__ import annotations

from cfaisearch.types import Job, JobLog
from tests.support.ops import Op, envelope, fixture, strict

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

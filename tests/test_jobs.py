"""The instance Jobs API on the wire: requests sent, responses decoded, bad input refused."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import cattrs
import pytest
from aioresponses import aioresponses
from yarl import URL

import cfaisearch as cf
from cfaisearch import AsyncCloudflare
from cfaisearch._converter import converter, make_converter
from cfaisearch.types import Job, JobLog
from tests.support.clients import ACCOUNT, JOBS, envelope

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

FIXTURES = Path(__file__).parent / "fixtures"
JOB = json.loads((FIXTURES / "job.json").read_text())
JOB_LOG = json.loads((FIXTURES / "job_log.json").read_text())


def only_request(mocked: aioresponses) -> tuple[str, URL, dict[str, Any]]:
    (((method, url), calls),) = mocked.requests.items()
    (call,) = calls
    return method, url, call.kwargs


def test_fixtures_structure_under_the_strict_converter() -> None:
    strict = make_converter(strict=True)
    job = strict.structure(JOB, Job)
    assert job == Job(
        id="9f2c1e7a",
        source="user",
        description="manual resync",
        started_at="2026-05-02T09:20:01Z",
        last_seen_at="2026-05-02T09:21:30Z",
        ended_at="2026-05-02T09:22:10Z",
        end_reason="completed",
    )
    assert job.ended
    assert strict.structure(JOB_LOG, JobLog).message_type == 1


def test_strict_converter_rejects_drift() -> None:
    strict = make_converter(strict=True)
    with pytest.raises(cattrs.ClassValidationError) as info:
        strict.structure({**JOB, "new_field": 1}, Job)
    assert "new_field" in " ".join(cattrs.transform_error(info.value))
    with pytest.raises(cattrs.ClassValidationError) as info:
        strict.structure({**JOB, "source": "webhook"}, Job)
    assert "$.source" in " ".join(cattrs.transform_error(info.value))


def test_production_decoding_tolerates_new_fields_and_enum_values() -> None:
    job = converter.structure({**JOB, "source": "webhook", "progress": {"done": 3}}, Job)
    source: object = job.source  # a value the Literal does not list yet
    assert source == "webhook"
    assert job.id == "9f2c1e7a"


async def test_get_sends_the_official_request_and_decodes(
    mocked: aioresponses, client: AsyncCloudflare
) -> None:
    mocked.get(f"{JOBS}/9f2c1e7a", payload=envelope(JOB), headers={"cf-ray": "abc-LHR"})
    job = await client.aisearch.instances.jobs.get(
        "9f2c1e7a", account_id=ACCOUNT, id="my-ai-search"
    )
    assert job == converter.structure(JOB, Job)
    method, url, kwargs = only_request(mocked)
    assert method == "GET"
    assert str(url) == f"{JOBS}/9f2c1e7a"
    assert kwargs["data"] is None
    assert "Content-Type" not in kwargs["headers"]


async def test_create_sends_only_given_fields(
    mocked: aioresponses, client: AsyncCloudflare
) -> None:
    mocked.post(JOBS, payload=envelope({"id": "new", "source": "user"}))
    mocked.post(JOBS, payload=envelope({"id": "new2", "source": "user"}))
    job = await client.aisearch.instances.jobs.create("my-ai-search")
    assert job.id == "new"
    await client.aisearch.instances.jobs.create("my-ai-search", description="nightly")
    (calls,) = mocked.requests.values()
    assert [json.loads(c.kwargs["data"]) for c in calls] == [{}, {"description": "nightly"}]
    assert calls[0].kwargs["headers"]["Content-Type"] == "application/json"


async def test_list_query_and_first_page(mocked: aioresponses, client: AsyncCloudflare) -> None:
    mocked.get(
        f"{JOBS}?page=2&per_page=5",
        payload=envelope(
            [JOB], result_info={"page": 2, "per_page": 5, "count": 1, "total_count": 6}
        ),
    )
    page = await client.aisearch.instances.jobs.list("my-ai-search", page=2, per_page=5)
    assert page.result == [converter.structure(JOB, Job)]
    assert page.result_info == cf.types.ResultInfo(page=2, per_page=5, count=1, total_count=6)
    assert page.number == 2
    assert not page.has_next_page()


async def test_list_without_paging_sends_no_query(
    mocked: aioresponses, client: AsyncCloudflare
) -> None:
    mocked.get(
        JOBS,
        payload=envelope([], result_info={"page": 1, "per_page": 20, "count": 0, "total_count": 0}),
    )
    assert (await client.aisearch.instances.jobs.list("my-ai-search")).result == []
    _, url, _ = only_request(mocked)
    assert url.query_string == ""


async def test_logs(mocked: aioresponses, client: AsyncCloudflare) -> None:
    mocked.get(
        f"{JOBS}/j1/logs?per_page=50",
        payload=envelope(
            [JOB_LOG], result_info={"page": 1, "per_page": 50, "count": 1, "total_count": 1}
        ),
    )
    logs = await client.aisearch.instances.jobs.logs("j1", id="my-ai-search", per_page=50)
    assert logs == [
        JobLog(
            id=17, created_at=1777713601.25, message="indexed guide.md (12 chunks)", message_type=1
        )
    ]


async def test_extra_query_and_body(mocked: aioresponses, client: AsyncCloudflare) -> None:
    mocked.post(f"{JOBS}?trace=true", payload=envelope({"id": "n", "source": "user"}))
    await client.aisearch.instances.jobs.create(
        "my-ai-search", extra_query={"trace": True}, extra_body={"priority": "high"}
    )
    _, _, kwargs = only_request(mocked)
    assert json.loads(kwargs["data"]) == {"priority": "high"}


async def test_extra_body_on_a_get_is_refused(client: AsyncCloudflare) -> None:
    with pytest.raises(TypeError, match="extra_body"):
        await client.aisearch.instances.jobs.get("j", id="my-ai-search", extra_body={"x": 1})


async def test_job_id_cannot_escape_its_path(mocked: aioresponses, client: AsyncCloudflare) -> None:
    # Servers and proxies may decode %2F before routing, so a slash is refused, not encoded.
    with pytest.raises(ValueError, match="`job_id`"):
        await client.aisearch.instances.jobs.get("../../tokens", id="my-ai-search")
    assert mocked.requests == {}


async def test_job_id_is_percent_encoded_as_one_segment(
    mocked: aioresponses, client: AsyncCloudflare
) -> None:
    mocked.get(f"{JOBS}/a%20b%3F%23%25..", payload=envelope(JOB))
    await client.aisearch.instances.jobs.get("a b?#%..", id="my-ai-search")
    _, url, _ = only_request(mocked)
    assert url.raw_path.endswith("/ai-search/instances/my-ai-search/jobs/a%20b%3F%23%25..")


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda j: j.get("", id="my-ai-search"), "job_id"),
        (lambda j: j.get("..", id="my-ai-search"), "job_id"),
        (lambda j: j.get("j", id=""), "id"),
        (lambda j: j.get("j", id="has/slash"), "id"),
        (lambda j: j.get("j", id="ok", account_id=""), "account_id"),
        (lambda j: j.create("a\nb"), "id"),
        (lambda j: j.list("ok", page=0), "page"),
        (lambda j: j.list("ok", per_page=51), "per_page"),
        (lambda j: j.list("ok", per_page=-1), "per_page"),
        (lambda j: j.wait("j", id="ok", poll_interval=0), "poll_interval"),
    ],
)
async def test_bad_input_fails_before_any_request(
    mocked: aioresponses, client: AsyncCloudflare, call: Any, name: str
) -> None:
    async def invoke() -> None:
        result = call(client.aisearch.instances.jobs)
        if inspect.isawaitable(result):
            await result

    with pytest.raises(ValueError, match=f"`{name}`"):
        await invoke()
    assert mocked.requests == {}


async def test_page_type_is_checked(client: AsyncCloudflare) -> None:
    with pytest.raises(TypeError, match="`page`"):
        client.aisearch.instances.jobs.list("ok", page="2")  # type: ignore[arg-type]


async def test_unexpected_shape_is_a_typed_error(
    mocked: aioresponses, client: AsyncCloudflare
) -> None:
    mocked.get(f"{JOBS}/j", payload=envelope({"source": "user"}))
    with pytest.raises(cf.APIResponseValidationError, match="id"):
        await client.aisearch.instances.jobs.get("j", id="my-ai-search")


async def test_wait_polls_until_the_job_ends(mocked: aioresponses, client: AsyncCloudflare) -> None:
    running = {**JOB, "ended_at": None, "end_reason": None}
    mocked.get(f"{JOBS}/j", payload=envelope(running))
    mocked.get(f"{JOBS}/j", payload=envelope(running))
    mocked.get(f"{JOBS}/j", payload=envelope(JOB))
    job = await client.aisearch.instances.jobs.wait("j", id="my-ai-search", poll_interval=0.001)
    assert job.end_reason == "completed"
    assert len(next(iter(mocked.requests.values()))) == 3


async def test_wait_times_out_with_the_last_job(
    mocked: aioresponses, client: AsyncCloudflare
) -> None:
    running = {**JOB, "ended_at": None, "end_reason": None}
    mocked.get(f"{JOBS}/j", payload=envelope(running), repeat=True)
    with pytest.raises(cf.WaitTimeoutError) as info:
        await client.aisearch.instances.jobs.wait(
            "j", id="my-ai-search", poll_interval=0.01, timeout=0.05
        )
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value.last, Job)
    assert not info.value.last.ended

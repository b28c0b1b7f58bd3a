"""Rule 12: tolerant decoding by default, strict on request.

A response whose HTTP exchange succeeded never fails the call because a field
is missing or has the wrong type (unless the client is strict); what cannot be
decoded at all is a typed error that names the operation.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch import _converter
from cfaisearch._envelope import Response, decode_envelope
from cfaisearch.testing import async_client_for, client_for
from tests.support.clients import ACCOUNT, BASE, envelope, make_async, make_sync

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

FIXTURES = Path(__file__).parent.parent / "fixtures"
ROOT = f"{BASE}/accounts/{ACCOUNT}/ai-search"
ITEMS = f"{ROOT}/namespaces/default/instances/docs/items"
INSTANCE = f"{ROOT}/instances/docs"
JOBS = f"{INSTANCE}/jobs"
UPLOAD: Any = {"file": ("a.txt", b"hello", "text/plain")}


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


@pytest.fixture(autouse=True)
def fresh_drift_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees its drift reported anew (the real set lives for the process)."""
    monkeypatch.setattr(_converter, "_reported", set())


@pytest.fixture
def drift_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.WARNING, logger="cfaisearch"):
        yield caplog


def tolerant() -> cf.AsyncCloudflare:
    return make_async(_strict_response_validation=False)


async def test_upload_answered_without_a_required_field_still_succeeds(
    mocked: aioresponses, drift_log: pytest.LogCaptureFixture
) -> None:
    """Rule 12: the server stored the upload; a missing ``checksum`` must not hide that."""
    stored = fixture("item_upload")
    del stored["checksum"]
    mocked.post(ITEMS, payload=envelope(stored))
    async with tolerant() as client:
        item = await client.aisearch.namespaces.instances.items.upload(
            "docs", name="default", file=UPLOAD
        )
    assert isinstance(item, cf.types.ItemUploadResult)
    assert item.checksum is None
    assert item.id == stored["id"]
    assert item.key == stored["key"]
    (record,) = drift_log.records
    assert record.levelno == logging.WARNING
    assert "ItemUploadResult.checksum is missing" in record.getMessage()


async def test_values_of_the_wrong_type_are_kept_as_received(mocked: aioresponses) -> None:
    """Rule 12: a wrong type keeps the raw value; only that value, not its siblings."""
    sent = {
        **fixture("item_upload"),
        "created_at": "yesterday",
        "file_size": "large",
        "checksum": None,
        "metadata": {"folder": "guides/", "nested": {"a": 1}},
        "warnings": [{"code": "custom_metadata_field_not_filterable", "field": 7}, "odd"],
        "brand_new_field": {"x": 1},
    }
    mocked.post(ITEMS, payload=envelope(sent))
    async with tolerant() as client:
        item = await client.aisearch.namespaces.instances.items.upload(
            "docs", name="default", file=UPLOAD
        )
    assert item.created_at == "yesterday"
    file_size: object = item.file_size  # drifted from the model's number
    assert file_size == "large"
    assert item.checksum is None
    assert item.metadata == {"folder": "guides/", "nested": {"a": 1}}
    assert item.last_seen_at.isoformat() == "2026-05-02T09:30:04+00:00"
    assert item.warnings == [
        cf.types.UploadWarning(code="custom_metadata_field_not_filterable", field="7"),
        "odd",
    ]


async def test_each_drifting_field_is_logged_once_per_process(
    mocked: aioresponses, drift_log: pytest.LogCaptureFixture
) -> None:
    """Rule 12: a drifting (model, field) is logged once at WARNING, however often it recurs."""
    for _ in range(3):
        mocked.get(f"{JOBS}/j1", payload=envelope({"id": "j1", "source": "user", "ended_at": True}))
        mocked.get(f"{JOBS}/j1", payload=envelope({"source": "user"}))
    async with tolerant() as client:
        for _ in range(6):
            await client.aisearch.instances.jobs.get("j1", id="docs")
    messages = [r.getMessage() for r in drift_log.records]
    assert len(messages) == 2, messages
    assert "Job.ended_at holds a boolean" in messages[0]
    assert "Job.id is missing" in messages[1]
    assert all(r.levelno == logging.WARNING for r in drift_log.records)


async def test_strict_clients_raise_on_the_same_responses(mocked: aioresponses) -> None:
    """Rule 12: ``_strict_response_validation=True`` raises APIResponseValidationError."""
    stored = fixture("item_upload")
    del stored["checksum"]
    mocked.post(ITEMS, payload=envelope(stored), repeat=True)
    async with make_async(_strict_response_validation=True) as client:
        with pytest.raises(cf.APIResponseValidationError, match=r"checksum") as info:
            await client.aisearch.namespaces.instances.items.upload(
                "docs", name="default", file=UPLOAD
            )
    assert info.value.method == "POST"
    assert info.value.url == ITEMS

    def sync_upload() -> None:
        with make_sync(_strict_response_validation=True) as client:
            client.aisearch.namespaces.instances.items.upload("docs", name="default", file=UPLOAD)

    with pytest.raises(cf.APIResponseValidationError, match=r"checksum"):
        await asyncio.to_thread(sync_upload)


@pytest.mark.parametrize(
    ("field", "sent"),
    [("id", None), ("id", {"a": 1}), ("description", ["x"]), ("ended_at", False)],
)
async def test_values_are_never_coerced_into_a_different_value(
    mocked: aioresponses, field: str, sent: object
) -> None:
    """Rule 12: null or an object in a string field is not made the text "None" or "{...}"."""
    mocked.get(f"{JOBS}/j1", payload=envelope({"id": "j1", "source": "user", field: sent}))
    mocked.get(f"{JOBS}/j1", payload=envelope({"id": "j1", "source": "user", field: sent}))
    async with tolerant() as client:
        job = await client.aisearch.instances.jobs.get("j1", id="docs")
    assert getattr(job, field) == sent
    async with make_async() as client:
        with pytest.raises(cf.APIResponseValidationError, match=field):
            await client.aisearch.instances.jobs.get("j1", id="docs")


async def test_a_fractional_count_is_not_truncated(mocked: aioresponses) -> None:
    """Rule 12: 12.5 in an integer field is kept (tolerant) or refused (strict), never 12."""
    item = {**fixture("item_upload"), "chunks_count": 12.5}
    mocked.post(ITEMS, payload=envelope(item))
    mocked.post(ITEMS, payload=envelope({**item, "chunks_count": 12.0}))
    mocked.post(ITEMS, payload=envelope(item))
    async with tolerant() as client:
        items = client.aisearch.namespaces.instances.items
        assert (await items.upload("docs", name="default", file=UPLOAD)).chunks_count == 12.5
        whole = await items.upload("docs", name="default", file=UPLOAD)
        assert whole.chunks_count == 12
        assert type(whole.chunks_count) is int
    async with make_async() as client:
        with pytest.raises(cf.APIResponseValidationError, match="chunks_count"):
            await client.aisearch.namespaces.instances.items.upload(
                "docs", name="default", file=UPLOAD
            )


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize(
    ("sent", "expected"),
    [("false", False), ("FALSE", False), ("0", False), ("true", True), ("True", True), ("1", True)],
)
async def test_boolean_strings_are_decoded_as_booleans(
    mocked: aioresponses, strict: bool, sent: str, expected: bool
) -> None:
    """Rule 12: "false"/"true"/"0"/"1" (any case) in a boolean field are the booleans."""
    mocked.get(INSTANCE, payload=envelope({**fixture("instance"), "paused": sent, "cache": sent}))
    async with make_async(_strict_response_validation=strict) as client:
        instance = await client.aisearch.instances.read("docs")
    assert instance.paused is expected
    assert instance.cache is expected


@pytest.mark.parametrize("success", ["false", "False", "0"])
def test_success_false_as_a_string_is_a_failure(success: str) -> None:
    """Rule 12: ``success: "false"`` in the envelope is a failure, not a truthy string."""
    body = {"success": success, "errors": [{"code": 7003, "message": "nope"}], "result": None}
    response = Response("GET", INSTANCE, 200, {}, json.dumps(body).encode())
    with pytest.raises(cf.APIStatusError, match=r"\[7003\] nope") as info:
        decode_envelope(response)
    assert info.value.status_code == 200


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("body", [envelope(None), {"success": True, "errors": []}])
async def test_missing_result_is_a_typed_error_naming_the_operation(
    mocked: aioresponses, strict: bool, body: dict[str, object]
) -> None:
    """Rule 12: no ``result`` where one is required names the operation, in both modes."""
    mocked.get(INSTANCE, payload=body)
    async with make_async(_strict_response_validation=strict) as client:
        with pytest.raises(cf.APIResponseValidationError) as info:
            await client.aisearch.instances.read("docs")
    message = str(info.value)
    assert f"GET {INSTANCE}" in message
    assert "`result`" in message
    assert "NoneType" not in message
    assert (info.value.method, info.value.url, info.value.status_code) == ("GET", INSTANCE, 200)


@pytest.mark.parametrize("result", ["text", [1, 2], 42, True])
async def test_a_result_of_the_wrong_kind_is_an_error_even_when_tolerant(
    mocked: aioresponses, result: object
) -> None:
    """Rule 12: a scalar or array where an object belongs cannot be a model: a typed error."""
    mocked.get(INSTANCE, payload=envelope(result))
    async with tolerant() as client:
        with pytest.raises(cf.APIResponseValidationError, match=rf"GET {INSTANCE}.*Instance"):
            await client.aisearch.instances.read("docs")


async def test_null_list_result_is_an_empty_page_when_tolerant_and_an_error_when_strict(
    mocked: aioresponses,
) -> None:
    """Rule 12: a null ``result`` for a list endpoint is an empty page in tolerant mode."""
    logs = f"{ITEMS}/i1/logs"
    mocked.get(JOBS, payload=envelope(None, result_info={"page": 1}), repeat=True)
    mocked.get(logs, payload=envelope(None, result_info={"truncated": False}), repeat=True)
    async with tolerant() as client:
        page = await client.aisearch.instances.jobs.list("docs")
        assert page.result == []
        assert [job async for job in client.aisearch.instances.jobs.list("docs")] == []
        entries = await client.aisearch.namespaces.instances.items.logs(
            "i1", name="default", id="docs"
        )
        assert list(entries) == []
    async with make_async(_strict_response_validation=True) as client:
        with pytest.raises(cf.APIResponseValidationError, match=rf"`result`.*GET {JOBS}"):
            await client.aisearch.instances.jobs.list("docs")
        with pytest.raises(cf.APIResponseValidationError, match=rf"`result`.*GET {logs}"):
            await client.aisearch.namespaces.instances.items.logs("i1", name="default", id="docs")


async def test_the_plugin_and_the_test_helpers_build_strict_clients(
    mocked: aioresponses,
) -> None:
    """Rule 12: the project's tests and the pytest plugin decode strictly by default."""
    mocked.get(f"{JOBS}/j1", payload=envelope({"source": "user"}), repeat=True)
    server: Any = SimpleNamespace(api_token="t0ken", account_id=ACCOUNT, base_url=BASE)
    async with async_client_for(server) as plugin_client, make_async() as helper_client:
        for client in (plugin_client, helper_client):
            with pytest.raises(cf.APIResponseValidationError, match=r"\bid\b"):
                await client.aisearch.instances.jobs.get("j1", id="docs")
    async with async_client_for(server, _strict_response_validation=False) as lenient:
        assert (await lenient.aisearch.instances.jobs.get("j1", id="docs")).id is None

    def sync_get() -> None:
        with client_for(server) as client:
            client.aisearch.instances.jobs.get("j1", id="docs")

    with pytest.raises(cf.APIResponseValidationError):
        await asyncio.to_thread(sync_get)


def test_strict_flag_must_be_a_bool() -> None:
    """Rule 12: a misspelt flag value is a clear TypeError, not silently truthy."""
    with pytest.raises(TypeError, match="_strict_response_validation"):
        cf.AsyncCloudflare(api_token="t", _strict_response_validation="yes")  # type: ignore[arg-type]


async def test_a_tolerant_client_streams_drifted_events_and_a_strict_one_refuses_them(
    mocked: aioresponses,
) -> None:
    """Rule 12: a streamed answer tolerates drift as the non-streamed one does."""
    drifted: dict[str, object] = {
        "id": "c1",
        "created": "yesterday",
        "object": "chat.completion.chunk",
    }
    drifted["choices"] = [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]
    body = f"data: {json.dumps(drifted)}\n\ndata: [DONE]\n\n".encode()
    chat = f"{INSTANCE}/chat/completions"
    messages: Any = [{"role": "user", "content": "hello"}]
    for strict in (False, True):
        mocked.post(chat, body=body, content_type="text/event-stream")
        async with make_async(_strict_response_validation=strict) as client:
            stream = await client.aisearch.instances.chat_completions(
                "docs", messages=messages, stream=True
            )
            async with stream:
                if strict:
                    with pytest.raises(cf.StreamError, match="created"):
                        await stream.get_final_completion()
                    continue
                events = [event async for event in stream]
                final = await stream.get_final_completion()
        assert [getattr(event, "created", None) for event in events] == ["yesterday"]
        assert final.choices[0].message.content == "Hi"


def test_model_helpers_survive_values_kept_by_tolerant_decoding() -> None:
    """Rule 12: a drifted value kept as received never breaks a model's helper."""
    item = _converter.structure(
        {**fixture("item_upload"), "status": ["completed"]}, cf.types.Item, tolerant=True
    )
    assert item.status == ["completed"]
    assert item.done is False
    chunk = fixture("item_upload") | {"id": "c1", "text": "t"}
    page = _converter.structure(
        {"result": [chunk], "offset": "ten", "total": {"n": 3}, "limit": 1},
        cf.types.ItemChunksPage,
        tolerant=True,
    )
    assert page.offset == "ten"
    assert page.next_offset == 1

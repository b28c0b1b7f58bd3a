"""Across every operation: fixtures vs models, retries, pagination, accounts, secrets."""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any

import cattrs
import pytest
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch._converter import converter
from cfaisearch._operations import HELPERS, OPERATIONS
from cfaisearch.types import (
    ChatCompletion,
    Instance,
    InstanceListItem,
    InstanceStats,
    Item,
    ItemChunk,
    ItemLog,
    ItemUploadResult,
    Job,
    JobLog,
    Namespace,
    NamespaceChatCompletion,
    NamespaceSearchResult,
    SearchResult,
    Token,
)
from tests.support import ops_instances, ops_items, ops_jobs, ops_namespaces, ops_tokens
from tests.support.clients import BASE, make_async, make_sync
from tests.support.ops import (
    KINDS,
    ROOT,
    STRICT,
    Op,
    call_op,
    envelope,
    fixture,
    ids,
    mock,
    sent_requests,
    unset_fields,
)

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

ALL_OPS: list[Op] = [
    *ops_instances.OPS,
    *ops_namespaces.OPS,
    *ops_jobs.OPS,
    *ops_items.OPS,
    *ops_tokens.OPS,
]

MODELS = [
    ("instance", Instance),
    ("instance_list_item", InstanceListItem),
    ("instance_stats", InstanceStats),
    ("namespace", Namespace),
    ("token", Token),
    ("item", Item),
    ("item_upload", ItemUploadResult),
    ("item_log", ItemLog),
    ("item_chunk", ItemChunk),
    ("job", Job),
    ("job_log", JobLog),
    ("search_result", SearchResult),
    ("namespace_search_result", NamespaceSearchResult),
    ("chat_completion", ChatCompletion),
    ("namespace_chat_completion", NamespaceChatCompletion),
]


# -- models and fixtures -------------------------------------------------------------


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[m[0] for m in MODELS])
def test_fixture_sets_every_field_and_decodes_strictly(name: str, model: Any) -> None:
    data = fixture(name)
    value = STRICT.structure(data, model)
    # Only instance lists report a boost's data type (spec section 2.3).
    expected = {"BoostBy.data_type"} if name == "instance" else set()
    assert unset_fields(value) == expected
    assert converter.structure(data, model) == value


@pytest.mark.parametrize(
    ("name", "model", "wire", "attribute", "value"),
    [
        ("instance", Instance, "ai_search_model", "aisearch_model", "m"),
        (
            "instance_list_item",
            InstanceListItem,
            "system_prompt_ai_search",
            "system_prompt_aisearch",
            "p",
        ),
        ("item_log", ItemLog, "fileKey", "file_key", "k"),
        ("item_log", ItemLog, "processingTimeMs", "processing_time_ms", 5),
    ],
)
def test_wire_names_map_to_official_attribute_names(
    name: str, model: Any, wire: str, attribute: str, value: object
) -> None:
    data = {**fixture(name), wire: value}
    assert getattr(STRICT.structure(data, model), attribute) == value
    # The Python name is not a wire name: the strict converter flags it as drift.
    drifted = {k: v for k, v in data.items() if k != wire} | {attribute: value}
    with pytest.raises(cattrs.ClassValidationError):
        STRICT.structure(drifted, model)


def test_nested_wire_names() -> None:
    stats = STRICT.structure(fixture("instance_stats"), InstanceStats)
    assert stats.engine is not None
    assert stats.engine.r2 is not None
    assert stats.engine.r2.object_count == 47
    assert stats.engine.vectorize is not None
    assert stats.engine.vectorize.vectors_count == 612
    listed = STRICT.structure(fixture("instance_list_item"), InstanceListItem)
    assert listed.retrieval_options is not None
    assert listed.retrieval_options.boost_by is not None
    assert listed.retrieval_options.boost_by[0].data_type == "datetime"


def test_production_decoding_tolerates_new_fields_and_values() -> None:
    instance = converter.structure(
        {
            **fixture("instance"),
            "cache_threshold": "telepathic",
            "vectorize_name": "v",
            "sync_interval": 60,
        },
        Instance,
    )
    assert str(instance.cache_threshold) == "telepathic"
    assert int(instance.sync_interval or 0) == 60
    item = converter.structure(
        {
            **fixture("item_upload"),
            "status": "archived",
            "warnings": [{"code": "custom_metadata_too_long", "field": "summary", "limit": 500}],
        },
        ItemUploadResult,
    )
    assert str(item.status) == "archived"
    assert not item.done
    assert item.warnings is not None
    assert str(item.warnings[0].code) == "custom_metadata_too_long"
    chat = fixture("chat_completion")
    chat["choices"][1]["message"]["content"].append({"type": "audio", "audio": {"id": "a"}})
    completion = converter.structure(chat, ChatCompletion)
    content = completion.choices[1].message.content
    assert isinstance(content, list)
    assert str(content[-1].type) == "audio"
    with pytest.raises(cattrs.ClassValidationError):
        STRICT.structure(chat, ChatCompletion)


def test_message_content_is_text_parts_or_null() -> None:
    chat = fixture("chat_completion")
    chat["choices"][0]["message"]["content"] = None
    completion = STRICT.structure(chat, ChatCompletion)
    assert completion.choices[0].message.content is None
    assert completion.choices[1].message.content[0].text == "See the diagram."  # type: ignore[index,union-attr]
    chat["choices"][0]["message"]["content"] = 3
    with pytest.raises(cattrs.ClassValidationError):
        converter.structure(chat, ChatCompletion)


def test_token_created_at_accepts_the_space_separated_form() -> None:
    token = STRICT.structure(fixture("token"), Token)
    assert token.created_at.isoformat() == "2025-12-25T01:52:28+00:00"


# -- coverage of the official surface --------------------------------------------------


# ``wait``, ``wait_until_indexed``, ``sync_directory``: built on the operations.
HELPER_NAMES = {op.name.rpartition(".")[2] for op in HELPERS}


def _methods(resource: object, prefix: str) -> list[str]:
    """Dotted names of the API methods under ``resource`` (helpers aside)."""
    names = []
    for name in dir(type(resource)):
        member = inspect.getattr_static(type(resource), name)
        if name.startswith("_") or name in HELPER_NAMES:
            continue
        if isinstance(member, functools.cached_property):  # a sub-resource
            names += _methods(getattr(resource, name), f"{prefix}{name}.")
        elif inspect.isfunction(member):
            names.append(f"{prefix}{name}")
    return names


async def test_every_operation_of_the_api_is_covered() -> None:
    async with make_async() as client:
        methods = set(_methods(client.aisearch, ""))
    assert methods == {op.name for op in OPERATIONS}
    assert methods == {op.name for op in ALL_OPS}


# -- retries -----------------------------------------------------------------------------


@pytest.mark.parametrize("op", ALL_OPS, ids=ids(ALL_OPS))
async def test_only_operations_safe_to_repeat_are_retried(op: Op, mocked: aioresponses) -> None:
    mock(mocked, op, status=503)
    mock(mocked, op)
    if op.retried:
        assert await call_op("async", op) == op.expected
        assert len(sent_requests(mocked)) == 2
    else:
        with pytest.raises(cf.InternalServerError):
            await call_op("async", op)
        assert len(sent_requests(mocked)) == 1


# -- pagination -------------------------------------------------------------------------


PAGED = [
    (
        "instances.list",
        lambda ai: ai.instances.list(per_page=2),
        "/instances",
        "instance_list_item",
        InstanceListItem,
    ),
    (
        "namespaces.list",
        lambda ai: ai.namespaces.list(per_page=2),
        "/namespaces",
        "namespace",
        Namespace,
    ),
    (
        "namespaces.instances.list",
        lambda ai: ai.namespaces.instances.list("p", per_page=2),
        "/namespaces/p/instances",
        "instance_list_item",
        InstanceListItem,
    ),
    (
        "instances.jobs.list",
        lambda ai: ai.instances.jobs.list("docs", per_page=2),
        "/instances/docs/jobs",
        "job",
        Job,
    ),
    (
        "namespaces.instances.jobs.list",
        lambda ai: ai.namespaces.instances.jobs.list("docs", name="p", per_page=2),
        "/namespaces/p/instances/docs/jobs",
        "job",
        Job,
    ),
    (
        "namespaces.instances.items.list",
        lambda ai: ai.namespaces.instances.items.list("docs", name="p", per_page=2, status="error"),
        "/namespaces/p/instances/docs/items",
        "item",
        Item,
    ),
    ("tokens.list", lambda ai: ai.tokens.list(per_page=2), "/tokens", "token", Token),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("name", "call", "path", "noun", "model"), PAGED, ids=[p[0] for p in PAGED]
)
async def test_iteration_walks_every_page_and_stops(
    kind: str, name: str, call: Any, path: str, noun: str, model: Any, mocked: aioresponses
) -> None:
    entry = fixture(noun)
    extra = {"status": "error"} if "items" in name else {}
    pages = [
        ({**extra, "per_page": "2"}, [entry, entry], 1),
        ({**extra, "page": "2", "per_page": "2"}, [entry], 2),
    ]
    for query, result, number in pages:
        info = {"page": number, "per_page": 2, "count": len(result), "total_count": 3}
        mock(mocked, Op(name, call, "GET", path, envelope(result, result_info=info), None, query))
    if kind == "async":
        async with make_async() as client:
            found = [x async for x in call(client.aisearch)]
    else:
        with make_sync() as sync_client:
            found = list(call(sync_client.aisearch))
    assert found == [STRICT.structure(entry, model)] * 3
    assert [dict(r.url.query).get("page") for r in sent_requests(mocked)] == [None, "2"]


# -- accounts and secrets --------------------------------------------------------------


async def test_a_call_may_name_another_account(mocked: aioresponses) -> None:
    mocked.get(
        f"{BASE}/accounts/other/ai-search/namespaces/default",
        payload=envelope(fixture("namespace")),
    )
    async with make_async() as client:
        await client.aisearch.namespaces.read("default", account_id="other")
    (request,) = sent_requests(mocked)
    assert request.url.path.startswith("/client/v4/accounts/other/")


async def test_without_any_account_id_the_call_fails_before_sending(
    mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    async with make_async(account_id=None) as client:
        with pytest.raises(cf.ConfigurationError, match="account"):
            await client.aisearch.tokens.read("t")
    assert sent_requests(mocked) == []


async def test_token_secret_stays_out_of_errors_and_logs(
    mocked: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-value-never-shown"
    mocked.post(
        f"{ROOT}/tokens",
        status=400,
        payload={
            "success": False,
            "errors": [{"code": 7003, "message": "invalid token"}],
            "result": None,
        },
    )
    caplog.set_level(logging.DEBUG, logger="cfaisearch")
    async with make_async() as client:
        with pytest.raises(cf.BadRequestError) as info:
            await client.aisearch.tokens.create(cf_api_id="id", cf_api_key=secret, name="n")
        with pytest.raises(ValueError, match="`cf_api_key`") as bad:
            await client.aisearch.tokens.create(cf_api_id="id", cf_api_key=31415926, name="n")  # type: ignore[arg-type]
    assert secret not in str(info.value)
    assert secret not in repr(info.value)
    assert secret not in str(info.value.body)
    assert secret not in caplog.text
    assert "31415926" not in str(bad.value)

"""Cloudflare-style errors: 401, 404, 405, 409, 400 naming the field, 413, 429."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
import pytest
from yarl import URL

from cfaisearch.emulator import AsyncEmulator
from tests.support.emulator_api import Api


def _assert_error(reply: Any, status: int, code: int, field: str | None = None) -> None:
    assert reply.status == status, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json
    assert body["success"] is False
    assert body["result"] is None
    assert body["messages"] == []
    (error,) = body["errors"]
    assert error["code"] == code
    assert error["message"]
    if field is not None:
        assert field in error["message"], error["message"]


# -- authentication ---------------------------------------------------------------


async def test_missing_credentials(api: Api) -> None:
    reply = await api.request("GET", "/namespaces", headers={"Authorization": ""})
    _assert_error(reply, 401, 10000)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer nope"},
        {"Authorization": "", "X-Auth-Email": "a@b.c", "X-Auth-Key": "nope"},
        {"Authorization": "", "X-Auth-User-Service-Key": "nope"},
    ],
)
async def test_wrong_credentials(api: Api, headers: dict[str, str]) -> None:
    _assert_error(await api.request("GET", "/namespaces", headers=headers), 401, 10000)


async def test_alternative_auth_schemes(api: Api, emulator: AsyncEmulator) -> None:
    token = emulator.api_token
    for headers in (
        {"Authorization": "", "X-Auth-Email": "me@example.com", "X-Auth-Key": token},
        {"Authorization": "", "X-Auth-User-Service-Key": token},
        {"Authorization": f"bearer {token}"},
    ):
        assert (await api.request("GET", "/namespaces", headers=headers)).status == 200


async def test_email_without_key_is_not_enough(api: Api) -> None:
    reply = await api.request(
        "GET", "/namespaces", headers={"Authorization": "", "X-Auth-Email": "a@b"}
    )
    _assert_error(reply, 401, 10000)


# -- not found ----------------------------------------------------------------------


async def test_unknown_account(api: Api, emulator: AsyncEmulator) -> None:
    url = f"{emulator.base_url}/accounts/{'f' * 32}/ai-search/namespaces"
    _assert_error(await api.request("GET", url), 404, 7003)


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/namespaces/ghost", 7010),
        ("GET", "/namespaces/ghost/instances", 7010),
        ("POST", "/namespaces/ghost/instances", 7010),
        ("GET", "/instances/ghost", 7011),
        ("GET", "/namespaces/default/instances/ghost/stats", 7011),
        ("GET", "/instances/kb/jobs/ghost", 7012),
        ("PATCH", "/namespaces/default/instances/kb/jobs/ghost", 7012),
        ("GET", "/namespaces/default/instances/kb/items/ghost", 7013),
        ("GET", "/namespaces/default/instances/kb/items/ghost/download", 7013),
        ("DELETE", "/namespaces/default/instances/kb/items/ghost", 7013),
        ("GET", "/tokens/ghost", 7014),
        ("DELETE", "/tokens/ghost", 7014),
        ("GET", "/instances/kb/items", 7000),  # not an operation of this API version
    ],
)
async def test_not_found(api: Api, method: str, path: str, code: int) -> None:
    await api.create_instance()
    body = {"id": "x"} if path.endswith("/instances") else {"action": "cancel"}
    _assert_error(await api.request(method, path, json=body), 404, code)


async def test_method_not_allowed(api: Api) -> None:
    reply = await api.request("PATCH", "/instances")
    _assert_error(reply, 405, 7001)
    assert "GET" in reply.headers["Allow"]


@pytest.mark.parametrize(
    "path",
    [
        "/namespaces/default/instances/%2e%2e/stats",
        "/namespaces/default%2Finstances",
        "/namespaces/./default",
        "/namespaces/default/../default",
        "/namespaces/default/instances/kb/items/..%5Cx",
    ],
)
async def test_path_tricks_are_refused(emulator: AsyncEmulator, path: str) -> None:
    url = f"{emulator.base_url}/accounts/{emulator.account_id}/ai-search{path}"
    headers = {"Authorization": f"Bearer {emulator.api_token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(URL(url, encoded=True), headers=headers) as resp,
    ):
        assert resp.status == 404
        body = await resp.json()
        assert body["errors"][0]["code"] == 7000


# -- conflicts ---------------------------------------------------------------------------


async def test_duplicates_conflict(api: Api) -> None:
    await api.create_instance()
    _assert_error(await api.request("POST", "/instances", json={"id": "kb"}), 409, 7020)
    await api.ok("POST", "/namespaces", json={"name": "prod"})
    _assert_error(await api.request("POST", "/namespaces", json={"name": "prod"}), 409, 7020)
    _assert_error(await api.request("POST", "/namespaces", json={"name": "default"}), 409, 7020)
    token = {"cf_api_id": "id1", "cf_api_key": "k", "name": "t"}
    await api.ok("POST", "/tokens", json=token)
    _assert_error(await api.request("POST", "/tokens", json=token), 409, 7020)


async def test_namespace_delete_rules(api: Api) -> None:
    _assert_error(await api.request("DELETE", "/namespaces/default"), 409, 7021)
    await api.ok("POST", "/namespaces", json={"name": "prod"})
    await api.create_instance(ns="prod")
    _assert_error(await api.request("DELETE", "/namespaces/prod"), 409, 7021)
    await api.ok("DELETE", "/namespaces/prod/instances/kb")
    await api.ok("DELETE", "/namespaces/prod")


async def test_default_namespace_description_is_fixed(api: Api) -> None:
    reply = await api.request("PUT", "/namespaces/default", json={"description": "mine"})
    _assert_error(reply, 400, 10001, "description")


async def test_token_in_use_cannot_be_deleted(api: Api) -> None:
    token = await api.ok("POST", "/tokens", json={"cf_api_id": "i", "cf_api_key": "k", "name": "t"})
    await api.create_instance(token_id=token["id"])
    _assert_error(await api.request("DELETE", f"/tokens/{token['id']}"), 409, 7022)


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "id"),
        ({"id": ""}, "id"),
        ({"id": "Bad Id"}, "id"),
        ({"id": "a" * 65}, "id"),
        ({"id": 12}, "id"),
        ({"id": "ok", "type": "s3"}, "type"),
        ({"id": "ok", "fusion_method": "avg"}, "fusion_method"),
        ({"id": "ok", "cache_ttl": 5}, "cache_ttl"),
        ({"id": "ok", "sync_interval": 60}, "sync_interval"),
        ({"id": "ok", "max_num_results": 0}, "max_num_results"),
        ({"id": "ok", "max_num_results": 51}, "max_num_results"),
        ({"id": "ok", "max_num_results": True}, "max_num_results"),
        ({"id": "ok", "score_threshold": 1.5}, "score_threshold"),
        ({"id": "ok", "chunk_size": 10}, "chunk_size"),
        ({"id": "ok", "chunk_overlap": 31}, "chunk_overlap"),
        ({"id": "ok", "index_method": {"keyword": False, "vector": False}}, "index_method"),
        ({"id": "ok", "index_method": {"keyword": True}}, "index_method.vector"),
        ({"id": "ok", "indexing_options": {"keyword_tokenizer": "ngram"}}, "keyword_tokenizer"),
        (
            {
                "id": "ok",
                "custom_metadata": [{"field_name": f"f{i}", "data_type": "text"} for i in range(6)],
            },
            "custom_metadata",
        ),
        (
            {"id": "ok", "custom_metadata": [{"field_name": "folder", "data_type": "text"}]},
            "field_name",
        ),
        ({"id": "ok", "custom_metadata": [{"field_name": "x", "data_type": "date"}]}, "data_type"),
        ({"id": "ok", "retrieval_options": {"keyword_match_mode": "xor"}}, "keyword_match_mode"),
        ({"id": "ok", "retrieval_options": {"boost_by": [{"field": "nope"}]}}, "boost_by[0].field"),
        (
            {
                "id": "ok",
                "custom_metadata": [{"field_name": "t", "data_type": "text"}],
                "retrieval_options": {"boost_by": [{"field": "t", "direction": "desc"}]},
            },
            "direction",
        ),
        ({"id": "ok", "type": "r2", "source": "bucket"}, "source"),
        ({"id": "ok", "source": "not-a-bucket"}, "source"),
        ({"id": "ok", "type": "web-crawler"}, "source"),
        ({"id": "ok", "token_id": "missing"}, "token_id"),
        ({"id": "ok", "public_endpoint_params": {"rate_limit": {"period_ms": 5}}}, "period_ms"),
        (
            {"id": "ok", "public_endpoint_params": {"default_domain_enabled": False}},
            "default_domain_enabled",
        ),
    ],
)
async def test_instance_validation(api: Api, body: dict[str, Any], field: str) -> None:
    _assert_error(await api.request("POST", "/instances", json=body), 400, 10001, field)


async def test_validation_error_points_at_the_field(api: Api) -> None:
    reply = await api.request(
        "POST", "/instances", json={"id": "ok", "index_method": {"keyword": 1, "vector": True}}
    )
    assert reply.json["errors"][0]["source"] == {"pointer": "/index_method/keyword"}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{bad json", 10002),
        (b"[1, 2]", 10002),
        (b'"text"', 10002),
        (b"", 10002),
        (b"[" * 100000, 10002),
    ],
)
async def test_malformed_bodies(api: Api, raw: bytes, code: int) -> None:
    reply = await api.request(
        "POST", "/instances", data=raw, headers={"Content-Type": "application/json"}
    )
    _assert_error(reply, 400, code)


async def test_unknown_fields_are_ignored(api: Api) -> None:
    created = await api.create_instance(surprise={"deep": [1]}, chunk_size=100)
    assert "surprise" not in created
    assert created["chunk_size"] == 100


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"name": "x" * 33}, "name"),
        ({"name": "ok", "description": "d" * 257}, "description"),
        ({"name": "ok", "public_endpoint_params": {"instances_allowed": "a"}}, "instances_allowed"),
    ],
)
async def test_namespace_validation(api: Api, body: dict[str, Any], field: str) -> None:
    _assert_error(await api.request("POST", "/namespaces", json=body), 400, 10001, field)


async def test_instances_allowed_must_exist(api: Api) -> None:
    params = {"public_endpoint_params": {"instances_allowed": ["ghost"]}}
    _assert_error(await api.request("PUT", "/namespaces/default", json=params), 400, 7097)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cf_api_id": "a", "cf_api_key": "b"}, "name"),
        ({"cf_api_id": "a", "name": "n"}, "cf_api_key"),
        ({"cf_api_id": 1, "cf_api_key": "b", "name": "n"}, "cf_api_id"),
        ({"cf_api_id": "a", "cf_api_key": "b", "name": "n", "legacy": "yes"}, "legacy"),
    ],
)
async def test_token_validation(api: Api, body: dict[str, Any], field: str) -> None:
    _assert_error(await api.request("POST", "/tokens", json=body), 400, 10001, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "query"),
        ({"query": ""}, "query"),
        ({"query": "   "}, "query"),
        ({"query": 5}, "query"),
        ({"query": "a", "messages": [{"role": "user", "content": "b"}]}, "query"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "system", "content": "only system"}]}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "video"}]}]},
            "messages[0].content[0].type",
        ),
        ({"messages": "hello"}, "messages"),
        (
            {"query": "q", "ai_search_options": {"retrieval": {"max_num_results": 51}}},
            "max_num_results",
        ),
        (
            {"query": "q", "ai_search_options": {"retrieval": {"max_num_results": 0}}},
            "max_num_results",
        ),
        (
            {"query": "q", "ai_search_options": {"retrieval": {"match_threshold": -0.1}}},
            "match_threshold",
        ),
        (
            {"query": "q", "ai_search_options": {"retrieval": {"match_threshold": 1.1}}},
            "match_threshold",
        ),
        (
            {"query": "q", "ai_search_options": {"retrieval": {"retrieval_type": "semantic"}}},
            "retrieval_type",
        ),
        (
            {"query": "q", "ai_search_options": {"retrieval": {"context_expansion": 4}}},
            "context_expansion",
        ),
        ({"query": "q", "ai_search_options": {"retrieval": {"filters": {"$or": []}}}}, "$or"),
        (
            {"query": "q", "ai_search_options": {"retrieval": {"filters": {"a": {"$like": 1}}}}},
            "$like",
        ),
        ({"query": "q", "ai_search_options": {"retrieval": {"filters": {"a": {"$in": 1}}}}}, "$in"),
        ({"query": "q", "ai_search_options": {"retrieval": {"filters": {"a": [1]}}}}, "filters.a"),
        ({"query": "q", "ai_search_options": {"retrieval": {"filters": "a"}}}, "filters"),
        (
            {"query": "q", "ai_search_options": {"retrieval": {"boost_by": [{"field": "x"}]}}},
            "boost_by",
        ),
        (
            {"query": "q", "ai_search_options": {"custom_metadata": {"task": "x"}}},
            "custom_metadata.task",
        ),
        ({"query": "q", "ai_search_options": []}, "ai_search_options"),
    ],
)
async def test_search_validation(api: Api, body: dict[str, Any], field: str) -> None:
    await api.create_instance()
    _assert_error(await api.request("POST", "/instances/kb/search", json=body), 400, 10001, field)


async def test_retrieval_type_must_fit_index_method(api: Api) -> None:
    await api.create_instance(index_method={"vector": True, "keyword": False})
    body = {"query": "q", "ai_search_options": {"retrieval": {"retrieval_type": "keyword"}}}
    _assert_error(
        await api.request("POST", "/instances/kb/search", json=body), 400, 10001, "retrieval_type"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "messages"),
        ({"messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream"),
        ({"messages": [{"role": "user", "content": "x"}], "model": 3}, "model"),
    ],
)
async def test_chat_validation(api: Api, body: dict[str, Any], field: str) -> None:
    await api.create_instance()
    reply = await api.request("POST", "/instances/kb/chat/completions", json=body)
    _assert_error(reply, 400, 10001, field)


@pytest.mark.parametrize(
    "options",
    [
        None,
        {},
        {"instance_ids": []},
        {"instance_ids": [1]},
        {"instance_ids": "kb"},
        {"instance_ids": [f"i{n}" for n in range(11)]},
    ],
)
async def test_namespace_search_needs_instance_ids(api: Api, options: Any) -> None:
    body: dict[str, Any] = {"query": "q"}
    if options is not None:
        body["ai_search_options"] = options
    reply = await api.request("POST", "/namespaces/default/search", json=body)
    assert reply.status == 400
    assert reply.error_codes[0] in (10001, 60012)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=51", "per_page"),
        ("per_page=-1", "per_page"),
        ("status=done", "status"),
        ("sort_by=name", "sort_by"),
        ("metadata_filter=%7Bbad", "metadata_filter"),
        ("metadata_filter=%7B%22%24and%22%3A%5B%5D%7D", "$and"),
    ],
)
async def test_item_list_query_validation(api: Api, query: str, field: str) -> None:
    await api.create_instance()
    reply = await api.request("GET", f"/namespaces/default/instances/kb/items?{query}")
    _assert_error(reply, 400, 10001, field)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/instances?per_page=101", "per_page"),
        ("/instances?per_page=0", "per_page"),
        ("/instances?order_by=name", "order_by"),
        ("/instances?order_by_direction=up", "order_by_direction"),
        ("/instances/kb/jobs?per_page=51", "per_page"),
        ("/namespaces/default/instances/kb/items/x/chunks?limit=0", "limit"),
        ("/namespaces/default/instances/kb/items/x/chunks?offset=-1", "offset"),
        ("/namespaces/default/instances/kb/items/x/logs?limit=101", "limit"),
    ],
)
async def test_list_query_validation(api: Api, path: str, field: str) -> None:
    await api.create_instance()
    _assert_error(await api.request("GET", path), 400, 10001, field)


# -- uploads -------------------------------------------------------------------------------------


async def test_upload_validation(api: Api) -> None:
    await api.create_instance()
    _assert_error(await api.upload("x" * 129 + ".txt", "hi"), 400, 10001, "file")
    _assert_error(await api.upload("../escape.txt", "hi"), 400, 10001, "file")
    _assert_error(await api.upload("a.txt", "hi", metadata="[1]"), 400, 10001, "metadata")
    _assert_error(await api.upload("a.txt", "hi", metadata="{nope"), 400, 10001, "metadata")
    big = b"a" * (4 * 1024 * 1024 + 1)
    _assert_error(await api.upload("big.txt", big), 400, 10001, "file")
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("metadata", "{}")
    form.add_field("wait_for_completion", "true")
    reply = await api.request("POST", "/namespaces/default/instances/kb/items", data=form)
    _assert_error(reply, 400, 10001, "file")
    reply = await api.request("POST", "/namespaces/default/instances/kb/items", json={"file": "x"})
    _assert_error(reply, 400, 10002)


async def test_wait_for_completion_must_be_a_boolean_string(api: Api) -> None:
    await api.create_instance()
    form = aiohttp.FormData()
    form.add_field("file", b"x", filename="a.txt")
    form.add_field("wait_for_completion", "maybe")
    reply = await api.request("POST", "/namespaces/default/instances/kb/items", data=form)
    _assert_error(reply, 400, 10001, "wait_for_completion")


async def test_reindex_bodies_are_validated(api: Api) -> None:
    await api.create_instance()
    reply = await api.request(
        "PUT", "/namespaces/default/instances/kb/items", json={"key": "a.txt"}
    )
    _assert_error(reply, 400, 10001, "next_action")
    body = {"key": "a.txt", "next_action": "DELETE"}
    reply = await api.request("PUT", "/namespaces/default/instances/kb/items", json=body)
    _assert_error(reply, 400, 10001, "next_action")
    body = {"key": "never-uploaded.txt", "next_action": "INDEX"}
    reply = await api.request("PUT", "/namespaces/default/instances/kb/items", json=body)
    _assert_error(reply, 404, 7013)


# -- size limits and rate limits ----------------------------------------------------------


async def test_oversized_bodies_get_413(api: Api) -> None:
    body = io.BytesIO(b"{" + b" " * (9 * 1024 * 1024) + b"}")
    reply = await api.request("POST", "/instances", data=body)
    _assert_error(reply, 413, 10003)


async def test_oversized_chunked_bodies_get_413(api: Api) -> None:
    async def body() -> Any:
        for _ in range(100):
            yield b" " * (128 * 1024)

    await api.create_instance()
    reply = await api.request("POST", "/instances/kb/search", data=body())
    _assert_error(reply, 413, 10003)


@pytest.mark.parametrize("emulator_options", [{"manual_sync_interval": 30.0}])
async def test_manual_sync_is_rate_limited(api: Api) -> None:
    # A web-crawler source on a non-loopback host: the job fails fast, offline.
    await api.create_instance(source="https://example.com")
    first = await api.request("POST", "/instances/kb/jobs", json={"description": "one"})
    assert first.status == 200
    second = await api.request("POST", "/instances/kb/jobs", json={})
    _assert_error(second, 429, 7030)
    assert 1 <= int(second.headers["Retry-After"]) <= 30


async def test_internal_errors_are_enveloped(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from cfaisearch.emulator.api import namespaces

    async def boom(request: Any) -> Any:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(namespaces, "list_", boom)
    # Routes are bound at app creation: build a fresh emulator with the broken handler.
    async with AsyncEmulator() as emu, aiohttp.ClientSession() as session:
        url = f"{emu.base_url}/accounts/{emu.account_id}/ai-search/namespaces"
        async with session.get(url, headers={"Authorization": f"Bearer {emu.api_token}"}) as resp:
            assert resp.status == 500
            body = await resp.json()
            assert body["errors"][0]["code"] == 10500
            assert "kaboom" not in await resp.text()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"garbage", "multipart/form-data; boundary=xyz"),
        (
            b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nhi',
            "multipart/form-data; boundary=xyz",
        ),
        (b"--xyz\r\n\r\nx\r\n--xyz--\r\n", "multipart/form-data"),
    ],
)
async def test_malformed_multipart(api: Api, body: bytes, content_type: str) -> None:
    await api.create_instance()
    path = "/namespaces/default/instances/kb/items"
    reply = await api.request("POST", path, data=body, headers={"Content-Type": content_type})
    _assert_error(reply, 400, 10002)

"""Every operation's happy path, with envelope and exact wire shapes."""

from __future__ import annotations

import json

import aiohttp

from cfaisearch._operations import OPERATIONS, PREFIX
from cfaisearch.emulator import AsyncEmulator, create_app
from tests.support.emulator_api import Api

INSTANCE_FIELDS = {
    "id", "created_at", "modified_at", "ai_gateway_id", "ai_search_model", "cache",
    "cache_threshold", "cache_ttl", "chunk_overlap", "chunk_size", "created_by",
    "custom_metadata", "embedding_model", "enable", "engine_version", "fusion_method",
    "hybrid_search_enabled", "index_method", "indexing_options", "last_activity",
    "max_num_results", "metadata", "modified_by", "namespace", "paused", "public_endpoint_id",
    "public_endpoint_params", "reranking", "reranking_model", "retrieval_options",
    "rewrite_model", "rewrite_query", "score_threshold", "source", "source_params", "status",
    "sync_interval", "token_id", "type",
}  # fmt: skip
LIST_ITEM_FIELDS = INSTANCE_FIELDS | {
    "chunk", "summarization", "summarization_model", "system_prompt_ai_search",
    "system_prompt_index_summarization", "system_prompt_rewrite_query",
}  # fmt: skip
ITEM_FIELDS = {
    "id", "key", "checksum", "status", "created_at", "last_seen_at", "namespace",
    "chunks_count", "file_size", "metadata", "next_action", "source_id", "error",
}  # fmt: skip
JOB_FIELDS = {"id", "source", "description", "started_at", "last_seen_at", "ended_at", "end_reason"}
TOKEN_FIELDS = {
    "id", "cf_api_id", "name", "created_at", "modified_at", "created_by", "modified_by",
    "enabled", "legacy",
}  # fmt: skip
NAMESPACE_FIELDS = {
    "name",
    "created_at",
    "description",
    "public_endpoint_id",
    "public_endpoint_params",
}


def test_route_table_has_every_registered_operation_and_the_autorag_aliases() -> None:
    app = create_app()
    routes = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.resource is not None and r.method != "HEAD"
    }
    legacy = {r for r in routes if "/autorag/rags/" in r[1]}
    assert routes - legacy == {(op.verb, f"/client/v4{PREFIX}{op.path}") for op in OPERATIONS}
    assert {m for m, _ in legacy} == {"GET", "POST", "PATCH"}
    assert len(legacy) == 6


async def test_instance_crud_top_level_and_namespaced(api: Api) -> None:
    created = await api.ok("POST", "/instances", json={"id": "kb", "chunk_size": 128})
    assert set(created) == INSTANCE_FIELDS
    assert created["namespace"] == "default"
    assert created["chunk_size"] == 128
    assert created["type"] is None
    assert created["index_method"] == {"vector": True, "keyword": True}
    read = await api.ok("GET", "/namespaces/default/instances/kb")
    assert read["id"] == "kb"
    assert read == await api.ok("GET", "/instances/kb")
    updated = await api.ok(
        "PUT",
        "/instances/kb",
        json={"ai_search_model": "", "system_prompt_ai_search": None, "max_num_results": 5},
    )
    assert set(updated) == INSTANCE_FIELDS
    assert updated["max_num_results"] == 5
    assert updated["ai_search_model"] == ""
    listed = await api.ok("GET", "/instances")
    assert [set(i) for i in listed] == [LIST_ITEM_FIELDS]
    listed_ns = await api.ok("GET", "/namespaces/default/instances")
    assert listed_ns == listed
    deleted = await api.ok("DELETE", "/namespaces/default/instances/kb")
    assert deleted["id"] == "kb"
    assert (await api.request("GET", "/instances/kb")).status == 404


async def test_instance_update_is_partial_and_keeps_match_mode(api: Api) -> None:
    await api.create_instance(retrieval_options={"keyword_match_mode": "or"})
    updated = await api.ok("PUT", "/instances/kb", json={"retrieval_options": {"boost_by": []}})
    assert updated["retrieval_options"]["keyword_match_mode"] == "or"
    assert updated["chunk_size"] == 256
    updated = await api.ok("PUT", "/instances/kb", json={"paused": True, "unknown": 1})
    assert updated["paused"] is True
    assert "unknown" not in updated


async def test_list_boost_by_carries_data_type(api: Api) -> None:
    await api.create_instance(
        custom_metadata=[{"field_name": "Rank", "data_type": "number"}],
        retrieval_options={"boost_by": [{"field": "rank", "direction": "desc"}]},
    )
    (listed,) = await api.ok("GET", "/instances")
    assert listed["retrieval_options"]["boost_by"] == [
        {"field": "rank", "direction": "desc", "dataType": "number"}
    ]
    assert listed["custom_metadata"] == [{"field_name": "rank", "data_type": "number"}]


async def test_same_instance_id_in_two_namespaces(api: Api) -> None:
    await api.ok("POST", "/namespaces", json={"name": "prod"})
    await api.create_instance("kb")
    other = await api.create_instance("kb", ns="prod")
    assert other["namespace"] == "prod"
    assert {i["namespace"] for i in await api.ok("GET", "/instances")} == {"default", "prod"}
    only = await api.ok("GET", "/instances?namespace=prod")
    assert [i["namespace"] for i in only] == ["prod"]


async def test_namespace_crud(api: Api) -> None:
    created = await api.ok(
        "POST",
        "/namespaces",
        json={
            "name": "prod",
            "description": "Production",
            "public_endpoint_params": {"enabled": True},
        },
    )
    assert set(created) == NAMESPACE_FIELDS
    assert created["public_endpoint_id"]
    assert (await api.ok("GET", "/namespaces/prod"))["description"] == "Production"
    updated = await api.ok("PUT", "/namespaces/prod", json={"public_endpoint_params": None})
    assert updated["public_endpoint_params"] is None
    assert updated["public_endpoint_id"] == created["public_endpoint_id"]  # never rotated
    names = [n["name"] for n in await api.ok("GET", "/namespaces")]
    assert names == ["default", "prod"]
    assert await api.ok("DELETE", "/namespaces/prod") == {"name": "prod"}
    assert (await api.request("GET", "/namespaces/prod")).status == 404


async def test_namespace_instances_allowed_and_instance_delete(api: Api) -> None:
    await api.ok("POST", "/namespaces", json={"name": "prod"})
    await api.create_instance("a", ns="prod")
    params = {"enabled": True, "instances_allowed": ["a"]}
    await api.ok("PUT", "/namespaces/prod", json={"public_endpoint_params": params})
    await api.ok("DELETE", "/namespaces/prod/instances/a")
    ns = await api.ok("GET", "/namespaces/prod")
    assert ns["public_endpoint_params"]["instances_allowed"] == []


async def test_tokens_never_return_the_secret(api: Api) -> None:
    body = {"cf_api_id": "abc", "cf_api_key": "s3cret", "name": "svc"}
    reply = await api.request("POST", "/tokens", json=body)
    assert reply.status == 201  # created, as the spec gives
    assert "s3cret" not in reply.text
    token = reply.result
    assert set(token) == TOKEN_FIELDS
    assert token["enabled"] is True
    assert token["legacy"] is False
    token_id = token["id"]
    assert (await api.ok("GET", f"/tokens/{token_id}"))["name"] == "svc"
    replaced = await api.ok(
        "PUT", f"/tokens/{token_id}", json={**body, "name": "svc2", "cf_api_key": "other"}
    )
    assert replaced["name"] == "svc2"
    listing = await api.request("GET", "/tokens")
    assert "s3cret" not in listing.text
    assert "other" not in listing.text
    assert [t["id"] for t in listing.result] == [token_id]
    assert await api.ok("DELETE", f"/tokens/{token_id}") == {"id": token_id}
    assert (await api.request("GET", f"/tokens/{token_id}")).status == 404


async def test_item_endpoints(api: Api) -> None:
    await api.create_instance(chunk_size=64)
    text = "alpha beta gamma " * 50
    reply = await api.upload("docs/a.txt", text, metadata={"team": "core"})
    assert reply.status == 200, reply.text
    item = reply.result
    assert set(item) == ITEM_FIELDS | {"warnings"}
    assert item["status"] == "completed"
    assert item["source_id"] == "builtin"
    assert item["metadata"]["folder"] == "docs/"
    assert item["metadata"]["filename"] == "docs/a.txt"
    assert item["metadata"]["team"] == "core"
    assert item["warnings"] == [{"code": "custom_metadata_field_not_filterable", "field": "team"}]
    base = f"/namespaces/default/instances/kb/items/{item['id']}"
    got = await api.ok("GET", base)
    assert set(got) == ITEM_FIELDS
    assert got["chunks_count"] == item["chunks_count"] > 1
    chunks = await api.ok("GET", f"{base}/chunks")
    assert {"id", "text", "item", "start_byte", "end_byte"} == set(chunks[0])
    download = await api.request("GET", f"{base}/download")
    assert download.status == 200
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.text == text
    logs = await api.ok("GET", f"{base}/logs")
    assert [entry["action"] for entry in logs] == ["queued", "running", "completed"]
    assert logs[-1]["chunkCount"] == item["chunks_count"]
    assert "processingTimeMs" in logs[-1]
    assert logs[-1]["fileKey"] == "docs/a.txt"
    synced = await api.ok("PATCH", base, json={"next_action": "INDEX", "wait_for_completion": True})
    assert synced["status"] == "completed"
    put = await api.ok(
        "PUT",
        "/namespaces/default/instances/kb/items",
        json={"key": "docs/a.txt", "next_action": "INDEX"},
    )
    assert put["id"] == item["id"]
    listed = await api.ok("GET", "/namespaces/default/instances/kb/items")
    assert [i["id"] for i in listed] == [item["id"]]
    assert await api.ok("DELETE", base) == {"key": "docs/a.txt"}
    assert (await api.request("GET", base)).status == 404


async def test_stats_counts_items_by_status(api: Api) -> None:
    await api.create_instance()
    await api.upload("a.txt", "hello world")
    await api.upload("b.pdf", b"%PDF-1.4", content_type="application/pdf")
    await api.upload("c.json", "{not json", content_type="application/json")
    stats = await api.ok("GET", "/namespaces/default/instances/kb/stats")
    assert stats == await api.ok("GET", "/instances/kb/stats")
    assert (stats["completed"], stats["skipped"], stats["error"]) == (1, 1, 1)
    assert stats["queued"] == stats["running"] == stats["outdated"] == 0
    assert set(stats["engine"]["r2"]) == {"metadataSizeBytes", "objectCount", "payloadSizeBytes"}
    assert stats["engine"]["r2"]["objectCount"] == 3
    assert stats["engine"]["vectorize"]["vectorsCount"] == 1
    assert set(stats["file_embed_errors"]) == {"c.json"}
    assert stats["last_activity"] is not None


async def test_search_response_shape(api: Api) -> None:
    await api.create_instance()
    await api.upload("a.md", "# Install\nRun the installer to install the tool.")
    for path in ("/instances/kb/search", "/namespaces/default/instances/kb/search"):
        result = await api.ok("POST", path, json={"query": "install tool"})
        assert set(result) == {"chunks", "query_kind", "search_query"}
        assert result["query_kind"] == "text"
        assert result["search_query"] == "install tool"
        (chunk,) = result["chunks"]
        assert set(chunk) == {"id", "type", "score", "text", "item", "scoring_details"}
        assert chunk["type"] == "text"
        assert 0 < chunk["score"] <= 1
        assert chunk["item"]["key"] == "a.md"
        details = chunk["scoring_details"]
        assert set(details) == {
            "vector_score",
            "vector_rank",
            "keyword_score",
            "keyword_rank",
            "fusion_method",
        }


async def test_search_with_messages(api: Api) -> None:
    await api.create_instance()
    await api.upload("a.txt", "Bananas are yellow.")
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "yellow bananas"}]},
    ]
    result = await api.ok("POST", "/instances/kb/search", json={"messages": messages})
    assert result["search_query"] == "yellow bananas"
    assert len(result["chunks"]) == 1


async def test_jobs_need_an_external_source(api: Api) -> None:
    # Job endpoints need an external source: see test_emu_jobs for full flows.
    await api.create_instance()
    reply = await api.request("POST", "/instances/kb/jobs", json={})
    assert reply.status == 400
    assert reply.error_codes == [7031]
    assert await api.ok("GET", "/instances/kb/jobs") == []


async def test_chat_completions_are_not_enveloped(api: Api) -> None:
    await api.create_instance()
    await api.upload("a.txt", "The sky is blue because of Rayleigh scattering.")
    for path in (
        "/instances/kb/chat/completions",
        "/namespaces/default/instances/kb/chat/completions",
    ):
        reply = await api.request(
            "POST", path, json={"messages": [{"role": "user", "content": "why is the sky blue"}]}
        )
        assert reply.status == 200
        body = reply.json
        assert "success" not in body
        assert "result" not in body
        assert body["object"] == "chat.completion"
        assert set(body) == {"id", "object", "created", "model", "choices", "chunks", "usage"}
        (choice,) = body["choices"]
        assert choice["message"]["role"] == "assistant"
        assert "Rayleigh" in choice["message"]["content"]
        assert choice["finish_reason"] == "stop"
        assert body["chunks"][0]["item"]["key"] == "a.txt"
        assert body["usage"]["total_tokens"] == (
            body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
        )


async def test_namespace_search_and_chat(api: Api) -> None:
    await api.create_instance("a")
    await api.create_instance("b")
    await api.upload("one.txt", "Rust has a borrow checker.", instance="a")
    await api.upload("two.txt", "Python has a garbage collector.", instance="b")
    options = {"instance_ids": ["a", "b", "ghost"]}
    result = await api.ok(
        "POST",
        "/namespaces/default/search",
        json={"query": "borrow checker", "ai_search_options": options},
    )
    assert set(result) == {"chunks", "query_kind", "search_query", "errors"}
    assert [c["instance_id"] for c in result["chunks"]] == ["a"]
    assert result["errors"] == [{"instance_id": "ghost", "message": "instance not found"}]
    reply = await api.request(
        "POST",
        "/namespaces/default/chat/completions",
        json={
            "messages": [{"role": "user", "content": "garbage collector"}],
            "ai_search_options": options,
        },
    )
    body = reply.json
    assert body["object"] == "chat.completion"
    assert [c["instance_id"] for c in body["chunks"]] == ["b"]
    assert body["errors"] == [{"instance_id": "ghost", "message": "instance not found"}]


async def test_every_response_has_a_cf_ray(api: Api) -> None:
    await api.create_instance()
    replies = [
        await api.request("GET", "/instances/kb"),
        await api.request("GET", "/instances/nope"),
        await api.request("GET", "/no/such/route"),
        await api.request("GET", "/instances/kb", headers={"Authorization": "Bearer wrong"}),
        await api.request(
            "POST",
            "/instances/kb/chat/completions",
            json={"messages": [{"role": "user", "content": "x"}], "stream": True},
        ),
    ]
    for reply in replies:
        assert reply.headers["cf-ray"].endswith("-EMU")
    assert len({r.headers["cf-ray"] for r in replies}) == len(replies)


async def test_unknown_routes_answer_json_envelopes(emulator: AsyncEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        for url in (
            emulator.url + "/",
            emulator.url + "/client/v4/zones",
            emulator.base_url + "/x",
        ):
            async with session.get(url) as resp:
                assert resp.status == 404
                assert resp.content_type == "application/json"
                body = json.loads(await resp.text())
                assert body["success"] is False
                assert body["errors"][0]["code"] == 7000


async def test_spec_fidelity_created_status_and_enum_values(api: Api) -> None:
    created = await api.request("POST", "/instances", json={"id": "big", "chunk_size": 4096})
    assert created.status == 201, created.text  # the spec's status, and no 2048 cap
    assert created.result["chunk_size"] == 4096
    old_mode = {"id": "old", "retrieval_options": {"keyword_match_mode": "exact_match"}}
    refused = await api.request("POST", "/instances", json=old_mode)
    assert refused.status == 400
    assert "keyword_match_mode" in refused.text
    feed = {
        "id": "feed",
        "source": "http://127.0.0.1:9/",
        "source_params": {"web_crawler": {"parse_type": "feed-rss"}},
    }
    refused = await api.request("POST", "/instances", json=feed)
    assert refused.status == 400
    assert "parse_type" in refused.text

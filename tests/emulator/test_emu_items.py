"""Item lifecycle: background indexing, statuses, parsing, chunk offsets, upserts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.emulator_api import Api, eventually


async def _item(api: Api, item_id: str) -> Any:
    return await api.ok("GET", f"/namespaces/default/instances/kb/items/{item_id}")


@pytest.mark.parametrize("emulator_options", [{"index_delay": 0.3}])
async def test_uploads_are_indexed_in_the_background(api: Api) -> None:
    await api.create_instance()
    item = (await api.upload("a.txt", "background indexing", wait=False)).result
    assert item["status"] == "queued"
    assert item["next_action"] == "INDEX"
    assert item["chunks_count"] is None
    seen = {item["status"]}

    async def done() -> bool:
        status = (await _item(api, item["id"]))["status"]
        seen.add(status)
        return bool(status == "completed")

    await eventually(done)
    assert seen == {"queued", "running", "completed"}
    final = await _item(api, item["id"])
    assert final["next_action"] is None
    assert final["chunks_count"] == 1
    instance = await api.ok("GET", "/instances/kb")
    assert instance["status"] == "active"
    assert instance["last_activity"] is not None


@pytest.mark.parametrize("emulator_options", [{"index_delay": 0.5}])
async def test_instance_status_shows_indexing(api: Api) -> None:
    await api.create_instance()
    await api.upload("a.txt", "slow", wait=False)
    assert (await api.ok("GET", "/instances/kb"))["status"] == "indexing"
    stats = await api.ok("GET", "/instances/kb/stats")
    assert stats["queued"] + stats["running"] == 1


@pytest.mark.parametrize("emulator_options", [{"index_delay": 0.5, "wait_timeout": 0.05}])
async def test_wait_for_completion_times_out_as_running(api: Api) -> None:
    await api.create_instance()
    item = (await api.upload("a.txt", "slow", wait=True)).result
    assert item["status"] in ("queued", "running")


async def test_wait_for_completion_returns_the_final_status(api: Api) -> None:
    await api.create_instance()
    assert (await api.upload("a.txt", "ready")).result["status"] == "completed"
    assert (await api.upload("b.txt", "ready", wait=None)).result["status"] == "queued"


@pytest.mark.parametrize(
    ("name", "content", "content_type", "status", "error_part"),
    [
        ("doc.pdf", b"%PDF-1.7", "application/pdf", "skipped", "unsupported file type"),
        ("photo.png", b"\x89PNG\r\n", "image/png", "skipped", "no OCR"),
        ("empty.txt", b"   \n ", "text/plain", "skipped", "no text"),
        ("broken.json", b"{oops", "application/json", "error", "invalid JSON"),
        ("latin1.txt", "caf\u00e9".encode("latin-1"), "text/plain", "error", "UTF-8"),
    ],
)
async def test_unindexable_files(
    api: Api, name: str, content: bytes, content_type: str, status: str, error_part: str
) -> None:
    await api.create_instance()
    item = (await api.upload(name, content, content_type=content_type)).result
    assert item["status"] == status
    assert error_part in item["error"]
    assert item["chunks_count"] == 0
    logs = await api.ok("GET", f"/namespaces/default/instances/kb/items/{item['id']}/logs")
    assert logs[-1]["action"] == status
    if status == "error":
        assert logs[-1]["errorType"] in ("parse_error", "decode_error")


async def test_html_is_stripped_and_meta_tags_feed_the_schema(api: Api) -> None:
    await api.create_instance(custom_metadata=[{"field_name": "author", "data_type": "text"}])
    html = """<html><head><title>Greeting page</title><meta name="author" content="Ada">
    <style>body { color: red }</style><script>var secret = 1;</script></head>
    <body><h1>Hello</h1><p>World &amp; <b>friends</b></p></body></html>"""
    item = (await api.upload("page.html", html, content_type="text/html")).result
    assert item["status"] == "completed"
    assert item["metadata"]["author"] == "Ada"
    (chunk,) = await api.ok("GET", f"/namespaces/default/instances/kb/items/{item['id']}/chunks")
    assert chunk["text"] == "Greeting page\nHello\nWorld & friends"
    assert await api.search("secret", retrieval_type="keyword") == []
    assert len(await api.search("friends", filters={"author": "Ada"})) == 1


async def test_json_is_flattened_to_searchable_lines(api: Api) -> None:
    await api.create_instance()
    doc = {"title": "Manual", "sections": [{"heading": "Setup", "steps": 3}], "draft": False}
    item = (await api.upload("m.json", json.dumps(doc), content_type="application/json")).result
    (chunk,) = await api.ok("GET", f"/namespaces/default/instances/kb/items/{item['id']}/chunks")
    assert (
        chunk["text"]
        == "title: Manual\nsections[0].heading: Setup\nsections[0].steps: 3\ndraft: false"
    )


async def test_chunk_byte_offsets_point_into_the_file(api: Api) -> None:
    await api.create_instance(chunk_size=64, chunk_overlap=25)
    text = " ".join(f"wörd{n}" for n in range(200)) + "\n"
    data = text.encode()
    item = (await api.upload("utf8.md", data, content_type="text/markdown")).result
    chunks = await api.ok(
        "GET", f"/namespaces/default/instances/kb/items/{item['id']}/chunks?limit=100"
    )
    assert len(chunks) == item["chunks_count"] == 4  # step 48 words: 0, 48, 96, 144
    for chunk in chunks:
        assert data[chunk["start_byte"] : chunk["end_byte"]].decode() == chunk["text"]
        assert chunk["item"]["key"] == "utf8.md"
    assert chunks[1]["text"].split()[0] == "wörd48"
    assert chunks[0]["text"].split()[-1] == "wörd63"  # 16 words (25 %) overlap
    assert chunks[-1]["text"].split()[-1] == "wörd199"


async def test_chunking_can_be_disabled(api: Api) -> None:
    await api.create_instance(chunk_size=64, chunk=False)
    item = (await api.upload("long.txt", "word " * 500)).result
    assert item["chunks_count"] == 1


async def test_reupload_is_an_upsert(api: Api) -> None:
    await api.create_instance()
    first = (await api.upload("a.txt", "old text about apples")).result
    second = (await api.upload("a.txt", "new text about pears")).result
    assert second["id"] == first["id"]
    assert second["checksum"] != first["checksum"]
    assert second["created_at"] == first["created_at"]
    assert await api.search("apples") == []
    assert len(await api.search("pears")) == 1
    listed = await api.ok("GET", "/namespaces/default/instances/kb/items")
    assert len(listed) == 1


async def test_metadata_casting_and_warnings(api: Api) -> None:
    schema = [
        {"field_name": "Count", "data_type": "number"},
        {"field_name": "flag", "data_type": "boolean"},
        {"field_name": "when", "data_type": "datetime"},
        {"field_name": "note", "data_type": "text"},
    ]
    await api.create_instance(custom_metadata=schema)
    metadata = {
        "count": "12",
        "FLAG": "yes",
        "when": "2026-01-15T10:00:00+02:00",
        "note": "n" * 600,
        "extra": 1,
    }
    item = (await api.upload("a.txt", "x", metadata=metadata)).result
    assert item["metadata"]["count"] == 12.0
    assert item["metadata"]["flag"] is True
    assert item["metadata"]["when"] == "2026-01-15T08:00:00Z"
    assert len(item["metadata"]["note"]) == 500
    assert item["warnings"] == [{"code": "custom_metadata_field_not_filterable", "field": "extra"}]
    bad = (await api.upload("b.txt", "x", metadata={"count": "many", "flag": "maybe"})).result
    assert bad["warnings"] == [
        {"code": "custom_metadata_value_not_indexed", "field": "count", "expected_type": "number"},
        {"code": "custom_metadata_value_not_indexed", "field": "flag", "expected_type": "boolean"},
    ]
    assert "count" not in bad["metadata"]


async def test_item_sync_reindexes_one_item(api: Api) -> None:
    await api.create_instance()
    item = (await api.upload("a.txt", "text")).result
    path = f"/namespaces/default/instances/kb/items/{item['id']}"
    queued = await api.ok("PATCH", path, json={"next_action": "INDEX"})
    assert queued["status"] in ("queued", "running", "completed")

    async def done() -> bool:
        return bool((await _item(api, item["id"]))["status"] == "completed")

    await eventually(done)
    logs = await api.ok("GET", f"{path}/logs")
    assert [entry["action"] for entry in logs].count("completed") == 2


async def test_delete_removes_chunks(api: Api) -> None:
    await api.create_instance()
    item = (await api.upload("a.txt", "ephemeral words")).result
    assert len(await api.search("ephemeral")) == 1
    await api.ok("DELETE", f"/namespaces/default/instances/kb/items/{item['id']}")
    assert await api.search("ephemeral") == []
    stats = await api.ok("GET", "/instances/kb/stats")
    assert stats["completed"] == 0
    assert stats["engine"]["vectorize"]["vectorsCount"] == 0


async def test_deleting_an_instance_removes_its_data(api: Api) -> None:
    await api.create_instance()
    await api.upload("a.txt", "gone soon")
    await api.ok("DELETE", "/instances/kb")
    await api.create_instance()
    assert await api.ok("GET", "/namespaces/default/instances/kb/items") == []
    assert await api.search("gone") == []


async def test_download_returns_the_exact_bytes(api: Api) -> None:
    await api.create_instance()
    payload = bytes(range(256)) * 4
    item = (await api.upload("blob.bin", payload, content_type="application/octet-stream")).result
    assert item["file_size"] == len(payload)
    path = f"/namespaces/default/instances/kb/items/{item['id']}/download"
    async with api.session.get(api.root + path, headers=api.auth) as resp:
        assert resp.status == 200
        assert await resp.read() == payload
        assert "blob.bin" in resp.headers["Content-Disposition"]

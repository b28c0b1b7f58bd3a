"""Page, offset and cursor pagination; pages past the end are empty, not errors."""

from __future__ import annotations

from typing import Any

from tests.support.emulator_api import Api, eventually


async def _page(api: Api, path: str) -> tuple[list[Any], dict[str, Any]]:
    reply = await api.request("GET", path)
    assert reply.status == 200, reply.text
    return reply.result, reply.json["result_info"]


async def test_instance_pages(api: Api) -> None:
    for n in range(5):
        await api.create_instance(f"kb-{n}")
    first, info = await _page(api, "/instances?per_page=2")
    assert [i["id"] for i in first] == ["kb-0", "kb-1"]
    assert info == {"page": 1, "per_page": 2, "count": 2, "total_count": 5}
    last, info = await _page(api, "/namespaces/default/instances?per_page=2&page=3")
    assert [i["id"] for i in last] == ["kb-4"]
    assert info == {"page": 3, "per_page": 2, "count": 1, "total_count": 5}
    past, info = await _page(api, "/instances?per_page=2&page=4")
    assert past == []
    assert info == {"page": 4, "per_page": 2, "count": 0, "total_count": 5}
    desc, _ = await _page(api, "/instances?order_by=created_at&order_by_direction=desc&per_page=1")
    assert desc[0]["id"] == "kb-4"
    found, info = await _page(api, "/instances?search=KB-3")
    assert [i["id"] for i in found] == ["kb-3"]
    assert info["total_count"] == 1


async def test_auto_pagination_terminates(api: Api) -> None:
    """The SDK's algorithm: ask page+1 until a page is empty."""
    for n in range(7):
        await api.create_instance(f"i{n}")
    seen, page = [], 1
    while True:
        rows, _ = await _page(api, f"/instances?per_page=3&page={page}")
        if not rows:
            break
        seen += [r["id"] for r in rows]
        page += 1
    assert seen == [f"i{n}" for n in range(7)]


async def test_namespace_and_token_pages(api: Api) -> None:
    for n in range(3):
        await api.ok("POST", "/namespaces", json={"name": f"ns{n}", "description": f"team {n}"})
        await api.ok(
            "POST", "/tokens", json={"cf_api_id": f"id{n}", "cf_api_key": "k", "name": f"tok{n}"}
        )
    rows, info = await _page(api, "/namespaces?per_page=2&page=2")
    assert [r["name"] for r in rows] == ["ns1", "ns2"]
    assert info["total_count"] == 4
    rows, _ = await _page(api, "/namespaces?search=TEAM 2")
    assert [r["name"] for r in rows] == ["ns2"]
    rows, info = await _page(api, "/tokens?per_page=1&page=3")
    assert [r["name"] for r in rows] == ["tok2"]
    assert info == {"page": 3, "per_page": 1, "count": 1, "total_count": 3}
    rows, _ = await _page(api, "/tokens?page=9")
    assert rows == []
    rows, _ = await _page(api, "/tokens?search=tok1")
    assert len(rows) == 1


async def test_item_pages_and_filters(api: Api) -> None:
    await api.create_instance(custom_metadata=[{"field_name": "lang", "data_type": "text"}])
    for n in range(6):
        folder = "docs/" if n % 2 else "blog/"
        await api.upload(
            f"{folder}f{n}.txt", f"file number {n}", metadata={"lang": "en" if n < 3 else "fr"}
        )
    await api.upload("bad.bin", b"\x00\x01", content_type="application/octet-stream")
    base = "/namespaces/default/instances/kb/items"
    rows, info = await _page(api, f"{base}?per_page=4")
    assert info == {"page": 1, "per_page": 4, "count": 4, "total_count": 7}
    assert rows[0]["key"] == "bad.bin"  # sort_by=status: unfinished/failed first
    rows, info = await _page(api, f"{base}?per_page=4&page=3")
    assert (rows, info["count"]) == ([], 0)
    rows, _ = await _page(api, f"{base}?status=skipped")
    assert [r["key"] for r in rows] == ["bad.bin"]
    rows, _ = await _page(api, f"{base}?search=F3")
    assert [r["key"] for r in rows] == ["docs/f3.txt"]
    rows, _ = await _page(api, f"{base}?key=blog/f0.txt&source=builtin")
    assert len(rows) == 1
    rows, _ = await _page(api, f"{base}?item_id={rows[0]['id']}")
    assert [r["key"] for r in rows] == ["blog/f0.txt"]
    rows, _ = await _page(api, f"{base}?source=r2:other")
    assert rows == []
    rows, _ = await _page(api, base + '?metadata_filter={"folder":"docs/","lang":"fr"}')
    assert sorted(r["key"] for r in rows) == ["docs/f3.txt", "docs/f5.txt"]
    rows, _ = await _page(api, base + '?metadata_filter={"folder":{"$in":["docs/","blog/"]}}')
    assert len(rows) == 6
    rows, _ = await _page(api, base + '?metadata_filter={"timestamp":{"$gte":1000000000000}}')
    assert len(rows) == 7
    rows, _ = await _page(api, f"{base}?sort_by=modified_at&per_page=1")
    assert rows[0]["key"] == "bad.bin"  # newest first
    rows, info = await _page(api, f"{base}?per_page=0")
    assert (rows, info["total_count"]) == ([], 7)


async def test_chunks_offset_pagination(api: Api) -> None:
    await api.create_instance(chunk_size=64, chunk_overlap=0)
    item = (await api.upload("long.txt", " ".join(f"w{n}" for n in range(64 * 5)))).result
    assert item["chunks_count"] == 5
    base = f"/namespaces/default/instances/kb/items/{item['id']}/chunks"
    rows, info = await _page(api, f"{base}?limit=2&offset=1")
    assert info == {"count": 2, "limit": 2, "offset": 1, "total": 5}
    assert rows[0]["text"].startswith("w64 ")
    rows, info = await _page(api, f"{base}?offset=10")
    assert rows == []
    assert info == {"count": 0, "limit": 20, "offset": 10, "total": 5}


async def test_item_logs_cursor_pagination(api: Api) -> None:
    await api.create_instance()
    for _ in range(3):  # every upload appends queued/running/completed
        item = (await api.upload("a.txt", "same key, re-uploaded")).result
    base = f"/namespaces/default/instances/kb/items/{item['id']}/logs"
    collected, cursor = [], None
    while True:
        rows, info = await _page(api, f"{base}?limit=4" + (f"&cursor={cursor}" if cursor else ""))
        collected += rows
        assert info["count"] == len(rows)
        assert info["per_page"] == 4
        if not info["truncated"]:
            assert info["cursor"] is None
            break
        cursor = info["cursor"]
        assert isinstance(cursor, str)
    assert [r["action"] for r in collected] == ["queued", "running", "completed"] * 3
    bad = await api.request("GET", f"{base}?cursor=!!!")
    assert bad.status == 400


async def test_job_logs_are_paged(api: Api) -> None:
    await api.create_instance(source="https://example.com")
    job = await api.ok("POST", "/instances/kb/jobs", json={})

    async def ended() -> bool:
        return (await api.ok("GET", f"/instances/kb/jobs/{job['id']}"))["ended_at"] is not None

    await eventually(ended)
    rows, info = await _page(api, f"/instances/kb/jobs/{job['id']}/logs?per_page=1&page=2")
    assert len(rows) == 1
    assert set(rows[0]) == {"id", "created_at", "message", "message_type"}
    assert info["page"] == 2
    assert info["total_count"] >= 3
    rows, info = await _page(api, f"/instances/kb/jobs/{job['id']}/logs?page=50")
    assert rows == []
    _, info = await _page(api, "/instances/kb/jobs?per_page=50")
    assert info["total_count"] == 2  # the initial sync and ours

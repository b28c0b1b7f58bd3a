"""The AutoRAG API's routes: aliases of default-namespace instances, old shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cfaisearch.emulator.api.legacy import translate_filter
from cfaisearch.emulator.errors import ApiError
from tests.support.emulator_api import Api, Reply


async def _rag(api: Api, method: str, path: str, **kwargs: Any) -> Reply:
    url = f"{api.emulator.base_url}/accounts/{api.emulator.account_id}/autorag/rags/kb{path}"
    return await api.request(method, url, **kwargs)


@pytest.fixture
def emulator_options(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "bucket").mkdir()
    (tmp_path / "bucket" / "a.txt").write_text("Alpha explains apples.")
    return {"r2_root": tmp_path, "initial_sync": False, "manual_sync_interval": 0}


@pytest.fixture
async def rag(api: Api) -> Api:
    await api.create_instance(custom_metadata=[{"field_name": "team", "data_type": "text"}])
    for key, text, team in (
        ("a/install.md", "Install the tool with pip in one minute.", "core"),
        ("a/install-more.md", "Install the plugins with pip too.", "plugins"),
        ("b/cats.txt", "Cats sleep most of the day.", "core"),
    ):
        reply = await api.upload(key, text, metadata={"team": team})
        assert reply.result["status"] == "completed", reply.text
    return api


async def test_search_answers_the_old_page_shape(rag: Api) -> None:
    reply = await _rag(rag, "POST", "/search", json={"query": "install pip"})
    assert reply.status == 200, reply.text
    page = reply.result
    assert page["object"] == "vector_store.search_results.page"
    assert page["search_query"] == "install pip"
    assert page["has_more"] is False
    assert page["next_page"] is None
    assert {f["filename"] for f in page["data"]} == {"a/install.md", "a/install-more.md"}
    first = page["data"][0]
    assert set(first) == {"file_id", "filename", "score", "attributes", "content"}
    assert first["attributes"]["folder"] == "a/"
    assert isinstance(first["attributes"]["modified_date"], int)
    assert first["content"][0]["type"] == "text"
    assert "pip" in first["content"][0]["text"]


async def test_search_takes_old_filters_limits_and_thresholds(rag: Api) -> None:
    body = {
        "query": "install pip",
        "filters": {"type": "eq", "key": "team", "value": "plugins"},
        "max_num_results": 5,
        "ranking_options": {"score_threshold": 0.1},
    }
    reply = await _rag(rag, "POST", "/search", json=body)
    assert [f["filename"] for f in reply.result["data"]] == ["a/install-more.md"]
    high = await _rag(
        rag, "POST", "/search", json={"query": "install", "ranking_options": {"score_threshold": 1}}
    )
    assert high.result["data"] == []


async def test_ai_search_adds_a_response_and_streams_without_chunks(rag: Api) -> None:
    reply = await _rag(rag, "POST", "/ai-search", json={"query": "how do cats sleep"})
    assert reply.status == 200, reply.text
    assert "Cats sleep" in reply.result["response"]
    assert reply.result["data"][0]["filename"] == "b/cats.txt"
    streamed = await _rag(
        rag, "POST", "/ai-search", json={"query": "how do cats sleep", "stream": True}
    )
    assert streamed.headers["Content-Type"].startswith("text/event-stream")
    events = [e for e in streamed.text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    assert all(e.startswith('data: {"response": ') for e in events[:-1])


async def test_errors_name_the_old_fields_and_unknown_instances_are_404(rag: Api) -> None:
    reply = await _rag(rag, "POST", "/search", json={"query": "x", "max_num_results": 99})
    assert reply.status == 400
    assert "max_num_results" in reply.text
    url = f"{rag.emulator.base_url}/accounts/{rag.emulator.account_id}/autorag/rags/nope/search"
    missing = await rag.request("POST", url, json={"query": "x"})
    assert missing.status == 404


async def test_sync_starts_a_job_that_the_jobs_routes_show(api: Api) -> None:
    token = await api.ok(
        "POST", "/tokens", json={"cf_api_id": "r2", "cf_api_key": "secret", "name": "r2"}
    )
    await api.create_instance(type="r2", source="bucket", token_id=token["id"])
    reply = await _rag(api, "PATCH", "/sync")
    assert reply.status == 200, reply.text
    job_id = reply.result["job_id"]
    listed = await _rag(api, "GET", "/jobs")
    assert job_id in [j["id"] for j in listed.result]
    assert (await _rag(api, "GET", f"/jobs/{job_id}")).result["id"] == job_id
    assert (await _rag(api, "GET", f"/jobs/{job_id}/logs")).status == 200


def test_old_filters_translate_to_the_new_form() -> None:
    assert translate_filter({"type": "gte", "key": "n", "value": 2}) == {"n": {"$gte": 2}}
    both = {
        "type": "and",
        "filters": [
            {"type": "gte", "key": "n", "value": 2},
            {"type": "lt", "key": "n", "value": 5},
            {"type": "eq", "key": "folder", "value": "a/"},
        ],
    }
    assert translate_filter(both) == {"n": {"$gte": 2, "$lt": 5}, "folder": {"$eq": "a/"}}
    either = {
        "type": "or",
        "filters": [
            {"type": "eq", "key": "t", "value": "x"},
            {"type": "eq", "key": "t", "value": "y"},
        ],
    }
    assert translate_filter(either) == {"t": {"$in": ["x", "y"]}}
    with pytest.raises(ApiError):
        translate_filter({"type": "or", "filters": [{"type": "gt", "key": "n", "value": 1}]})
    with pytest.raises(ApiError):
        translate_filter({"type": "like", "key": "n", "value": 1})

"""Chat completions: extractive answers and the exact SSE sequence, delivered incrementally."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.support.emulator_api import Api

QUESTION = [{"role": "user", "content": "How do I water tomatoes?"}]


async def _garden(api: Api) -> None:
    await api.create_instance(ai_search_model="@cf/meta/llama-3.1-8b-instruct-fast")
    await api.upload(
        "garden/tomatoes.md",
        "Tomatoes need sun. Water tomatoes deeply twice a week. Stake them early.",
    )
    await api.upload("garden/roses.md", "Roses like rich soil. Prune roses in spring.")


async def _events(api: Api, path: str, body: dict[str, Any]) -> list[tuple[float, str, str]]:
    """(arrival time, event name, data) for each SSE event, read as it arrives."""
    events: list[tuple[float, str, str]] = []
    async with api.session.post(api.root + path, json=body, headers=api.auth) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        assert resp.headers["cf-ray"].endswith("-EMU")
        name, data = "message", []
        while line := await resp.content.readline():
            text = line.decode().rstrip("\n")
            if text.startswith("event: "):
                name = text[7:]
            elif text.startswith("data: "):
                data.append(text[6:])
            elif text == "":
                events.append((time.monotonic(), name, "\n".join(data)))
                name, data = "message", []
    return events


async def test_answer_is_extractive_and_cited(api: Api) -> None:
    await _garden(api)
    reply = await api.request("POST", "/instances/kb/chat/completions", json={"messages": QUESTION})
    body = reply.json
    content = body["choices"][0]["message"]["content"]
    assert content.startswith("Water tomatoes deeply twice a week [1].")
    assert content.endswith("Sources:\n[1] garden/tomatoes.md")
    assert body["model"] == "@cf/meta/llama-3.1-8b-instruct-fast"  # the instance's model
    assert body["chunks"][0]["item"]["key"] == "garden/tomatoes.md"
    again = await api.request("POST", "/instances/kb/chat/completions", json={"messages": QUESTION})
    assert again.json["choices"] == body["choices"]


async def test_model_override_and_no_answer(api: Api) -> None:
    await _garden(api)
    body = {
        "messages": [{"role": "user", "content": "quantum chromodynamics"}],
        "model": "openai/gpt-5",
    }
    reply = await api.request("POST", "/instances/kb/chat/completions", json=body)
    assert reply.json["model"] == "openai/gpt-5"
    assert reply.json["chunks"] == []
    assert "could not find" in reply.json["choices"][0]["message"]["content"]


async def test_streaming_sequence(api: Api) -> None:
    await _garden(api)
    body = {"messages": QUESTION, "stream": True}
    events = await _events(api, "/instances/kb/chat/completions", body)
    names = [name for _, name, _ in events]
    assert names[0] == "chunks"
    assert set(names[1:]) == {"message"}
    chunks = json.loads(events[0][2])
    assert isinstance(chunks, list)
    assert chunks[0]["item"]["key"] == "garden/tomatoes.md"
    assert events[-1][2] == "[DONE]"
    deltas = [json.loads(data) for _, _, data in events[1:-1]]
    assert {d["object"] for d in deltas} == {"chat.completion.chunk"}
    assert len({d["id"] for d in deltas}) == 1
    assert deltas[-1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    text = "".join(d["choices"][0]["delta"].get("content", "") for d in deltas)
    plain = await api.request("POST", "/instances/kb/chat/completions", json={"messages": QUESTION})
    assert text == plain.json["choices"][0]["message"]["content"]
    assert len(deltas) > 5  # a few words per event


@pytest.mark.parametrize("emulator_options", [{"stream_delay": 0.05}])
async def test_streaming_is_incremental(api: Api) -> None:
    await _garden(api)
    started = time.monotonic()
    events = await _events(
        api, "/instances/kb/chat/completions", {"messages": QUESTION, "stream": True}
    )
    first, last = events[0][0], events[-1][0]
    # The chunks event arrives long before the stream ends: nothing is buffered.
    assert last - first >= 0.05 * (len(events) - 2)
    assert first - started < (last - started) / 2


async def test_namespace_chat_stream_tags_chunks(api: Api) -> None:
    await _garden(api)
    body = {"messages": QUESTION, "stream": True, "ai_search_options": {"instance_ids": ["kb"]}}
    events = await _events(api, "/namespaces/default/chat/completions", body)
    chunks = json.loads(events[0][2])
    assert {c["instance_id"] for c in chunks} == {"kb"}
    assert events[-1][2] == "[DONE]"


async def test_client_may_leave_mid_stream(api: Api) -> None:
    await _garden(api)
    body = {"messages": QUESTION, "stream": True}
    async with api.session.post(
        api.root + "/instances/kb/chat/completions", json=body, headers=api.auth
    ) as resp:
        assert (await resp.content.readline()).startswith(b"event: chunks")
    # The server survives and keeps answering.
    assert (await api.request("GET", "/instances/kb")).status == 200

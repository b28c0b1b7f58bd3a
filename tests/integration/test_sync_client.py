"""Every operation once more through the generated sync client, ``Cloudflare``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfaisearch import ChatCompletionChunk, Cloudflare, RetrievedChunks
from cfaisearch.testing import seed_documents
from cfaisearch.types import MessageParam, NamespaceAISearchOptionsParam
from tests.support.integration import BUCKET_FILES, DOCS, make_r2_instance_sync

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

FAST = 0.02
QUESTION: list[MessageParam] = [{"role": "user", "content": "How do chat answers stream?"}]


def test_namespaces_tokens_and_instances(aisearch_client: Cloudflare) -> None:
    aisearch = aisearch_client.aisearch
    assert aisearch.namespaces.create(name="team", description="d").name == "team"
    assert aisearch.namespaces.read("team").description == "d"
    assert aisearch.namespaces.update("team", description="e").description == "e"
    pager = aisearch.namespaces.list(per_page=1)
    assert len(pager.result) == 1
    assert sorted(n.name for n in pager) == ["default", "team"]

    token = aisearch.tokens.create(cf_api_id="id", cf_api_key="key", name="reader")
    assert aisearch.tokens.read(token.id).name == "reader"
    assert aisearch.tokens.update(token.id, cf_api_id="id", cf_api_key="k2", name="r2").name == "r2"
    assert [t.id for t in aisearch.tokens.list()] == [token.id]
    aisearch.tokens.delete(token.id)
    assert list(aisearch.tokens.list()) == []

    instances = aisearch.namespaces.instances
    assert instances.create("team", id="kb", chunk_size=100).chunk_size == 100
    assert instances.read("kb", name="team").id == "kb"
    assert instances.update("kb", name="team", max_num_results=4).max_num_results == 4
    assert [i.id for i in instances.list("team")] == ["kb"]
    assert instances.stats("kb", name="team").completed == 0
    assert instances.delete("kb", name="team").id == "kb"
    aisearch.namespaces.delete("team")

    legacy = aisearch.instances
    assert legacy.create(id="old").id == "old"
    assert legacy.read("old").id == "old"
    assert legacy.update("old", max_num_results=2).max_num_results == 2
    assert [i.id for i in legacy.list()] == ["old"]
    seed_documents(aisearch_client, DOCS, instance="old")
    assert legacy.stats("old").completed == len(DOCS)
    assert legacy.search("old", query="BM25").chunks
    assert legacy.chat_completions("old", messages=QUESTION).choices
    assert legacy.delete("old").id == "old"


def test_jobs(aisearch_client: Cloudflare) -> None:
    make_r2_instance_sync(aisearch_client, "kb")
    jobs = aisearch_client.aisearch.instances.jobs
    job = jobs.create("kb", description="sync")
    assert jobs.get(job.id, id="kb").description == "sync"
    assert jobs.wait(job.id, id="kb", poll_interval=FAST).end_reason == "completed"
    assert jobs.logs(job.id, id="kb")
    assert [j.id for j in jobs.list("kb")] == [job.id]

    scoped = aisearch_client.aisearch.namespaces.instances.jobs
    second = scoped.create("kb", name="default")
    assert scoped.get(second.id, name="default", id="kb").id == second.id
    scoped.update(second.id, name="default", id="kb", action="cancel")
    assert scoped.wait(second.id, name="default", id="kb", poll_interval=FAST).ended
    assert scoped.logs(second.id, name="default", id="kb", per_page=5) is not None
    assert sorted(j.id for j in scoped.list("kb", name="default")) == sorted([job.id, second.id])


def test_items(aisearch_client: Cloudflare, tmp_path: Path) -> None:
    make_r2_instance_sync(aisearch_client, "kb")
    items = aisearch_client.aisearch.namespaces.instances.items
    uploaded = items.upload(
        "kb", name="default", file={"file": ("notes/a.md", b"# A\n\nText about retries.")}
    )
    item = items.wait(uploaded.id, name="default", id="kb", poll_interval=FAST)
    assert item.status == "completed"
    assert items.get(item.id, name="default", id="kb").key == "notes/a.md"
    folder = json.dumps({"folder": "notes/"})
    assert [i.key for i in items.list("kb", name="default", metadata_filter=folder)] == [
        "notes/a.md"
    ]
    synced = items.sync(
        item.id, name="default", id="kb", next_action="INDEX", wait_for_completion=True
    )
    assert synced.status == "completed"
    registered = items.create_or_update(
        "kb", name="default", key=next(iter(BUCKET_FILES)), next_action="INDEX"
    )
    assert registered.key == next(iter(BUCKET_FILES))
    assert len(items.chunks(item.id, name="default", id="kb", limit=10)) == 1
    assert [log.action for log in items.logs(item.id, name="default", id="kb")][-1] == "completed"
    with items.download(item.id, name="default", id="kb") as download:
        assert download.read() == b"# A\n\nText about retries."
    with items.download(item.id, name="default", id="kb") as download:
        assert download.write_to_file(tmp_path / "a.md") == len(b"# A\n\nText about retries.")
    assert items.delete(item.id, name="default", id="kb").key == "notes/a.md"


def test_search_and_streamed_chat(aisearch_client: Cloudflare) -> None:
    seed_documents(aisearch_client, DOCS, namespace="team", instance="one")
    seed_documents(aisearch_client, {"x.md": "Other text."}, namespace="team", instance="two")
    instances = aisearch_client.aisearch.namespaces.instances
    result = instances.search("one", name="team", query="server-sent events")
    assert result.chunks[0].item is not None
    assert result.chunks[0].item.key == "guides/streaming.md"
    plain = instances.chat_completions("one", name="team", messages=QUESTION)

    with instances.chat_completions("one", name="team", messages=QUESTION, stream=True) as stream:
        events = list(stream)
    assert isinstance(events[0], RetrievedChunks)
    text = "".join(e.text for e in events[1:] if isinstance(e, ChatCompletionChunk))
    assert text == plain.choices[0].message.content

    namespaces = aisearch_client.aisearch.namespaces
    options: NamespaceAISearchOptionsParam = {"instance_ids": ["one", "two"]}
    merged = namespaces.search("team", query="server-sent events", aisearch_options=options)
    assert {c.instance_id for c in merged.chunks} == {"one"}
    chat = namespaces.chat_completions("team", messages=QUESTION, aisearch_options=options)
    with namespaces.chat_completions(
        "team", messages=QUESTION, aisearch_options=options, stream=True
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == chat.choices[0].message.content

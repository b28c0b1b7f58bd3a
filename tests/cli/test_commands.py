"""Every command's happy path against the emulator, as tables and as JSON (``--json``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfaisearch import Cloudflare
from cfaisearch.testing import seed_documents
from tests.support.cli import invoke, invoke_json
from tests.support.integration import DOCS, make_r2_instance_sync

pytestmark = pytest.mark.usefixtures("aisearch_env")


def human(*args: str) -> str:
    """Run ``cfaisearch ARGS`` without --json; check it succeeded; its stdout."""
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout
    return result.stdout


def test_instances(aisearch_client: Cloudflare) -> None:
    created = invoke_json(
        "instances",
        "create",
        "kb",
        "--chunk-size",
        "256",
        "--no-reranking",
        "--cache-ttl",
        "3600",
        "--index-method",
        '{"keyword": true, "vector": true}',
    )
    assert (created["id"], created["chunk_size"], created["reranking"]) == ("kb", 256, False)
    assert created["cache_ttl"] == 3600
    assert "kb-2" in human("instances", "create", "kb-2", "--max-num-results", "7")

    listed = invoke_json("instances", "list")
    assert sorted(i["id"] for i in listed) == ["kb", "kb-2"]
    table = human("instances", "list")
    assert "kb-2" in table
    assert "status" in table

    assert invoke_json("instances", "get", "kb")["chunk_size"] == 256
    assert "chunk_size" in human("instances", "get", "kb")

    updated = invoke_json("instances", "update", "kb", "--max-num-results", "20", "--paused")
    assert (updated["max_num_results"], updated["paused"]) == (20, True)
    assert "max_num_results" in human("instances", "update", "kb", "--no-paused")
    assert aisearch_client.aisearch.namespaces.instances.read("kb", name="default").paused is False

    assert invoke_json("instances", "stats", "kb")["completed"] == 0
    assert "completed" in human("instances", "stats", "kb")

    assert invoke_json("instances", "delete", "kb")["id"] == "kb"
    assert human("instances", "delete", "kb-2") == "deleted instance kb-2\n"
    assert list(aisearch_client.aisearch.namespaces.instances.list("default")) == []


def test_instance_settings_from_a_json_body(tmp_path: Path) -> None:
    body = tmp_path / "settings.json"
    body.write_text(json.dumps({"chunk_size": 128, "max_num_results": 3}), encoding="utf-8")
    created = invoke_json(
        "instances", "create", "kb", "--json-body", str(body), "--max-num-results", "5"
    )
    # The file gives chunk_size; the option wins over the file for max_num_results.
    assert (created["chunk_size"], created["max_num_results"]) == (128, 5)
    result = invoke(
        "--json", "instances", "update", "kb", "--json-body", "-", input='{"chunk_size": 64}'
    )
    assert json.loads(result.stdout)["chunk_size"] == 64


def test_namespaces() -> None:
    created = invoke_json("namespaces", "create", "support", "--description", "Support articles")
    assert (created["name"], created["description"]) == ("support", "Support articles")
    assert "team" in human("namespaces", "create", "team")
    from_json = invoke(
        "--json", "namespaces", "create", "ops", "--json-body", "-", input='{"description": "d"}'
    )
    assert json.loads(from_json.stdout)["description"] == "d"
    invoke_json("namespaces", "delete", "ops")
    assert sorted(n["name"] for n in invoke_json("namespaces", "list")) == [
        "default",
        "support",
        "team",
    ]
    assert "support" in human("namespaces", "list")
    assert invoke_json("namespaces", "get", "support")["description"] == "Support articles"
    assert "Support articles" in human("namespaces", "get", "support")
    assert (
        invoke_json("namespaces", "update", "support", "--description", "Help")["description"]
        == "Help"
    )
    assert "Help centre" in human("namespaces", "update", "support", "--description", "Help centre")
    invoke_json("namespaces", "delete", "support")
    assert human("namespaces", "delete", "team") == "deleted namespace team\n"
    assert [n["name"] for n in invoke_json("namespaces", "list")] == ["default"]


def test_namespaced_commands_take_the_namespace(aisearch_client: Cloudflare) -> None:
    invoke_json("namespaces", "create", "team")
    invoke_json("instances", "create", "kb", "-n", "team")
    assert [i["id"] for i in invoke_json("instances", "list", "--namespace", "team")] == ["kb"]
    assert invoke_json("instances", "list") == []


def test_tokens(aisearch_client: Cloudflare) -> None:
    created = invoke_json(
        "tokens", "create", "--name", "r2", "--cf-api-id", "id-1", "--cf-api-key", "s3cret-value"
    )
    assert (created["name"], created["cf_api_id"]) == ("r2", "id-1")
    # The secret may come from the prompt (hidden) and is never printed.
    result = invoke(
        "tokens", "create", "--name", "r2b", "--cf-api-id", "id-2", input="an0ther-secret\n"
    )
    assert result.exit_code == 0, result.output
    assert "an0ther-secret" not in result.output
    assert "r2b" in result.stdout
    assert sorted(t["name"] for t in invoke_json("tokens", "list")) == ["r2", "r2b"]
    assert "id-2" in human("tokens", "list")
    token_id = created["id"]
    assert invoke_json("tokens", "get", token_id)["name"] == "r2"
    assert "id-1" in human("tokens", "get", token_id)
    updated = invoke_json(
        "tokens",
        "update",
        token_id,
        "--name",
        "r2-new",
        "--cf-api-id",
        "id-3",
        "--cf-api-key",
        "x-secret",
    )
    assert (updated["name"], updated["cf_api_id"]) == ("r2-new", "id-3")
    assert "r2-newer" in human(
        "tokens",
        "update",
        token_id,
        "--name",
        "r2-newer",
        "--cf-api-id",
        "id-3",
        "--cf-api-key",
        "y",
    )
    invoke_json("tokens", "delete", token_id)
    other = next(t.id for t in aisearch_client.aisearch.tokens.list())
    assert human("tokens", "delete", other) == f"deleted token {other}\n"
    assert list(aisearch_client.aisearch.tokens.list()) == []


def test_jobs(aisearch_client: Cloudflare) -> None:
    make_r2_instance_sync(aisearch_client, "site")
    job = invoke_json("jobs", "create", "site", "--description", "first")
    assert job["description"] == "first"
    # --wait --json: the job as created, then its state at each check (JSON Lines).
    result = invoke("--json", "jobs", "wait", "site", job["id"], "--poll-interval", "0.02")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1]["id"] == job["id"]
    assert lines[-1]["end_reason"] is not None
    assert job["id"] in human("jobs", "wait", "site", job["id"])

    waited = invoke("jobs", "create", "site", "--wait", "--poll-interval", "0.02")
    assert waited.exit_code == 0, waited.output
    assert "end_reason" in waited.stdout

    listed = invoke_json("jobs", "list", "site")
    assert len(listed) == 2
    assert job["id"] in human("jobs", "list", "site")
    assert invoke_json("jobs", "get", "site", job["id"])["id"] == job["id"]
    assert "first" in human("jobs", "get", "site", job["id"])
    logs = invoke_json("jobs", "logs", "site", job["id"])
    assert logs
    assert all("message" in entry for entry in logs)
    assert "message" in human("jobs", "logs", "site", job["id"])


@pytest.mark.aisearch_emulator(job_step_delay=2.0)
def test_jobs_cancel(aisearch_client: Cloudflare) -> None:
    make_r2_instance_sync(aisearch_client, "site")
    first = invoke_json("jobs", "create", "site")
    cancelled = invoke_json("jobs", "cancel", "site", first["id"])
    assert cancelled["id"] == first["id"]
    second = invoke_json("jobs", "create", "site")
    assert second["id"] in human("jobs", "cancel", "site", second["id"])


def _seeded(client: Cloudflare) -> dict[str, str]:
    items = seed_documents(client, DOCS, instance="kb")
    return {item.key: item.id for item in items}


def test_items_upload_list_get(aisearch_client: Cloudflare, tmp_path: Path) -> None:
    invoke_json("instances", "create", "kb")
    guide = tmp_path / "guide.md"
    guide.write_text("Uploads are streamed, never read whole.", encoding="utf-8")
    faq = tmp_path / "faq.md"
    faq.write_text("Questions and answers.", encoding="utf-8")
    uploaded = invoke_json(
        "items", "upload", "kb", str(guide), "-m", "lang=en", "-m", "year=2024", "--wait"
    )
    assert (uploaded["key"], uploaded["status"]) == ("guide.md", "completed")
    assert uploaded["metadata"]["lang"] == "en"
    assert uploaded["metadata"]["year"] == 2024
    assert "faq" in human("items", "upload", "kb", str(faq), "--key", "faq-renamed.md")
    both = invoke_json("items", "upload", "kb", str(guide), str(faq))
    assert [i["key"] for i in both] == ["guide.md", "faq.md"]

    keys = sorted(i["key"] for i in invoke_json("items", "list", "kb"))
    assert keys == ["faq-renamed.md", "faq.md", "guide.md"]
    assert "guide.md" in human("items", "list", "kb")
    item_id = uploaded["id"]
    assert invoke_json("items", "get", "kb", item_id)["key"] == "guide.md"
    assert "guide.md" in human("items", "get", "kb", item_id)


def test_items_download(aisearch_client: Cloudflare, tmp_path: Path) -> None:
    ids = _seeded(aisearch_client)
    item_id = ids["guides/retries.md"]
    to_stdout = invoke("items", "download", "kb", item_id)
    assert to_stdout.exit_code == 0
    assert to_stdout.stdout == DOCS["guides/retries.md"]
    target = tmp_path / "copy.md"
    written = invoke_json("items", "download", "kb", item_id, "-o", str(target))
    assert written == {"item_id": item_id, "path": str(target), "bytes": target.stat().st_size}
    assert target.read_text(encoding="utf-8") == DOCS["guides/retries.md"]
    again = tmp_path / "again.md"
    assert "wrote" in human("items", "download", "kb", item_id, "--output", str(again))
    assert again.read_text(encoding="utf-8") == DOCS["guides/retries.md"]


def test_items_sync_chunks_logs_delete(aisearch_client: Cloudflare) -> None:
    ids = _seeded(aisearch_client)
    item_id = ids["guides/retries.md"]
    assert invoke_json("items", "sync", "kb", item_id, "--wait")["id"] == item_id
    assert "guides/retries.md" in human("items", "sync", "kb", item_id)

    chunks = invoke_json("items", "chunks", "kb", item_id, "--limit", "1")
    assert chunks
    assert "Reads are retried" in chunks[0]["text"]
    assert "Reads are retried" in human("items", "chunks", "kb", item_id)
    logs = invoke_json("items", "logs", "kb", item_id)
    assert logs
    assert all("action" in entry for entry in logs)
    assert logs[0]["action"] in human("items", "logs", "kb", item_id)

    assert invoke_json("items", "delete", "kb", item_id) == {"key": "guides/retries.md"}
    other = ids["guides/streaming.md"]
    assert human("items", "delete", "kb", other) == "deleted item guides/streaming.md\n"
    assert sorted(
        i.key
        for i in aisearch_client.aisearch.namespaces.instances.items.list("kb", name="default")
    ) == ["concepts/bm25.md"]


def test_search(aisearch_client: Cloudflare) -> None:
    seed_documents(
        aisearch_client,
        DOCS,
        instance="kb",
        instance_settings={"custom_metadata": [{"field_name": "year", "data_type": "number"}]},
        metadata={"guides/retries.md": {"year": 2024}, "guides/streaming.md": {"year": 2022}},
    )
    found = invoke_json(
        "search", "kb", "retried after a 503", "--max-results", "2", "--retrieval", "keyword"
    )
    assert found["chunks"][0]["item"]["key"] == "guides/retries.md"
    assert len(found["chunks"]) <= 2
    table = human("search", "kb", "retried after a 503")
    assert "guides/retries.md" in table

    def keys(query: str, *filters: str) -> list[str]:
        args = [arg for expression in filters for arg in ("--filter", expression)]
        found = invoke_json("search", "kb", query, "--retrieval", "keyword", *args)
        return [chunk["item"]["key"] for chunk in found["chunks"]]

    assert keys("ranks keyword matches") == ["concepts/bm25.md"]
    assert keys("ranks keyword matches", "folder^=guides/") == []
    assert keys("retried", "folder^=guides/") == ["guides/retries.md"]
    assert keys("retried", "year>=2023") == ["guides/retries.md"]
    assert keys("retried", "year>=2020", "year<2024") == []
    assert keys("retried", "year in 2022,2024") == ["guides/retries.md"]
    assert keys("retried", "year in 2022") == []
    assert keys("retried", "year!=2024") == []


def _chat_setup(client: Cloudflare) -> None:
    seed_documents(client, DOCS, instance="kb")


def test_chat_streams_the_answer_then_lists_the_sources(aisearch_client: Cloudflare) -> None:
    _chat_setup(aisearch_client)
    result = invoke("chat", "kb", "How are reads retried after a 503?")
    assert result.exit_code == 0, result.output
    # The answer as streamed, then (last) the sources it was grounded on.
    answer, sources = result.stdout.rsplit("\nSources:\n", 1)
    assert "retried" in answer
    assert sources.startswith("  1. guides/retries.md (score ")


def test_chat_json_lines_chunks_then_deltas(aisearch_client: Cloudflare) -> None:
    _chat_setup(aisearch_client)
    result = invoke("chat", "kb", "How are reads retried after a 503?", "--json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["type"] == "chunks"
    assert events[0]["chunks"][0]["item"]["key"] == "guides/retries.md"
    deltas = events[1:]
    assert deltas
    assert {e["type"] for e in deltas} == {"delta"}
    assert "retried" in "".join(e["text"] for e in deltas)


def test_chat_without_streaming(aisearch_client: Cloudflare) -> None:
    _chat_setup(aisearch_client)
    completion = invoke_json(
        "chat", "kb", "How are reads retried?", "--no-stream", "--filter", "folder^=guides/"
    )
    assert completion["choices"][0]["message"]["content"]
    assert {c["item"]["key"] for c in completion["chunks"]} <= {
        "guides/retries.md",
        "guides/streaming.md",
    }
    text = human("chat", "kb", "How are reads retried?", "--no-stream")
    answer, sources = text.rsplit("\nSources:\n", 1)
    assert answer.strip()
    assert "  1. guides/retries.md (score " in sources


def test_json_can_come_before_or_after_the_command() -> None:
    before = invoke("--json", "namespaces", "list")
    after = invoke("namespaces", "list", "--json")
    assert json.loads(before.stdout) == json.loads(after.stdout)


def test_a_list_holds_every_page(aisearch_client: Cloudflare) -> None:
    for number in range(23):  # more than the API's 20 a page
        aisearch_client.aisearch.namespaces.create(name=f"team-{number:02d}")
    names = [n["name"] for n in invoke_json("namespaces", "list")]
    assert len(names) == 24
    assert "team-22" in human("namespaces", "list")

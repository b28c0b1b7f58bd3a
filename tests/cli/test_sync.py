"""``cfaisearch sync``: a folder made into an instance's items, its summary and exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfaisearch import Cloudflare
from tests.support.cli import invoke

pytestmark = pytest.mark.usefixtures("aisearch_env")

FILES = {
    "guide.md": "How uploads are retried.",
    "faq/billing.md": "Billing questions and answers.",
    "faq/limits.txt": "Limits of the service.",
    "drafts/todo.md": "Not ready yet.",
}


def _folder(root: Path, files: dict[str, str]) -> Path:
    for key, text in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_text(text, encoding="utf-8")
    return root


def _keys(client: Cloudflare) -> list[str]:
    items = client.aisearch.namespaces.instances.items.list("kb", name="default")
    return sorted(item.key for item in items)


def _sync_json(*args: str) -> dict[str, object]:
    result = invoke("--json", "sync", *args)
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = json.loads(result.stdout)  # stdout holds only the document
    return summary


def test_sync_uploads_then_uploads_nothing_then_deletes(
    aisearch_client: Cloudflare, tmp_path: Path
) -> None:
    folder = _folder(tmp_path / "notes", FILES)
    first = _sync_json(str(folder), "kb", "--create", "--exclude", "drafts/*")
    assert first == {
        "uploaded": 3,
        "unchanged": 0,
        "deleted": 0,
        "failed": 0,
        "index_failed": 0,
        "failures": [],
    }
    assert _keys(aisearch_client) == ["faq/billing.md", "faq/limits.txt", "guide.md"]

    again = invoke("sync", str(folder), "kb", "--exclude", "drafts/*")
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("uploaded 0, unchanged 3, deleted 0, failed 0\n")

    (folder / "faq" / "limits.txt").unlink()
    (folder / "guide.md").write_text("How uploads are retried, revised.", encoding="utf-8")
    third = _sync_json(str(folder), "kb", "--exclude", "drafts/*", "--delete")
    assert (third["uploaded"], third["unchanged"], third["deleted"]) == (1, 1, 1)
    assert _keys(aisearch_client) == ["faq/billing.md", "guide.md"]


def test_include_limits_what_is_synced(aisearch_client: Cloudflare, tmp_path: Path) -> None:
    folder = _folder(tmp_path / "notes", FILES)
    summary = _sync_json(str(folder), "kb", "--create", "--include", "**/*.md", "--wait")
    assert summary["uploaded"] == 3
    assert _keys(aisearch_client) == ["drafts/todo.md", "faq/billing.md", "guide.md"]
    for item in aisearch_client.aisearch.namespaces.instances.items.list("kb", name="default"):
        assert item.status == "completed"


@pytest.mark.aisearch_emulator(max_file_bytes=1024)
def test_a_bad_file_fails_alone_and_the_exit_code_says_so(
    aisearch_client: Cloudflare, tmp_path: Path
) -> None:
    folder = _folder(tmp_path / "notes", {**FILES, "huge.md": "x" * 4096})
    result = invoke("sync", str(folder), "kb", "--create")
    assert result.exit_code == 8
    assert result.stdout.startswith("uploaded 4, unchanged 0, deleted 0, failed 1\n")
    assert "huge.md" in result.stdout
    assert "huge.md" not in _keys(aisearch_client)
    assert len(_keys(aisearch_client)) == 4

    as_json = invoke("--json", "sync", str(folder), "kb")
    assert as_json.exit_code == 8
    summary = json.loads(as_json.stdout)
    assert (summary["uploaded"], summary["unchanged"], summary["failed"]) == (0, 4, 1)
    (failure,) = summary["failures"]
    assert failure["key"] == "huge.md"
    assert failure["path"].endswith("huge.md")
    assert failure["error"]
    assert "\n" not in failure["message"]


def test_a_missing_instance_without_create_is_not_found(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "notes", FILES)
    result = invoke("sync", str(folder), "nope")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: ")

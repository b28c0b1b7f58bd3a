"""``python -m cfaisearch.demo`` runs offline, exits 0 and prints every step."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from cfaisearch.demo.corpus import load_corpus


def test_corpus_is_a_few_dozen_text_documents_in_folders() -> None:
    corpus = load_corpus()
    assert len(corpus) >= 30
    folders = {key.split("/", 1)[0] for key in corpus}
    assert folders == {"concepts", "guides", "reference"}
    assert {key.rsplit(".", 1)[1] for key in corpus} == {"md", "txt", "html"}
    for key, content in corpus.items():
        assert 500 < len(content) < 8000, key
        content.decode("utf-8")


def _section(output: str, title: str) -> str:
    """The lines after the heading that contains ``title``, up to the next blank line."""
    start = output.index(title)
    return output[start:].split("\n\n", 1)[0]


@pytest.mark.slow
def test_demo_runs_offline_and_prints_each_step() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_BASE_URL"):
        env.pop(name, None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "cfaisearch.demo"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    total = len(load_corpus())

    assert re.search(r"\[1/6\] Emulator listening on http://127\.0\.0\.1:\d+/client/v4", out)
    assert "[2/6] Created namespace 'demo' and instance 'handbook'" in out
    assert f"{total} files" in out
    # Progress is reported by status while indexing, then the final count.
    assert re.search(r"queued +\d+ +running +\d+ +completed +\d+ +skipped +0 +error +0", out)
    assert f"all {total} documents processed" in out

    keyword = _section(out, "Keyword search (BM25)")
    assert re.search(r"1\. 1\.000  guides/error-handling\.md\n +.*WaitTimeoutError", keyword)
    hybrid = _section(out, "Hybrid search (vector + keyword")
    assert re.search(r"1\. \d\.\d{3}  \S+  \(vector #\d+, keyword #\d+\)", hybrid)
    whole = _section(out, "Hybrid search, whole corpus")
    assert "concepts/" in whole
    filtered = _section(out, "restricted to the guides/ folder")
    keys = re.findall(r"\d\. \d\.\d{3}  (\S+)", filtered)
    assert len(keys) == 3
    assert all(key.startswith("guides/") for key in keys)

    assert "[6/6] Chat completion, streamed (stream=True)" in out
    assert re.search(r"Retrieved \d+ chunks; the answer streams next:\n +Hybrid search", out)
    assert "[1] concepts/hybrid-search.md" in out
    deltas = re.search(r"\((\d+) text deltas; first after \d+ ms", out)
    assert deltas is not None
    assert int(deltas.group(1)) > 5
    assert "Sources retrieved for the answer" in out
    assert re.search(r"\nDone in \d+\.\d s\.\n$", out)
    assert elapsed < 30

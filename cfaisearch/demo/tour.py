"""The demo's steps: each one a public SDK call against an in-process emulator, printed."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Final, TextIO

import attrs

from .. import AsyncCloudflare, RetrievedChunks
from ..emulator import AsyncEmulator
from ..types.params import RetrievalParam
from ..types.search import SearchChunk
from .corpus import load_corpus

__all__ = ["run"]

NAMESPACE: Final = "demo"
INSTANCE: Final = "handbook"
STATUSES: Final = ("queued", "running", "completed", "skipped", "error")
QUESTION: Final = "How does hybrid search combine keyword and vector results?"
# Small pauses so indexing progress and token streaming are visible; the
# whole tour still takes a couple of seconds.
INDEX_DELAY: Final = 0.02
STREAM_DELAY: Final = 0.02
POLL_INTERVAL: Final = 0.1
INDEXING_TIMEOUT: Final = 60.0
SNIPPET_WIDTH: Final = 64
MAX_SOURCES: Final = 5


@attrs.frozen
class Search:
    title: str
    query: str
    retrieval: RetrievalParam


_HYBRID: Final[RetrievalParam] = {"retrieval_type": "hybrid", "max_num_results": 3}
CHAT_QUERY: Final = "stream a chat answer token by token"
SEARCHES: Final = (
    Search(
        "Keyword search (BM25) for an exact identifier",
        "WaitTimeoutError",
        {"retrieval_type": "keyword", "max_num_results": 3},
    ),
    Search(
        "Hybrid search (vector + keyword rankings, fused)",
        "why is an upload not retried after a timeout",
        _HYBRID,
    ),
    Search("Hybrid search, whole corpus", CHAT_QUERY, _HYBRID),
    Search(
        "The same, restricted to the guides/ folder (metadata filter)",
        CHAT_QUERY,
        {**_HYBRID, "filters": {"folder": "guides/"}},
    ),
)


class Printer:
    """Numbered steps and indented details on one text stream, flushed as they come."""

    def __init__(self, out: TextIO, steps: int) -> None:
        self._out = out
        self._steps = steps
        self._step = 0
        self._fresh_line = True

    def step(self, text: str) -> None:
        self._step += 1
        self.line(f"\n[{self._step}/{self._steps}] {text}")

    def line(self, text: str = "") -> None:
        self._out.write(text + "\n")
        self._out.flush()
        self._fresh_line = True

    def stream(self, text: str, indent: str) -> None:
        """Write streamed ``text`` as it comes, indenting each new non-empty line."""
        pieces = text.split("\n")
        for n, piece in enumerate(pieces):
            if n:
                self._out.write("\n")
                self._fresh_line = True
            if piece:
                self._out.write((indent if self._fresh_line else "") + piece)
                self._fresh_line = False
        self._out.flush()


def snippet(text: str, query: str, width: int = SNIPPET_WIDTH) -> str:
    """One line of ``text``: the window that holds the most words of ``query``."""
    flat = " ".join(text.replace("#", " ").split())
    lower = flat.lower()
    terms = set(re.findall(r"\w{4,}", query.lower()))
    hits = [m.start() for term in terms for m in re.finditer(re.escape(term), lower)]

    def covered(start: int) -> int:
        window = lower[start : start + width]
        return sum(term in window for term in terms)

    start = max(0, max(hits, key=lambda h: (covered(h), -h)) - width // 4) if hits else 0
    if start:
        # Begin at a word, not in the middle of one.
        start = flat.find(" ", start) + 1 or start
    piece = flat[start : start + width]
    return ("..." if start else "") + piece + ("..." if start + width < len(flat) else "")


def _counts(stats: Mapping[str, int | None]) -> str:
    return "  ".join(f"{status} {stats.get(status) or 0:>2}" for status in STATUSES)


async def _upload(client: AsyncCloudflare, corpus: Mapping[str, bytes], say: Printer) -> None:
    items = client.aisearch.namespaces.instances.items
    # The API takes one file per request; send several at a time.
    limit = asyncio.Semaphore(8)

    async def one(key: str, content: bytes) -> None:
        async with limit:
            await items.upload(INSTANCE, name=NAMESPACE, file={"file": (key, content)})

    started = time.perf_counter()
    await asyncio.gather(*(one(key, content) for key, content in corpus.items()))
    size = sum(map(len, corpus.values())) / 1024
    folders = Counter(key.split("/", 1)[0] + "/" for key in corpus)
    by_folder = ", ".join(f"{folder} {n}" for folder, n in sorted(folders.items()))
    say.line(
        f"      {len(corpus)} files, {size:.1f} KiB, in {time.perf_counter() - started:.2f} s "
        f"({by_folder})"
    )


async def _follow_indexing(client: AsyncCloudflare, total: int, say: Printer) -> None:
    instances = client.aisearch.namespaces.instances
    started = time.perf_counter()
    last = ""
    while True:
        stats = await instances.stats(INSTANCE, name=NAMESPACE)
        counts = {status: getattr(stats, status) or 0 for status in STATUSES}
        elapsed = time.perf_counter() - started
        line = _counts(counts)
        finished = sum(counts[s] for s in ("completed", "skipped", "error"))
        if line != last:
            say.line(f"      {elapsed:5.2f} s  {line}")
            last = line
        if finished >= total and not counts["queued"] and not counts["running"]:
            say.line(f"      all {total} documents processed in {elapsed:.2f} s")
            return
        if elapsed > INDEXING_TIMEOUT:
            raise TimeoutError(f"indexing did not finish in {INDEXING_TIMEOUT:.0f} s: {line}")
        await asyncio.sleep(POLL_INTERVAL)


def _ranks(chunk: SearchChunk) -> str:
    """Where a hybrid hit stood in each ranking before fusion, e.g. "(vector #2, keyword #1)"."""
    details = chunk.scoring_details
    if details is None or details.fusion_method is None:
        return ""
    ranks = [
        f"{name} #{rank:.0f}" if rank is not None else f"{name} -"
        for name, rank in (("vector", details.vector_rank), ("keyword", details.keyword_rank))
    ]
    return f"  ({', '.join(ranks)})"


def _results(chunks: Sequence[SearchChunk], query: str, say: Printer) -> None:
    if not chunks:
        say.line("      (no results)")
    for rank, chunk in enumerate(chunks, start=1):
        key = chunk.item.key if chunk.item else "?"
        say.line(f"      {rank}. {chunk.score:.3f}  {key}{_ranks(chunk)}")
        say.line(f"         {snippet(chunk.text, query)}")


async def _search(client: AsyncCloudflare, say: Printer) -> None:
    instances = client.aisearch.namespaces.instances
    for search in SEARCHES:
        result = await instances.search(
            INSTANCE,
            name=NAMESPACE,
            query=search.query,
            aisearch_options={"retrieval": search.retrieval},
        )
        say.line(f"\n    {search.title}: {search.query!r}")
        _results(result.chunks, search.query, say)


async def _chat(client: AsyncCloudflare, say: Printer) -> None:
    instances = client.aisearch.namespaces.instances
    say.line(f"    Question: {QUESTION}")
    started = time.perf_counter()
    first_token: float | None = None
    deltas = 0
    stream = await instances.chat_completions(
        INSTANCE,
        name=NAMESPACE,
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
    )
    async with stream:
        async for event in stream:
            if isinstance(event, RetrievedChunks):
                say.line(f"    Retrieved {len(event.chunks)} chunks; the answer streams next:")
                continue
            if event.text:
                deltas += 1
                first_token = first_token or time.perf_counter() - started
                say.stream(event.text, indent="      ")
    say.line()
    say.line(
        f"    ({deltas} text deltas; first after {1000 * (first_token or 0):.0f} ms, "
        f"last after {1000 * (time.perf_counter() - started):.0f} ms)"
    )
    say.line("    Sources retrieved for the answer (best chunk score per file):")
    best: dict[str, float] = {}
    for chunk in stream.chunks or []:
        key = chunk.item.key if chunk.item else "?"
        best[key] = max(best.get(key, 0.0), chunk.score)
    for key, score in sorted(best.items(), key=lambda kv: -kv[1])[:MAX_SOURCES]:
        say.line(f"      {score:.3f}  {key}")


async def tour(client: AsyncCloudflare, say: Printer) -> None:
    """Everything after the emulator has started, through the public SDK only."""
    aisearch = client.aisearch
    namespace = await aisearch.namespaces.create(
        name=NAMESPACE, description="cfaisearch demo: the project's own handbook"
    )
    instance = await aisearch.namespaces.instances.create(
        NAMESPACE,
        id=INSTANCE,
        index_method={"vector": True, "keyword": True},
        fusion_method="rrf",
        chunk_size=256,
        chunk_overlap=10,
        # Natural-language questions rarely contain every term ("and" mode).
        retrieval_options={"keyword_match_mode": "or"},
    )
    say.step(f"Created namespace {namespace.name!r} and instance {instance.id!r}")
    say.line("      hybrid index: vector + BM25 keyword rankings, fused (RRF)")
    say.line("      256-word chunks with 10% overlap; keyword matches on any query term")

    corpus = load_corpus()
    say.step("Uploading the bundled corpus (cfaisearch/demo/corpus)")
    await _upload(client, corpus, say)

    say.step("Indexing (item counts by status, from instances.stats)")
    await _follow_indexing(client, len(corpus), say)

    say.step("Searching (score, file, snippet; best first)")
    await _search(client, say)

    say.step("Chat completion, streamed (stream=True)")
    await _chat(client, say)


async def run(out: TextIO) -> None:
    """Start an emulator on a free loopback port, run the tour against it, stop it."""
    started = time.perf_counter()
    say = Printer(out, steps=6)
    say.line("cfaisearch demo: the SDK against a local AI Search emulator (no account, no network)")
    # Real embeddings when cfaisearch[semantic] is installed, else lexical vectors.
    async with AsyncEmulator(
        index_delay=INDEX_DELAY, stream_delay=STREAM_DELAY, scorer="auto"
    ) as emulator:
        say.step(f"Emulator listening on {emulator.base_url}")
        say.line(f"      account {emulator.account_id}, in-memory storage")
        say.line(f"      vector scorer: {emulator.scorer_name}")
        async with AsyncCloudflare(
            base_url=emulator.base_url,
            api_token=emulator.api_token,
            account_id=emulator.account_id,
        ) as client:
            await tour(client, say)
    say.line(f"\nDone in {time.perf_counter() - started:.1f} s.")

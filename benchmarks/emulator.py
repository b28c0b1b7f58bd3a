"""Emulator search figures: indexing, keyword and hybrid search, concurrency.

    python benchmarks/emulator.py                      # 100, 1,000 and 10,000 documents
    python benchmarks/emulator.py --sizes 100000       # the opt-in large corpus (minutes)
    python benchmarks/emulator.py --quick              # smoke run (seconds)
    python benchmarks/emulator.py --write docs/performance.md

``nox -s bench`` runs it after ``run.py`` with the same arguments (those it
does not know are ignored); ``EMULATOR_BENCH_SIZES=100,1000`` overrides the
sizes there. The emulator runs in a child process (``python -m
cfaisearch.emulator``) so it shares no core time or GIL with the clients.
For each corpus size: documents are uploaded by 8 clients and the time to
index them all is divided by their number; then keyword and hybrid searches
run with 1 client and with 32, interleaved in rounds; a GET of the instance
runs beside a 32-client search storm; and the same keyword query runs as
plain FTS5 in this process, on a table holding the same texts (the floor).
Searches are sent by a lean client (``Connection``: pre-encoded requests on
keep-alive connections, answers read but not decoded), the same for 1 client
and for 32, so the figures are the server's and not aiohttp's client's.
No unit test asserts any of these timings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson

SIZES = (100, 1_000, 10_000)
TOKEN = "emulator-benchmark-token"
ACCOUNT = "0123456789abcdef0123456789abcdef"
INSTANCE = "bench"
BEGIN = "<!-- emulator benchmark: begin (written by benchmarks/emulator.py) -->"
END = "<!-- emulator benchmark: end -->"
CLIENTS = 32
UPLOADERS = 8

# Targets of the issue that introduced these figures (see docs/performance.md).
FLOOR_RATIO = 20.0  # keyword p50 within 20x plain FTS5, at 10,000 documents
HYBRID_P50_MS = 20.0  # at 10,000 documents
SPEEDUP_32 = 1.5  # searches per second, 32 clients against 1
GET_P99_MS = 50.0  # a GET during a 32-client search storm


# -- corpus ------------------------------------------------------------------------------


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    syllables = [a + b for a in "bcdfghklmnprstvz" for b in "aeiou"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class Corpus:
    """Small documents (about 60 words, one chunk each) over a Zipf-like vocabulary."""

    def __init__(self, count: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.words = _vocabulary(rng, 5_000)
        weights = [1 / (rank + 10) for rank in range(len(self.words))]
        self.docs = [
            " ".join(rng.choices(self.words, weights, k=60)).capitalize() + "."
            for _ in range(count)
        ]
        # Queries: two words of middling frequency, plus a common one for hybrid.
        self.queries = [" ".join(rng.sample(self.words[20:400], 2)) for _ in range(64)]


# -- the emulator process --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmulatorProcess:
    def __init__(self, scorer: str) -> None:
        self.port = _free_port()
        self.scorer = scorer
        self.proc: subprocess.Popen[str] | None = None
        self.vectors = ""

    def __enter__(self) -> EmulatorProcess:
        cmd = [
            sys.executable,
            "-m",
            "cfaisearch.emulator",
            "--port",
            str(self.port),
            "--token",
            TOKEN,
            "--scorer",
            self.scorer,
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip().startswith("vectors"):
                self.vectors = line.split(":", 1)[1].strip()
            if line.startswith("Press Ctrl+C"):
                break
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            if self.proc.stdout is not None:
                self.proc.stdout.close()

    @property
    def root(self) -> str:
        return (
            f"http://127.0.0.1:{self.port}/client/v4/accounts/{ACCOUNT}"
            "/ai-search/namespaces/default"
        )


# -- measurements ----------------------------------------------------------------------------


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Client:
    def __init__(self, session: aiohttp.ClientSession, root: str) -> None:
        self.session = session
        self.root = root + f"/instances/{INSTANCE}"
        self.headers = {"Authorization": f"Bearer {TOKEN}"}

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else orjson.dumps(body)
        headers = self.headers | ({"Content-Type": "application/json"} if data else {})
        async with self.session.request(
            method, self.root + path, data=data, headers=headers
        ) as resp:
            raw = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{method} {path}: {resp.status} {raw[:200]!r}")
            return orjson.loads(raw)

    async def search(self, query: str, kind: str) -> int:
        options = {"retrieval": {"retrieval_type": kind, "match_threshold": 0}}
        body = {"query": query, "ai_search_options": options}
        result = await self.call("POST", "/search", body)
        return len(result["result"]["chunks"])


async def _create_and_index(client: Client, corpus: Corpus) -> float:
    """Seconds from the first upload to every document indexed."""
    instances = client.root.rsplit("/", 1)[0]
    async with client.session.post(
        instances, json={"id": INSTANCE}, headers=client.headers
    ) as resp:
        assert resp.status in (200, 201), await resp.text()
    queue = list(enumerate(corpus.docs))
    started = time.perf_counter()

    async def uploader() -> None:
        while queue:
            position, text = queue.pop()
            form = aiohttp.FormData()
            form.add_field(
                "file", text.encode(), filename=f"doc-{position:06d}.txt", content_type="text/plain"
            )
            async with client.session.post(
                client.root + "/items", data=form, headers=client.headers
            ) as resp:
                assert resp.status in (200, 201), await resp.text()

    await asyncio.gather(*(uploader() for _ in range(UPLOADERS)))
    while True:
        stats = (await client.call("GET", "/stats"))["result"]
        if stats["completed"] + stats["skipped"] + stats["error"] >= len(corpus.docs):
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def _timed(fn: Callable[[], Awaitable[Any]]) -> float:
    began = time.perf_counter()
    await fn()
    return (time.perf_counter() - began) * 1000


class Connection:
    """One keep-alive HTTP/1.1 connection sending pre-encoded searches: the lean client.

    The figures measure the server, so the client does as little as it can:
    request bytes are encoded once, and an answer is read (status line,
    headers, ``Content-Length`` bytes of body) but not decoded. The 1-client
    and the 32-client series both use it.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.writer is not None
        self.writer.close()
        await self.writer.wait_closed()

    async def send(self, request: bytes) -> bytes:
        assert self.reader is not None
        assert self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = _CONTENT_LENGTH.search(head)
        assert length is not None, head
        body = await self.reader.readexactly(int(length.group(1)))
        if head[9:12] != b"200":
            raise RuntimeError(f"search: {head[:12]!r} {body[:200]!r}")
        return body


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


def search_requests(root: str, port: int, queries: list[str], kind: str) -> list[bytes]:
    """Pre-encoded HTTP requests of ``Client.search``, one per query."""
    path = root.split(f":{port}", 1)[1] + f"/instances/{INSTANCE}/search"
    requests = []
    for query in queries:
        options = {"retrieval": {"retrieval_type": kind, "match_threshold": 0}}
        body = orjson.dumps({"query": query, "ai_search_options": options})
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


async def _search_load(
    port: int, clients: int, requests: list[bytes], calls: int
) -> tuple[list[float], float]:
    """``calls`` searches over ``clients`` connections: latencies (ms) and searches per second."""
    latencies: list[float] = []
    counter = iter(range(calls))

    async def client() -> None:
        async with Connection(port) as connection:
            for n in counter:
                began = time.perf_counter()
                await connection.send(requests[n % len(requests)])
                latencies.append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, calls / (time.perf_counter() - began)


class Prober:
    """A child process that GETs the instance every 5 ms until told to stop."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.latencies: list[float] = []

    def __enter__(self) -> Prober:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--probe", self.root],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # "ready": connected, first GET done
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self.proc.communicate(b"stop\n", timeout=60)
        self.latencies = orjson.loads(out)


async def _probe(root: str) -> None:
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    stop = loop.run_in_executor(None, sys.stdin.readline)
    async with aiohttp.ClientSession() as session:
        client = Client(session, root)
        await client.call("GET", "")
        print("ready", flush=True)
        while not stop.done():
            latencies.append(await _timed(lambda: client.call("GET", "")))
            await asyncio.sleep(0.005)
    sys.stdout.write(orjson.dumps(latencies).decode())


def _floor(corpus: Corpus, queries: list[str], repeats: int) -> list[float]:
    """The keyword query as plain FTS5 from Python: MATCH, rank, top 10 texts (ms)."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(text, tokenize = 'porter unicode61')")
    conn.executemany("INSERT INTO f (rowid, text) VALUES (?, ?)", enumerate(corpus.docs, 1))
    samples = []
    for _ in range(repeats):
        for query in queries:
            match = " AND ".join(f'"{w}"' for w in re.findall(r"\w+", query.lower()))
            began = time.perf_counter()
            conn.execute(
                "SELECT rowid, text, bm25(f) FROM f WHERE f MATCH ? ORDER BY rank LIMIT 10",
                (match,),
            ).fetchall()
            samples.append((time.perf_counter() - began) * 1000)
    conn.close()
    return samples


async def measure_size(size: int, scorer: str, rounds: int, calls: int) -> dict[str, Any]:
    corpus = Corpus(size)
    with EmulatorProcess(scorer) as emulator:
        connector = aiohttp.TCPConnector(limit=CLIENTS + 4)
        async with aiohttp.ClientSession(connector=connector) as session:
            client = Client(session, emulator.root)
            index_s = await _create_and_index(client, corpus)
            queries = corpus.queries
            requests = {
                kind: search_requests(emulator.root, emulator.port, queries, kind)
                for kind in ("keyword", "hybrid")
            }
            for kind in ("keyword", "hybrid"):
                # Warm every search process's caches (concurrent calls reach
                # each of them); check that answers exist.
                hits = await asyncio.gather(*(client.search(q, kind) for q in queries[:16]))
                assert any(hits), f"{kind} search found nothing"
            figures: dict[str, Any] = {"size": size, "index_ms_per_doc": index_s * 1000 / size}
            series: dict[str, list[float]] = {}
            rates: dict[str, list[float]] = {}
            get_during_storm: list[float] = []
            floor: list[float] = []
            for _ in range(rounds):
                for kind in ("keyword", "hybrid"):
                    for clients in (1, CLIENTS):
                        n = calls if clients == 1 else calls * 4
                        lat, rate = await _search_load(emulator.port, clients, requests[kind], n)
                        series.setdefault(f"{kind}/{clients}", []).extend(lat)
                        rates.setdefault(f"{kind}/{clients}", []).append(rate)
                # A reader's GET beside a storm of 32 hybrid searches; the prober
                # is a process of its own, so the storm's client-side work
                # (this process) does not delay it.
                with Prober(emulator.root) as prober:
                    await _search_load(emulator.port, CLIENTS, requests["hybrid"], calls * 4)
                get_during_storm += prober.latencies
                # The floor in the same round, so load from elsewhere moves both sides.
                floor += _floor(corpus, queries, 3)
    for name, lat in series.items():
        figures[f"{name}/p50"] = statistics.median(lat)
        figures[f"{name}/p99"] = _pct(lat, 0.99)
        figures[f"{name}/rate"] = statistics.median(rates[name])
    figures["floor/p50"] = statistics.median(floor)
    figures["get/p99"] = _pct(get_during_storm, 0.99)
    figures["get/n"] = len(get_during_storm)
    figures["scorer"] = emulator.vectors
    return figures


# -- report ------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return (
        f"{value:.3f} ms" if value < 1 else f"{value:.1f} ms" if value >= 10 else f"{value:.2f} ms"
    )


def render(results: list[dict[str, Any]], command: str) -> str:
    load = os.getloadavg()
    lines = [
        f"- **Command:** `{command}`",
        f"- **Date:** {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- **Python:** {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}",
        f"- **Vector scorer:** {results[0]['scorer']}",
        f"- **CPUs:** {os.cpu_count()}; load average at end {load[0]:.2f}, {load[1]:.2f}",
        "",
        "| documents | index / doc | keyword p50 | p99 | 32 clients p50 | p99"
        " | hybrid p50 | p99 | 32 clients p50 | p99 |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        cells = [f"{r['size']:,}", _ms(r["index_ms_per_doc"])]
        for kind in ("keyword", "hybrid"):
            for clients in (1, CLIENTS):
                cells += [_ms(r[f"{kind}/{clients}/p50"]), _ms(r[f"{kind}/{clients}/p99"])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "| documents | FTS5 floor p50 | keyword p50 ÷ floor | keyword searches/s, 1 → 32"
        " clients | hybrid searches/s, 1 → 32 clients | GET p99 during storm |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        kw1, kw32 = r["keyword/1/rate"], r[f"keyword/{CLIENTS}/rate"]
        hy1, hy32 = r["hybrid/1/rate"], r[f"hybrid/{CLIENTS}/rate"]
        lines.append(
            f"| {r['size']:,} | {_ms(r['floor/p50'])} | {r['keyword/1/p50'] / r['floor/p50']:.1f}x"
            f" | {kw1:,.0f} → {kw32:,.0f} ({kw32 / kw1:.2f}x)"
            f" | {hy1:,.0f} → {hy32:,.0f} ({hy32 / hy1:.2f}x)"
            f" | {_ms(r['get/p99'])} (n={r['get/n']}) |"
        )
    lines += ["", "| Check | Target | Measured | Result |", "| :--- | :--- | ---: | :--- |"]
    for r in results:
        if r["size"] != 10_000:
            continue
        ratio = r["keyword/1/p50"] / r["floor/p50"]
        lines.append(
            _check(
                "keyword p50 ÷ FTS5 floor, 10,000 docs",
                f"≤ {FLOOR_RATIO:.0f}x",
                ratio <= FLOOR_RATIO,
                f"{ratio:.1f}x",
            )
        )
        hybrid = r["hybrid/1/p50"]
        lines.append(
            _check(
                "hybrid p50, 10,000 docs",
                f"< {HYBRID_P50_MS:.0f} ms",
                hybrid < HYBRID_P50_MS,
                _ms(hybrid),
            )
        )
    for r in results:
        for kind in ("keyword", "hybrid"):
            speedup = r[f"{kind}/{CLIENTS}/rate"] / r[f"{kind}/1/rate"]
            lines.append(
                _check(
                    f"{kind} searches/s, 32 clients ÷ 1, {r['size']:,} docs",
                    f"≥ {SPEEDUP_32}x",
                    speedup >= SPEEDUP_32,
                    f"{speedup:.2f}x",
                )
            )
        lines.append(
            _check(
                f"GET p99 during a 32-client storm, {r['size']:,} docs",
                f"< {GET_P99_MS:.0f} ms",
                r["get/p99"] < GET_P99_MS,
                _ms(r["get/p99"]),
            )
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = last["keyword/1/p50"] / first["keyword/1/p50"]
        corpus_growth = last["size"] / first["size"]
        lines.append(
            _check(
                f"keyword p50 growth, {first['size']:,} → {last['size']:,} docs",
                f"sub-linear (< {corpus_growth:,.0f}x)",
                growth < corpus_growth,
                f"{growth:.2f}x",
            )
        )
    return "\n".join(lines)


def _check(name: str, target: str, passed: bool, measured: str) -> str:
    return f"| {name} | {target} | {measured} | {'PASS' if passed else 'FAIL'} |"


def write_section(path: Path, body: str) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    path.write_text(text[:start] + "\n\n" + body + "\n\n" + text[end:], encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", help="comma-separated corpus sizes (default 100,1000,10000)")
    parser.add_argument("--quick", action="store_true", help="tiny corpus and counts")
    parser.add_argument("--write", type=Path, help="refresh the emulator section of this file")
    parser.add_argument("--scorer", default="lexical", choices=("lexical", "semantic", "auto"))
    parser.add_argument("--probe", metavar="ROOT", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()  # run.py's options pass through nox untouched
    if args.probe:
        asyncio.run(_probe(args.probe))
        return
    raw = args.sizes or os.environ.get("EMULATOR_BENCH_SIZES")
    sizes = [int(s) for s in raw.split(",")] if raw else ([100] if args.quick else list(SIZES))
    rounds, calls = (1, 16) if args.quick else (3, 100)
    results = []
    for size in sizes:
        print(f"emulator benchmark: {size:,} documents ...", file=sys.stderr, flush=True)
        results.append(asyncio.run(measure_size(size, args.scorer, rounds, calls)))
    command = "python benchmarks/emulator.py " + " ".join(sys.argv[1:])
    body = render(results, command.strip())
    print(body)
    if args.write:
        write_section(args.write, body)


if __name__ == "__main__":
    main()

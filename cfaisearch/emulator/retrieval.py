"""Search: keyword (FTS5 BM25), vector scores, fusion, filters, boosting.

Pipeline as in API sheet §4.6: candidates (up to 50 per method) -> fusion ->
``match_threshold`` on the vector score -> boosting -> optional reranking ->
top ``max_num_results`` -> context expansion. Ties always break on
(item key, chunk position), so equal data gives equal answers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from . import vectors
from .errors import invalid
from .filters import CompiledFilter, compile_filter, matches
from .instance_config import DIRECTIONS, MAX_BOOSTS, boost_type, check_boosts, default_direction
from .metadata import filterable, schema_of
from .store import Database
from .validation import (
    Checker,
    array,
    as_object,
    boolean,
    clean,
    enum,
    integer,
    number,
    obj,
    string,
)
from .views import chunk_item_ref

CANDIDATES = 50
RRF_K = 60
BOOST_WEIGHT = 0.1
_WORD = re.compile(r"\w+")

_RETRIEVAL: dict[str, Checker] = {
    "retrieval_type": enum("vector", "keyword", "hybrid"),
    "fusion_method": enum("max", "rrf"),
    "keyword_match_mode": enum("and", "or"),
    "match_threshold": number(lo=0, hi=1),
    "max_num_results": integer(lo=1, hi=50),
    "filters": lambda value, field: value,  # compiled separately for precise errors
    "context_expansion": integer(lo=0, hi=3),
    "boost_by": array(
        obj({"field": string(min_len=1), "direction": enum(*DIRECTIONS)}, required=("field",)),
        max_len=MAX_BOOSTS,
    ),
    "return_on_failure": boolean(),
}
_RERANKING: dict[str, Checker] = {
    "enabled": boolean(),
    "model": string(),
    "match_threshold": number(lo=0, hi=1),
}


@dataclasses.dataclass(frozen=True)
class Boost:
    """One ``boost_by`` entry, resolved against the instance's schema."""

    field: str
    direction: str
    data_type: str


@dataclasses.dataclass(frozen=True)
class Options:
    """Effective retrieval settings: request values over instance values over defaults."""

    retrieval_type: str
    fusion_method: str
    keyword_match_mode: str
    match_threshold: float
    max_num_results: int
    filters: CompiledFilter
    boosts: tuple[Boost, ...]
    context_expansion: int
    reranking: bool
    reranking_threshold: float

    @property
    def needs_vectors(self) -> bool:
        """Whether the search scores vectors (the emulator's reranker uses them too)."""
        return self.retrieval_type != "keyword" or self.reranking


def _section(options: Mapping[str, Any], name: str, field: str) -> dict[str, Any]:
    value = options.get(name)
    return {} if value is None else as_object(value, f"{field}.{name}")


def _check_gateway_metadata(options: Mapping[str, Any], field: str) -> None:
    value = options.get("custom_metadata")
    if value is None:
        return
    entries = as_object(value, f"{field}.custom_metadata")
    if len(entries) > 2:
        raise invalid(f"{field}.custom_metadata", "must have at most 2 entries")
    for key, entry in entries.items():
        where = f"{field}.custom_metadata.{key}"
        if key in ("ai-search", "task", "origin") or key.startswith("cf."):
            raise invalid(where, "is a reserved key")
        if not isinstance(entry, (str, int, float, bool)):
            raise invalid(where, "must be a string, number or boolean")


@dataclasses.dataclass(frozen=True)
class Request:
    """The validated ``ai_search_options`` of one search or chat request."""

    retrieval: dict[str, Any]
    reranking: dict[str, Any]
    filters: CompiledFilter


def parse_request(raw: object, field: str) -> Request:
    """Validate ``ai_search_options``; errors here are the caller's (400)."""
    ai_options = {} if raw is None else as_object(raw, field)
    retrieval = clean(_section(ai_options, "retrieval", field), _RETRIEVAL, f"{field}.retrieval")
    reranking = clean(_section(ai_options, "reranking", field), _RERANKING, f"{field}.reranking")
    _check_gateway_metadata(ai_options, field)
    filters = retrieval.get("filters")
    compiled = {} if filters is None else compile_filter(filters, f"{field}.retrieval.filters")
    return Request(retrieval, reranking, compiled)


def resolve(request: Request, config: Mapping[str, Any], field: str) -> Options:
    """Merge request options with one instance's settings.

    Raises a 400 when the request does not fit the instance (e.g. keyword
    retrieval on a vector-only instance); namespace fan-out reports it per instance.
    """
    retrieval, reranking = request.retrieval, request.reranking
    method = config["index_method"]
    default_type = (
        "hybrid"
        if method["vector"] and method["keyword"]
        else ("vector" if method["vector"] else "keyword")
    )
    retrieval_type = retrieval.get("retrieval_type", default_type)
    needs = {"vector": ("vector",), "keyword": ("keyword",), "hybrid": ("vector", "keyword")}
    if not all(method[n] for n in needs[retrieval_type]):
        raise invalid(
            f"{field}.retrieval.retrieval_type",
            f"'{retrieval_type}' is not compatible with the instance index_method {method}",
        )
    instance_retrieval = config.get("retrieval_options") or {}
    boosts_raw = retrieval.get("boost_by", instance_retrieval.get("boost_by") or [])
    if "boost_by" in retrieval:
        check_boosts(boosts_raw, config, f"{field}.retrieval.boost_by")
    boosts = []
    for boost in boosts_raw:
        data_type = boost_type(boost["field"], config) or "text"
        direction = boost.get("direction") or default_direction(data_type)
        boosts.append(Boost(boost["field"].lower(), direction, data_type))
    return Options(
        retrieval_type=retrieval_type,
        fusion_method=retrieval.get("fusion_method", config["fusion_method"]),
        keyword_match_mode=retrieval.get(
            "keyword_match_mode", instance_retrieval.get("keyword_match_mode", "and")
        ),
        match_threshold=retrieval.get("match_threshold", config["score_threshold"]),
        max_num_results=retrieval.get("max_num_results", config["max_num_results"]),
        filters=request.filters,
        boosts=tuple(boosts),
        context_expansion=retrieval.get("context_expansion", 0),
        reranking=reranking.get("enabled", config["reranking"]),
        reranking_threshold=reranking.get("match_threshold", 0.4),
    )


def keyword_expression(query: str, tokenizer: str, mode: str) -> str | None:
    """FTS5 MATCH expression: every query word quoted (no FTS syntax injection)."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    if tokenizer == "trigram":
        # Trigram terms shorter than 3 characters never match (FTS5 rule).
        words = [w for w in words if len(w) >= 3]
    if not words:
        return None
    joiner = " AND " if mode == "and" else " OR "
    return joiner.join(f'"{w}"' for w in words)


@dataclasses.dataclass(frozen=True)
class ChunkRef:
    """What ranking needs about one chunk; text and id are fetched for the winners only."""

    pk: int
    item_pk: int
    seq: int
    key: str
    metadata: dict[str, Any]
    timestamp: int


class Layout:
    """One instance's chunks in tie-break order (key, item, seq), as of one snapshot.

    Positions in this order index the vector matrix, so a stable sort by
    score breaks ties exactly as the API sheet's pipeline does. The vectors
    are decoded on first use only: keyword searches never need them.
    """

    def __init__(self, db: Database, instance_pk: int, generation: int) -> None:
        self.instance_pk = instance_pk
        self.generation = generation
        self.items = {
            pk: (key, json.loads(metadata), modified)
            for pk, key, metadata, modified in db.item_facts(instance_pk)
        }
        self.chunks = db.chunk_layout(instance_pk)
        self.position = {pk: i for i, (pk, _, _) in enumerate(self.chunks)}
        self._matrix: Any = None
        self._lock = threading.Lock()

    def ref(self, position: int) -> ChunkRef:
        """What ranking needs about the chunk at ``position``."""
        pk, item_pk, seq = self.chunks[position]
        key, metadata, timestamp = self.items[item_pk]
        return ChunkRef(pk, item_pk, seq, key, metadata, timestamp)

    def matrix(self, db: Database, scorer: vectors.Scorer) -> Any:
        """The scorer's bulk form of this layout's vectors, decoded on first use."""
        with self._lock:
            if self._matrix is None:
                position = self.position
                # A vector written after this layout's snapshot has no
                # position and is skipped; the next search rebuilds anyway.
                pairs = sorted(
                    (position[pk], bytes(blob))
                    for pk, blob in db.chunk_vectors(self.instance_pk)
                    if pk in position
                )
                self._matrix = scorer.matrix(len(self.chunks), iter(pairs))
            return self._matrix


class Retriever:
    """Search over a reader connection, with per-instance layout caches."""

    def __init__(self, generation: Callable[[int], int], scorer: vectors.Scorer) -> None:
        #: How many changes an instance has seen (``Store.generation``).
        self._generation = generation
        self.scorer = scorer
        self._layouts: dict[int, Layout] = {}
        self._lock = threading.Lock()

    def _layout(self, db: Database, instance_pk: int) -> Layout:
        # Read the generation before the snapshot: a layout is never labelled
        # newer than its content, so a stale one is always noticed.
        generation = self._generation(instance_pk)
        with self._lock:
            layout = self._layouts.get(instance_pk)
        if layout is not None and layout.generation == generation:
            return layout
        layout = Layout(db, instance_pk, generation)
        with self._lock:
            self._layouts[instance_pk] = layout
        return layout

    def search(
        self,
        db: Database,
        instance_pk: int,
        config: Mapping[str, Any],
        query: str,
        options: Options,
    ) -> list[list[dict[str, Any]]]:
        """Best hits first, each as a group: the hit then its context-expansion neighbours.

        Runs on a reader thread; items are wire ``SearchChunk`` objects.
        """
        layout = self._layout(db, instance_pk)
        kind = options.retrieval_type
        allowed = _allowed(layout, options.filters, config)
        scores: vectors.QueryScores | None = None
        if options.needs_vectors:
            scores = self.scorer.scores(layout.matrix(db, self.scorer), query)
        candidates: dict[int, _Candidate] = {}
        # Without fusion, boosting or reranking the final order is the
        # method's own order, so the top max_num_results are all it needs.
        final = kind != "hybrid" and not options.boosts and not options.reranking
        wanted = options.max_num_results if final else CANDIDATES
        if kind in ("vector", "hybrid"):
            assert scores is not None
            for rank, (position, score) in enumerate(_top(scores.ranked(), allowed, wanted), 1):
                candidates[position] = _Candidate(layout.ref(position), score, vector_rank=rank)
        top_keyword = 0.0
        if kind in ("keyword", "hybrid"):
            tokenizer = (config["indexing_options"] or {}).get("keyword_tokenizer", "porter")
            match = keyword_expression(query, tokenizer, options.keyword_match_mode)
            hits = db.keyword_ranked(instance_pk, match) if match else iter(())
            by_position = ((layout.position.get(pk), score) for pk, score in hits)
            known = ((p, score) for p, score in by_position if p is not None)
            for rank, (position, score) in enumerate(_top(known, allowed, wanted), 1):
                cand = candidates.get(position)
                if cand is None:
                    vector_score = scores.score(position) if scores is not None else 0.0
                    cand = candidates[position] = _Candidate(layout.ref(position), vector_score)
                cand.keyword_score = score
                cand.keyword_rank = rank
                top_keyword = max(top_keyword, score)
        return _finish(db, list(candidates.values()), options, top_keyword)


def _allowed(
    layout: Layout, filters: CompiledFilter, config: Mapping[str, Any]
) -> Callable[[int], bool]:
    """Whether a chunk (by position) passes the filters; decided once per item."""
    if not filters:
        return lambda position: True
    schema = schema_of(config["custom_metadata"])
    verdicts: dict[int, bool] = {}

    def allowed(position: int) -> bool:
        item_pk = layout.chunks[position][1]
        verdict = verdicts.get(item_pk)
        if verdict is None:
            metadata = layout.items[item_pk][1]
            verdict = verdicts[item_pk] = matches(filters, filterable(metadata, schema))
        return verdict

    return allowed


def _top(
    ranked: Iterator[tuple[int, float]], allowed: Callable[[int], bool], limit: int
) -> list[tuple[int, float]]:
    """The ``limit`` best allowed (position, score) pairs, ties broken by position.

    ``ranked`` comes best first, but ties may come in any order: reading
    stops only once the score drops below the last kept one.
    """
    kept: list[tuple[int, float]] = []
    for position, score in ranked:
        if len(kept) >= limit and score < kept[-1][1]:
            break
        if allowed(position):
            kept.append((position, score))
    kept.sort(key=lambda entry: (-entry[1], entry[0]))
    return kept[:limit]


@dataclasses.dataclass
class _Candidate:
    chunk: ChunkRef
    vector_score: float
    keyword_score: float | None = None
    vector_rank: int | None = None
    keyword_rank: int | None = None
    score: float = 0.0
    reranking_score: float | None = None

    @property
    def order(self) -> tuple[float, str, int, int]:
        return (-self.score, self.chunk.key, self.chunk.item_pk, self.chunk.seq)


def _finish(
    db: Database, pool: list[_Candidate], options: Options, top_keyword: float
) -> list[list[dict[str, Any]]]:
    """Fusion, threshold, boosting, reranking, then the top hits with their text."""
    kind = options.retrieval_type
    for cand in pool:
        cand.score = _fused(cand, kind, options.fusion_method, top_keyword)
    if kind != "keyword":
        pool = [c for c in pool if c.vector_score >= options.match_threshold]
    _boost(pool, options.boosts)
    if options.reranking:
        # No cross-encoder here: the vector similarity doubles as reranking score.
        for cand in pool:
            cand.reranking_score = cand.vector_score
            cand.score = cand.vector_score
        pool = [c for c in pool if c.vector_score >= options.reranking_threshold]
    pool.sort(key=lambda c: c.order)
    selected = pool[: options.max_num_results]
    return _expand(db, selected, options, kind)


def _fused(cand: _Candidate, kind: str, fusion: str, top_keyword: float) -> float:
    keyword_norm = (cand.keyword_score or 0.0) / top_keyword if top_keyword > 0 else 0.0
    if kind == "vector":
        return cand.vector_score
    if kind == "keyword":
        return round(keyword_norm, 6)
    if fusion == "max":
        return round(max(cand.vector_score, keyword_norm), 6)
    rrf = sum(1 / (RRF_K + r) for r in (cand.vector_rank, cand.keyword_rank) if r)
    return round(rrf / (2 / (RRF_K + 1)), 6)  # 1.0 when first in both lists


def _boost_value(cand: _Candidate, boost: Boost) -> float | None:
    if boost.field == "timestamp":
        return float(cand.chunk.timestamp)
    value = cand.chunk.metadata.get(boost.field)
    if boost.data_type == "datetime" and isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _boost(pool: list[_Candidate], boosts: Sequence[Boost]) -> None:
    """Each boost adds up to BOOST_WEIGHT; base scores shrink so totals stay within 0-1.

    Boosting only re-orders the candidates that retrieval already found.
    """
    if not boosts or not pool:
        return
    shares = dict.fromkeys((id(c) for c in pool), 0.0)
    for boost in boosts:
        for cand, share in zip(pool, _boost_shares(pool, boost), strict=True):
            shares[id(cand)] += share
    scale = 1 - BOOST_WEIGHT * len(boosts)
    for cand in pool:
        cand.score = round(cand.score * scale + BOOST_WEIGHT * shares[id(cand)], 6)


def _boost_shares(pool: list[_Candidate], boost: Boost) -> list[float]:
    """Per candidate, in pool order: how much of the boost it earns (0-1)."""
    if boost.direction in ("exists", "not_exists"):
        wanted = boost.direction == "exists"
        present = [boost.field == "timestamp" or boost.field in c.chunk.metadata for c in pool]
        return [1.0 if p == wanted else 0.0 for p in present]
    values = [_boost_value(c, boost) for c in pool]
    known = [v for v in values if v is not None]
    if not known:
        return [0.0] * len(pool)
    low, high = min(known), max(known)
    shares = []
    for value in values:
        if value is None:
            shares.append(0.0)
        elif high == low:
            shares.append(1.0)  # every known value is both the largest and the smallest
        else:
            position = (value - low) / (high - low)
            shares.append(position if boost.direction == "desc" else 1 - position)
    return shares


def _wire(cand: _Candidate, kind: str, fusion: str, id_text: tuple[str, str]) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if kind != "keyword":
        details["vector_score"] = cand.vector_score
        if cand.vector_rank:
            details["vector_rank"] = cand.vector_rank
    if cand.keyword_score is not None:
        details["keyword_score"] = round(cand.keyword_score, 6)
        details["keyword_rank"] = cand.keyword_rank
    if cand.reranking_score is not None:
        details["reranking_score"] = cand.reranking_score
    if kind == "hybrid":
        details["fusion_method"] = fusion
    return _chunk(cand.chunk, id_text, cand.score) | {"scoring_details": details}


def _chunk(chunk: ChunkRef, id_text: tuple[str, str], score: float) -> dict[str, Any]:
    return {
        "id": id_text[0],
        "type": "text",
        "score": score,
        "text": id_text[1],
        "item": chunk_item_ref(chunk.key, chunk.metadata, chunk.timestamp),
    }


def _expand(
    db: Database, selected: Sequence[_Candidate], options: Options, kind: str
) -> list[list[dict[str, Any]]]:
    """Each hit, followed by up to ``context_expansion`` neighbours on each side."""
    texts = db.chunk_texts([c.chunk.pk for c in selected])
    emitted = {c.chunk.pk for c in selected}
    groups = []
    span = options.context_expansion
    for cand in selected:
        group = [_wire(cand, kind, options.fusion_method, texts[cand.chunk.pk])]
        seq = cand.chunk.seq
        if span:
            rows = db.neighbour_chunks(cand.chunk.item_pk, seq - span, seq + span)
            near = {int(r["seq"]): r for r in rows}
            for position in [*range(seq - span, seq), *range(seq + 1, seq + span + 1)]:
                row = near.get(position)
                if row is not None and row["pk"] not in emitted:
                    emitted.add(row["pk"])
                    ref = dataclasses.replace(cand.chunk, pk=row["pk"], seq=position)
                    group.append(_chunk(ref, (row["id"], row["text"]), cand.score))
        groups.append(group)
    return groups

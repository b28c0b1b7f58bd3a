"""Search: keyword (FTS5 BM25), lexical "vector" scores, fusion, filters, boosting.

Pipeline as in API sheet §4.6: candidates (up to 50 per method) -> fusion ->
``match_threshold`` on the vector score -> boosting -> optional reranking ->
top ``max_num_results`` -> context expansion. Ties always break on
(item key, chunk position), so equal data gives equal answers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import vectors
from .errors import invalid
from .filters import CompiledFilter, compile_filter, matches
from .instance_config import DIRECTIONS, MAX_BOOSTS, boost_type, check_boosts, default_direction
from .metadata import filterable, schema_of
from .store import CorpusChunk
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


@dataclasses.dataclass
class _Candidate:
    chunk: CorpusChunk
    vector_score: float
    keyword_score: float | None = None
    vector_rank: int | None = None
    keyword_rank: int | None = None
    score: float = 0.0
    reranking_score: float | None = None

    @property
    def order(self) -> tuple[float, str, int]:
        return (-self.score, self.chunk.key, self.chunk.seq)


def rank(
    corpus: Sequence[CorpusChunk],
    keyword_scores: Mapping[int, float],
    query: str,
    options: Options,
    config: Mapping[str, Any],
) -> list[list[dict[str, Any]]]:
    """Best hits first, each as a group: the hit then its context-expansion neighbours.

    Items are wire ``SearchChunk`` objects.
    """
    schema = schema_of(config["custom_metadata"])
    allowed = [c for c in corpus if matches(options.filters, filterable(c.metadata, schema))]
    buckets = vectors.query_buckets(query)
    candidates = {c.pk: _Candidate(c, vectors.similarity(buckets, c.vector)) for c in allowed}
    kind = options.retrieval_type
    if kind in ("vector", "hybrid"):
        hits = [c for c in candidates.values() if c.vector_score > 0]
        hits.sort(key=lambda c: (-c.vector_score, c.chunk.key, c.chunk.seq))
        for position, cand in enumerate(hits[:CANDIDATES], start=1):
            cand.vector_rank = position
    top_keyword = 0.0
    if kind in ("keyword", "hybrid"):
        hits = [c for c in candidates.values() if c.chunk.pk in keyword_scores]
        for cand in hits:
            cand.keyword_score = keyword_scores[cand.chunk.pk]
        hits.sort(key=lambda c: (-(c.keyword_score or 0.0), c.chunk.key, c.chunk.seq))
        for position, cand in enumerate(hits[:CANDIDATES], start=1):
            cand.keyword_rank = position
        top_keyword = max((c.keyword_score or 0.0 for c in hits[:CANDIDATES]), default=0.0)
    pool = [c for c in candidates.values() if c.vector_rank or c.keyword_rank]
    for cand in pool:
        cand.score = _fused(cand, kind, options.fusion_method, top_keyword)
    if kind != "keyword":
        pool = [c for c in pool if c.vector_score >= options.match_threshold]
    _boost(pool, options.boosts)
    if options.reranking:
        # No cross-encoder here: the lexical similarity doubles as reranking score.
        for cand in pool:
            cand.reranking_score = cand.vector_score
            cand.score = cand.vector_score
        pool = [c for c in pool if c.vector_score >= options.reranking_threshold]
    pool.sort(key=lambda c: c.order)
    selected = pool[: options.max_num_results]
    return _expand(selected, corpus, options, kind)


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


def _wire(cand: _Candidate, kind: str, fusion: str) -> dict[str, Any]:
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
    return _chunk(cand.chunk, cand.score) | {"scoring_details": details}


def _chunk(chunk: CorpusChunk, score: float) -> dict[str, Any]:
    return {
        "id": chunk.id,
        "type": "text",
        "score": score,
        "text": chunk.text,
        "item": chunk_item_ref(chunk.key, chunk.metadata, chunk.timestamp),
    }


def _expand(
    selected: Sequence[_Candidate], corpus: Sequence[CorpusChunk], options: Options, kind: str
) -> list[list[dict[str, Any]]]:
    """Each hit, followed by up to ``context_expansion`` neighbours on each side."""
    by_position = {(c.item_pk, c.seq): c for c in corpus}
    emitted = {c.chunk.pk for c in selected}
    groups = []
    span = options.context_expansion
    for cand in selected:
        group = [_wire(cand, kind, options.fusion_method)]
        seq = cand.chunk.seq
        for near in [*range(seq - span, seq), *range(seq + 1, seq + span + 1)]:
            neighbour = by_position.get((cand.chunk.item_pk, near))
            if neighbour is not None and neighbour.pk not in emitted:
                emitted.add(neighbour.pk)
                group.append(_chunk(neighbour, cand.score))
        groups.append(group)
    return groups

"""Vector scorers: a lexical stand-in for embeddings, and real offline embeddings.

``LexicalScorer`` (the default) hashes a chunk's words into a sparse
1024-dimension vector. It is lexical, not semantic: "car" and "automobile" do
not match. Its score blends how many query terms a chunk contains with the
cosine of the hashed term vectors, so a chunk with most of the query's words
scores above the service's default 0.4 threshold and one without any scores 0.

``SemanticScorer`` embeds text with WordLlama, whose wheel ships its
256-dimension weights; it loads with downloads disabled, so it never touches
the network. It needs the ``cfaisearch[semantic]`` extra (numpy, wordllama).

Vectors are stored as bytes (float32, never JSON) and scored in bulk from an
in-memory matrix that ``retrieval`` rebuilds only after the corpus changed.
"""

from __future__ import annotations

import array
import bisect
import hashlib
import heapq
import importlib.util
import math
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

DIMENSIONS = 1024

_WORD = re.compile(r"\w+")
_STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "their",
        "there",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    }
)


def _stem(word: str) -> str:
    # Just enough normalisation for plurals and common verb forms to meet.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Normalised content words of a text, in order."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS]


def _bucket(term: str) -> int:
    digest = hashlib.blake2b(term.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % DIMENSIONS


def embed(text: str) -> dict[int, float]:
    """Sparse L2-normalised vector with sublinear term frequencies."""
    counts = Counter(_bucket(t) for t in terms(text))
    weights = {b: 1.0 + math.log(n) for b, n in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {b: round(w / norm, 6) for b, w in sorted(weights.items())}


def query_buckets(text: str) -> frozenset[int]:
    """The hash buckets of a query's content words."""
    return frozenset(_bucket(t) for t in terms(text))


def similarity(query: frozenset[int], vector: dict[int, float]) -> float:
    """Score in [0, 1]: sqrt(term coverage) x (0.6 + 0.4 x cosine)."""
    if not query:
        return 0.0
    present = [vector[b] for b in query if b in vector]
    if not present:
        return 0.0
    return _lexical_score(len(present), sum(present), len(query))


def _lexical_score(present: int, weight: float, query_terms: int) -> float:
    coverage = present / query_terms
    cosine = weight / math.sqrt(query_terms)
    return round(math.sqrt(coverage) * (0.6 + 0.4 * min(cosine, 1.0)), 6)


def _little_endian(values: array.array[Any]) -> array.array[Any]:
    # Stored vectors are little-endian whatever the machine, so a data dir travels.
    if sys.byteorder == "big":
        values.byteswap()
    return values


class QueryScores(Protocol):
    """One query's vector scores over one instance's chunks (by position)."""

    def ranked(self) -> Iterator[tuple[int, float]]:
        """(position, score) of every chunk scoring above 0, best first, ties by position."""
        ...

    def score(self, position: int) -> float:
        """The score of one chunk (0 when it shares nothing with the query)."""
        ...


class Scorer(Protocol):
    """Turns texts into stored vectors and scores queries against many at once."""

    #: Recorded in the database: vectors of another scorer are re-indexed.
    name: str
    dimensions: int

    def encode(self, texts: Sequence[str]) -> list[bytes]:
        """Stored form of each text's vector."""
        ...

    def matrix(self, size: int, vectors: Iterator[tuple[int, bytes]]) -> Any:
        """Bulk-scorable form of ``size`` chunks' vectors, as (position, bytes) in order."""
        ...

    def scores(self, matrix: Any, query: str) -> QueryScores:
        """Score ``query`` against every chunk of ``matrix``."""
        ...


class _Postings:
    """Inverted lists: for each hash bucket, the chunks holding it and their weights."""

    def __init__(self) -> None:
        self.lists: dict[int, tuple[array.array[int], array.array[float]]] = {}

    def add(self, position: int, blob: bytes) -> None:
        count = len(blob) // 6
        buckets = _little_endian(array.array("H", blob[: 2 * count]))
        weights = _little_endian(array.array("f", blob[2 * count :]))
        for bucket, weight in zip(buckets, weights, strict=True):
            entry = self.lists.get(bucket)
            if entry is None:
                entry = self.lists[bucket] = (array.array("i"), array.array("f"))
            entry[0].append(position)
            entry[1].append(weight)


class _LexicalScores:
    """Scores from the query's posting lists only; computed lazily, best first.

    A chunk's score depends on how many query terms it holds (``n``) and
    their summed weights (at most ``n``, since vectors are unit length). So
    the chunks holding the most terms are scored first, and a group with
    fewer terms is scored only when its best possible score could still
    compete: a search touching thousands of chunks scores a few hundred.
    """

    def __init__(self, postings: _Postings, query: frozenset[int]) -> None:
        self._lists = [postings.lists[b] for b in sorted(query) if b in postings.lists]
        self._terms = len(query)
        counts: Counter[int] = Counter()
        for positions, _ in self._lists:
            counts.update(positions)  # counted in C
        self._counts = counts

    def _weight(self, position: int) -> float:
        total = 0.0
        for positions, weights in self._lists:
            i = bisect.bisect_left(positions, position)
            if i < len(positions) and positions[i] == position:
                total += weights[i]
        return round(total, 6)

    def score(self, position: int) -> float:
        present = self._counts.get(position)
        if not present:
            return 0.0
        return _lexical_score(present, self._weight(position), self._terms)

    def ranked(self) -> Iterator[tuple[int, float]]:
        groups: dict[int, list[int]] = {}
        for position, present in self._counts.items():
            groups.setdefault(present, []).append(position)
        heap: list[tuple[float, int]] = []
        for present in sorted(groups, reverse=True):
            ceiling = _lexical_score(present, float(present), self._terms)
            while heap and -heap[0][0] > ceiling:
                score, position = heapq.heappop(heap)
                yield position, -score
            for position in groups[present]:
                heapq.heappush(heap, (-self.score(position), position))
        while heap:
            score, position = heapq.heappop(heap)
            yield position, -score


class LexicalScorer:
    """Hashed bag of words; deterministic and dependency-free (the default)."""

    name = "lexical"
    dimensions = DIMENSIONS

    def encode(self, texts: Sequence[str]) -> list[bytes]:
        blobs = []
        for text in texts:
            vector = embed(text)
            buckets = _little_endian(array.array("H", vector))
            weights = _little_endian(array.array("f", vector.values()))
            blobs.append(buckets.tobytes() + weights.tobytes())
        return blobs

    def matrix(self, size: int, vectors: Iterator[tuple[int, bytes]]) -> _Postings:
        postings = _Postings()
        for position, blob in vectors:
            postings.add(position, blob)
        return postings

    def scores(self, matrix: Any, query: str) -> QueryScores:
        return _LexicalScores(matrix, query_buckets(query))


class _DenseScores:
    def __init__(self, scores: Any) -> None:
        self._scores = scores

    def ranked(self) -> Iterator[tuple[int, float]]:
        import numpy as np

        # Stable sort of the negated scores: ties keep position order.
        order = np.argsort(-self._scores, kind="stable")
        for position in order.tolist():
            value = round(float(self._scores[position]), 6)
            if value <= 0:
                return
            yield position, value

    def score(self, position: int) -> float:
        return max(0.0, round(float(self._scores[position]), 6))


class SemanticScorer:
    """WordLlama embeddings (256 dimensions, shipped in its wheel).

    The score is the square root of the cosine similarity (0 when negative).
    """

    name = "semantic:wordllama-l2_supercat-256"
    dimensions = 256

    def __init__(self) -> None:
        import wordllama

        # Pointing cache_dir at the package itself, with downloads disabled,
        # makes WordLlama find the weights and tokenizer its wheel carries.
        package = Path(wordllama.__file__).parent
        self._model = wordllama.WordLlama.load(
            cache_dir=package, dim=self.dimensions, disable_download=True
        )

    def _embed(self, texts: Sequence[str]) -> Any:
        import numpy as np

        return np.asarray(self._model.embed(list(texts), norm=True), dtype="<f4")

    def encode(self, texts: Sequence[str]) -> list[bytes]:
        if not texts:
            return []
        return [row.tobytes() for row in self._embed(texts)]

    def matrix(self, size: int, vectors: Iterator[tuple[int, bytes]]) -> Any:
        import numpy as np

        matrix = np.zeros((size, self.dimensions), dtype="<f4")
        for position, blob in vectors:
            matrix[position] = np.frombuffer(blob, dtype="<f4")
        return matrix

    def scores(self, matrix: Any, query: str) -> QueryScores:
        import numpy as np

        cosines = matrix @ self._embed([query])[0]
        # WordLlama's cosines for a good paraphrase sit around 0.2-0.6; the
        # square root puts them where the service's default threshold (0.4)
        # expects relevant chunks, without changing the order.
        return _DenseScores(np.sqrt(np.clip(cosines, 0.0, None)))


def semantic_available() -> bool:
    """Whether the ``semantic`` extra (numpy and wordllama) is installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("numpy", "wordllama"))


SCORERS = ("auto", "lexical", "semantic")


def make_scorer(choice: str) -> Scorer:
    """``lexical``, ``semantic`` (fails without the extra) or ``auto`` (semantic if installed)."""
    if choice not in SCORERS:
        raise ValueError(f"scorer must be one of {', '.join(SCORERS)}, not {choice!r}")
    if choice == "semantic" or (choice == "auto" and semantic_available()):
        try:
            return SemanticScorer()
        except ImportError as exc:
            raise ValueError(
                "the semantic scorer needs the `semantic` extra: pip install '.[semantic]' in a "
                "checkout, or pip install numpy wordllama"
            ) from exc
    return LexicalScorer()

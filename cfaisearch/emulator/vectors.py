"""A deterministic stand-in for embeddings: hashed bag-of-words vectors.

This is lexical, not semantic: "car" and "automobile" do not match. The score
blends how many query terms a chunk contains with the cosine of the hashed
term vectors, so a chunk with most of the query's words scores above the
service's default 0.4 threshold and one without any scores 0.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter

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
    return frozenset(_bucket(t) for t in terms(text))


def similarity(query: frozenset[int], vector: dict[int, float]) -> float:
    """Score in [0, 1]: sqrt(term coverage) x (0.6 + 0.4 x cosine)."""
    if not query:
        return 0.0
    present = [vector[b] for b in query if b in vector]
    if not present:
        return 0.0
    coverage = len(present) / len(query)
    cosine = sum(present) / math.sqrt(len(query))
    return round(math.sqrt(coverage) * (0.6 + 0.4 * min(cosine, 1.0)), 6)

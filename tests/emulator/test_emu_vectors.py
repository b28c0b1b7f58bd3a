"""Vector scorers: binary storage, bulk scoring and the lazy best-first order."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfaisearch.emulator import vectors

WORDS = ["apple", "pear", "plum", "fig", "kiwi", "lime", "date", "yuzu", "sloe", "quince"]


def _matrix(texts: list[str]) -> object:
    scorer = vectors.LexicalScorer()
    return scorer.matrix(len(texts), iter(enumerate(scorer.encode(texts))))


def test_stored_vectors_are_binary_and_score_like_the_reference() -> None:
    texts = ["apple pear plum", "fig fig fig apple", "nothing relevant here"]
    blobs = vectors.LexicalScorer().encode(texts)
    assert all(isinstance(b, bytes) and not b.startswith(b"{") for b in blobs)
    scores = vectors.LexicalScorer().scores(_matrix(texts), "apple fig")
    for position, text in enumerate(texts):
        reference = vectors.similarity(vectors.query_buckets("apple fig"), vectors.embed(text))
        assert scores.score(position) == pytest.approx(reference, abs=2e-6)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    size=st.integers(1, 120),
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
)
def test_ranked_is_exactly_the_sorted_order(seed: int, size: int, query: list[str]) -> None:
    rng = random.Random(seed)
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(1, 12))) for _ in range(size)]
    scores = vectors.LexicalScorer().scores(_matrix(texts), " ".join(query))
    brute = sorted(
        ((p, scores.score(p)) for p in range(size) if scores.score(p) > 0),
        key=lambda e: (-e[1], e[0]),
    )
    assert list(scores.ranked()) == brute


def test_make_scorer_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="scorer must be one of"):
        vectors.make_scorer("fancy")
    assert vectors.make_scorer("lexical").name == "lexical"

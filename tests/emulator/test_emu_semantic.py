"""The semantic scorer (``cfaisearch[semantic]``): offline loading and paraphrase recall."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cfaisearch.emulator import AsyncEmulator, vectors
from tests.support.emulator_api import Api, eventually

pytest.importorskip("wordllama", reason="needs the semantic extra")

# Each query shares no content word with its answer (checked below), so only
# meaning can connect them.
DOCS = {
    "password.md": "To reset your password, open the account settings page and choose a new"
    " passphrase.",
    "holidays.md": "Our office is closed on public holidays and during the winter break.",
    "tires.md": "The car needs new tires before the winter season starts.",
    "refund.md": "Customers may return a purchase within thirty days for a full refund of the"
    " price.",
    "shipping.md": "Parcels are delivered by courier within two to five business days.",
    "python.md": "Install the Python interpreter and create a virtual environment for the project.",
    "dog.md": "Puppies need daily walks, fresh water and regular visits to the veterinarian.",
    "weather.md": "Heavy rain and strong wind are expected along the coast tomorrow.",
    "invoice.md": "Invoices are emailed as PDF files at the start of every billing month.",
    "security.md": "Enable two-factor authentication to protect your login from attackers.",
    "meeting.md": "The quarterly team meeting moves to Thursday afternoon in room four.",
    "recipe.md": "Whisk the eggs with sugar, then fold in flour and bake for twenty minutes.",
}
PARAPHRASES = [
    ("I forgot my login credentials", "password.md"),
    ("when are you not open", "holidays.md"),
    ("automobile maintenance", "tires.md"),
    ("can I get my money back", "refund.md"),
    ("how long does delivery take", "shipping.md"),
    ("setting up a coding toolchain", "python.md"),
    ("caring for a young pet", "dog.md"),
    ("storm forecast", "weather.md"),
    ("keeping hackers out of my account", "security.md"),
    ("staff gathering schedule", "meeting.md"),
    ("how to make a cake", "recipe.md"),
]


def _recall_at_3(scorer: vectors.Scorer) -> tuple[float, set[str]]:
    keys = list(DOCS)
    matrix = scorer.matrix(len(keys), iter(enumerate(scorer.encode(list(DOCS.values())))))
    found = set()
    for query, answer in PARAPHRASES:
        top = [keys[p] for p, _ in list(scorer.scores(matrix, query).ranked())[:3]]
        if answer in top:
            found.add(query)
    return len(found) / len(PARAPHRASES), found


def test_paraphrases_share_no_keyword_with_their_answer() -> None:
    for query, answer in PARAPHRASES:
        assert not set(vectors.terms(query)) & set(vectors.terms(DOCS[answer])), query


def test_semantic_finds_paraphrases_that_lexical_misses(capsys: pytest.CaptureFixture[str]) -> None:
    semantic, semantic_found = _recall_at_3(vectors.SemanticScorer())
    lexical, lexical_found = _recall_at_3(vectors.LexicalScorer())
    with capsys.disabled():
        print(
            f"\nrecall@3 on {len(PARAPHRASES)} paraphrases: semantic {semantic:.2f},"
            f" lexical {lexical:.2f}"
        )
    assert semantic >= 0.9
    # Lexical hits here come only from hash collisions between unrelated words.
    assert lexical <= 0.2
    assert len(semantic_found - lexical_found) >= 0.7 * len(PARAPHRASES)


def test_the_model_loads_with_the_network_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    scorer = vectors.SemanticScorer()
    assert len(scorer.encode(["offline"])[0]) == 4 * scorer.dimensions  # float32


@pytest.mark.parametrize("emulator_options", [{"scorer": "semantic"}])
async def test_vector_search_end_to_end_with_default_threshold(api: Api) -> None:
    assert api.emulator.scorer_name.startswith("semantic:")
    await api.create_instance()
    for key, text in DOCS.items():
        assert (await api.upload(key, text)).result["status"] == "completed"
    hits = await api.search("can I get my money back", retrieval_type="vector")
    assert "refund.md" in [h["item"]["key"] for h in hits[:3]]
    stats = await api.ok("GET", "/instances/kb/stats")
    assert stats["engine"]["vectorize"]["dimensions"] == 256


async def test_changing_scorer_reindexes_stored_items(tmp_path: Path) -> None:
    async with (
        AsyncEmulator(data_dir=tmp_path, scorer="lexical") as emu,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, emu)
        await api.create_instance()
        assert (await api.upload("refund.md", DOCS["refund.md"])).status == 200
        assert await api.search("can I get my money back", retrieval_type="vector") == []
    async with (
        AsyncEmulator(data_dir=tmp_path, scorer="semantic") as emu,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, emu)

        async def indexed() -> bool:
            stats = await api.ok("GET", "/instances/kb/stats")
            return bool(stats["completed"] == 1)

        await eventually(indexed, timeout=30)
        hits = await api.search("can I get my money back", retrieval_type="vector")
        assert [h["item"]["key"] for h in hits] == ["refund.md"]

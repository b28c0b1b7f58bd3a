"""Chat completions without a model: an extractive, cited answer from retrieved chunks.

The answer is deterministic: the sentences sharing the most words with the
question, each followed by a [n] reference to its source item. Streaming
follows the AI Search SSE sequence (API sheet §4.7): an ``event: chunks``
event, ``chat.completion.chunk`` deltas, then ``data: [DONE]``.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from . import vectors
from .wire import dumps

MAX_SENTENCES = 3
WORDS_PER_DELTA = 3
NO_ANSWER = "I could not find anything about this in the indexed documents."
# Sentences end at . ! ?, a blank line, or a line that starts a heading or list
# item; a single line break inside a paragraph is only wrapping.
_SENTENCE_END = re.compile(r"(?<=\D[.!?])\s+|\n\s*\n\s*|\n(?=\s*(?:#+|[-*+>]|\d+[.)])\s)")


def answer(question: str, chunks: Sequence[Mapping[str, Any]]) -> str:
    """An extractive answer: the sentences sharing most words with the question, cited."""
    wanted = set(vectors.terms(question))
    scored: list[tuple[float, int, str, str]] = []  # (-overlap, position, sentence, key)
    for chunk in chunks:
        for sentence in _SENTENCE_END.split(chunk["text"]):
            sentence = " ".join(sentence.split())
            if not sentence:
                continue
            overlap = len(wanted & set(vectors.terms(sentence)))
            scored.append((-overlap, len(scored), sentence, chunk["item"]["key"]))
    if not scored:
        return NO_ANSWER
    best = sorted(s for s in scored if s[0] < 0)[:MAX_SENTENCES] or scored[:1]
    sources: list[str] = []
    seen: set[str] = set()
    parts = []
    for _, _, sentence, key in best:
        if sentence in seen:
            continue
        seen.add(sentence)
        if key not in sources:
            sources.append(key)
        body, end = (sentence[:-1], sentence[-1]) if sentence[-1] in ".!?" else (sentence, ".")
        parts.append(f"{body} [{sources.index(key) + 1}]{end}")
    references = "\n".join(f"[{i}] {key}" for i, key in enumerate(sources, start=1))
    return " ".join(parts) + "\n\nSources:\n" + references


def _tokens(text: str) -> int:
    return len(text.split())


def completion_id() -> str:
    """A fresh OpenAI-style completion id."""
    return f"chatcmpl-{secrets.token_hex(12)}"


def completion(
    *,
    model: str,
    content: str,
    chunks: list[dict[str, Any]],
    prompt: str,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The non-streamed chat completion object (no envelope)."""
    prompt_tokens = _tokens(prompt) + sum(_tokens(c["text"]) for c in chunks)
    completion_tokens = _tokens(content)
    body: dict[str, Any] = {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "chunks": chunks,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    if errors is not None:
        body["errors"] = errors
    return body


def deltas(content: str) -> Iterator[str]:
    """The answer in streamed pieces of a few words each."""
    words = re.findall(r"\S+\s*", content)
    for start in range(0, len(words), WORDS_PER_DELTA):
        yield "".join(words[start : start + WORDS_PER_DELTA])


def sse_events(*, model: str, content: str, chunks: list[dict[str, Any]]) -> Iterator[bytes]:
    """Each SSE event, already framed (ends with a blank line)."""
    yield f"event: chunks\ndata: {dumps(chunks)}\n\n".encode()
    ident, created = completion_id(), int(time.time())
    for piece in deltas(content):
        yield _delta_event(ident, created, model, {"content": piece}, None)
    yield _delta_event(ident, created, model, {}, "stop")
    yield b"data: [DONE]\n\n"


def _delta_event(
    ident: str, created: int, model: str, delta: dict[str, str], finish: str | None
) -> bytes:
    choice: dict[str, Any] = {"index": 0, "delta": delta}
    if finish is not None:
        choice["finish_reason"] = finish
    event = {
        "id": ident,
        "created": created,
        "model": model,
        "object": "chat.completion.chunk",
        "choices": [choice],
    }
    return f"data: {dumps(event)}\n\n".encode()

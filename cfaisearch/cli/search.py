"""``cfaisearch search`` and ``cfaisearch chat``: retrieval and answers from an instance."""

from __future__ import annotations

import sys
from typing import Any, TextIO

import click
from rich.text import Text

from .. import NOT_GIVEN, AsyncCloudflare, ChatCompletionChunk, RetrievedChunks
from ..types import ChatCompletion, SearchChunk
from ..types.params import AISearchOptionsParam, MessageParam, RetrievalParam
from ._common import (
    Column,
    CommandError,
    call,
    concealed,
    example,
    namespace_option,
    out,
    output_options,
    print_json,
    redact,
    shown,
    state,
    stdout_console,
)
from .filters import FilterError, compile_filters

__all__ = ["chat", "search"]

COLUMNS = (
    Column("score", "score"),
    Column("key", "key"),
    Column("text", "text"),
)
_PREVIEW = 120


def _retrieval_options(
    max_results: int | None, retrieval: Any, filters: tuple[str, ...]
) -> AISearchOptionsParam:
    """The request's ``aisearch_options``; a CommandError (exit 2) for a malformed filter."""
    try:
        compiled = compile_filters(filters)
    except FilterError as exc:
        raise CommandError(f"--filter {exc}") from None
    options: RetrievalParam = {}
    if compiled:
        options["filters"] = compiled
    if max_results is not None:
        options["max_num_results"] = max_results
    if retrieval is not None:
        options["retrieval_type"] = retrieval
    return {"retrieval": options} if options else {}


def _retrieval(function: Any) -> Any:
    for decorator in reversed(
        (
            click.option(
                "--max-results", type=click.IntRange(1, 50), help="At most this many chunks."
            ),
            click.option(
                "--retrieval",
                type=click.Choice(["keyword", "vector", "hybrid"]),
                help="How to retrieve (default: the instance's setting).",
            ),
            click.option(
                "--filter",
                "filters",
                multiple=True,
                metavar="EXPR",
                help="Metadata filter, repeatable (AND): key=v, key!=v, key>=v, key<v, key>v, "
                "key<=v, 'key in a,b', folder^=docs/ (prefix). 5 is a number, '5' a string.",
            ),
        )
    ):
        function = decorator(function)
    return function


def _score(value: object) -> str:
    """A score as ``0.734``; whatever else a drifted API sends, as it is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def _key(chunk: SearchChunk) -> str:
    # Tolerant decoding keeps whatever a drifted API sent, so nothing is assumed of `item`.
    key = getattr(chunk.item, "key", None)
    return str(key or chunk.id or "")


def _chunk_rows(chunks: list[SearchChunk] | None) -> list[dict[str, Any]]:
    rows = []
    for chunk in chunks or []:
        text = " ".join(chunk.text.split()) if isinstance(chunk.text, str) else ""
        rows.append(
            {
                "score": _score(chunk.score),
                "key": _key(chunk),
                "text": text if len(text) <= _PREVIEW else text[: _PREVIEW - 1] + "…",
            }
        )
    return rows


@click.command("search")
@click.argument("instance")
@click.argument("query")
@namespace_option
@_retrieval
@output_options
@example(
    'cfaisearch search my-docs "retry policy" --retrieval hybrid --filter folder^=guides/',
    "cfaisearch search my-docs invoices --filter 'year>=2024' --filter 'lang in en,fr'",
)
def search(
    instance: str,
    query: str,
    namespace: str,
    max_results: int | None,
    retrieval: Any,
    filters: tuple[str, ...],
) -> None:
    """Retrieve the chunks of an instance that best match QUERY."""
    options = _retrieval_options(max_results, retrieval, filters)
    result = call(
        lambda c: c.aisearch.namespaces.instances.search(
            instance, name=namespace, query=query, aisearch_options=options or NOT_GIVEN
        )
    )
    if state().json:
        print_json(result)
        return
    out(_chunk_rows(result.chunks), COLUMNS)


def _sources(chunks: list[SearchChunk] | None) -> None:
    console = stdout_console()
    console.print("\nSources:")
    seen: list[str] = []
    for chunk in chunks or []:
        key = _key(chunk)
        if key not in seen:
            seen.append(key)
            console.print(Text(shown(f"  {len(seen)}. {key} (score {_score(chunk.score)})")))
    if not seen:
        console.print("  (none)")


def _answer_text(completion: ChatCompletion) -> str:
    if not completion.choices:
        return ""
    content = completion.choices[0].message.content
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "".join(str(getattr(part, "text", None) or "") for part in content)


class _Answer:
    """The streamed answer on stdout, shown safely as it arrives.

    Text that could be the start of a secret is held back until the next piece says
    whether it is one: a secret split across two pieces is still redacted.
    """

    def __init__(self, output: TextIO) -> None:
        self._output = output
        self._pending = ""

    def _held(self) -> int:
        """How many trailing characters of the pending text could begin a secret."""
        secrets = concealed()
        longest = min(len(self._pending), max(map(len, secrets), default=1) - 1)
        for size in range(longest, 0, -1):
            tail = self._pending[-size:]
            if any(secret.startswith(tail) for secret in secrets):
                return size
        return 0

    def write(self, text: str) -> None:
        self._pending = redact(self._pending + text)
        cut = len(self._pending) - self._held()
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        if ready:
            self._output.write(shown(ready))
            self._output.flush()

    def end(self) -> None:
        self._output.write(shown(self._pending) + "\n")
        self._output.flush()
        self._pending = ""


@click.command("chat")
@click.argument("instance")
@click.argument("question")
@namespace_option
@_retrieval
@click.option("--model", help="The model that writes the answer (default: the instance's).")
@click.option("--no-stream", is_flag=True, help="Ask for the whole answer in one response.")
@output_options
@example('cfaisearch chat my-docs "How are uploads retried?"')
def chat(
    instance: str,
    question: str,
    namespace: str,
    max_results: int | None,
    retrieval: Any,
    filters: tuple[str, ...],
    model: str | None,
    no_stream: bool,
) -> None:
    """Answer QUESTION from an instance's content: the answer as it is written, then its sources.

    With --json: JSON Lines, the retrieved chunks first ({"type": "chunks"}), then
    each piece of text ({"type": "delta"}); with --no-stream one JSON document.
    """
    options = _retrieval_options(max_results, retrieval, filters)
    aisearch_options = options or NOT_GIVEN
    model_given = NOT_GIVEN if model is None else model
    messages: list[MessageParam] = [{"role": "user", "content": question}]
    as_json = state().json

    if no_stream:
        completion = call(
            lambda c: c.aisearch.namespaces.instances.chat_completions(
                instance,
                name=namespace,
                messages=messages,
                aisearch_options=aisearch_options,
                model=model_given,
            )
        )
        if as_json:
            print_json(completion)
            return
        stdout_console().print(Text(shown(_answer_text(completion))))
        _sources(completion.chunks)
        return

    async def stream(client: AsyncCloudflare) -> list[SearchChunk]:
        chunks: list[SearchChunk] = []
        events = await client.aisearch.namespaces.instances.chat_completions(
            instance,
            name=namespace,
            messages=messages,
            aisearch_options=aisearch_options,
            model=model_given,
            stream=True,
        )
        answer = _Answer(sys.stdout)
        try:
            async with events:
                async for event in events:
                    if isinstance(event, RetrievedChunks):
                        chunks = list(event.chunks or [])
                        if as_json:
                            print_json({"type": "chunks", "chunks": chunks}, indent=None)
                    elif isinstance(event, ChatCompletionChunk) and event.text:
                        if as_json:
                            print_json({"type": "delta", "text": event.text}, indent=None)
                        else:
                            answer.write(event.text)
        finally:
            # Also when the stream breaks off: the error line must not join the answer.
            if not as_json:
                answer.end()
        return chunks

    chunks = call(stream)
    if not as_json:
        _sources(chunks)

"""Sentence and paragraph handling in extractive answers and HTML text."""

from __future__ import annotations

from cfaisearch.emulator.chat import answer
from cfaisearch.emulator.parsing import parse_html


def chunk(text: str) -> dict[str, object]:
    return {"text": text, "item": {"key": "notes.md"}}


def test_hard_wrapped_sentences_are_answered_whole() -> None:
    text = (
        "# Retries\n\nA job trigger is never retried after it may have\n"
        "reached the server, because a repeat could start a second job.\n\n"
        "- Reads are retried.\n- Step 1. happens first"
    )
    result = answer("why is a job trigger not retried", [chunk(text)])
    assert result.startswith(
        "A job trigger is never retried after it may have reached the server, "
        "because a repeat could start a second job [1]."
    )


def test_html_wrapping_is_whitespace_but_pre_is_kept() -> None:
    page = parse_html(
        "<html><body><p>Hybrid search runs\n   both searches.</p>"
        "<pre>line one\n  line two</pre></body></html>"
    )
    assert "Hybrid search runs both searches." in page.text
    assert "line one\nline two" in page.text  # <pre> keeps its line breaks

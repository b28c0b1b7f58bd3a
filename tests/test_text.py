"""Bodies read as text (``cfaisearch._text``): charsets and lines across any chunking."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from cfaisearch._text import LineSplitter, charset, text_decoder


def _lines_of(text: str) -> list[str]:
    """Reading ``text`` line by line: ``\\n`` ends a line, a ``\\r`` before it goes.

    Text after the last ``\\n`` is a last line, even a lone ``\\r`` (an empty one).
    """
    *lines, last = text.split("\n")
    if last:
        lines.append(last)
    return [line.removesuffix("\r") for line in lines]


@given(st.text(alphabet="ab\r\n é", max_size=60), st.lists(st.integers(0, 60), max_size=8))
def test_lines_do_not_depend_on_where_the_text_was_cut(text: str, cuts: list[int]) -> None:
    bounds = sorted({0, len(text), *(min(cut, len(text)) for cut in cuts)})
    splitter = LineSplitter()
    lines: list[str] = []
    for start, end in itertools.pairwise(bounds):
        lines += splitter.feed(text[start:end])
    lines += splitter.end()
    assert lines == _lines_of(text)


@given(st.text(max_size=40), st.integers(1, 8))
def test_a_character_split_across_chunks_decodes_whole(text: str, size: int) -> None:
    data = text.encode("utf-8")
    decoder = text_decoder({"content-type": "text/plain"})
    pieces = [decoder.decode(data[i : i + size]) for i in range(0, len(data), size)]
    assert "".join(pieces) + decoder.decode(b"", final=True) == text


def test_the_declared_charset_is_used_when_python_knows_it() -> None:
    assert charset({"content-type": 'text/plain; charset="latin-1"'}) == "latin-1"
    assert charset({"content-type": "text/plain; charset=no-such-codec"}) == "utf-8"
    assert charset({"content-type": "text/plain; charset=rot13"}) == "utf-8"
    assert charset({}) == "utf-8"

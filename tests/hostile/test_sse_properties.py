"""Properties of the SSE decoder (rules 14 and 16), checked by Hypothesis.

The decoder is compared with a reference written straight from the WHATWG
algorithm, one that sees the whole stream at once: whatever the bytes and
however they are split into reads, the decoder yields the same events and
raises :class:`SSEError` exactly where the reference breaks a limit.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cfaisearch import _streaming
from cfaisearch._streaming import MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder, SSEError

BOM = b"\xef\xbb\xbf"
LINE_END = _streaming._LINE_END
Outcome = tuple[list[ServerSentEvent], bool]
"""The events produced, and whether a limit was broken after them."""


def reference(data: bytes, max_size: int) -> Outcome:
    """The WHATWG event stream interpretation of the whole of ``data``, with our limits."""
    data = data.removeprefix(BOM)
    *lines, unfinished = re.split(rb"\r\n|\r|\n", data)
    events: list[ServerSentEvent] = []
    event: str | None = None
    values: list[str] = []
    size = 0
    last_id: str | None = None
    for raw in lines:
        if len(raw) > max_size:
            return events, True
        line = raw.decode("utf-8", "replace")
        if not line:
            if values:
                events.append(ServerSentEvent(event, "\n".join(values), last_id))
            event, values, size = None, [], 0
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            size += len(raw)
            if size > max_size:
                return events, True
            values.append(value)
        elif name == "event":
            event = value or None
        elif name == "id" and "\0" not in value:
            last_id = value or None
    return events, len(unfinished) > max_size


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


class CountingSearch:
    """Stands in for the decoder's line-end pattern and counts the bytes each search scans."""

    def __init__(self) -> None:
        self.scanned = 0

    def search(self, buffer: bytearray, pos: int) -> re.Match[bytes] | None:
        found = LINE_END.search(buffer, pos)
        self.scanned += (found.end() if found else len(buffer)) - pos
        return found


def decode(reads: list[bytes], max_size: int) -> tuple[Outcome, int]:
    """What the decoder makes of ``reads``, and how many bytes its searches scanned."""
    decoder = SSEDecoder(max_size=max_size)
    events: list[ServerSentEvent] = []
    counter = CountingSearch()
    with mock.patch.object(_streaming, "_LINE_END", counter):
        try:
            for read in reads:
                for event in decoder.events(read):
                    assert type(event) is ServerSentEvent
                    events.append(event)
        except SSEError:
            return (events, True), counter.scanned
    return (events, False), counter.scanned


PIECES = st.sampled_from(
    [
        b"data:", b"data: ", b"event:", b"event: chunks", b"id:", b"id: 7", b"retry: 10",
        b":", b" ", b"\r", b"\n", b"\r\n", b"\n\n", b"x", b"[DONE]", b"{}", BOM, b"\x00",
        b"\xc3", b"\xa9", b"\xff", b"caf\xc3\xa9",
    ]
)  # fmt: skip
LINES = st.sampled_from(
    [
        b"data: abc", b"data:", b"data", b"data:  x", b"event: chunks", b"event:", b"event",
        b"id: 7", b"id:", b"id", b"id: a\x00b", b"retry: 10", b": note", b"", b"", b"",
    ]
) | st.binary(max_size=6).filter(lambda line: b"\r" not in line and b"\n" not in line)  # fmt: skip
LINE_ENDS = st.sampled_from([b"\r", b"\n", b"\r\n"])
# Bytes in any order, and whole lines, so that fields and blank lines meet often.
STREAMS = st.lists(PIECES | st.binary(max_size=6), max_size=40).map(b"".join) | st.lists(
    st.tuples(LINES, LINE_ENDS).map(b"".join), max_size=30
).map(b"".join)


@st.composite
def split_anywhere(draw: st.DrawFn, streams: st.SearchStrategy[bytes]) -> list[bytes]:
    """A stream drawn from ``streams``, cut into reads at arbitrary points."""
    data = draw(streams)
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=12))
    return split(data, cuts)


@settings(max_examples=500)
@given(reads=split_anywhere(STREAMS), max_size=st.sampled_from([4, 16, 64, MAX_EVENT_SIZE]))
@example(reads=[b"event: chunks\n\ndata: x\n\n"], max_size=64)  # a blank line resets the name
@example(reads=[b"id: 7\nid: a\x00b\ndata: x\n\n"], max_size=64)  # an id with NUL is ignored
@example(reads=[b"data: x\r", b"\n\r", b"\n"], max_size=64)  # CRLF split across reads
def test_any_bytes_split_anywhere_decode_as_the_reference_or_raise_sse_error(
    reads: list[bytes], max_size: int
) -> None:
    """Rules 14 and 16: events (the reference's) or SSEError, never anything else; linear scan."""
    data = b"".join(reads)
    outcome, scanned = decode(reads, max_size)
    assert outcome == reference(data, max_size)
    assert scanned <= len(data)  # each byte is looked at once, however the reads fall


# -- well-formed streams --------------------------------------------------------------------

VALUE = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=12)
NAME = VALUE.filter(bool)
EVENTS = st.lists(
    st.fixed_dictionaries(
        {
            "event": st.none() | NAME,
            "data": st.lists(VALUE, min_size=1, max_size=3),
            "id": st.none() | NAME.filter(lambda value: "\0" not in value),
            "comment": st.none() | VALUE,
        }
    ),
    max_size=6,
)
ENDINGS = st.sampled_from(["\r", "\n", "\r\n"])


def serialise(events: list[dict[str, Any]], endings: Iterator[str]) -> bytes:
    """``events`` as SSE, each line ending in the next of ``endings``.

    A blank line ending in LF right after a line ending in CR would make one
    CRLF of the two, so that blank line ends in CR instead.
    """
    out: list[str] = []
    previous = "\n"
    for event in events:
        lines = [f": {event['comment']}"] if event["comment"] is not None else []
        if event["event"] is not None:
            lines.append(f"event: {event['event']}")
        lines += [f"data: {value}" for value in event["data"]]
        if event["id"] is not None:
            lines.append(f"id: {event['id']}")
        for line in [*lines, ""]:
            ending = next(endings)
            if not line and previous == "\r" and ending == "\n":
                ending = "\r"
            out.append(line + ending)
            previous = ending
    return "".join(out).encode()


def expected(events: list[dict[str, Any]]) -> list[ServerSentEvent]:
    out = []
    last_id = None
    for event in events:
        last_id = event["id"] if event["id"] is not None else last_id
        out.append(ServerSentEvent(event["event"], "\n".join(event["data"]), last_id))
    return out


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Events, and their serialisation with random line ends, cut into reads anywhere."""
    events = draw(EVENTS)
    endings = iter(draw(st.lists(ENDINGS, min_size=40, max_size=40)) * 10)
    data = (BOM if draw(st.booleans()) else b"") + serialise(events, endings)
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=12))
    return events, split(data, cuts)


@given(case=well_formed())
def test_a_well_formed_stream_gives_the_same_events_however_split_and_line_ended(
    case: tuple[list[dict[str, Any]], list[bytes]],
) -> None:
    """Rule 16: CR, LF, CRLF (mixed, split across reads) and a BOM change nothing."""
    events, reads = case
    outcome, _ = decode(reads, MAX_EVENT_SIZE)
    assert outcome == (expected(events), False)

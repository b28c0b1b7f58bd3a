"""Bodies read as text: the charset a response declares, and lines across chunks.

Shared by raw responses (``_raw``) and downloads (``_binary``), sync and async,
so each reads text by the same rules.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping

__all__ = ["LineSplitter", "charset", "text_decoder"]


def charset(headers: Mapping[str, str]) -> str:
    """The ``charset`` of the Content-Type, if Python knows it; UTF-8 otherwise."""
    for part in headers.get("content-type", "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            name = value.strip("\"' ")
            try:
                "".encode(name)
            except LookupError:
                break
            return name
    return "utf-8"


def text_decoder(headers: Mapping[str, str]) -> codecs.IncrementalDecoder:
    """An incremental decoder for the declared charset (no character split across chunks)."""
    return codecs.getincrementaldecoder(charset(headers))("replace")


class LineSplitter:
    """Text pieces in, whole lines out (without ``\\n`` or ``\\r\\n``)."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, text: str) -> list[str]:
        """The lines that ``text`` completes."""
        *lines, self._pending = (self._pending + text).split("\n")
        return [line.removesuffix("\r") for line in lines]

    def end(self) -> list[str]:
        """The last line, if the text did not end with a line break."""
        pending, self._pending = self._pending, ""
        return [pending.removesuffix("\r")] if pending else []

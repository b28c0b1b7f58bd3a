"""Turning stored bytes into indexable text, and text into chunks.

Supported: plain text (and source code), Markdown, HTML (tags stripped) and
JSON. Everything else is reported as unsupported so the item is ``skipped``,
which is what the service does for files it cannot convert (there is no OCR).
"""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import posixpath
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin

_TEXT_EXTENSIONS = frozenset(
    {
        "txt",
        "text",
        "log",
        "csv",
        "tsv",
        "rst",
        "yaml",
        "yml",
        "toml",
        "ini",
        "cfg",
        "conf",
        "xml",
        "jsonl",
        "py",
        "js",
        "ts",
        "tsx",
        "jsx",
        "go",
        "rs",
        "java",
        "kt",
        "c",
        "h",
        "cpp",
        "hpp",
        "cs",
        "rb",
        "php",
        "sh",
        "sql",
        "css",
    }
)
_MARKDOWN_EXTENSIONS = frozenset({"md", "markdown", "mdx"})
_HTML_EXTENSIONS = frozenset({"html", "htm", "xhtml"})
_BOM = b"\xef\xbb\xbf"
_WORD_SPAN = re.compile(rb"\S+")


class UnsupportedDocument(Exception):
    """The file type cannot be indexed: the item becomes ``skipped``."""


class DocumentError(Exception):
    """The file claims a supported type but cannot be read: the item becomes ``error``."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclasses.dataclass(frozen=True)
class ParsedDocument:
    kind: str
    #: UTF-8 text that chunks and their byte offsets refer to. For text and
    #: Markdown these are the original bytes; for HTML and JSON the extracted text.
    body: bytes
    #: ``<meta name=... content=...>`` pairs of HTML pages, lower-cased names.
    metadata: dict[str, str]


@dataclasses.dataclass(frozen=True)
class TextChunk:
    seq: int
    text: str
    start_byte: int
    end_byte: int


def guess_content_type(key: str) -> str:
    guessed, _ = mimetypes.guess_type(key)
    if guessed is None and _extension(key) in _MARKDOWN_EXTENSIONS:
        return "text/markdown"
    return guessed or "application/octet-stream"


def _extension(key: str) -> str:
    return posixpath.splitext(key.lower())[1].lstrip(".")


def _kind(key: str, content_type: str, content: bytes) -> str:
    ext = _extension(key)
    mime = content_type.split(";")[0].strip().lower()
    if ext in _MARKDOWN_EXTENSIONS or mime == "text/markdown":
        return "markdown"
    if ext in _HTML_EXTENSIONS or mime in ("text/html", "application/xhtml+xml"):
        return "html"
    if ext == "json" or mime == "application/json":
        return "json"
    if ext in _TEXT_EXTENSIONS or mime.startswith("text/"):
        return "text"
    if not ext and b"\x00" not in content[:4096]:
        return "text"  # extension-less files that look like text, e.g. README
    raise UnsupportedDocument(
        f"unsupported file type {mime or 'unknown'} ({key}): the emulator indexes text,"
        " Markdown, HTML and JSON only (no PDF conversion, no OCR)"
    )


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError("decode_error", f"file is not valid UTF-8 text: {exc}") from None


def parse(key: str, content_type: str, content: bytes) -> ParsedDocument:
    kind = _kind(key, content_type, content)
    text = _decode(content)
    if kind == "html":
        page = parse_html(text)
        return ParsedDocument(kind, page.text.encode(), page.metadata)
    if kind == "json":
        try:
            value = json.loads(text)
            lines = _json_lines(value, "")
        except RecursionError:
            raise DocumentError("parse_error", "invalid JSON: nested too deeply") from None
        except ValueError as exc:
            raise DocumentError("parse_error", f"invalid JSON: {exc}") from None
        # A "\ud800" escape decodes to a lone surrogate, which UTF-8 cannot hold.
        return ParsedDocument(kind, "\n".join(lines).encode("utf-8", "replace"), {})
    return ParsedDocument(kind, content, {})


def _json_lines(value: Any, path: str) -> list[str]:
    # "path: value" lines keep field names searchable next to their values.
    if isinstance(value, dict):
        lines: list[str] = []
        for key, child in value.items():
            lines += _json_lines(child, f"{path}.{key}" if path else str(key))
        return lines
    if isinstance(value, list):
        return [
            line for i, child in enumerate(value) for line in _json_lines(child, f"{path}[{i}]")
        ]
    rendered = value if isinstance(value, str) else json.dumps(value)
    return [f"{path}: {rendered}" if path else str(rendered)]


def chunk(body: bytes, chunk_size: int, overlap_percent: int, *, enabled: bool) -> list[TextChunk]:
    """Fixed windows of ``chunk_size`` words (≈ tokens) overlapping by a percentage.

    Offsets are byte positions in ``body``; only ASCII whitespace separates
    words, which never occurs inside a multi-byte UTF-8 sequence.
    """
    start = len(_BOM) if body.startswith(_BOM) else 0
    spans = [m.span() for m in _WORD_SPAN.finditer(body, start)]
    if not spans:
        return []
    if not enabled or len(spans) <= chunk_size:
        windows = [(0, len(spans))]
    else:
        step = max(1, chunk_size - chunk_size * overlap_percent // 100)
        windows = []
        for first in range(0, len(spans), step):
            windows.append((first, min(first + chunk_size, len(spans))))
            if first + chunk_size >= len(spans):
                break
    chunks = []
    for seq, (first, last) in enumerate(windows):
        begin, end = spans[first][0], spans[last - 1][1]
        text = body[begin:end].decode("utf-8", errors="replace")
        chunks.append(TextChunk(seq, text, begin, end))
    return chunks


@dataclasses.dataclass(frozen=True)
class HtmlPage:
    text: str
    metadata: dict[str, str]
    links: list[str]


_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
        "title",
    }
)
_WHITESPACE = re.compile(r"\s+")
_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "head"})


class _HtmlExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.metadata: dict[str, str] = {}
        self.links: list[str] = []
        self.title: list[str] = []
        self._hidden = 0
        self._pre = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta" and values.get("name") and "content" in values:
            self.metadata[values["name"].lower()] = values["content"]
        elif tag == "a" and values.get("href"):
            self.links.append(values["href"])
        elif tag == "title":
            self._in_title = True
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        if tag == "pre":
            self._pre += 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS and self._hidden:
            self._hidden -= 1
        if tag == "title":
            self._in_title = False
        if tag == "pre" and self._pre:
            self._pre -= 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._hidden:
            # Line breaks inside HTML text are only wrapping, except in <pre>.
            self.parts.append(data if self._pre else _WHITESPACE.sub(" ", data))


def parse_html(html: str) -> HtmlPage:
    extractor = _HtmlExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    body = "\n".join(line for line in lines if line)
    title = " ".join("".join(extractor.title).split())
    if title:
        body = f"{title}\n{body}" if body else title
    return HtmlPage(body, extractor.metadata, extractor.links)


def resolve_links(base_url: str, links: list[str]) -> list[str]:
    """Absolute, fragment-less http(s) URLs of a page's links, in document order."""
    seen: dict[str, None] = {}
    for link in links:
        url = urldefrag(urljoin(base_url, link.strip())).url
        if url.startswith(("http://", "https://")):
            seen.setdefault(url, None)
    return list(seen)

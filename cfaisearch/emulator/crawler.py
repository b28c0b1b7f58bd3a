"""Website sources, crawled only on loopback hosts (the emulator never leaves the machine).

``sitemap`` (default) reads ``/sitemap.xml`` or ``specific_sitemaps``, falling
back to following links when there is none; ``discover`` follows same-host
links breadth-first from the source URL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp

from .parsing import parse_html, resolve_links
from .sources import SourceDocument, SourceError, selected

DEFAULT_DEPTH = 3
DEFAULT_LIMIT = 200
MAX_LIMIT = 1000


def normalise_source(source: str) -> str:
    """The crawl's start URL in one canonical form (items are keyed by URL)."""
    return source if source.startswith(("http://", "https://")) else f"http://{source}"


def is_loopback(url: str) -> bool:
    """Whether a URL's host is a loopback address (the only hosts that are crawled)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Fetcher:
    def __init__(self, session: aiohttp.ClientSession, origin: str, headers: Mapping[str, str]):
        self._session = session
        self._origin = origin
        self._headers = dict(headers)

    def same_site(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self._origin

    async def get(self, url: str) -> tuple[bytes, str, int] | None:
        """Body, content type and last-modified (ms) of a 200 answer, else ``None``."""
        if not self.same_site(url):
            return None
        try:
            async with self._session.get(url, headers=self._headers, allow_redirects=False) as resp:
                if resp.status != 200:
                    return None
                body = await resp.read()
                modified = resp.headers.get("Last-Modified")
                return body, resp.content_type, _modified_ms(modified)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return None


def _modified_ms(header: str | None) -> int:
    if header:
        try:
            return int(parsedate_to_datetime(header).timestamp() * 1000)
        except (TypeError, ValueError):
            pass
    return int(time.time() * 1000)


def _sitemap_urls(body: bytes) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return [], []
    pages: list[str] = []
    nested: list[str] = []
    for element in root.iter():
        if element.tag.endswith("loc") and element.text:
            parent_is_index = root.tag.endswith("sitemapindex")
            (nested if parent_is_index else pages).append(element.text.strip())
    return pages, nested


async def crawl(
    source: str,
    params: Mapping[str, Any],
    *,
    timeout: float,
    include: list[str],
    exclude: list[str],
) -> list[SourceDocument]:
    """Fetch the pages a web-crawler source names, as source documents."""
    start = normalise_source(source)
    if not is_loopback(start):
        raise SourceError(
            f"web crawling is only emulated for loopback hosts (127.0.0.1, ::1, localhost);"
            f" '{source}' was not fetched"
        )
    parts = urlsplit(start)
    origin = f"{parts.scheme}://{parts.netloc}"
    web = params.get("web_crawler") or {}
    parse_options = web.get("parse_options") or {}
    discover = web.get("discover_options") or {}
    limit = min(int(discover.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        fetcher = _Fetcher(session, origin, parse_options.get("include_headers") or {})
        urls: list[str] = []
        if web.get("parse_type", "sitemap") == "sitemap":
            sitemaps = parse_options.get("specific_sitemaps") or [urljoin(origin, "/sitemap.xml")]
            urls = await _from_sitemaps(fetcher, sitemaps, limit)
        if urls:
            pages = await _fetch_all(fetcher, urls)
        else:
            depth = int(discover.get("depth", DEFAULT_DEPTH))
            pages = await _discover(fetcher, start, depth, limit)
    return [doc for doc in pages if selected(doc.key, include, exclude)]


async def _from_sitemaps(fetcher: _Fetcher, sitemaps: list[str], limit: int) -> list[str]:
    pages: dict[str, None] = {}
    queue, seen = list(sitemaps), set()
    while queue and len(pages) < limit:
        sitemap = queue.pop(0)
        if sitemap in seen:
            continue
        seen.add(sitemap)
        fetched = await fetcher.get(sitemap)
        if fetched is None:
            continue
        found, nested = _sitemap_urls(fetched[0])
        queue.extend(nested)
        for url in found:
            if fetcher.same_site(url):
                pages.setdefault(url, None)
    return list(pages)[:limit]


async def _fetch_all(fetcher: _Fetcher, urls: list[str]) -> list[SourceDocument]:
    documents = []
    for url in urls:
        fetched = await fetcher.get(url)
        if fetched is not None:
            documents.append(_document(url, *fetched))
    return documents


async def _discover(fetcher: _Fetcher, start: str, depth: int, limit: int) -> list[SourceDocument]:
    documents: list[SourceDocument] = []
    frontier, seen = [start], {start}
    for level in range(depth + 1):
        next_frontier: list[str] = []
        for url in frontier:
            if len(documents) >= limit:
                return documents
            fetched = await fetcher.get(url)
            if fetched is None:
                continue
            body, content_type, modified = fetched
            documents.append(_document(url, body, content_type, modified))
            if content_type != "text/html" or level == depth:
                continue
            page = parse_html(body.decode("utf-8", errors="replace"))
            for link in resolve_links(url, page.links):
                if link not in seen and fetcher.same_site(link):
                    seen.add(link)
                    next_frontier.append(link)
        frontier = next_frontier
    return documents


def _document(url: str, body: bytes, content_type: str, modified_ms: int) -> SourceDocument:
    return SourceDocument(url, body, content_type, modified_ms)

"""Everything that touches aiohttp: the session, one round trip, error mapping.

This is the only module that imports aiohttp, so the rest of the package is
testable without sockets and ``import cfaisearch`` stays cheap. A round trip
either reads the whole body (:class:`~cfaisearch._envelope.Response`) or hands
back a :class:`StreamedResponse` whose body is read piece by piece (chat
streams, downloads).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Final, Literal, overload

import aiohttp
import aiohttp.abc
import aiohttp.payload
from yarl import URL

from ._envelope import Response
from ._exceptions import APIConnectionError, APITimeoutError, CloudflareError
from ._files import FilePart, MultipartForm

__all__ = ["StreamedResponse", "Transport"]

log = logging.getLogger("cfaisearch")

_CONNECT_TIMEOUT = 5.0
_POOL_SIZE = 100


class Transport:
    """Owns (or borrows) one ``aiohttp.ClientSession`` and performs round trips."""

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise CloudflareError("the client is closed")
        loop = asyncio.get_running_loop()
        if self._session is None:
            # Created lazily so that it binds to the loop that actually runs requests.
            connector = aiohttp.TCPConnector(limit=_POOL_SIZE, enable_cleanup_closed=False)
            self._session = aiohttp.ClientSession(connector=connector, raise_for_status=False)
            self._loop = loop
        elif self._owns_session and self._loop is not loop:
            raise CloudflareError(
                "this client's connection pool belongs to another event loop; "
                "create one AsyncCloudflare per event loop"
            )
        return self._session

    @overload
    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | MultipartForm | None,
        timeout: float | None,
        stream: Literal[False] = False,
    ) -> Response: ...

    @overload
    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | MultipartForm | None,
        timeout: float | None,
        stream: Literal[True],
    ) -> StreamedResponse: ...

    @overload
    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | MultipartForm | None,
        timeout: float | None,
        stream: bool,
    ) -> Response | StreamedResponse: ...

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | MultipartForm | None,
        timeout: float | None,
        stream: bool = False,
    ) -> Response | StreamedResponse:
        """One HTTP exchange.

        Without ``stream`` the body is read too, and ``timeout`` bounds the whole
        exchange. With ``stream`` the body is left unread and ``timeout`` bounds
        each read instead: a long answer that keeps arriving is never cut off.
        """
        session = self._get_session()
        client_timeout = _client_timeout(timeout, stream)
        data = _multipart(body) if isinstance(body, MultipartForm) else body
        started = time.perf_counter()
        response: Response | StreamedResponse
        with _ErrorMapping(method, url, timeout):
            resp = await session.request(
                method,
                # Segments are percent-encoded by the caller; yarl must not re-quote them.
                URL(url, encoded=True),
                headers=headers,
                data=data,
                timeout=client_timeout,
                allow_redirects=True,
            )
            if stream:
                response = StreamedResponse(resp, method=method, url=url, timeout=timeout)
            else:
                try:
                    payload = await resp.read()
                finally:
                    resp.release()
                response = Response(method, url, resp.status, resp.headers, payload)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %d (%.1f ms%s, cf-ray %s)",
                method,
                url,
                response.status,
                (time.perf_counter() - started) * 1000,
                " to headers" if stream else "",
                response.request_id,
            )
        return response

    async def aclose(self) -> None:
        """Close the session if this transport created it; idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()


class StreamedResponse:
    """A response whose body is still arriving: read it in pieces, then close it.

    :meth:`close` hands the connection back to the pool when the body was read
    to its end, and drops it otherwise (an unread body cannot be skipped).
    """

    def __init__(
        self, response: aiohttp.ClientResponse, *, method: str, url: str, timeout: float | None
    ) -> None:
        self._response = response
        self._timeout = timeout
        self._closed = False
        self.method: Final = method
        self.url: Final = url
        self.status: Final = response.status
        self.headers: Final[Mapping[str, str]] = response.headers

    @property
    def status_code(self) -> int:
        return self.status

    @property
    def request_id(self) -> str | None:
        return self.headers.get("cf-ray")

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (the body can no longer be read)."""
        return self._closed

    async def read_chunk(self, max_size: int | None = None) -> bytes:
        """The next bytes available (at most ``max_size``); ``b""`` at the end of the body."""
        if self._closed:
            raise CloudflareError(f"the response to {self.method} {self.url} is closed")
        with _ErrorMapping(self.method, self.url, self._timeout):
            if max_size is None:
                return await self._response.content.readany()
            return await self._response.content.read(max_size)

    async def read(self) -> bytes:
        """The rest of the body; the response is closed afterwards."""
        try:
            with _ErrorMapping(self.method, self.url, self._timeout):
                return await self._response.read()
        finally:
            self.close()

    async def buffered(self) -> Response:
        """Read the rest and return the complete :class:`Response` (used for errors)."""
        return Response(self.method, self.url, self.status, self.headers, await self.read())

    def close(self) -> None:
        """Release the connection; idempotent."""
        self._closed = True
        self._response.release()


class _FilePayload(aiohttp.payload.Payload):
    """A file part streamed from its source in chunks, so memory stays bounded."""

    def __init__(self, part: FilePart) -> None:
        super().__init__(
            part, headers=dict(part.headers), content_type=part.content_type, filename=part.filename
        )
        self._part = part
        self._size = part.size  # aiohttp's Payload reads it for Content-Length

    async def write(self, writer: aiohttp.abc.AbstractStreamWriter) -> None:
        # aclosing: a failed send must close the file now, not at garbage collection.
        async with contextlib.aclosing(self._part.chunks()) as chunks:
            async for chunk in chunks:
                await writer.write(chunk)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        # Required by the Payload interface; a streamed file never becomes text.
        raise TypeError(f"the upload of {self._part.filename!r} is streamed, not text")


def _multipart(form: MultipartForm) -> aiohttp.MultipartWriter:
    writer = aiohttp.MultipartWriter("form-data")
    payload: aiohttp.payload.Payload
    for name, value in form.fields:
        payload = aiohttp.payload.StringPayload(value)
        payload.set_content_disposition("form-data", name=name)
        writer.append_payload(payload)
    for part in form.files:
        payload = _FilePayload(part)
        # Sent as written (quote_fields=False): the key is the item's path, and
        # percent-encoding it would turn "docs/a.md" into "docs%2Fa.md".
        payload.set_content_disposition(
            "form-data", quote_fields=False, name=part.name, filename=part.filename
        )
        writer.append_payload(payload)
    return writer


@functools.lru_cache(maxsize=64)
def _client_timeout(timeout: float | None, stream: bool) -> aiohttp.ClientTimeout:
    """The aiohttp timeouts for one of our ``timeout`` values (they are few and immutable)."""
    connect = min(_CONNECT_TIMEOUT, timeout) if timeout is not None else _CONNECT_TIMEOUT
    if stream:
        return aiohttp.ClientTimeout(total=None, connect=connect, sock_read=timeout)
    return aiohttp.ClientTimeout(total=timeout, connect=connect)


class _ErrorMapping:
    """Translate aiohttp's errors into ours, in this one place.

    A class rather than ``@contextmanager``: it wraps every request, and a
    generator-based context manager costs several microseconds each time.
    """

    __slots__ = ("method", "timeout", "url")

    def __init__(self, method: str, url: str, timeout: float | None) -> None:
        self.method = method
        self.url = url
        self.timeout = timeout

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            return
        method, url, timeout = self.method, self.url, self.timeout
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            raise APITimeoutError(
                method=method, url=url, timeout=timeout, reached_server=False
            ) from exc
        if isinstance(exc, asyncio.TimeoutError):
            raise APITimeoutError(
                method=method, url=url, timeout=timeout, reached_server=True
            ) from exc
        if isinstance(exc, aiohttp.ClientConnectorError):
            raise APIConnectionError(
                f"Could not connect: {method} {url} ({exc.os_error.strerror or exc.os_error})",
                method=method,
                url=url,
                reached_server=False,
            ) from exc
        if isinstance(exc, aiohttp.ClientError):
            raise APIConnectionError(
                f"Connection failed during {method} {url}: {type(exc).__name__}: {exc}",
                method=method,
                url=url,
                reached_server=True,
            ) from exc

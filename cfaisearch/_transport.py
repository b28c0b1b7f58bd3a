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
import contextvars
import functools
import ipaddress
import logging
import ssl
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Final, Literal, overload

import aiohttp
import aiohttp.abc
import aiohttp.http_exceptions
import aiohttp.payload
from aiohttp.helpers import get_env_proxy_for_url
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._envelope import Response
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    CloudflareError,
    ConfigurationError,
    RedirectError,
    ResponseTooLargeError,
    safe_url,
)
from ._files import FilePart, MultipartForm

if sys.version_info >= (3, 11):
    from asyncio import timeout as _within
else:  # pragma: no cover - exercised on 3.10 only
    from async_timeout import timeout as _within  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace

__all__ = ["SessionFactory", "StreamedResponse", "Transport", "check_session"]

log = logging.getLogger("cfaisearch")

SessionFactory = Callable[[], aiohttp.ClientSession]

DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_POOL_SIZE: Final = 100
DEFAULT_MAX_RESPONSE_SIZE: Final = 64 * 1024 * 1024
MAX_REDIRECTS: Final = 5
_FOLLOWED: Final = frozenset({301, 302, 303, 307, 308})
# The start of an unfollowed redirect's body, kept on the error for debugging.
_REDIRECT_BODY_LIMIT: Final = 64 * 1024

# aiohttp >= 3.13 stops a single read that inflates past 32 MiB; older ones
# inflate it whole, and the byte count of _read_bounded stops it.
_INFLATED_TOO_FAR: Final[type[Exception] | tuple[()]] = getattr(
    aiohttp.http_exceptions, "DecompressSizeError", ()
)

# Set by _TrackingConnector once a connection is in hand: a timeout before that
# moment (waiting for the pool, connecting) means the request never left.
_connected: Final = contextvars.ContextVar("cfaisearch_connected", default=False)


class _TrackingConnector(aiohttp.TCPConnector):
    async def connect(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> Connection:
        connection = await super().connect(req, traces, timeout)
        _connected.set(True)
        return connection


def check_session(value: object, parameter: str) -> None:
    """Refuse anything but an ``aiohttp.ClientSession`` (an httpx client, say) up front."""
    if value is not None and not isinstance(value, aiohttp.ClientSession):
        raise ConfigurationError(
            f"`{parameter}` must be an aiohttp.ClientSession, got {type(value).__name__}"
        )


class Transport:
    """Owns (or borrows) one ``aiohttp.ClientSession`` and performs round trips.

    Redirects are never followed by aiohttp: a 3xx either raises
    :class:`RedirectError` or, with ``follow_redirects``, is followed here, and
    only to the origin (scheme, host, port) of the request, so credentials
    never reach another server.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        *,
        origin: str,
        session_factory: SessionFactory | None = None,
        pool_size: int = DEFAULT_POOL_SIZE,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
        verify: bool | ssl.SSLContext = True,
        follow_redirects: bool = False,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        self._session = session
        self._origin = URL(origin)
        self._proxy: URL | None = None
        self._proxy_auth: aiohttp.BasicAuth | None = None
        self._session_factory = session_factory
        self._owns_session = session is None
        # Only our own connector reports when a connection was obtained.
        self._tracks_connect = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._pool_size = pool_size
        self._ssl = verify
        self._follow_redirects = follow_redirects
        self.max_response_size: Final = max_response_size
        self.connect_timeout: Final = connect_timeout

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called: no request can be sent any more."""
        return self._closed

    @property
    def borrows_session(self) -> bool:
        """Whether the session is the caller's (passed in, not made here)."""
        return not self._owns_session

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise CloudflareError("the client is closed")
        loop = asyncio.get_running_loop()
        if self._session is None:
            # Created lazily so that it binds to the loop that actually runs requests.
            self._session = self._new_session()
            self._loop = loop
        elif self._owns_session and self._loop is not loop:
            raise CloudflareError(
                "this client's connection pool belongs to another event loop; "
                "create one AsyncCloudflare per event loop"
            )
        return self._session

    def _new_session(self) -> aiohttp.ClientSession:
        if self._session_factory is not None:
            session = self._session_factory()
            if not isinstance(session, aiohttp.ClientSession):
                raise ConfigurationError(
                    "`http_session_factory` must return an aiohttp.ClientSession, "
                    f"got {type(session).__name__}"
                )
            # Made for this client alone, so its retries are ours to own too.
            session._retry_connection = False
            return session
        connector = _TrackingConnector(
            limit=self._pool_size, ssl=self._ssl, enable_cleanup_closed=False
        )
        # HTTP(S)_PROXY and NO_PROXY are read here, once: aiohttp's trust_env
        # would look them (and ~/.netrc) up in a worker thread on every request.
        # Never for a loopback origin (a local emulator): a proxy cannot reach it.
        if not _is_loopback(self._origin.host):
            with contextlib.suppress(LookupError):
                self._proxy, self._proxy_auth = get_env_proxy_for_url(self._origin)
        session = aiohttp.ClientSession(connector=connector, raise_for_status=False)
        # One retry layer: aiohttp would otherwise re-send an idempotent request
        # once more on a dropped keep-alive connection, behind max_retries' back.
        session._retry_connection = False
        self._tracks_connect = True
        return session

    @overload
    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | MultipartForm | None,
        budget: float | None,
        timeout: float | None,
        read_timeout: float | None = None,
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
        budget: float | None,
        timeout: float | None,
        read_timeout: float | None = None,
        stream: Literal[True],
    ) -> Response | StreamedResponse: ...

    @overload
    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | MultipartForm | None,
        budget: float | None,
        timeout: float | None,
        read_timeout: float | None = None,
        stream: bool,
    ) -> Response | StreamedResponse: ...

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | MultipartForm | None,
        budget: float | None,
        timeout: float | None,
        read_timeout: float | None = None,
        stream: bool = False,
    ) -> Response | StreamedResponse:
        """One HTTP exchange, over within ``budget`` seconds (None: no limit).

        ``timeout`` is the call's whole budget, only named in errors. Without
        ``stream`` the body is read too within the budget. With ``stream`` the
        budget covers the wait for the response headers; the body of a
        successful answer is left unread, and each later read may wait at most
        ``read_timeout`` for data. An error answer is always read whole.
        """
        session = self._get_session()
        if budget is not None and budget <= 0:
            raise APITimeoutError(method=method, url=url, timeout=timeout, reached_server=False)
        data = _multipart(body) if isinstance(body, MultipartForm) else body
        started = time.perf_counter()
        response: Response | StreamedResponse
        with _ErrorMapping(method, url, timeout, self._tracks_connect, headers):
            if self._tracks_connect:
                _connected.set(False)
            if stream:
                # aiohttp's ``total`` would also cut off the body: bound the
                # wait for the headers here, and leave the body to sock_read.
                async with _within(budget):
                    resp = await self._exchange(
                        session,
                        method,
                        url,
                        headers,
                        data,
                        budget,
                        _stream_timeout(self.connect_timeout, read_timeout),
                    )
                    if resp.status >= 400:
                        # Not a stream but an error: read in the budget, like any answer.
                        try:
                            payload = await _read_bounded(resp, method, url, self.max_response_size)
                        finally:
                            resp.release()
                        response = Response(
                            method, url, resp.status, resp.headers, payload, headers
                        )
                    else:
                        response = StreamedResponse(
                            resp,
                            method=method,
                            url=url,
                            read_timeout=read_timeout,
                            max_size=self.max_response_size,
                            request_headers=headers,
                        )
            else:
                # aiohttp's ``total`` covers it all: pool wait, connect, headers, body.
                resp = await self._exchange(
                    session,
                    method,
                    url,
                    headers,
                    data,
                    budget,
                    _exchange_timeout(budget, self.connect_timeout),
                )
                try:
                    payload = await _read_bounded(resp, method, url, self.max_response_size)
                finally:
                    resp.release()
                response = Response(method, url, resp.status, resp.headers, payload, headers)
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

    async def _exchange(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        headers: Mapping[str, str],
        data: bytes | aiohttp.MultipartWriter | None,
        budget: float | None,
        client_timeout: aiohttp.ClientTimeout,
    ) -> aiohttp.ClientResponse:
        """Send, and deal with redirects: raise them, or follow same-origin ones."""
        target = URL(url, encoded=True)  # segments are already percent-encoded
        began = time.monotonic()
        hops = 0
        while True:
            resp = await session.request(
                method,
                target,
                headers=headers,
                data=data,
                timeout=client_timeout,
                allow_redirects=False,
                proxy=self._proxy,
                proxy_auth=self._proxy_auth,
            )
            if not 300 <= resp.status < 400:
                return resp
            location = resp.headers.get("Location")
            next_target = (
                _same_origin_target(target, location)
                if self._follow_redirects and hops < MAX_REDIRECTS and resp.status in _FOLLOWED
                else None
            )
            if next_target is None:
                raise await _redirect_error(
                    resp, method, str(target), self._follow_redirects, headers
                )
            resp.release()
            if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                # As browsers and aiohttp do: the body is not sent again.
                method, data = ("HEAD" if method == "HEAD" else "GET"), None
            elif isinstance(data, aiohttp.MultipartWriter):
                raise await _redirect_error(
                    resp, method, str(target), self._follow_redirects, headers
                )
            target = next_target
            hops += 1
            if budget is not None and client_timeout.total is not None:
                # Each hop gets what the earlier ones left of the budget.
                left = budget - (time.monotonic() - began)
                if left <= 0:
                    raise asyncio.TimeoutError
                client_timeout = _exchange_timeout(left, self.connect_timeout)

    async def aclose(self) -> None:
        """Close the session if this transport created it; idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name
        return False


def _same_origin_target(current: URL, location: str | None) -> URL | None:
    """Where a redirect points, if it stays on ``current``'s scheme, host and port."""
    if not location:
        return None
    try:
        target = current.join(URL(location, encoded=True))
    except ValueError:
        return None
    if (target.scheme, target.host, target.port) != (current.scheme, current.host, current.port):
        return None
    if target.user is not None or target.password is not None:
        return None  # credentials of the server's choosing, which aiohttp would send
    return target


async def _redirect_error(
    resp: aiohttp.ClientResponse,
    method: str,
    url: str,
    following: bool,
    request_headers: Mapping[str, str],
) -> RedirectError:
    try:
        body = (await resp.content.read(_REDIRECT_BODY_LIMIT)).decode("utf-8", "replace")
    finally:
        resp.release()
    # The server's Location may carry a pre-signed URL's secret: the error (its
    # message, headers and ``location``) keeps it redacted, as hooks and spans do.
    headers = CIMultiDict(resp.headers)
    location = headers.get("Location")
    if location is not None:
        location = safe_url(location)
        headers["Location"] = location
    why = (
        "not followed: only same-origin redirects are, at most "
        f"{MAX_REDIRECTS} (and a form upload is not re-sent)"
        if following
        else "not followed (the API does not redirect; see `follow_redirects`)"
    )
    return RedirectError(
        f"HTTP {resp.status} redirect to {location!r} {why} ({method} {safe_url(url)})",
        method=method,
        url=url,
        status_code=resp.status,
        request_id=resp.headers.get("cf-ray"),
        headers=CIMultiDictProxy(headers),
        body=body,
        request_headers=request_headers,
    )


async def _read_bounded(resp: aiohttp.ClientResponse, method: str, url: str, limit: int) -> bytes:
    """The whole body, unless it is larger than ``limit``: then raise before reading it all."""
    length = resp.content_length
    if length is not None and length > limit:
        raise _too_large(method, url, limit, f"announces {length} bytes")
    if length is not None and "Content-Encoding" not in resp.headers:
        return await resp.read()
    # Chunked, or compressed (the decompressed size is unknown): count as it comes.
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := await resp.content.readany():
            size += len(chunk)
            if size > limit:
                raise _too_large(method, url, limit, "is larger")
            chunks.append(chunk)
    except aiohttp.ClientPayloadError as exc:
        # A compression bomb: aiohttp refuses a read that inflates too far. It is
        # an answer too large, not a broken connection to retry.
        if isinstance(exc.__cause__, _INFLATED_TOO_FAR):
            raise _too_large(method, url, limit, "inflates to more") from exc
        raise
    return b"".join(chunks)


def _too_large(method: str, url: str, limit: int, what: str) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"The response to {method} {url} {what} than max_response_size ({limit} bytes); "
        "it was not read",
        method=method,
        url=url,
        limit=limit,
    )


class StreamedResponse:
    """A response whose body is still arriving: read it in pieces, then close it.

    :meth:`close` hands the connection back to the pool when the body was read
    to its end, and drops it otherwise (an unread body cannot be skipped). A
    response dropped without :meth:`close` is released when it is garbage
    collected, with a ``ResourceWarning``. Each read waits at most
    ``read_timeout`` seconds for data, then raises :class:`APITimeoutError`.
    """

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        *,
        method: str,
        url: str,
        read_timeout: float | None,
        max_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        request_headers: Mapping[str, str] | None = None,
    ) -> None:
        self._response = response
        self._request_headers = request_headers
        self._loop = asyncio.get_running_loop()
        self._read_timeout = read_timeout
        self._max_size = max_size
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

    def _errors(self) -> _ErrorMapping:
        return _ErrorMapping(
            self.method, self.url, self._read_timeout, False, self._request_headers, idle=True
        )

    async def read_chunk(self, max_size: int | None = None) -> bytes:
        """The next bytes available (at most ``max_size``); ``b""`` at the end of the body."""
        if self._closed:
            raise CloudflareError(f"the response to {self.method} {self.url} is closed")
        with self._errors():
            if max_size is None:
                return await self._response.content.readany()
            return await self._response.content.read(max_size)

    async def read(self) -> bytes:
        """The rest of the body; the response is closed afterwards."""
        try:
            with self._errors():
                return await self._response.read()
        finally:
            self.close()

    async def buffered(self) -> Response:
        """Read the rest (at most ``max_response_size``) as a complete :class:`Response`.

        Used for error answers; the response is closed afterwards.
        """
        try:
            with self._errors():
                body = await _read_bounded(self._response, self.method, self.url, self._max_size)
        finally:
            self.close()
        return Response(
            self.method, self.url, self.status, self.headers, body, self._request_headers
        )

    def close(self) -> None:
        """Release the connection; idempotent."""
        self._closed = True
        self._response.release()

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        if getattr(self, "_closed", True):
            return
        self._closed = True
        # Released before warning: where warnings are errors, the warning raises.
        loop = self._loop
        if asyncio._get_running_loop() is loop:
            self._response.release()
        else:
            # Collected in another thread (the sync facade): release on the loop,
            # unless it was closed meanwhile (and its connections with it).
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._response.release)
        _warn(
            f"unclosed response to {self.method} {self.url.partition('?')[0]}: close it, "
            "or use it as a context manager; its connection is released now",
            ResourceWarning,
            source=self,
        )


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
@functools.lru_cache(maxsize=64)
def _exchange_timeout(total: float | None, connect: float | None) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for a whole exchange; first attempts share a few values.

    ``connect`` stays off: waiting for a pooled connection is not connecting,
    and ``total`` covers it. ``sock_connect`` bounds one TCP/TLS connect.
    """
    return aiohttp.ClientTimeout(total=total, connect=None, sock_connect=connect)


@functools.lru_cache(maxsize=64)
def _stream_timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for a streamed exchange (the values are few and immutable)."""
    return aiohttp.ClientTimeout(total=None, connect=None, sock_connect=connect, sock_read=read)


_NO_HEADERS: Final = CIMultiDictProxy(CIMultiDict[str]())


def _scrub(exc: BaseException | None) -> None:
    """Drop the request headers (credentials) aiohttp keeps on its exceptions.

    Our errors are chained to aiohttp's for debugging, and a logged traceback
    or an error reporter would show everything reachable from them.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, aiohttp.ClientResponseError):
            info = exc.request_info
            exc.request_info = aiohttp.RequestInfo(
                info.url, info.method, _NO_HEADERS, info.real_url
            )
            exc.history = ()
            # Its args repeat (request_info, history), for repr().
            exc.args = (exc.request_info, (), *exc.args[2:])
        exc = exc.__cause__ or exc.__context__


class _ErrorMapping:
    """Translate aiohttp's errors into ours, in this one place.

    A class rather than ``@contextmanager``: it wraps every request, and a
    generator-based context manager costs several microseconds each time.
    """

    __slots__ = ("idle", "method", "request_headers", "timeout", "tracks_connect", "url")

    def __init__(
        self,
        method: str,
        url: str,
        timeout: float | None,
        tracks_connect: bool,
        request_headers: Mapping[str, str] | None = None,
        *,
        idle: bool = False,
    ) -> None:
        self.request_headers = request_headers
        self.method = method
        self.url = url
        self.timeout = timeout
        self.tracks_connect = tracks_connect
        self.idle = idle

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or not isinstance(exc, (asyncio.TimeoutError, aiohttp.ClientError)):
            return
        _scrub(exc)
        method, url, timeout = self.method, self.url, self.timeout
        sent = self.request_headers
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            raise APITimeoutError(
                method=method,
                url=url,
                timeout=timeout,
                reached_server=False,
                request_headers=sent,
                message=f"Could not connect in time: {method} {url}",
            ) from exc
        if isinstance(exc, asyncio.TimeoutError):
            if self.idle:
                raise APITimeoutError(
                    method=method,
                    url=url,
                    timeout=timeout,
                    reached_server=True,
                    request_headers=sent,
                    message=f"No data received for {timeout}s (read_timeout): {method} {url}",
                ) from exc
            # Without our connector, whether the request left is unknown: assume it did.
            reached = _connected.get() if self.tracks_connect else True
            raise APITimeoutError(
                method=method,
                url=url,
                timeout=timeout,
                reached_server=reached,
                request_headers=sent,
            ) from exc
        if isinstance(exc, aiohttp.ClientConnectorError):
            raise APIConnectionError(
                f"Could not connect: {method} {url} ({exc.os_error.strerror or exc.os_error})",
                method=method,
                url=url,
                reached_server=False,
                request_headers=sent,
            ) from exc
        raise APIConnectionError(
            f"Connection failed during {method} {url}: {type(exc).__name__}: {exc}",
            method=method,
            url=url,
            reached_server=True,
            request_headers=sent,
        ) from exc

"""Everything that touches aiohttp: the session, one round trip, error mapping.

This is the only module that imports aiohttp, so the rest of the package is
testable without sockets and ``import cfaisearch`` stays cheap.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

import aiohttp
from yarl import URL

from ._envelope import Response
from ._exceptions import APIConnectionError, APITimeoutError, CloudflareError

__all__ = ["Transport"]

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

    @property
    def owns_session(self) -> bool:
        return self._owns_session

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

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,
    ) -> Response:
        """One HTTP exchange, body included, bounded by ``timeout`` seconds."""
        session = self._get_session()
        client_timeout = aiohttp.ClientTimeout(
            total=timeout,
            connect=min(_CONNECT_TIMEOUT, timeout) if timeout is not None else _CONNECT_TIMEOUT,
        )
        started = time.perf_counter()
        try:
            async with session.request(
                method,
                # Segments are percent-encoded by the caller; yarl must not re-quote them.
                URL(url, encoded=True),
                headers=headers,
                data=body,
                timeout=client_timeout,
                allow_redirects=True,
            ) as resp:
                payload = await resp.read()
                response = Response(method, url, resp.status, resp.headers, payload)
        except aiohttp.ConnectionTimeoutError as exc:
            raise APITimeoutError(
                method=method, url=url, timeout=timeout, reached_server=False
            ) from exc
        except asyncio.TimeoutError as exc:
            raise APITimeoutError(
                method=method, url=url, timeout=timeout, reached_server=True
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise APIConnectionError(
                f"Could not connect: {method} {url} ({exc.os_error.strerror or exc.os_error})",
                method=method,
                url=url,
                reached_server=False,
            ) from exc
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                f"Connection failed during {method} {url}: {type(exc).__name__}: {exc}",
                method=method,
                url=url,
                reached_server=True,
            ) from exc
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %d (%.1f ms, cf-ray %s)",
                method,
                url,
                response.status,
                (time.perf_counter() - started) * 1000,
                response.request_id,
            )
        return response

    async def aclose(self) -> None:
        """Close the session if this transport created it; idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()

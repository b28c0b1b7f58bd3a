"""``AsyncCloudflare``: configuration, the session, and the one request path."""

from __future__ import annotations

import logging
import math
import os
import platform
import ssl
import time
import typing
from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from types import ModuleType, TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Final,
    Literal,
    ParamSpec,
    TypeAlias,
    TypeVar,
    overload,
)
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import attrs

from ._envelope import Response, decode_envelope, decode_json, status_error
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    ConfigurationError,
    ShapeError,
)
from ._files import MultipartForm
from ._options import NOT_GIVEN, NotGiven, ResolvedOptions, json_body
from ._pagination import AsyncPaginator, Page
from ._raw import record_response
from ._retry import RetryPolicy
from ._transport import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_POOL_SIZE,
    SessionFactory,
    StreamedResponse,
    Transport,
)
from ._version import __version__
from .types.shared import ResultInfo

if TYPE_CHECKING:
    import aiohttp

    from ._binary import AsyncBinaryResponse
    from ._streaming import AsyncChatCompletionStream, CompletionT
    from .resources.aisearch import AsyncAISearch

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_POOL_SIZE",
    "AsyncCloudflare",
]

_T = TypeVar("_T")
_P = ParamSpec("_P")
log = logging.getLogger("cfaisearch")

DEFAULT_BASE_URL: Final = "https://api.cloudflare.com/client/v4"
DEFAULT_TIMEOUT: Final = 60.0
DEFAULT_MAX_RETRIES: Final = 2
_USER_AGENT: Final = f"cfaisearch/{__version__} (Python {platform.python_version()})"
_AUTH_HEADERS: Final = frozenset({"authorization", "x-auth-key", "x-auth-email"})
_SCHEMES: Final = (("api_token", "Authorization"), ("api_key", "X-Auth-Key"))
# A retry sleep this long is worth telling the user about (INFO, not DEBUG).
_LONG_SLEEP: Final = 1.0
_TOKEN_CHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def _from_env(value: str | None, variable: str) -> str | None:
    if value is not None:
        return value
    return os.environ.get(variable) or None


def _check_header_value(
    value: object, parameter: str, error: type[ValueError] = ConfigurationError
) -> None:
    """Refuse what aiohttp would reject (or worse, send) as a header value.

    The message names the parameter and the position, never the value: it
    is usually a secret.
    """
    if not isinstance(value, str):
        raise error(f"{parameter} must be a string, got {type(value).__name__}")
    if value.isascii() and value.isprintable():
        return
    position, char = next(
        (i, c) for i, c in enumerate(value) if not (c.isascii() and c.isprintable())
    )
    if char in "\r\n":
        what = "a line break (a trailing newline read from a file?)"
    elif not char.isascii():
        what = "a non-ASCII character"
    else:
        what = "a control character"
    raise error(
        f"{parameter} is not a valid HTTP header value: it contains {what} at position "
        f"{position} of {len(value)}"
    )


def _check_header_name(
    name: object, parameter: str = "default_headers", error: type[ValueError] = ConfigurationError
) -> None:
    if not isinstance(name, str) or not name or not _TOKEN_CHARS.issuperset(name):
        raise error(f"`{parameter}` has an invalid header name: {name!r}")


def _positive(value: object, name: str, *, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    # inf passes "> 0" but overflows the event loop's timers on every call.
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and value > 0)
    ):
        expected = "a finite, positive number of seconds" + (" or None" if allow_none else "")
        raise ValueError(f"`{name}` must be {expected}, got {value!r}")


_converter_module: ModuleType | None = None


def _decode(data: Any, model: Any, *, tolerant: bool) -> Any:
    """Structure ``data`` as ``model`` with the shared converter.

    The converter (and cattrs) is imported on first use: it is the largest
    import after aiohttp, and a client that is built but not used yet should
    not pay for it.
    """
    global _converter_module
    if _converter_module is None:
        from . import _converter

        _converter_module = _converter
    return _converter_module.structure(data, model, tolerant=tolerant)


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class AsyncCloudflare:
    """Asynchronous client for Cloudflare's AI Search API.

    Keyword arguments mirror the official ``cloudflare`` package; each falls back
    to its environment variable when omitted. ``account_id`` is a default for
    every call, so methods may leave it out.

    ``timeout`` is the budget of a whole call: every attempt, backoff and
    ``Retry-After`` wait included. ``connect_timeout`` bounds one connection
    attempt (waiting for a free one of the ``connection_pool_size`` pooled
    connections is not connecting). The body of a streamed response (chat
    stream, download) may then take as long as it keeps coming: each read
    waits at most ``read_timeout`` seconds (default: ``timeout``) for data.
    A JSON response larger than ``max_response_size`` bytes raises
    :class:`ResponseTooLargeError`. Redirects raise :class:`RedirectError`
    unless ``follow_redirects`` is set, and even then only those to the same
    origin (scheme, host, port) are followed. ``verify`` is ``False`` (no TLS
    verification) or an ``ssl.SSLContext``. ``HTTP(S)_PROXY``/``NO_PROXY``
    are honoured.

    Pass ``http_session`` to share your own ``aiohttp.ClientSession`` (it is
    then yours to close, and its connector's settings replace
    ``connection_pool_size`` and ``verify``), or ``http_session_factory``, a
    function returning a new session, called once on first use on the loop
    that runs the requests (the client closes that session).

    ``retry_policy`` (a :class:`RetryPolicy`) sets the waits between attempts;
    ``max_retries`` how many there may be.
    """

    def __init__(
        self,
        *,
        api_token: str | None = None,
        api_key: str | None = None,
        api_email: str | None = None,
        account_id: str | None = None,
        base_url: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float | None = None,
        connection_pool_size: int = DEFAULT_POOL_SIZE,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        follow_redirects: bool = False,
        verify: bool | ssl.SSLContext = True,
        http_session_factory: SessionFactory | None = None,
        http_session: aiohttp.ClientSession | None = None,
        retry_policy: RetryPolicy | None = None,
        _strict_response_validation: bool = False,
    ) -> None:
        _positive(timeout, "timeout", allow_none=True)
        _positive(connect_timeout, "connect_timeout", allow_none=True)
        _positive(read_timeout, "read_timeout", allow_none=True)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"`max_retries` must be a non-negative integer, got {max_retries!r}")
        for size, size_name in (
            (connection_pool_size, "connection_pool_size"),
            (max_response_size, "max_response_size"),
        ):
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise ValueError(f"`{size_name}` must be a positive integer, got {size!r}")
        if not isinstance(follow_redirects, bool):
            raise TypeError(f"`follow_redirects` must be a bool, got {follow_redirects!r}")
        if not isinstance(verify, (bool, ssl.SSLContext)):
            raise TypeError(f"`verify` must be a bool or an ssl.SSLContext, got {verify!r}")
        if http_session_factory is not None:
            if http_session is not None:
                raise ConfigurationError(
                    "pass either `http_session` or `http_session_factory`, not both"
                )
            if not callable(http_session_factory):
                raise ConfigurationError(
                    "`http_session_factory` must be a function returning an aiohttp.ClientSession"
                )
        for header, value in (default_headers or {}).items():
            _check_header_name(header)
            _check_header_value(value, f"`default_headers[{header!r}]`")
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise TypeError(
                "`retry_policy` must be a cfaisearch.RetryPolicy, "
                f"got {type(retry_policy).__name__}"
            )
        if not isinstance(_strict_response_validation, bool):
            raise TypeError(
                "`_strict_response_validation` must be a bool, "
                f"got {type(_strict_response_validation).__name__}"
            )
        headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
        headers.update(self._auth_headers(api_token, api_key, api_email, default_headers))
        headers.update(default_headers or {})
        self._headers: Final = headers
        # Named in repr so users can tell which credentials are in play, never shown.
        self._auth_scheme = next(
            (name for name, header in _SCHEMES if header in headers), "default_headers"
        )
        self.account_id: Final = _from_env(account_id, "CLOUDFLARE_ACCOUNT_ID")
        resolved_url = _from_env(base_url, "CLOUDFLARE_BASE_URL") or DEFAULT_BASE_URL
        self.base_url: Final = self._clean_base_url(resolved_url)
        self.timeout: Final = timeout
        self.read_timeout: Final = read_timeout
        self.max_retries: Final = max_retries
        self._transport = Transport(
            http_session,
            origin=self.base_url,
            session_factory=http_session_factory,
            pool_size=connection_pool_size,
            connect_timeout=connect_timeout,
            verify=verify,
            follow_redirects=follow_redirects,
            max_response_size=max_response_size,
        )
        self._retry: Final = RetryPolicy() if retry_policy is None else retry_policy
        self._strict_response_validation: Final = _strict_response_validation

    @staticmethod
    def _auth_headers(
        api_token: str | None,
        api_key: str | None,
        api_email: str | None,
        default_headers: Mapping[str, str] | None,
    ) -> dict[str, str]:
        # Explicit keywords beat the environment, so a stray CLOUDFLARE_API_KEY
        # never overrides an api_token passed in code.
        token_name, key_name, email_name = "`api_token`", "`api_key`", "`api_email`"
        if api_token is None and api_key is None and api_email is None:
            token_name = "`api_token` (from CLOUDFLARE_API_TOKEN)"
            key_name = "`api_key` (from CLOUDFLARE_API_KEY)"
            email_name = "`api_email` (from CLOUDFLARE_EMAIL)"
            api_token = os.environ.get("CLOUDFLARE_API_TOKEN") or None
            if api_token is None:
                api_key = os.environ.get("CLOUDFLARE_API_KEY") or None
                api_email = os.environ.get("CLOUDFLARE_EMAIL") or None
        if api_token is not None:
            if not api_token:
                raise ConfigurationError("`api_token` is empty")
            _check_header_value(api_token, token_name)
            return {"Authorization": f"Bearer {api_token}"}
        if api_key or api_email:
            if not api_key:
                raise ConfigurationError(
                    "`api_email` is set but `api_key` is missing: pass api_key= "
                    "or set CLOUDFLARE_API_KEY (or use api_token= / CLOUDFLARE_API_TOKEN)"
                )
            if not api_email:
                raise ConfigurationError(
                    "`api_key` is set but `api_email` is missing: pass api_email= "
                    "or set CLOUDFLARE_EMAIL (the legacy global key needs both)"
                )
            _check_header_value(api_key, key_name)
            _check_header_value(api_email, email_name)
            return {"X-Auth-Key": api_key, "X-Auth-Email": api_email}
        if default_headers and _AUTH_HEADERS & {name.lower() for name in default_headers}:
            return {}
        raise ConfigurationError(
            "No credentials: pass api_token= (or set CLOUDFLARE_API_TOKEN), or api_key= "
            "and api_email= (or set CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL)"
        )

    @staticmethod
    def _clean_base_url(url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"`base_url` must be an http(s) URL, got {url!r}")
        if parts.username or parts.password:
            raise ConfigurationError("`base_url` must not embed credentials; use api_token=")
        return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, account_id={self.account_id!r}, "
            f"auth={self._auth_scheme!r}, timeout={self.timeout!r}, "
            f"max_retries={self.max_retries!r})"
        )

    @property
    def retry_policy(self) -> RetryPolicy:
        """How long to wait between attempts, and the longest ``Retry-After`` honoured."""
        return self._retry

    @cached_property
    def aisearch(self) -> AsyncAISearch:
        """AI Search: instances, namespaces, items, jobs and tokens."""
        from .resources.aisearch import AsyncAISearch

        return AsyncAISearch(self)

    # -- lifecycle ---------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool, unless it is a session the caller passed in."""
        await self._transport.aclose()

    async def close(self) -> None:
        """Alias of :meth:`aclose`, as the official SDK names it."""
        await self.aclose()

    async def __aenter__(self) -> AsyncCloudflare:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the request path ------------------------------------------------------------

    def resolve_account_id(self, account_id: str | None) -> str:
        """The account to use: the call's own, else the client's default."""
        if account_id is None:
            account_id = self.account_id
            if account_id is None:
                raise ConfigurationError(
                    "No account id: pass account_id= to the call or to the client, "
                    "or set CLOUDFLARE_ACCOUNT_ID"
                )
        if not isinstance(account_id, str) or not account_id.strip():
            raise ValueError(f"`account_id` must be a non-empty string, got {account_id!r}")
        return account_id

    def _url(self, path: str, query: Mapping[str, object] | None, options: ResolvedOptions) -> str:
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        if options.extra_query:
            params.update({k: _query_value(v) for k, v in options.extra_query.items()})
        url = self.base_url + path
        return f"{url}?{urlencode(params, quote_via=quote)}" if params else url

    def _body(
        self, method: str, body: Mapping[str, Any] | NotGiven, options: ResolvedOptions
    ) -> bytes | None:
        if isinstance(body, NotGiven):
            if options.extra_body:
                raise TypeError(f"`extra_body` is not accepted by {method} requests without a body")
            return None
        if options.extra_body:
            body = {**body, **options.extra_body}
        return json_body(body)

    def _payload(
        self,
        method: str,
        body: Mapping[str, Any] | NotGiven,
        multipart: MultipartForm | None,
        options: ResolvedOptions,
    ) -> bytes | MultipartForm | None:
        if multipart is None:
            return self._body(method, body, options)
        if not isinstance(body, NotGiven):
            raise TypeError("a request has either a JSON body or a multipart form, not both")
        if options.extra_body:
            extra = tuple(
                (name, value if isinstance(value, str) else json_body(value, name).decode())
                for name, value in options.extra_body.items()
            )
            multipart = attrs.evolve(multipart, fields=multipart.fields + extra)
        return multipart

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, object] | None = None,
        body: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        multipart: MultipartForm | None = None,
        headers: Mapping[str, str] | None = None,
        options: ResolvedOptions,
        retry_safe: bool | None = None,
        stream: Literal[False] = False,
    ) -> Response: ...

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, object] | None = None,
        body: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        multipart: MultipartForm | None = None,
        headers: Mapping[str, str] | None = None,
        options: ResolvedOptions,
        retry_safe: bool | None = None,
        stream: Literal[True],
    ) -> StreamedResponse: ...

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, object] | None = None,
        body: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        multipart: MultipartForm | None = None,
        headers: Mapping[str, str] | None = None,
        options: ResolvedOptions,
        retry_safe: bool | None = None,
        stream: bool = False,
    ) -> Response | StreamedResponse:
        """Send one API request with retries; return the 2xx response or raise.

        ``retry_safe`` says whether repeating the request is harmless; by
        default that is true for GET, PUT and DELETE only. A ``multipart``
        body is sent again only if its files can be re-read from the start.
        With ``stream`` the body of a 2xx response is left unread (see
        :class:`~cfaisearch._transport.StreamedResponse`); once it is returned
        nothing is retried.
        """
        if retry_safe is None:
            retry_safe = method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        url = self._url(path, query, options)
        payload = self._payload(method, body, multipart, options)
        request_headers = dict(self._headers)
        if isinstance(payload, bytes):
            request_headers["Content-Type"] = "application/json"
        if headers:
            request_headers.update(headers)
        if options.extra_headers:
            # Checked here, not by aiohttp: its errors are untyped, and some bad
            # values (non-ASCII, a name with a space) it would send as they are.
            for header, value in options.extra_headers.items():
                _check_header_name(header, "extra_headers", ValueError)
                _check_header_value(value, f"`extra_headers[{header!r}]`", ValueError)
            request_headers.update(options.extra_headers)
        timeout = self.timeout if isinstance(options.timeout, NotGiven) else options.timeout
        max_retries = (
            self.max_retries if isinstance(options.max_retries, NotGiven) else options.max_retries
        )
        # One budget for the whole call: attempts, backoff and Retry-After waits.
        deadline = None if timeout is None else time.monotonic() + timeout
        budget = timeout
        read_timeout = timeout if self.read_timeout is None else self.read_timeout
        retries = 0
        failure: APIError
        while True:
            try:
                response = await self._transport.send(
                    method,
                    url,
                    headers=request_headers,
                    body=payload,
                    budget=budget,
                    timeout=timeout,
                    read_timeout=read_timeout,
                    stream=stream,
                )
            except APIConnectionError as exc:
                reason = self._retry.error_reason(exc, retry_safe=retry_safe)
                if reason is None or retries >= max_retries or not _replayable(payload):
                    raise
                delay = self._retry.delay(retries)
                failure = exc
            else:
                if response.status < 400:
                    content = response.body if isinstance(response, Response) else None
                    record_response(
                        method, url, response.status, response.headers, content, retries
                    )
                    return response
                # The transport reads error answers whole, streamed or not.
                assert isinstance(response, Response)
                failed = response
                reason = self._retry.status_reason(failed.status, retry_safe=retry_safe)
                if reason is None or retries >= max_retries or not _replayable(payload):
                    raise status_error(failed)
                delay = self._retry.delay(retries, failed.headers)
                failure = status_error(failed)
            if delay > self._retry.max_retry_after or (
                deadline is not None and time.monotonic() + delay >= deadline
            ):
                # Waiting would outlast the call's budget (or what the server may
                # reasonably ask): fail now, with the answer that asked to wait.
                log.debug(
                    "Not retrying %s %s: a %.2fs wait passes the call's deadline "
                    "(timeout=%s) or the %ss limit: %s",
                    method,
                    url,
                    delay,
                    timeout,
                    self._retry.max_retry_after,
                    reason,
                )
                raise failure
            retries += 1
            log.log(
                logging.INFO if delay >= _LONG_SLEEP else logging.DEBUG,
                "Retrying %s %s in %.2fs (retry %d of %d): %s",
                method,
                url,
                delay,
                retries,
                max_retries,
                reason,
            )
            await self._retry.sleep(delay)
            if deadline is not None:
                budget = deadline - time.monotonic()

    def structure(self, data: Any, model: Any, response: Response) -> Any:
        """Turn decoded JSON into ``model``; what cannot be decoded is a typed API error.

        A strict client raises for any mismatch. A tolerant one (the default,
        see :mod:`cfaisearch._converter`) raises only for a result of the wrong
        kind altogether, and reads a missing list as empty. A missing object
        result is an error in both modes.
        """
        tolerant = not self._strict_response_validation
        if data is None and model is not Any:
            if tolerant and typing.get_origin(model) is list:
                return []
            raise APIResponseValidationError(
                f"No `result` in the response to {response.method} {response.url} "
                f"(HTTP {response.status})",
                method=response.method,
                url=response.url,
                status_code=response.status,
                body=data,
            )
        try:
            return _decode(data, model, tolerant=tolerant)
        except ShapeError as exc:
            detail = str(exc)
            raise APIResponseValidationError(
                f"Unexpected response shape from {response.method} {response.url}: {detail}",
                method=response.method,
                url=response.url,
                status_code=response.status,
                body=data,
            ) from exc

    async def get_result(
        self,
        model: type[_T],
        method: str,
        path: str,
        *,
        options: ResolvedOptions,
        query: Mapping[str, object] | None = None,
        body: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        multipart: MultipartForm | None = None,
        retry_safe: bool | None = None,
        enveloped: bool = True,
    ) -> _T:
        """Request, unwrap the envelope (unless ``enveloped`` is False) and decode."""
        response = await self.request(
            method,
            path,
            query=query,
            body=body,
            multipart=multipart,
            options=options,
            retry_safe=retry_safe,
        )
        data = decode_envelope(response).result if enveloped else decode_json(response)
        result: _T = self.structure(data, model, response)
        return result

    async def get_page(
        self,
        model: type[_T],
        path: str,
        *,
        query: Mapping[str, object],
        options: ResolvedOptions,
    ) -> Page[_T]:
        """GET one page of a list endpoint."""
        response = await self.request("GET", path, query=query, options=options)
        envelope = decode_envelope(response)
        items = self.structure(envelope.result, list[model], response)  # type: ignore[valid-type]
        info = self.structure(envelope.result_info or {}, ResultInfo, response)
        return Page(result=items, result_info=info)

    async def get_result_with_info(
        self,
        model: type[_T],
        path: str,
        *,
        query: Mapping[str, object],
        options: ResolvedOptions,
    ) -> _T:
        """GET a list that pages by cursor or offset: ``model`` receives ``result``
        together with the members of ``result_info`` (cursor, offset, totals)."""
        response = await self.request("GET", path, query=query, options=options)
        envelope = decode_envelope(response)
        entries = envelope.result
        if entries is None:
            # Strict: an error naming the operation; tolerant: no entries.
            entries = self.structure(None, list[Any], response)
        data = {**(envelope.result_info or {}), "result": entries}
        result: _T = self.structure(data, model, response)
        return result

    async def chat_stream(
        self,
        completion: type[CompletionT],
        path: str,
        *,
        body: Mapping[str, Any],
        options: ResolvedOptions,
    ) -> AsyncChatCompletionStream[CompletionT]:
        """POST a chat request with ``"stream": true``; return the opened event stream.

        Opening it is retried like any read; nothing is retried once it is open.
        """
        from ._streaming import open_chat_stream

        response = await self.request(
            "POST",
            path,
            body={**body, "stream": True},
            headers={"Accept": "text/event-stream"},
            options=options,
            retry_safe=True,
            stream=True,
        )
        return await open_chat_stream(
            response, completion, tolerant=not self._strict_response_validation
        )

    async def get_binary(
        self,
        path: str,
        *,
        options: ResolvedOptions,
        query: Mapping[str, object] | None = None,
    ) -> AsyncBinaryResponse:
        """GET a file; its body is left unread for the caller to read or stream."""
        from ._binary import AsyncBinaryResponse

        response = await self.request(
            "GET",
            path,
            query=query,
            headers={"Accept": "application/octet-stream"},
            options=options,
            stream=True,
        )
        return AsyncBinaryResponse(response)

    def paginate(
        self,
        model: type[_T],
        path: str,
        *,
        query: Mapping[str, object],
        options: ResolvedOptions,
    ) -> AsyncPaginator[_T]:
        """A lazy paginator over a page-numbered list endpoint."""

        async def fetch(page: int | None) -> Page[_T]:
            params = dict(query)
            if page is not None:
                params["page"] = page
            return await self.get_page(model, path, query=params, options=options)

        start = query.get("page")
        return AsyncPaginator(
            fetch, url=self.base_url + path, first_page=start if isinstance(start, int) else None
        )


def _replayable(payload: bytes | MultipartForm | None) -> bool:
    """Whether the request body can be sent again (a half-read file object cannot)."""
    return not isinstance(payload, MultipartForm) or payload.replayable


ClientCall: TypeAlias = Callable[Concatenate[AsyncCloudflare, _P], Awaitable[_T]]
"""An async function taking an ``AsyncCloudflare`` first: what ``Cloudflare.run`` runs."""

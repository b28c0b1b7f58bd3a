"""``AsyncCloudflare``: configuration, the session, and the one request path."""

from __future__ import annotations

import asyncio
import contextlib
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
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import attrs

from ._envelope import (
    Response,
    collection_paused,
    decode_envelope,
    decode_json,
    status_error,
)
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    ConfigurationError,
    ShapeError,
)
from ._files import MultipartForm
from ._options import NOT_GIVEN, NotGiven, ResolvedOptions, json_body, resolve_options
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
    check_session,
)
from ._version import __version__
from ._wire import wire_bool
from .types.shared import ResultInfo

if TYPE_CHECKING:
    import aiohttp
    from opentelemetry.trace import TracerProvider

    from ._binary import AsyncBinaryResponse
    from ._hooks import EventHooks, Observation, Observer
    from ._streaming import AsyncChatCompletionStream, CompletionT
    from .resources.aisearch import AsyncAISearch

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_POOL_SIZE",
    "AsyncCloudflare",
]

_T = TypeVar("_T")
_P = ParamSpec("_P")
log = logging.getLogger("cfaisearch")

DEFAULT_BASE_URL: Final = "https://api.cloudflare.com/client/v4"
DEFAULT_TIMEOUT: Final = 60.0
DEFAULT_MAX_RETRIES: Final = 2
_NO_CREDENTIALS: Final = (
    "No credentials: pass api_token= (or set CLOUDFLARE_API_TOKEN), or api_key= "
    "and api_email= (or set CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL), or "
    "user_service_key= (or set CLOUDFLARE_API_USER_SERVICE_KEY)"
)
_USER_AGENT: Final = f"cfaisearch/{__version__} (Python {platform.python_version()})"
_AUTH_HEADERS: Final = frozenset(
    {"authorization", "x-auth-key", "x-auth-email", "x-auth-user-service-key"}
)
_SCHEMES: Final = (
    ("api_token", "Authorization"),
    ("api_key", "X-Auth-Key"),
    ("user_service_key", "X-Auth-User-Service-Key"),
)
_SESSIONS: Final = ("http_client", "http_session", "http_session_factory")
# Settings of the connection pool itself: a copy changing one gets its own pool.
_POOL_SETTINGS: Final = frozenset(
    {*_SESSIONS, "connect_timeout", "connection_pool_size", "max_response_size"}
    | {"follow_redirects", "verify"}
)
# What the generic get/post/... accept in ``options``: the official names, and ours.
_GENERIC_OPTIONS: Final = {
    "headers": "extra_headers",
    "extra_json": "extra_body",
    "timeout": "timeout",
    "max_retries": "max_retries",
    "extra_headers": "extra_headers",
    "extra_query": "extra_query",
    "extra_body": "extra_body",
}
_JSON_TYPES: Final = (object, dict, list, Any)
_SESSIONS_GIVEN: Final = frozenset(_SESSIONS)
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


def _custom_headers_from_env() -> dict[str, str]:
    """``CLOUDFLARE_CUSTOM_HEADERS``, one ``Name: value`` a line, as the official SDK reads it.

    Lines without a colon are skipped, as there; ``default_headers`` win.
    """
    raw = os.environ.get("CLOUDFLARE_CUSTOM_HEADERS")
    if not raw:
        return {}
    headers: dict[str, str] = {}
    for line in raw.split("\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip()] = value.strip()
    return headers


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

    ``event_hooks`` (``{"request": [...], "response": [...]}``) are functions
    called with a :class:`RequestEvent` before, and a :class:`ResponseEvent`
    after, every attempt; ``tracing`` (``True`` or a ``TracerProvider``, with the
    ``otel`` extra) makes an OpenTelemetry span of each operation. See
    docs/observability.md.
    """

    def __init__(
        self,
        *,
        api_token: str | None = None,
        api_key: str | None = None,
        api_email: str | None = None,
        user_service_key: str | None = None,
        account_id: str | None = None,
        base_url: str | None = None,
        api_version: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float | None = None,
        connection_pool_size: int = DEFAULT_POOL_SIZE,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        follow_redirects: bool = False,
        verify: bool | ssl.SSLContext = True,
        http_session_factory: SessionFactory | None = None,
        http_session: aiohttp.ClientSession | None = None,
        http_client: aiohttp.ClientSession | None = None,
        retry_policy: RetryPolicy | None = None,
        event_hooks: EventHooks | None = None,
        tracing: bool | TracerProvider = False,
        _strict_response_validation: bool = False,
    ) -> None:
        # What copy() starts from: the keywords as given, before the environment.
        self._config: Final[dict[str, Any]] = {
            name: value for name, value in locals().items() if name not in ("self", "__class__")
        }
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float))
        ):
            raise TypeError(
                "`timeout` must be a number of seconds (the whole call's budget) or None, "
                f"got {type(timeout).__name__}; for finer limits pass connect_timeout= "
                "and read_timeout="
            )
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
        check_session(http_session, "http_session")
        check_session(http_client, "http_client")
        if http_client is not None:
            # The official SDK's name for a session of the caller's.
            if http_session is not None:
                raise ConfigurationError("pass either `http_client` or `http_session`, not both")
            http_session = http_client
        if http_session_factory is not None:
            if http_session is not None:
                raise ConfigurationError(
                    "pass either `http_session` or `http_session_factory`, not both"
                )
            if not callable(http_session_factory):
                raise ConfigurationError(
                    "`http_session_factory` must be a function returning an aiohttp.ClientSession"
                )
        from_env = _custom_headers_from_env()
        for header, value in from_env.items():
            _check_header_name(header, "CLOUDFLARE_CUSTOM_HEADERS")
            _check_header_value(value, f"`CLOUDFLARE_CUSTOM_HEADERS[{header!r}]`")
        for header, value in (default_headers or {}).items():
            _check_header_name(header)
            _check_header_value(value, f"`default_headers[{header!r}]`")
        if from_env:
            default_headers = {**from_env, **(default_headers or {})}
        if api_version is not None:
            _check_header_value(api_version, "`api_version`")
        query: dict[str, str] = {}
        for key, entry in (default_query or {}).items():
            if not isinstance(key, str) or not key:
                raise ConfigurationError(f"`default_query` has an invalid name: {key!r}")
            if not isinstance(entry, (str, int, float)):
                raise ConfigurationError(
                    f"`default_query[{key!r}]` must be a string, number or bool, "
                    f"got {type(entry).__name__}"
                )
            query[key] = _query_value(entry)
        self._default_query: Final = query
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
        if api_version is not None:
            headers["api-version"] = api_version
        auth = self._credentials(api_token, api_key, api_email, user_service_key, default_headers)
        if auth is None and not (
            default_headers and _AUTH_HEADERS & {name.lower() for name in default_headers}
        ):
            self._no_credentials = True
            auth = {}
        else:
            self._no_credentials = False
            auth = auth or {}
        # Returned by auth_headers; never shown (repr names only the scheme).
        self._auth: Final = auth
        headers.update(auth)
        headers.update(default_headers or {})
        self._headers: Final = headers
        # Named in repr so users can tell which credentials are in play, never shown.
        self._auth_scheme = (
            "none"
            if self._no_credentials
            else next((name for name, header in _SCHEMES if header in headers), "default_headers")
        )
        self.account_id: Final = _from_env(account_id, "CLOUDFLARE_ACCOUNT_ID")
        resolved_url = _from_env(base_url, "CLOUDFLARE_BASE_URL") or DEFAULT_BASE_URL
        self.base_url: Final = self._clean_base_url(resolved_url)
        self.api_version: Final = api_version
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
        # False for a copy sharing the original's pool: closing it leaves the pool open.
        self._owns_transport = True
        self._retry: Final = RetryPolicy() if retry_policy is None else retry_policy
        self._strict_response_validation: Final = _strict_response_validation
        # None without hooks or tracing: the request path then checks only this.
        self._observer: Final = self._new_observer(event_hooks, tracing)

    @staticmethod
    def _new_observer(
        event_hooks: EventHooks | None, tracing: bool | TracerProvider
    ) -> Observer | None:
        if event_hooks is None and tracing is False:
            return None
        from ._hooks import Observer, check_event_hooks, new_tracer

        request_hooks, response_hooks = (
            ((), ()) if event_hooks is None else check_event_hooks(event_hooks)
        )
        tracer = new_tracer(tracing)
        if not request_hooks and not response_hooks and tracer is None:
            return None
        return Observer(request_hooks, response_hooks, tracer)

    @staticmethod
    def _credentials(
        api_token: str | None,
        api_key: str | None,
        api_email: str | None,
        user_service_key: str | None,
        default_headers: Mapping[str, str] | None,
    ) -> dict[str, str] | None:
        # Explicit keywords beat the environment, so a stray CLOUDFLARE_API_KEY
        # never overrides an api_token passed in code.
        token_name, key_name, email_name = "`api_token`", "`api_key`", "`api_email`"
        service_key_name = "`user_service_key`"
        if api_token is None and api_key is None and api_email is None and user_service_key is None:
            token_name = "`api_token` (from CLOUDFLARE_API_TOKEN)"
            key_name = "`api_key` (from CLOUDFLARE_API_KEY)"
            email_name = "`api_email` (from CLOUDFLARE_EMAIL)"
            service_key_name = "`user_service_key` (from CLOUDFLARE_API_USER_SERVICE_KEY)"
            api_token = os.environ.get("CLOUDFLARE_API_TOKEN") or None
            if api_token is None:
                api_key = os.environ.get("CLOUDFLARE_API_KEY") or None
                api_email = os.environ.get("CLOUDFLARE_EMAIL") or None
                if api_key is None and api_email is None:
                    user_service_key = os.environ.get("CLOUDFLARE_API_USER_SERVICE_KEY") or None
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
        if user_service_key is not None:
            # Origin CA certificates' legacy key: the lowest-ranked scheme, as officially.
            if not user_service_key:
                raise ConfigurationError("`user_service_key` is empty")
            _check_header_value(user_service_key, service_key_name)
            return {"X-Auth-User-Service-Key": user_service_key}
        # None: no credentials at all. As in the official SDK, that fails at the
        # first request, not here, so a module-level client can be built in tests.
        return None

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

    @property
    def borrows_session(self) -> bool:
        """Whether requests go through a session the caller passed in (``http_client``)."""
        return self._transport.borrows_session

    @property
    def auth_headers(self) -> dict[str, str]:
        """The credential headers this client sends (secrets: never log them).

        Empty when the credentials come from ``default_headers``.
        """
        return dict(self._auth)

    @property
    def default_headers(self) -> dict[str, str]:
        """The headers sent with every request, besides the credentials."""
        return {name: value for name, value in self._headers.items() if name not in self._auth}

    # The credentials in use, as the official SDK exposes them (secrets: never log them).

    @property
    def api_token(self) -> str | None:
        bearer = self._auth.get("Authorization")
        return None if bearer is None else bearer.removeprefix("Bearer ")

    @property
    def api_key(self) -> str | None:
        return self._auth.get("X-Auth-Key")

    @property
    def api_email(self) -> str | None:
        return self._auth.get("X-Auth-Email")

    @property
    def user_service_key(self) -> str | None:
        return self._auth.get("X-Auth-User-Service-Key")

    def copy(
        self,
        *,
        api_token: str | NotGiven | None = NOT_GIVEN,
        api_key: str | NotGiven | None = NOT_GIVEN,
        api_email: str | NotGiven | None = NOT_GIVEN,
        user_service_key: str | NotGiven | None = NOT_GIVEN,
        account_id: str | NotGiven | None = NOT_GIVEN,
        base_url: str | NotGiven | None = NOT_GIVEN,
        api_version: str | NotGiven | None = NOT_GIVEN,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        set_default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        set_default_query: Mapping[str, object] | None = None,
        connect_timeout: float | NotGiven | None = NOT_GIVEN,
        read_timeout: float | NotGiven | None = NOT_GIVEN,
        connection_pool_size: int | NotGiven = NOT_GIVEN,
        max_response_size: int | NotGiven = NOT_GIVEN,
        follow_redirects: bool | NotGiven = NOT_GIVEN,
        verify: bool | ssl.SSLContext | NotGiven = NOT_GIVEN,
        http_session_factory: SessionFactory | NotGiven | None = NOT_GIVEN,
        http_session: aiohttp.ClientSession | NotGiven | None = NOT_GIVEN,
        http_client: aiohttp.ClientSession | NotGiven | None = NOT_GIVEN,
        retry_policy: RetryPolicy | NotGiven | None = NOT_GIVEN,
        event_hooks: EventHooks | NotGiven | None = NOT_GIVEN,
        tracing: bool | TracerProvider | NotGiven = NOT_GIVEN,
        _strict_response_validation: bool | NotGiven = NOT_GIVEN,
    ) -> AsyncCloudflare:
        """A new client with the given settings changed, sharing this one's connection pool.

        ``default_headers``/``default_query`` are merged over this client's;
        ``set_default_headers``/``set_default_query`` replace them.
        Credentials not passed are kept (pass ``api_token=None`` to switch a
        token client to ``api_key``/``api_email``). Closing the
        copy leaves the shared pool open; closing this client closes it. A
        copy that changes a setting of the pool itself (a session, timeouts
        of connecting, pool size, TLS, redirects, or the base URL's host)
        gets a pool of its own, closed with it.
        """
        if default_headers is not None and set_default_headers is not None:
            raise ValueError("pass either `default_headers` or `set_default_headers`, not both")
        if default_query is not None and set_default_query is not None:
            raise ValueError("pass either `default_query` or `set_default_query`, not both")
        given = {
            name: value
            for name, value in locals().items()
            if name not in ("self", "__class__")
            and "default_" not in name
            and not isinstance(value, NotGiven)
        }
        config = dict(self._config)
        if not _SESSIONS_GIVEN.isdisjoint(given):
            config.update(dict.fromkeys(_SESSIONS))
        config.update(given)
        if set_default_headers is not None:
            config["default_headers"] = set_default_headers
        elif default_headers is not None:
            config["default_headers"] = {**(config["default_headers"] or {}), **default_headers}
        if set_default_query is not None:
            config["default_query"] = set_default_query
        elif default_query is not None:
            config["default_query"] = {**(config["default_query"] or {}), **default_query}
        copied = type(self)(**config)
        if _POOL_SETTINGS.isdisjoint(given) and _origin(copied.base_url) == _origin(self.base_url):
            copied._transport = self._transport
            copied._owns_transport = False
        return copied

    with_options = copy

    @cached_property
    def aisearch(self) -> AsyncAISearch:
        """AI Search: instances, namespaces, items, jobs and tokens."""
        from .resources.aisearch import AsyncAISearch

        return AsyncAISearch(self)

    # -- lifecycle ---------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool, unless it is a session the caller passed in
        or the pool of the client this one was copied from."""
        if self._owns_transport:
            await self._transport.aclose()

    async def close(self) -> None:
        """Alias of :meth:`aclose`, as the official SDK names it."""
        await self.aclose()

    def is_closed(self) -> bool:
        """Whether this client's connection pool is closed (requests would fail)."""
        return self._transport.closed

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
        if self._default_query:
            params = {**self._default_query, **params}
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
        generic: bool = False,
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
        generic: bool = False,
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
        generic: bool = False,
    ) -> Response | StreamedResponse:
        """Send one API request with retries; return the 2xx response or raise.

        ``retry_safe`` says whether repeating the request is harmless; by
        default that is true for GET, PUT and DELETE only. A ``multipart``
        body is sent again only if its files can be re-read from the start.
        With ``stream`` the body of a 2xx response is left unread (see
        :class:`~cfaisearch._transport.StreamedResponse`); once it is returned
        nothing is retried. ``generic``: a call of ``get()``/``post()``/...,
        not of a named operation (the hooks' events say ``operation=None``).
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
        if self._no_credentials and _AUTH_HEADERS.isdisjoint(map(str.lower, request_headers)):
            raise ConfigurationError(_NO_CREDENTIALS)
        if self._transport.closed:
            # As officially: no connection can be made (and none is retried).
            raise APIConnectionError(
                "the client is closed", method=method, url=url, reached_server=False
            )
        timeout = self.timeout if isinstance(options.timeout, NotGiven) else options.timeout
        max_retries = (
            self.max_retries if isinstance(options.max_retries, NotGiven) else options.max_retries
        )
        observed = (
            None
            if self._observer is None
            else self._observer.start(method, path, url, named=not generic)
        )
        attempts = self._attempts(
            observed,
            method,
            url,
            request_headers,
            payload,
            retry_safe=retry_safe,
            timeout=timeout,
            max_retries=max_retries,
            stream=stream,
        )
        if observed is None:
            return await attempts
        with observed:  # the operation's span, when tracing
            return await attempts

    async def _attempts(
        self,
        observed: Observation | None,
        method: str,
        url: str,
        request_headers: dict[str, str],
        payload: bytes | MultipartForm | None,
        *,
        retry_safe: bool,
        timeout: float | None,
        max_retries: int,
        stream: bool,
    ) -> Response | StreamedResponse:
        """The attempts of one request, and the waits between them (see :meth:`request`)."""
        # One budget for the whole call: attempts, backoff and Retry-After waits.
        deadline = None if timeout is None else time.monotonic() + timeout
        budget = timeout
        read_timeout = timeout if self.read_timeout is None else self.read_timeout
        retries = 0
        failure: APIError
        while True:
            if observed is not None:
                await observed.before(request_headers)
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
                if observed is not None:
                    await observed.after(None, exc)
                reason = self._retry.error_reason(exc, retry_safe=retry_safe)
                if reason is None or retries >= max_retries or not _replayable(payload):
                    raise
                delay = self._retry.delay(retries)
                failure = exc
            except asyncio.CancelledError as exc:
                # The attempt still ends for the hooks (pairing request and response
                # events); the cancellation wins over whatever a hook raises then.
                if observed is not None:
                    with contextlib.suppress(Exception):
                        await observed.after(None, exc)
                raise
            except Exception as exc:
                # Not an exchange that failed, but one that must not go on (a redirect,
                # an answer too large): never retried.
                if observed is not None:
                    await observed.after(None, exc)
                raise
            else:
                if observed is not None:
                    await observed.after(response)
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
        if tolerant and data == {} and typing.get_origin(model) is list:
            # An empty object where the list should be: it always read as no
            # entries (cattrs iterated its keys), and a tolerant client still does.
            return []
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
                headers=response.headers,
                content=response.body,
                request_headers=response.request_headers,
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
                headers=response.headers,
                content=response.body,
                request_headers=response.request_headers,
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
        with collection_paused(response.body):
            data = decode_envelope(response).result if enveloped else decode_json(response)
            result: _T = self.structure(data, model, response)
            del data  # the JSON goes while paused (see get_page)
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
        with collection_paused(response.body):
            envelope = decode_envelope(response)
            items = self.structure(envelope.result, list[model], response)  # type: ignore[valid-type]
            info = self.structure(envelope.result_info or {}, ResultInfo, response)
            # The JSON goes while paused, so the postponed collection does not scan it.
            del envelope
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
        with collection_paused(response.body):
            envelope = decode_envelope(response)
            entries = envelope.result
            if entries is None:
                # Strict: an error naming the operation; tolerant: no entries.
                entries = self.structure(None, list[Any], response)
            data = {**(envelope.result_info or {}), "result": entries}
            result: _T = self.structure(data, model, response)
            del envelope, entries, data  # the JSON goes while paused (see get_page)
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

    # -- endpoints the SDK lacks ---------------------------------------------------

    async def get(
        self, path: str, *, cast_to: type[_T], options: Mapping[str, Any] | None = None
    ) -> _T:
        """GET ``path`` (relative to ``base_url``) through the usual retries and errors.

        ``cast_to`` says what to return: a model (or ``list[Model]``) is decoded
        from the envelope's ``result``; ``object``/``dict`` return the decoded
        JSON body, ``str`` its text and ``bytes`` its bytes. ``options`` holds
        per-call options: ``headers``, ``params`` (the query), ``timeout``,
        ``max_retries``, ``extra_json`` (merged into the body), or this
        package's ``extra_headers``/``extra_query``/``extra_body``.
        """
        return await self._generic("GET", path, cast_to, NOT_GIVEN, options)

    async def post(
        self,
        path: str,
        *,
        cast_to: type[_T],
        body: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _T:
        """POST ``body`` as JSON to ``path``; see :meth:`get`. Not retried after it was sent."""
        return await self._generic("POST", path, cast_to, _given(body), options)

    async def put(
        self,
        path: str,
        *,
        cast_to: type[_T],
        body: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _T:
        """PUT ``body`` as JSON to ``path``; see :meth:`get`."""
        return await self._generic("PUT", path, cast_to, _given(body), options)

    async def patch(
        self,
        path: str,
        *,
        cast_to: type[_T],
        body: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _T:
        """PATCH ``path`` with ``body`` as JSON; see :meth:`get`. Not retried after it was sent."""
        return await self._generic("PATCH", path, cast_to, _given(body), options)

    async def delete(
        self,
        path: str,
        *,
        cast_to: type[_T],
        body: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _T:
        """DELETE ``path`` (with ``body`` as JSON, if any); see :meth:`get`."""
        return await self._generic("DELETE", path, cast_to, _given(body), options)

    async def _generic(
        self,
        method: str,
        path: str,
        cast_to: type[_T],
        body: Mapping[str, Any] | NotGiven,
        options: Mapping[str, Any] | None,
    ) -> _T:
        relative, query = self._relative_path(path)
        if not isinstance(body, (Mapping, NotGiven)):
            raise TypeError(f"`body` must be a mapping (a JSON object), got {type(body).__name__}")
        per_call = dict(options or {})
        params = per_call.pop("params", None)
        if params is not None:
            if not isinstance(params, Mapping):
                raise TypeError(
                    f"`options['params']` must be a mapping, got {type(params).__name__}"
                )
            query.update(params)
        unknown = sorted(set(per_call) - set(_GENERIC_OPTIONS))
        if unknown:
            raise TypeError(
                f"unsupported option(s): {', '.join(unknown)}; accepted: params, "
                + ", ".join(sorted(_GENERIC_OPTIONS))
            )
        resolved = resolve_options({_GENERIC_OPTIONS[k]: v for k, v in per_call.items()})
        response = await self.request(
            method, relative, query=query, body=body, options=resolved, generic=True
        )
        result: Any
        if cast_to is bytes:
            result = response.body
        elif cast_to is str:
            result = response.body.decode("utf-8", "replace")
        elif cast_to in _JSON_TYPES:
            result = decode_json(response) if response.body else None
            # A 2xx envelope saying it failed is an error here too.
            if isinstance(result, Mapping) and wire_bool(result.get("success")) is False:
                raise status_error(response)
        else:
            result = self.structure(decode_envelope(response).result, cast_to, response)
        return typing.cast(_T, result)

    def _relative_path(self, path: str) -> tuple[str, dict[str, str]]:
        """``path`` below ``base_url``, percent-encoded, and the query it carried.

        A full URL is accepted only under ``base_url``, so the credentials
        never go to another server.
        """
        if not isinstance(path, str) or not path:
            raise TypeError(f"`path` must be a non-empty string, got {path!r}")
        if not path.isprintable():
            # urlsplit would drop a line break silently, changing the target.
            raise ValueError(f"`path` must not contain control characters, got {path!r}")
        parts = urlsplit(path)
        if parts.scheme or parts.netloc:
            if not path.startswith(self.base_url + "/"):
                raise ValueError(
                    f"`path` must be relative to base_url ({self.base_url}), got {path!r}"
                )
            parts = urlsplit(path[len(self.base_url) :])
        # Encoded here: a space or a non-ASCII letter would otherwise reach
        # the request line as it is. Existing escapes stay.
        relative = quote(parts.path, safe="/%:@!$&'()*+,;=~")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return (relative if relative.startswith("/") else "/" + relative), query


def _given(body: Mapping[str, Any] | None) -> Mapping[str, Any] | NotGiven:
    return NOT_GIVEN if body is None else body


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _replayable(payload: bytes | MultipartForm | None) -> bool:
    """Whether the request body can be sent again (a half-read file object cannot)."""
    return not isinstance(payload, MultipartForm) or payload.replayable


ClientCall: TypeAlias = Callable[Concatenate[AsyncCloudflare, _P], Awaitable[_T]]
"""An async function taking an ``AsyncCloudflare`` first: what ``Cloudflare.run`` runs."""

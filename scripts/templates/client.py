"""``Cloudflare``: the synchronous client, a facade over ``AsyncCloudflare``."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from cfaisearch._client import AsyncCloudflare
from cfaisearch._exceptions import ConfigurationError
from cfaisearch._portal import Portal

if TYPE_CHECKING:
    from cfaisearch._client import ClientCall
    from cfaisearch._retry import RetryPolicy
    from cfaisearch._sync.aisearch import AISearch

__all__ = ["Cloudflare"]


def _refuse_session(borrows_session: bool) -> None:
    if borrows_session:
        raise ConfigurationError(
            "the sync Cloudflare client runs on a private event loop, where a ready-made "
            "aiohttp.ClientSession cannot work: pass http_session_factory= (a function "
            "returning a new session) instead of http_client="
        )


_P = ParamSpec("_P")
_T = TypeVar("_T")


class Cloudflare:
    """Synchronous client for Cloudflare's AI Search API.

    Same keywords and methods as :class:`AsyncCloudflare`, called directly.
    Calls run on a private event loop owned by this client (driven by the
    calling thread itself, or by a background thread when the caller already
    runs a loop), so it works from any thread, from several threads at once,
    and inside a running event loop (Jupyter). Close it with :meth:`close` or
    use it as a context manager.

    An ``aiohttp.ClientSession`` belongs to the event loop it was made on, and
    this client's loop is private, so it takes no ready-made session
    (``http_client`` raises :class:`ConfigurationError`): pass
    ``http_session_factory``, a function that returns a new session. It is
    called once, on the private loop, at the first request, and the client
    closes that session in :meth:`close`.
    """

    # scripts/gen_sync.py: AsyncCloudflare's keywords, but http_session.
    def __init__(self, **keywords: Any) -> None:
        self._async = AsyncCloudflare(**keywords)
        _refuse_session(self._async.borrows_session)
        # Resources, pagers, streams and downloads taken from this client hold
        # the portal, so the session closes when the last of them (or the
        # client) is collected, or at interpreter exit, if close() was not called.
        self._portal = Portal(final=self._async.aclose)
        self._owns_portal = True

    @property
    def account_id(self) -> str | None:
        """The default account id for calls that do not pass one."""
        return self._async.account_id

    @property
    def base_url(self) -> str:
        return self._async.base_url

    @property
    def timeout(self) -> float | None:
        return self._async.timeout

    @property
    def max_retries(self) -> int:
        return self._async.max_retries

    @property
    def api_version(self) -> str | None:
        return self._async.api_version

    @property
    def auth_headers(self) -> dict[str, str]:
        """The credential headers this client sends (secrets: never log them)."""
        return self._async.auth_headers

    @property
    def default_headers(self) -> dict[str, str]:
        """The headers sent with every request, besides the credentials."""
        return self._async.default_headers

    @property
    def api_token(self) -> str | None:
        return self._async.api_token

    @property
    def api_key(self) -> str | None:
        return self._async.api_key

    @property
    def api_email(self) -> str | None:
        return self._async.api_email

    @property
    def user_service_key(self) -> str | None:
        return self._async.user_service_key

    def copy(self, **changes: Any) -> Cloudflare:
        """A new client with some settings changed, sharing this one's connection pool
        and event loop; the keywords are those of :meth:`AsyncCloudflare.copy`.

        Closing the copy leaves them open; closing this client closes them
        (and so ends the copy too). A copy that changes a setting of the pool
        itself gets its own pool and loop, closed with it.
        """
        copied = Cloudflare.__new__(Cloudflare)
        copied._async = self._async.copy(**changes)
        _refuse_session(copied._async.borrows_session)
        if copied._async._owns_transport:
            # A pool of its own (its settings changed): then a loop of its own
            # too, so the pool is closed with the copy, even when it is only
            # garbage-collected.
            copied._portal = Portal(final=copied._async.aclose)
            copied._owns_portal = True
        else:
            copied._portal = self._portal
            copied._owns_portal = False
        return copied

    with_options = copy

    @property
    def retry_policy(self) -> RetryPolicy:
        """How long to wait between attempts, and the longest ``Retry-After`` honoured."""
        return self._async.retry_policy

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncCloudflare", "Cloudflare", 1)

    def run(self, fn: ClientCall[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run ``fn(async_client, *args, **kwargs)`` on this client's event loop; return its result.

        ``async_client`` is the ``AsyncCloudflare`` this client drives: same
        settings, same connection pool. Use it for what is easier with the
        async API, such as many requests at once (``asyncio.gather``). It
        belongs to this client's private loop, so use it only inside ``fn``.
        """
        return self._portal.call(fn, self._async, *args, **kwargs)

    @cached_property
    def aisearch(self) -> AISearch:
        """AI Search: instances, namespaces, items, jobs and tokens."""
        from cfaisearch._sync.aisearch import AISearch

        return AISearch(self._portal, self._async.aisearch)

    def get(self, path: str, *, cast_to: type[_T], options: Mapping[str, Any] | None = None) -> _T:
        """GET an endpoint the SDK lacks; see :meth:`AsyncCloudflare.get`."""
        result: _T = self._portal.call(self._async.get, path, cast_to=cast_to, options=options)
        return result

    def post(
        self,
        path: str,
        *,
        cast_to: type[_T],
        body: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _T:
        """POST to an endpoint the SDK lacks; see :meth:`AsyncCloudflare.get`."""
        result: _T = self._portal.call(
            self._async.post, path, cast_to=cast_to, body=body, options=options
        )
        return result

    def put(
        self,
        path: str,
        *,
        cast_to: type[_T],
        body: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _T:
        """PUT to an endpoint the SDK lacks; see :meth:`AsyncCloudflare.get`."""
        result: _T = self._portal.call(
            self._async.put, path, cast_to=cast_to, body=body, options=options
        )
        return result

    def patch(
        self,
        path: str,
        *,
        cast_to: type[_T],
        body: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _T:
        """PATCH an endpoint the SDK lacks; see :meth:`AsyncCloudflare.get`."""
        result: _T = self._portal.call(
            self._async.patch, path, cast_to=cast_to, body=body, options=options
        )
        return result

    def delete(
        self,
        path: str,
        *,
        cast_to: type[_T],
        body: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _T:
        """DELETE on an endpoint the SDK lacks; see :meth:`AsyncCloudflare.get`."""
        result: _T = self._portal.call(
            self._async.delete, path, cast_to=cast_to, body=body, options=options
        )
        return result

    def close(self) -> None:
        """Close the connection pool and the private event loop; idempotent.

        A copy (:meth:`copy`) sharing this client's pool and loop leaves
        them open.
        """
        if self._owns_portal:
            self._portal.close()

    def is_closed(self) -> bool:
        """Whether this client's connection pool (or its loop) is closed."""
        return self._portal.closed or self._async.is_closed()

    def __enter__(self) -> Cloudflare:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

"""Service tokens (``/tokens``): credentials that let AI Search read R2 buckets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import types as _types
from .._options import NOT_GIVEN, NotGiven, RequestOptions, Unpack, resolve_options
from ._base import AsyncResource, body, page_params, required_str, segment

if TYPE_CHECKING:
    from .._pagination import AsyncPaginator
    from ..types.tokens import Token

__all__ = ["AsyncTokens"]


def _token_body(
    cf_api_id: str, cf_api_key: str, name: str, legacy: bool | NotGiven
) -> dict[str, Any]:
    return body(
        cf_api_id=required_str("cf_api_id", cf_api_id),
        cf_api_key=required_str("cf_api_key", cf_api_key, secret=True),
        name=required_str("name", name),
        legacy=legacy,
    )


class AsyncTokens(AsyncResource):
    """Register, replace, list and remove service tokens.

    The secret (``cf_api_key``) is only ever sent: the API never returns it,
    and this SDK never logs request bodies or puts them in errors.
    """

    def _path(self, account_id: str | None, *rest: str) -> str:
        return self._ai_search(account_id, "tokens", *rest)

    async def create(
        self,
        *,
        account_id: str | None = None,
        cf_api_id: str,
        cf_api_key: str,
        name: str,
        legacy: bool | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> Token:
        """Register the Cloudflare API token ``cf_api_id`` (secret ``cf_api_key``) as ``name``.

        Not retried once the request may have reached the server.
        """
        return await self._client.get_result(
            _types.Token,
            "POST",
            self._path(account_id),
            body=_token_body(cf_api_id, cf_api_key, name, legacy),
            options=resolve_options(options),
        )

    async def update(
        self,
        id: str,
        *,
        account_id: str | None = None,
        cf_api_id: str,
        cf_api_key: str,
        name: str,
        legacy: bool | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> Token:
        """Replace token ``id``'s credentials and name.

        Instances using it drop their cached credentials. Not retried once the
        request may have reached the server.
        """
        return await self._client.get_result(
            _types.Token,
            "PUT",
            self._path(account_id, segment("id", id)),
            body=_token_body(cf_api_id, cf_api_key, name, legacy),
            options=resolve_options(options),
            retry_safe=False,
        )

    def list(
        self,
        *,
        account_id: str | None = None,
        page: int | None = None,
        per_page: int | None = None,
        search: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[Token]:
        """List tokens, page by page; ``search`` matches part of a name."""
        return self._client.paginate(
            _types.Token,
            self._path(account_id),
            query={**page_params(page, per_page, per_page_range=None), "search": search},
            options=resolve_options(options),
        )

    async def delete(
        self, id: str, *, account_id: str | None = None, **options: Unpack[RequestOptions]
    ) -> object:
        """Delete token ``id`` (refused while an instance uses it).

        Returns the API's ``result`` as decoded JSON (its shape is not specified).
        """
        return await self._client.get_result(
            Any,
            "DELETE",
            self._path(account_id, segment("id", id)),
            options=resolve_options(options),
        )

    async def read(
        self, id: str, *, account_id: str | None = None, **options: Unpack[RequestOptions]
    ) -> Token:
        """Get token ``id`` (without its secret)."""
        return await self._client.get_result(
            _types.Token,
            "GET",
            self._path(account_id, segment("id", id)),
            options=resolve_options(options),
        )

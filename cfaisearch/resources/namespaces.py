"""Namespaces (``/namespaces``), and searching several instances of one at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, overload

from .. import types as _types
from .._options import NOT_GIVEN, NotGiven, RequestOptions, Unpack, resolve_options
from ._base import AsyncResource, body, page_params, search_body, segment, to_messages

if TYPE_CHECKING:
    from .._pagination import AsyncPaginator
    from .._streaming import AsyncChatCompletionStream
    from ..types.chat import NamespaceChatCompletion
    from ..types.namespaces import Namespace
    from ..types.params import (
        MessageParam,
        NamespaceAISearchOptionsParam,
        NamespacePublicEndpointParam,
    )
    from ..types.search import NamespaceSearchResult
    from .namespace_instances import AsyncNamespaceInstances

__all__ = ["AsyncNamespaces"]


def _with_instance_ids(options: NamespaceAISearchOptionsParam) -> NamespaceAISearchOptionsParam:
    """Namespace queries must name the instances to query."""
    ids = options.get("instance_ids") if isinstance(options, Mapping) else None
    if isinstance(ids, str) or not isinstance(ids, Sequence) or not ids:
        raise ValueError(
            "`aisearch_options` must hold `instance_ids`, a non-empty list of instance ids, "
            f"got {options!r}"
        )
    return options


class AsyncNamespaces(AsyncResource):
    """Groups of instances; every account has a ``default`` namespace."""

    @cached_property
    def instances(self) -> AsyncNamespaceInstances:
        """Instances of a namespace."""
        from .namespace_instances import AsyncNamespaceInstances

        return AsyncNamespaceInstances(self._client)

    def _path(self, account_id: str | None, *rest: str) -> str:
        return self._ai_search(account_id, "namespaces", *rest)

    async def create(
        self,
        *,
        account_id: str | None = None,
        name: str,
        description: str | NotGiven | None = NOT_GIVEN,
        public_endpoint_params: NamespacePublicEndpointParam | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> Namespace:
        """Create namespace ``name``. Not retried once the request may have reached the server."""
        segment("name", name)
        return await self._client.get_result(
            _types.Namespace,
            "POST",
            self._path(account_id),
            body=body(
                name=name, description=description, public_endpoint_params=public_endpoint_params
            ),
            options=resolve_options(options),
        )

    async def update(
        self,
        name: str,
        *,
        account_id: str | None = None,
        description: str | NotGiven | None = NOT_GIVEN,
        public_endpoint_params: NamespacePublicEndpointParam | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> Namespace:
        """Change namespace ``name``.

        ``public_endpoint_params`` is replaced as a whole; None turns the
        public endpoint off (its id is kept).
        """
        return await self._client.get_result(
            _types.Namespace,
            "PUT",
            self._path(account_id, segment("name", name)),
            body=body(description=description, public_endpoint_params=public_endpoint_params),
            options=resolve_options(options),
        )

    def list(
        self,
        *,
        account_id: str | None = None,
        page: int | None = None,
        per_page: int | None = None,
        search: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[Namespace]:
        """List namespaces, page by page; ``search`` matches part of a name or description."""
        return self._client.paginate(
            _types.Namespace,
            self._path(account_id),
            query={**page_params(page, per_page, per_page_range=None), "search": search},
            options=resolve_options(options),
        )

    async def delete(
        self, name: str, *, account_id: str | None = None, **options: Unpack[RequestOptions]
    ) -> object:
        """Delete namespace ``name``, which must hold no instance.

        Returns the API's ``result`` as decoded JSON (its shape is not specified).
        """
        return await self._client.get_result(
            Any,
            "DELETE",
            self._path(account_id, segment("name", name)),
            options=resolve_options(options),
        )

    # BEGIN overloads of chat_completions (scripts/gen_sync.py writes these)
    @overload
    async def chat_completions(
        self,
        name: str,
        *,
        account_id: str | None = None,
        aisearch_options: NamespaceAISearchOptionsParam,
        messages: Iterable[MessageParam],
        model: str | NotGiven = NOT_GIVEN,
        stream: Literal[False] = False,
        **options: Unpack[RequestOptions],
    ) -> NamespaceChatCompletion: ...

    @overload
    async def chat_completions(
        self,
        name: str,
        *,
        account_id: str | None = None,
        aisearch_options: NamespaceAISearchOptionsParam,
        messages: Iterable[MessageParam],
        model: str | NotGiven = NOT_GIVEN,
        stream: Literal[True],
        **options: Unpack[RequestOptions],
    ) -> AsyncChatCompletionStream[NamespaceChatCompletion]: ...

    @overload
    async def chat_completions(
        self,
        name: str,
        *,
        account_id: str | None = None,
        aisearch_options: NamespaceAISearchOptionsParam,
        messages: Iterable[MessageParam],
        model: str | NotGiven = NOT_GIVEN,
        stream: bool,
        **options: Unpack[RequestOptions],
    ) -> NamespaceChatCompletion | AsyncChatCompletionStream[NamespaceChatCompletion]: ...

    # END overloads of chat_completions

    async def chat_completions(
        self,
        name: str,
        *,
        account_id: str | None = None,
        aisearch_options: NamespaceAISearchOptionsParam,
        messages: Iterable[MessageParam],
        model: str | NotGiven = NOT_GIVEN,
        stream: bool = False,
        **options: Unpack[RequestOptions],
    ) -> NamespaceChatCompletion | AsyncChatCompletionStream[NamespaceChatCompletion]:
        """Answer the conversation from the instances ``aisearch_options["instance_ids"]``.

        With ``stream=True`` the answer arrives as it is written: an
        :class:`~cfaisearch.AsyncChatCompletionStream` of typed events (the
        retrieved chunks first, then text deltas). Opening it is retried like
        any read; nothing is retried once events have arrived.
        """
        payload = body(
            aisearch_options=_with_instance_ids(aisearch_options),
            messages=to_messages(messages),
            model=model,
        )
        path = self._path(account_id, segment("name", name), "chat", "completions")
        if stream:
            return await self._client.chat_stream(
                _types.NamespaceChatCompletion, path, body=payload, options=resolve_options(options)
            )
        return await self._client.get_result(
            _types.NamespaceChatCompletion,
            "POST",
            path,
            body=payload,
            options=resolve_options(options),
            retry_safe=True,
            enveloped=False,
        )

    async def read(
        self, name: str, *, account_id: str | None = None, **options: Unpack[RequestOptions]
    ) -> Namespace:
        """Get namespace ``name``."""
        return await self._client.get_result(
            _types.Namespace,
            "GET",
            self._path(account_id, segment("name", name)),
            options=resolve_options(options),
        )

    async def search(
        self,
        name: str,
        *,
        account_id: str | None = None,
        aisearch_options: NamespaceAISearchOptionsParam,
        messages: Iterable[MessageParam] | NotGiven = NOT_GIVEN,
        query: str | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> NamespaceSearchResult:
        """Search the instances ``aisearch_options["instance_ids"]`` with ``query`` or
        ``messages`` (one of); results are merged, and failed instances listed in ``errors``.
        """
        payload = search_body(
            query, messages, aisearch_options=_with_instance_ids(aisearch_options)
        )
        return await self._client.get_result(
            _types.NamespaceSearchResult,
            "POST",
            self._path(account_id, segment("name", name), "search"),
            body=payload,
            options=resolve_options(options),
            retry_safe=True,
        )

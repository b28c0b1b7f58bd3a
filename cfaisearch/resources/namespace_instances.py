"""Instances of a namespace (``/namespaces/{name}/instances``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Literal, overload

from .. import types as _types
from .._options import NOT_GIVEN, NotGiven, RequestOptions, Unpack, resolve_options
from ._base import (
    AsyncResource,
    body,
    body_of,
    new_instance_id,
    notify,
    page_params,
    poll,
    search_body,
    segment,
    to_messages,
)

if TYPE_CHECKING:
    from .._pagination import AsyncPaginator
    from .._streaming import AsyncChatCompletionStream
    from ..types.chat import ChatCompletion
    from ..types.instances import (
        CacheThreshold,
        CacheTTL,
        FusionMethod,
        Instance,
        InstanceListItem,
        InstanceStats,
        InstanceType,
        SyncInterval,
    )
    from ..types.params import (
        AISearchOptionsParam,
        CustomMetadataFieldParam,
        IndexingOptionsParam,
        IndexMethodParam,
        InstanceMetadataParam,
        MessageParam,
        PublicEndpointParam,
        RetrievalOptionsParam,
        SourceParam,
    )
    from ..types.search import SearchResult
    from .items import AsyncItems
    from .namespace_jobs import AsyncNamespaceJobs

__all__ = ["AsyncNamespaceInstances"]

PER_PAGE_RANGE = (1, 100)


class AsyncNamespaceInstances(AsyncResource):
    """AI Search instances of a namespace."""

    @cached_property
    def jobs(self) -> AsyncNamespaceJobs:
        """Indexing jobs of an instance."""
        from .namespace_jobs import AsyncNamespaceJobs

        return AsyncNamespaceJobs(self._client)

    @cached_property
    def items(self) -> AsyncItems:
        """Files and pages of an instance."""
        from .items import AsyncItems

        return AsyncItems(self._client)

    def _path(self, account_id: str | None, name: str, *rest: str) -> str:
        return self._ai_search(account_id, "namespaces", segment("name", name), "instances", *rest)

    async def create(
        self,
        name: str,
        *,
        account_id: str | None = None,
        id: str,
        # BEGIN _InstanceCreateSettings (scripts/gen_sync.py writes these)
        ai_gateway_id: str | NotGiven | None = NOT_GIVEN,
        aisearch_model: str | NotGiven | None = NOT_GIVEN,
        cache: bool | NotGiven = NOT_GIVEN,
        cache_threshold: CacheThreshold | NotGiven = NOT_GIVEN,
        cache_ttl: CacheTTL | NotGiven = NOT_GIVEN,
        chunk: bool | NotGiven = NOT_GIVEN,
        chunk_overlap: int | NotGiven = NOT_GIVEN,
        chunk_size: int | NotGiven = NOT_GIVEN,
        custom_metadata: Iterable[CustomMetadataFieldParam] | NotGiven = NOT_GIVEN,
        embedding_model: str | NotGiven | None = NOT_GIVEN,
        fusion_method: FusionMethod | NotGiven = NOT_GIVEN,
        hybrid_search_enabled: bool | NotGiven = NOT_GIVEN,
        index_method: IndexMethodParam | NotGiven = NOT_GIVEN,
        indexing_options: IndexingOptionsParam | NotGiven | None = NOT_GIVEN,
        max_num_results: int | NotGiven = NOT_GIVEN,
        metadata: InstanceMetadataParam | NotGiven = NOT_GIVEN,
        public_endpoint_params: PublicEndpointParam | NotGiven = NOT_GIVEN,
        reranking: bool | NotGiven = NOT_GIVEN,
        reranking_model: str | NotGiven | None = NOT_GIVEN,
        retrieval_options: RetrievalOptionsParam | NotGiven | None = NOT_GIVEN,
        rewrite_model: str | NotGiven | None = NOT_GIVEN,
        rewrite_query: bool | NotGiven = NOT_GIVEN,
        score_threshold: float | NotGiven = NOT_GIVEN,
        source: str | NotGiven | None = NOT_GIVEN,
        source_params: SourceParam | NotGiven | None = NOT_GIVEN,
        sync_interval: SyncInterval | NotGiven = NOT_GIVEN,
        token_id: str | NotGiven = NOT_GIVEN,
        type: InstanceType | NotGiven | None = NOT_GIVEN,
        # END _InstanceCreateSettings
        **options: Unpack[RequestOptions],
    ) -> Instance:
        """Create instance ``id`` in namespace ``name``.

        Without ``source`` it is an upload-only instance fed through the Items
        API; an http(s) ``source`` is crawled, a bucket name is read from R2.
        Not retried once the request may have reached the server.
        """
        new_instance_id(id)
        payload = body_of(locals(), "name")
        return await self._client.get_result(
            _types.Instance,
            "POST",
            self._path(account_id, name),
            body=payload,
            options=resolve_options(options),
        )

    async def update(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        # BEGIN _InstanceUpdateSettings (scripts/gen_sync.py writes these)
        ai_gateway_id: str | NotGiven | None = NOT_GIVEN,
        aisearch_model: str | NotGiven | None = NOT_GIVEN,
        cache: bool | NotGiven = NOT_GIVEN,
        cache_threshold: CacheThreshold | NotGiven = NOT_GIVEN,
        cache_ttl: CacheTTL | NotGiven = NOT_GIVEN,
        chunk: bool | NotGiven = NOT_GIVEN,
        chunk_overlap: int | NotGiven = NOT_GIVEN,
        chunk_size: int | NotGiven = NOT_GIVEN,
        custom_metadata: Iterable[CustomMetadataFieldParam] | NotGiven = NOT_GIVEN,
        embedding_model: str | NotGiven | None = NOT_GIVEN,
        fusion_method: FusionMethod | NotGiven = NOT_GIVEN,
        index_method: IndexMethodParam | NotGiven = NOT_GIVEN,
        indexing_options: IndexingOptionsParam | NotGiven | None = NOT_GIVEN,
        max_num_results: int | NotGiven = NOT_GIVEN,
        metadata: InstanceMetadataParam | NotGiven = NOT_GIVEN,
        paused: bool | NotGiven = NOT_GIVEN,
        public_endpoint_params: PublicEndpointParam | NotGiven = NOT_GIVEN,
        reranking: bool | NotGiven = NOT_GIVEN,
        reranking_model: str | NotGiven | None = NOT_GIVEN,
        retrieval_options: RetrievalOptionsParam | NotGiven | None = NOT_GIVEN,
        rewrite_model: str | NotGiven | None = NOT_GIVEN,
        rewrite_query: bool | NotGiven = NOT_GIVEN,
        score_threshold: float | NotGiven = NOT_GIVEN,
        source: str | NotGiven | None = NOT_GIVEN,
        source_params: SourceParam | NotGiven | None = NOT_GIVEN,
        summarization: bool | NotGiven = NOT_GIVEN,
        summarization_model: str | NotGiven | None = NOT_GIVEN,
        sync_interval: SyncInterval | NotGiven = NOT_GIVEN,
        system_prompt_aisearch: str | NotGiven | None = NOT_GIVEN,
        system_prompt_index_summarization: str | NotGiven | None = NOT_GIVEN,
        system_prompt_rewrite_query: str | NotGiven | None = NOT_GIVEN,
        token_id: str | NotGiven = NOT_GIVEN,
        # END _InstanceUpdateSettings
        **options: Unpack[RequestOptions],
    ) -> Instance:
        """Change the settings given; the others keep their values.

        ``public_endpoint_params`` is replaced as a whole.
        """
        payload = body_of(locals(), "id", "name")
        return await self._client.get_result(
            _types.Instance,
            "PUT",
            self._path(account_id, name, segment("id", id)),
            body=payload,
            options=resolve_options(options),
        )

    def list(
        self,
        name: str,
        *,
        account_id: str | None = None,
        hostname: str | None = None,
        namespace: str | None = None,
        order_by: Literal["created_at"] | None = None,
        order_by_direction: Literal["asc", "desc"] | None = None,
        page: int | None = None,
        per_page: int | None = None,
        search: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[InstanceListItem]:
        """List the instances of namespace ``name``, page by page (iterate for all).

        ``search`` matches part of the id.
        """
        query = {
            **page_params(page, per_page, per_page_range=PER_PAGE_RANGE),
            "hostname": hostname,
            "namespace": namespace,
            "order_by": order_by,
            "order_by_direction": order_by_direction,
            "search": search,
        }
        return self._client.paginate(
            _types.InstanceListItem,
            self._path(account_id, name),
            query=query,
            options=resolve_options(options),
        )

    async def delete(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        **options: Unpack[RequestOptions],
    ) -> Instance:
        """Delete instance ``id`` with everything it indexed; return its last state."""
        return await self._client.get_result(
            _types.Instance,
            "DELETE",
            self._path(account_id, name, segment("id", id)),
            options=resolve_options(options),
        )

    # BEGIN overloads of chat_completions (scripts/gen_sync.py writes these)
    @overload
    async def chat_completions(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        messages: Iterable[MessageParam],
        aisearch_options: AISearchOptionsParam | NotGiven = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        stream: Literal[False] = False,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion: ...

    @overload
    async def chat_completions(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        messages: Iterable[MessageParam],
        aisearch_options: AISearchOptionsParam | NotGiven = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        stream: Literal[True],
        **options: Unpack[RequestOptions],
    ) -> AsyncChatCompletionStream[ChatCompletion]: ...

    @overload
    async def chat_completions(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        messages: Iterable[MessageParam],
        aisearch_options: AISearchOptionsParam | NotGiven = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        stream: bool,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion | AsyncChatCompletionStream[ChatCompletion]: ...

    # END overloads of chat_completions

    async def chat_completions(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        messages: Iterable[MessageParam],
        aisearch_options: AISearchOptionsParam | NotGiven = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        stream: bool = False,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion | AsyncChatCompletionStream[ChatCompletion]:
        """Answer the conversation from instance ``id``'s content (OpenAI-style).

        With ``stream=True`` the answer arrives as it is written: an
        :class:`~cfaisearch.AsyncChatCompletionStream` of typed events (the
        retrieved chunks first, then text deltas). Opening it is retried like
        any read; nothing is retried once events have arrived.
        """
        payload = body(
            messages=to_messages(messages), aisearch_options=aisearch_options, model=model
        )
        path = self._path(account_id, name, segment("id", id), "chat", "completions")
        if stream:
            return await self._client.chat_stream(
                _types.ChatCompletion, path, body=payload, options=resolve_options(options)
            )
        return await self._client.get_result(
            _types.ChatCompletion,
            "POST",
            path,
            body=payload,
            options=resolve_options(options),
            retry_safe=True,
            enveloped=False,
        )

    async def read(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        **options: Unpack[RequestOptions],
    ) -> Instance:
        """Get instance ``id``."""
        return await self._client.get_result(
            _types.Instance,
            "GET",
            self._path(account_id, name, segment("id", id)),
            options=resolve_options(options),
        )

    async def search(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        aisearch_options: AISearchOptionsParam | NotGiven = NOT_GIVEN,
        messages: Iterable[MessageParam] | NotGiven = NOT_GIVEN,
        query: str | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> SearchResult:
        """Retrieve the chunks of instance ``id`` matching ``query`` or ``messages`` (one of)."""
        payload = search_body(query, messages, aisearch_options=aisearch_options)
        return await self._client.get_result(
            _types.SearchResult,
            "POST",
            self._path(account_id, name, segment("id", id), "search"),
            body=payload,
            options=resolve_options(options),
            retry_safe=True,
        )

    async def stats(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        **options: Unpack[RequestOptions],
    ) -> InstanceStats:
        """Item counts per status and storage figures of instance ``id``."""
        return await self._client.get_result(
            _types.InstanceStats,
            "GET",
            self._path(account_id, name, segment("id", id), "stats"),
            options=resolve_options(options),
        )

    async def wait_until_indexed(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str = "default",
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        on_progress: Callable[[InstanceStats], object] | None = None,
    ) -> InstanceStats:
        """Poll instance ``id``'s stats until no item is queued, running or outdated
        and no job runs.

        A count the stats leave out reads as 0; stats marked ``degraded``
        (counts unknown) never end the wait. ``on_progress`` (a function or a
        coroutine function) gets each stats polled. Gives up after ``timeout``
        seconds, raising :class:`~cfaisearch.WaitTimeoutError` (carrying the
        last ``InstanceStats``, its counts in the message).
        """
        if on_progress is not None and not callable(on_progress):
            raise TypeError(f"`on_progress` must be callable, got {on_progress!r}")
        segment("id", id)
        job_running = False
        # Counts of items whose indexing is not over: the wait ends once all are 0.
        indexing = ("queued", "running", "outdated")

        def settled(stats: InstanceStats) -> bool:
            return not stats.degraded and not any(getattr(stats, status) for status in indexing)

        async def fetch(seconds: float) -> InstanceStats:
            nonlocal job_running
            stats = await self.stats(id, account_id=account_id, name=name, timeout=seconds)
            await notify(on_progress, stats)
            job_running = False
            if settled(stats):  # else the jobs need no look
                jobs = self.jobs.list(id, account_id=account_id, name=name, timeout=seconds)
                async for job in jobs:
                    if not job.ended:
                        job_running = True
                        break
            return stats

        def state(stats: InstanceStats) -> str:
            counts = ", ".join(
                f"{status} {getattr(stats, status) or 0}"
                for status in (*indexing, "completed", "error", "skipped")
            )
            degraded = " (degraded: counts unknown)" if stats.degraded else ""
            return f"still has {counts}{degraded}" + ("; a job is running" if job_running else "")

        return await poll(
            fetch,
            lambda stats: settled(stats) and not job_running,
            poll_interval=poll_interval,
            timeout=timeout,
            request_timeout=self._client.timeout,
            subject=f"instance {id!r} in namespace {name!r}",
            progress=state,
        )

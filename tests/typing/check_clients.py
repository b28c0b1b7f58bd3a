"""Static typing assertions for both clients; checked by mypy (nox -s typecheck), never run."""

from __future__ import annotations

from pathlib import Path

from typing_extensions import assert_type

from cfaisearch import (
    AsyncChatCompletionStream,
    AsyncCloudflare,
    AsyncPaginator,
    ChatCompletionStream,
    Cloudflare,
    Page,
    RequestEvent,
    ResponseEvent,
    SyncPager,
)
from cfaisearch.types import (
    ChatCompletion,
    Instance,
    Item,
    ItemUploadResult,
    Job,
    JobLog,
    MessageParam,
    Namespace,
    NamespaceAISearchOptionsParam,
    NamespaceSearchResult,
    SearchResult,
    Token,
)


async def async_client(client: AsyncCloudflare) -> None:
    jobs = client.aisearch.instances.jobs
    assert_type(await jobs.get("j", id="i"), Job)
    assert_type(await jobs.create("i", description="d"), Job)
    assert_type(await jobs.logs("j", id="i"), list[JobLog])
    assert_type(await jobs.wait("j", id="i"), Job)
    assert_type(jobs.list("i"), AsyncPaginator[Job])
    assert_type(await jobs.list("i"), Page[Job])
    async for job in jobs.list("i"):
        assert_type(job, Job)


async def async_groups(client: AsyncCloudflare) -> None:
    ai = client.aisearch
    messages: list[MessageParam] = [{"role": "user", "content": "q"}]
    assert_type(await ai.instances.read("i"), Instance)
    assert_type(ai.namespaces.list(), AsyncPaginator[Namespace])
    assert_type(await ai.namespaces.list(), Page[Namespace])
    items = ai.namespaces.instances.items
    assert_type(await items.get("it", name="default", id="i"), Item)
    assert_type(
        await items.upload("i", name="default", file={"file": Path("a.md")}), ItemUploadResult
    )
    assert_type(await items.wait("it", name="default", id="i"), Item)
    assert_type(await ai.tokens.create(cf_api_id="a", cf_api_key="k", name="n"), Token)
    assert_type(await ai.instances.search("i", query="q"), SearchResult)
    options: NamespaceAISearchOptionsParam = {"instance_ids": ["i"]}
    assert_type(
        await ai.namespaces.search("default", query="q", aisearch_options=options),
        NamespaceSearchResult,
    )
    assert_type(await ai.instances.chat_completions("i", messages=messages), ChatCompletion)
    assert_type(
        await ai.instances.chat_completions("i", messages=messages, stream=True),
        AsyncChatCompletionStream[ChatCompletion],
    )


def sync_client(client: Cloudflare) -> None:
    jobs = client.aisearch.instances.jobs
    assert_type(jobs.get("j", id="i"), Job)
    assert_type(jobs.logs("j", id="i", timeout=5), list[JobLog])
    assert_type(jobs.list("i"), SyncPager[Job])
    for job in jobs.list("i"):
        assert_type(job, Job)


def sync_groups(client: Cloudflare) -> None:
    ai = client.aisearch
    messages: list[MessageParam] = [{"role": "user", "content": "q"}]
    assert_type(ai.instances.read("i"), Instance)
    assert_type(ai.namespaces.list(), SyncPager[Namespace])
    items = ai.namespaces.instances.items
    assert_type(items.get("it", name="default", id="i"), Item)
    assert_type(items.upload("i", name="default", file={"file": b"x"}), ItemUploadResult)
    assert_type(ai.tokens.create(cf_api_id="a", cf_api_key="k", name="n"), Token)
    assert_type(ai.instances.search("i", query="q"), SearchResult)
    assert_type(ai.instances.chat_completions("i", messages=messages), ChatCompletion)
    assert_type(
        ai.instances.chat_completions("i", messages=messages, stream=True),
        ChatCompletionStream[ChatCompletion],
    )


def hooks_typed_for_their_event() -> None:
    """A hook annotated with its own event type is accepted under either key, sync or async."""

    def on_request(event: RequestEvent) -> None:
        assert_type(event.attempt, int)

    async def on_response(event: ResponseEvent) -> None:
        assert_type(event.status_code, int | None)
        assert_type(event.elapsed, float)

    Cloudflare(event_hooks={"request": [on_request], "response": [on_response]})
    AsyncCloudflare(event_hooks={"response": (on_response,)}, tracing=True)

"""Official-SDK user code that breaks, or behaves differently, after swapping the import.

Each test is a snippet written for ``cloudflare==5.9.0``'s ``client.aisearch.*``,
run with cfaisearch against the emulator; the expectation is what the official
SDK did with the same snippet against the same emulator. None of these
differences is listed in docs/migrating.md. They are expected failures until
the library changes or the migration guide lists them (then drop the test or
move the row into the compat suite's allowed differences).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cfaisearch
from cfaisearch.emulator import Emulator

NOTE = b"# hello\nworld\n"


def broken(reason: str) -> pytest.MarkDecorator:
    """A break found by brk8: it must keep failing until it is fixed or documented."""
    return pytest.mark.xfail(strict=True, reason=reason)


@pytest.fixture
def aisearch_emulator() -> Iterator[Emulator]:
    """The emulator as the compat runner starts it: no background syncs."""
    with Emulator(initial_sync=False, scheduler_enabled=False) as emulator:
        yield emulator


@pytest.fixture
def client(aisearch_emulator: Emulator) -> Iterator[Any]:
    """A client built the way official-SDK code builds one (``Any``: users probe the surface)."""
    with cfaisearch.Cloudflare(
        api_token=aisearch_emulator.api_token,
        base_url=aisearch_emulator.base_url,
        max_retries=0,
    ) as made:
        yield made


@pytest.fixture
def account(aisearch_emulator: Emulator) -> str:
    return aisearch_emulator.account_id


@pytest.fixture
def item_id(client: Any, account: str) -> str:
    """An indexed note in instance ``kb`` of namespace ``default``."""
    client.aisearch.namespaces.instances.create("default", account_id=account, id="kb")
    uploaded = client.aisearch.namespaces.instances.items.upload(
        "kb",
        account_id=account,
        name="default",
        file={"file": ("note.md", NOTE, "text/markdown"), "wait_for_completion": True},
    )
    item: str = uploaded.id
    return item


def chat(client: Any, account: str, **params: Any) -> Any:
    return client.aisearch.namespaces.instances.chat_completions(
        "kb",
        account_id=account,
        name="default",
        messages=[{"role": "user", "content": "hello"}],
        **params,
    )


@broken("official: stream=True returns the SSE body as one str; ours a ChatCompletionStream")
def test_streamed_chat_completions_return_the_event_stream_text(
    client: Any, account: str, item_id: str
) -> None:
    streamed = chat(client, account, stream=True)
    if not isinstance(streamed, str):
        streamed.close()  # ours is an open response: closed here, so no ResourceWarning leaks
    assert isinstance(streamed, str)
    assert streamed.splitlines()[0] == "event: chunks"


@broken("official: usage is an undeclared extra, so a dict; ours a ChatUsage model")
def test_chat_usage_is_a_dict(client: Any, account: str, item_id: str) -> None:
    usage = chat(client, account).usage
    assert usage["total_tokens"] == usage.get("prompt_tokens") + usage.get("completion_tokens")


@broken("official: download() returns a BinaryAPIResponse with text()/json(); ours has neither")
def test_a_downloaded_item_reads_as_text(client: Any, account: str, item_id: str) -> None:
    items = client.aisearch.namespaces.instances.items
    downloaded = items.download(item_id, account_id=account, name="default", id="kb")
    assert downloaded.text() == NOTE.decode()


@broken("official: a streamed download has stream_to_file(); ours has not")
def test_a_streamed_download_goes_to_a_file(
    client: Any, account: str, item_id: str, tmp_path: Path
) -> None:
    items = client.aisearch.namespaces.instances.items
    target = tmp_path / "note.md"
    with items.with_streaming_response.download(
        item_id, account_id=account, name="default", id="kb"
    ) as response:
        response.stream_to_file(target)
    assert target.read_bytes() == NOTE


@broken("official: from cloudflare.types.aisearch import ...; ours has no such module")
def test_the_official_types_path_imports() -> None:
    types = importlib.import_module("cfaisearch.types.aisearch")
    assert hasattr(types, "NamespaceReadResponse")


@broken("official README: model_fields_set and model_extra tell null from absent, and extras")
def test_models_tell_null_from_absent(client: Any, account: str) -> None:
    namespace = client.aisearch.namespaces.read("default", account_id=account)
    assert "description" in namespace.model_fields_set
    assert namespace.model_extra == {}


@broken("official: the omit / not_given sentinels (and Omit) are top-level names")
def test_the_omit_sentinels_are_exported(client: Any, account: str) -> None:
    sdk: Any = cfaisearch
    updated = client.aisearch.namespaces.update("default", account_id=account, description=sdk.omit)
    assert updated.name == "default"
    assert sdk.not_given is sdk.NOT_GIVEN
    assert isinstance(sdk.omit, sdk.Omit)


@broken("official: DefaultAioHttpClient, file_from_path, DEFAULT_MAX_RETRIES are top-level")
def test_the_official_helper_names_are_exported() -> None:
    missing = [
        name
        for name in ("DefaultAioHttpClient", "file_from_path", "DEFAULT_MAX_RETRIES")
        if not hasattr(cfaisearch, name)
    ]
    assert missing == []


@broken("official: a client builds without credentials and fails at its first request")
def test_a_client_without_credentials_builds(
    aisearch_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("API_TOKEN", "API_KEY", "EMAIL", "API_USER_SERVICE_KEY"):
        monkeypatch.delenv(f"CLOUDFLARE_{variable}", raising=False)
    with (
        cfaisearch.Cloudflare(base_url=aisearch_emulator.base_url) as made,
        pytest.raises(TypeError),
    ):
        made.aisearch.namespaces.list(account_id=aisearch_emulator.account_id)


@broken("official: models are mutable pydantic models with model_copy() and dict(model)")
def test_models_copy_with_changes(client: Any, account: str) -> None:
    namespace = client.aisearch.namespaces.read("default", account_id=account)
    changed = namespace.model_copy(update={"description": "changed"})
    assert changed.description == "changed"
    assert dict(namespace)["name"] == "default"


@broken("official: items.chunks()/logs() return a list; ours a page object")
def test_item_chunks_are_a_list(client: Any, account: str, item_id: str) -> None:
    items = client.aisearch.namespaces.instances.items
    chunks = items.chunks(item_id, account_id=account, name="default", id="kb")
    assert isinstance(chunks, list)


@broken("official: a page is a model too (to_dict(), success); ours a SyncPager")
def test_a_page_is_a_model(client: Any, account: str) -> None:
    page = client.aisearch.namespaces.list(account_id=account)
    assert sorted(page.to_dict()) == ["errors", "messages", "result", "result_info", "success"]


@broken("official: the client has is_closed()")
def test_the_client_says_whether_it_is_closed(client: Any) -> None:
    assert client.is_closed() is False


@broken("official: a closed client's call raises APIConnectionError; ours a bare CloudflareError")
def test_a_call_on_a_closed_client_is_a_connection_error(client: Any, account: str) -> None:
    client.close()
    with pytest.raises(cfaisearch.APIConnectionError):
        client.aisearch.namespaces.read("default", account_id=account)


@broken("official: to_dict()/to_json() keep the official models' field order (created_at first)")
def test_to_json_keeps_the_official_field_order(client: Any, account: str) -> None:
    namespace = client.aisearch.namespaces.read("default", account_id=account)
    assert next(iter(namespace.to_dict())) == "created_at"


@broken("official: Iterable[...] params take any iterable; ours fails to encode a generator")
def test_an_iterable_parameter_takes_a_generator(client: Any, account: str) -> None:
    fields = ("team", "year")
    created = client.aisearch.namespaces.instances.create(
        "default",
        account_id=account,
        id="kb",
        custom_metadata=({"data_type": "text", "field_name": field} for field in fields),
    )
    assert created.id == "kb"


@broken("official: err.request is an httpx.Request, its url an httpx.URL with .path; ours a str")
def test_an_error_request_url_has_a_path(client: Any, account: str) -> None:
    with pytest.raises(cfaisearch.NotFoundError) as caught:
        client.aisearch.namespaces.read("nope", account_id=account)
    request: Any = caught.value.request
    assert request.url.path.endswith("/ai-search/namespaces/nope")

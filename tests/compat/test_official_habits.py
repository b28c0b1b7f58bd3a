"""Habits of official-SDK code that must survive the import swap (issue 8).

Each test is a snippet written for ``cloudflare==5.9.0``'s ``client.aisearch.*``
(found by a hostile migrating user), run with cfaisearch against the emulator.
Most now behave as with the official SDK; where cfaisearch is deliberately
different, the test asserts cfaisearch's behaviour, which docs/migrating.md
lists (its "Beyond what the suite observes" section).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import cfaisearch
from cfaisearch.emulator import Emulator

NOTE = b"# hello\nworld\n"


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
async def async_client(aisearch_emulator: Emulator) -> AsyncIterator[Any]:
    async with cfaisearch.AsyncCloudflare(
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


# -- 1. the official types' import paths ----------------------------------------------


def test_the_official_types_path_imports_our_models(client: Any, account: str) -> None:
    """1: ``cloudflare.types.aisearch...`` names alias the models our calls return."""
    from cfaisearch.types.aisearch import NamespaceReadResponse
    from cfaisearch.types.aisearch.namespaces import InstanceReadResponse
    from cfaisearch.types.aisearch.namespaces.instances import ItemGetResponse, JobLogsResponse

    namespace = client.aisearch.namespaces.read("default", account_id=account)
    assert isinstance(namespace, NamespaceReadResponse)
    assert InstanceReadResponse is cfaisearch.types.Instance
    assert ItemGetResponse is cfaisearch.types.Item
    assert JobLogsResponse == list[cfaisearch.types.JobLog]
    with pytest.raises(AttributeError, match="NoSuchResponse"):
        importlib.import_module("cfaisearch.types.aisearch").NoSuchResponse  # noqa: B018


def test_the_alias_tables_name_what_the_official_packages_export() -> None:
    """1: every official ``*Response`` of these packages has its alias, and no other name."""
    pytest.importorskip("cloudflare")
    for package in ("", ".instances", ".namespaces", ".namespaces.instances"):
        official = importlib.import_module(f"cloudflare.types.aisearch{package}")
        ours = importlib.import_module(f"cfaisearch.types.aisearch{package}")
        responses = {name for name in vars(official) if name.endswith("Response")}
        assert set(ours.__all__) == responses, package


# -- 2, 3. chat ----------------------------------------------------------------------


def test_streamed_chat_completions_are_a_typed_stream(
    client: Any, account: str, item_id: str
) -> None:
    """2 (documented): ``stream=True`` gives a typed event stream, not the SSE body as a str."""
    with chat(client, account, stream=True) as streamed:
        assert isinstance(streamed, cfaisearch.ChatCompletionStream)
        events = list(streamed)
    # The official str began with ``event: chunks``: here the chunks come first, typed.
    assert isinstance(events[0], cfaisearch.RetrievedChunks)
    assert isinstance(events[-1], cfaisearch.ChatCompletionChunk)


def test_chat_usage_reads_as_a_dict(client: Any, account: str, item_id: str) -> None:
    """3: the official ``usage`` is a dict; ours reads as one."""
    usage = chat(client, account).usage
    assert usage["total_tokens"] == usage.get("prompt_tokens") + usage.get("completion_tokens")
    assert dict(usage) == usage.to_dict()
    assert "total_tokens" in usage
    assert usage.get("no-such-count", 0) == 0


# -- 4, 5. downloads -----------------------------------------------------------------


def test_a_downloaded_item_reads_as_text_json_and_lines(
    client: Any, account: str, item_id: str, aisearch_emulator: Emulator
) -> None:
    """4: ``BinaryResponse`` has the official reads and request facts."""
    items = client.aisearch.namespaces.instances.items

    def download() -> Any:
        return items.download(item_id, account_id=account, name="default", id="kb")

    with download() as downloaded:
        assert downloaded.text() == NOTE.decode()
        assert downloaded.url.startswith(aisearch_emulator.base_url)
        assert downloaded.url.endswith(f"/items/{item_id}/download")
        assert downloaded.http_request.method == "GET"
    with download() as downloaded:
        assert list(downloaded.iter_lines()) == ["# hello", "world"]
    with download() as downloaded:
        assert "".join(downloaded.iter_text(3)) == NOTE.decode()
    with download() as downloaded, pytest.raises(ValueError, match="JSON value"):
        downloaded.json()  # markdown is not JSON


async def test_an_async_download_reads_as_text_and_lines(
    async_client: Any, client: Any, account: str, item_id: str, tmp_path: Path
) -> None:
    """4, 5: the async download has the same reads, and ``stream_to_file``."""
    items = async_client.aisearch.namespaces.instances.items
    async with await items.download(item_id, account_id=account, name="default", id="kb") as got:
        assert await got.text() == NOTE.decode()
    async with await items.download(item_id, account_id=account, name="default", id="kb") as got:
        assert [line async for line in got.iter_lines()] == ["# hello", "world"]
    async with await items.download(item_id, account_id=account, name="default", id="kb") as got:
        await got.stream_to_file(tmp_path / "a.md")
    async with items.with_streaming_response.download(
        item_id, account_id=account, name="default", id="kb"
    ) as response:
        await response.stream_to_file(tmp_path / "b.md")
    assert (tmp_path / "a.md").read_bytes() == (tmp_path / "b.md").read_bytes() == NOTE


def test_a_streamed_download_goes_to_a_file(
    client: Any, account: str, item_id: str, tmp_path: Path
) -> None:
    """5: ``stream_to_file`` replaces the file only once the whole body arrived."""
    items = client.aisearch.namespaces.instances.items
    target = tmp_path / "note.md"
    target.write_bytes(b"old")
    with items.with_streaming_response.download(
        item_id, account_id=account, name="default", id="kb"
    ) as response:
        response.stream_to_file(target)
    assert target.read_bytes() == NOTE
    assert [path.name for path in tmp_path.iterdir()] == ["note.md"]  # no temporary left


def test_a_raw_json_body_goes_to_a_file(client: Any, account: str, tmp_path: Path) -> None:
    """5: a body already read (a JSON answer) is written the same way."""
    raw = client.aisearch.namespaces.with_raw_response.read("default", account_id=account)
    raw.stream_to_file(tmp_path / "namespace.json")
    assert (tmp_path / "namespace.json").read_bytes() == raw.read()


# -- 6, 9, 17. models ----------------------------------------------------------------


def test_models_tell_null_from_absent(client: Any, account: str) -> None:
    """6: ``model_fields_set`` counts explicit nulls; ``model_extra`` holds unknown keys."""
    namespace = client.aisearch.namespaces.read("default", account_id=account)
    assert "description" in namespace.model_fields_set
    assert namespace.model_extra == {}
    assert list(type(namespace).model_fields)[:2] == ["created_at", "name"]
    decoded = cfaisearch.types.Namespace.model_validate({"name": "n", "shiny": 1})
    assert decoded.model_fields_set == {"name"}
    assert decoded.model_extra == {"shiny": 1}


def test_models_copy_with_changes_but_stay_frozen(client: Any, account: str) -> None:
    """9: ``model_copy``/``model_construct`` work; ``dict(m)`` and assignment do not (frozen)."""
    namespace = client.aisearch.namespaces.read("default", account_id=account)
    changed = namespace.model_copy(update={"description": "changed"})
    assert changed.description == "changed"
    assert changed.to_dict()["name"] == "default"
    assert namespace.model_copy(deep=True) == namespace
    built = type(namespace).model_construct(name="made", shiny=True)
    assert built.to_dict() == {"name": "made", "shiny": True}
    with pytest.raises(TypeError):
        dict(namespace)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        namespace.description = "changed"


def test_to_dict_keeps_the_official_field_order(client: Any, account: str) -> None:
    """17: keys come in the official models' declaration order (snapshots keep matching)."""
    namespace = client.aisearch.namespaces.read("default", account_id=account)
    assert next(iter(namespace.to_dict())) == "created_at"


def test_every_aliased_model_declares_the_official_field_order() -> None:
    """17: for each official response name, our model's fields come in its order."""
    pytest.importorskip("cloudflare")
    from cfaisearch._wire import wire_name

    for package in ("", ".instances", ".namespaces", ".namespaces.instances"):
        official = importlib.import_module(f"cloudflare.types.aisearch{package}")
        ours = importlib.import_module(f"cfaisearch.types.aisearch{package}")
        for name in ours.__all__:
            model: Any = getattr(ours, name)
            theirs: Any = getattr(official, name)
            if not hasattr(theirs, "model_fields"):
                continue  # a list of models
            mine = [wire_name(field) for field in attrs.fields(model)]
            wanted = [field.alias or key for key, field in theirs.model_fields.items()]
            assert [key for key in mine if key in wanted] == [
                key for key in wanted if key in mine
            ], name


# -- 7, 11. top-level names ----------------------------------------------------------


def test_the_omit_sentinels_are_exported(client: Any, account: str) -> None:
    """7: ``omit``/``not_given``/``Omit``/``NotGiven`` leave a parameter out."""
    updated = client.aisearch.namespaces.update(
        "default", account_id=account, description=cfaisearch.omit
    )
    assert updated.name == "default"
    assert cfaisearch.not_given is cfaisearch.NOT_GIVEN
    assert isinstance(cfaisearch.omit, cfaisearch.Omit)
    assert isinstance(cfaisearch.omit, cfaisearch.NotGiven)


def test_the_official_helper_names_are_exported(
    client: Any, account: str, tmp_path: Path, item_id: str
) -> None:
    """11: ``file_from_path``, ``DEFAULT_MAX_RETRIES``; no ``DefaultAioHttpClient`` (documented)."""
    assert client.copy(max_retries=cfaisearch.DEFAULT_MAX_RETRIES).max_retries == 2
    source = tmp_path / "other.md"
    source.write_bytes(NOTE)
    uploaded = client.aisearch.namespaces.instances.items.upload(
        "kb", account_id=account, name="default", file={"file": cfaisearch.file_from_path(source)}
    )
    assert uploaded.key == "other.md"
    assert not hasattr(cfaisearch, "DefaultAioHttpClient")


# -- 8, 15, 16. the client's life ----------------------------------------------------


def test_a_client_without_credentials_builds_and_fails_at_its_first_request(
    aisearch_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """8: built without credentials; the first request raises (ConfigurationError, documented)."""
    for variable in ("API_TOKEN", "API_KEY", "EMAIL", "API_USER_SERVICE_KEY"):
        monkeypatch.delenv(f"CLOUDFLARE_{variable}", raising=False)
    with (
        cfaisearch.Cloudflare(base_url=aisearch_emulator.base_url) as made,
        pytest.raises(cfaisearch.ConfigurationError, match="CLOUDFLARE_API_TOKEN"),
    ):
        made.aisearch.namespaces.list(account_id=aisearch_emulator.account_id)


def test_the_client_says_whether_it_is_closed(client: Any) -> None:
    """16: ``is_closed()``, on a client and its copies."""
    copied = client.copy()
    assert client.is_closed() is False
    copied.close()
    assert client.is_closed() is False
    client.close()
    assert client.is_closed() is True


async def test_the_async_client_says_whether_it_is_closed(async_client: Any) -> None:
    """16: ``is_closed()`` on the async client."""
    assert async_client.is_closed() is False
    await async_client.close()
    assert async_client.is_closed() is True


def test_a_call_on_a_closed_client_is_a_connection_error(client: Any, account: str) -> None:
    """15: a closed client's call raises ``APIConnectionError``, as officially."""
    client.close()
    with pytest.raises(cfaisearch.APIConnectionError, match="closed"):
        client.aisearch.namespaces.read("default", account_id=account)


async def test_a_call_on_a_closed_async_client_is_a_connection_error(
    async_client: Any, account: str
) -> None:
    """15: the async client too, naming the request."""
    await async_client.close()
    with pytest.raises(cfaisearch.APIConnectionError, match="closed") as caught:
        await async_client.aisearch.namespaces.read("default", account_id=account)
    assert caught.value.request.url.path.endswith("/ai-search/namespaces/default")


# -- 10. iterable parameters ---------------------------------------------------------


def test_an_iterable_parameter_takes_a_generator(client: Any, account: str) -> None:
    """10: any iterable is sent as a JSON array; nothing is dropped."""
    fields = ("team", "year")
    created = client.aisearch.namespaces.instances.create(
        "default",
        account_id=account,
        id="kb",
        custom_metadata=({"data_type": "text", "field_name": field} for field in fields),
    )
    assert created.id == "kb"
    assert [field.field_name for field in created.custom_metadata] == list(fields)


# -- 12, 14. pages -------------------------------------------------------------------


def test_item_chunks_are_a_walkable_page(client: Any, account: str, item_id: str) -> None:
    """12 (documented): ``chunks()``/``logs()`` give a page; ``len`` and indexing work."""
    items = client.aisearch.namespaces.instances.items
    chunks = items.chunks(item_id, account_id=account, name="default", id="kb")
    assert not isinstance(chunks, list)
    assert len(chunks) == len(list(chunks)) > 0
    assert chunks[0] == next(iter(chunks))


def test_a_page_dumps_like_a_model(client: Any, account: str) -> None:
    """14: ``to_dict()`` and ``success``; the envelope's errors/messages are not kept."""
    page = client.aisearch.namespaces.list(account_id=account)
    dumped = page.to_dict()
    assert sorted(dumped) == ["result", "result_info", "success"]
    assert dumped["result"][0] == page.result[0].to_dict()
    assert page.success is True


# -- 13. errors ----------------------------------------------------------------------


def test_an_error_request_url_has_its_parts(client: Any, account: str) -> None:
    """13: ``err.request.url`` is a str with ``.path``/``.host``; ``raise_for_status()``."""
    with pytest.raises(cfaisearch.NotFoundError) as caught:
        client.aisearch.namespaces.read("nope", account_id=account, extra_query={"q": "1"})
    url: Any = caught.value.request.url
    assert url.path.endswith("/ai-search/namespaces/nope")
    assert url.host == "127.0.0.1"
    assert url.scheme == "http"
    assert url.query == b"q=1"
    assert isinstance(url, str)
    with pytest.raises(cfaisearch.NotFoundError) as again:
        caught.value.response.raise_for_status()
    assert again.value is caught.value


# -- the tester's other findings (documented) ----------------------------------------


def test_parameters_are_checked_before_sending(client: Any, account: str) -> None:
    """Documented: a ``str`` for an ``int`` parameter is refused, naming it."""
    with pytest.raises(TypeError, match="per_page"):
        client.aisearch.namespaces.list(account_id=account, per_page="2")


def test_default_headers_leave_the_credentials_to_auth_headers(
    client: Any, aisearch_emulator: Emulator
) -> None:
    """Documented: ``default_headers`` lacks the credentials; ``auth_headers`` has them."""
    assert "Authorization" not in client.default_headers
    assert client.auth_headers == {"Authorization": f"Bearer {aisearch_emulator.api_token}"}


def test_a_missing_account_id_is_a_configuration_error(client: Any) -> None:
    """Documented: raised before any request, naming the keyword and the variable."""
    with pytest.raises(cfaisearch.ConfigurationError, match="CLOUDFLARE_ACCOUNT_ID"):
        client.aisearch.namespaces.list()


def test_an_unpickled_error_response_still_raises_for_its_status(client: Any, account: str) -> None:
    """13: without its error (unpickled), ``raise_for_status()`` raises an ``APIStatusError``."""
    import pickle

    with pytest.raises(cfaisearch.NotFoundError) as caught:
        client.aisearch.namespaces.read("nope", account_id=account)
    response = pickle.loads(pickle.dumps(caught.value.response))
    with pytest.raises(cfaisearch.APIStatusError, match="404") as again:
        response.raise_for_status()
    assert again.value.status_code == 404
    assert isinstance(response.url.port, int)


def test_a_copied_model_keeps_what_it_received() -> None:
    """9: explicit nulls and unknown keys survive ``model_copy`` (and a deep one)."""
    decoded = cfaisearch.types.Namespace.model_validate(
        {"name": "n", "description": None, "shiny": [1]}
    )
    for copied in (decoded.model_copy(), decoded.model_copy(deep=True)):
        assert copied.to_dict() == {"name": "n", "description": None, "shiny": [1]}
    assert decoded.model_copy(deep=True).model_extra["shiny"] is not decoded.model_extra["shiny"]


def test_nested_iterables_in_a_body_become_arrays() -> None:
    """10: iterables at any depth are arrays; a non-finite number in one is still refused."""
    from cfaisearch._options import json_body

    assert json_body({"a": (x for x in (1, 2)), "b": {"c": iter([{"d": "e"}])}}) == (
        b'{"a":[1,2],"b":{"c":[{"d":"e"}]}}'
    )
    with pytest.raises(ValueError, match=r"a\[0\]"):
        json_body({"a": (x for x in [float("nan")])})

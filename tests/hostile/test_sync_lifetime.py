"""Rule 11: a sync client lives as long as anything taken from it.

Nothing here keeps the ``Cloudflare`` object itself: each test lets it go and
runs the garbage collector before using what was taken from it. (That a client
nothing references is closed when collected is tested in test_sync_facade.py.)
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from cfaisearch import Cloudflare
from cfaisearch.emulator import Emulator, EmulatorConfig
from cfaisearch.testing import TEST_SETTINGS, client_for, seed_documents
from cfaisearch.types import MessageParam

QUESTION: list[MessageParam] = [{"role": "user", "content": "How do retries back off?"}]
DOCUMENT = b"# Retries\n\nRetries back off exponentially, with jitter."


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(**TEST_SETTINGS)) as running:
        with client_for(running) as client:
            client.aisearch.namespaces.create(name="second")
            seed_documents(client, {"retries.md": DOCUMENT})
        yield running


def temporary_client(emulator: Emulator) -> Cloudflare:
    """A client the caller does not keep (as in ``Cloudflare().aisearch...``)."""
    return client_for(emulator)


def test_a_call_on_a_temporary_client_works(emulator: Emulator) -> None:
    """Rule 11: ``Cloudflare().aisearch.namespaces.read(...)`` in one expression."""
    assert temporary_client(emulator).aisearch.namespaces.read("default").name == "default"


def test_a_kept_resource_keeps_the_client_until_it_goes(emulator: Emulator) -> None:
    """Rule 11: a resource outlives its client object; dropping it closes the loop and pool."""
    namespaces = temporary_client(emulator).aisearch.namespaces
    gc.collect()
    assert namespaces.read("default").name == "default"
    assert namespaces.instances.read("docs", name="default").id == "docs"
    loop = namespaces._portal._engine._loop
    session = namespaces._async._client._transport._session
    assert loop is not None
    assert session is not None
    del namespaces
    gc.collect()
    assert loop.is_closed()
    assert session.closed


def test_a_pager_keeps_the_client(emulator: Emulator) -> None:
    """Rule 11: later pages are fetched after the client and resource are gone."""
    pager = temporary_client(emulator).aisearch.namespaces.list(per_page=1)
    gc.collect()
    assert sorted(namespace.name for namespace in pager) == ["default", "second"]
    pages = iter(temporary_client(emulator).aisearch.namespaces.list(per_page=1))
    gc.collect()
    assert len(list(pages)) == 2


def test_a_stream_keeps_the_client(emulator: Emulator) -> None:
    """Rule 11: a chat stream is read after the client and resource are gone."""
    stream = temporary_client(emulator).aisearch.namespaces.instances.chat_completions(
        "docs", name="default", messages=QUESTION, stream=True
    )
    gc.collect()
    with stream:
        assert "".join(stream.text_deltas())


def test_a_download_keeps_the_client(emulator: Emulator) -> None:
    """Rule 11: a download's body is read after the client and resource are gone."""
    items = temporary_client(emulator).aisearch.namespaces.instances.items
    (item,) = items.list("docs", name="default")
    download = items.download(item.id, name="default", id="docs")
    del items
    gc.collect()
    assert download.read() == DOCUMENT

"""The garbage collector pauses while a large body decodes, and always comes back as it was.

The collector is process-wide state: the pause must survive nesting, other
threads decoding at the same time, and exceptions, and must leave alone a
collector the application turned off itself.
"""

from __future__ import annotations

import gc
import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch import _client
from cfaisearch._envelope import LARGE_BODY, collection_paused
from tests.support.clients import ACCOUNT, BASE, envelope, make_async

LARGE = b" " * LARGE_BODY
SMALL = b" " * (LARGE_BODY - 1)
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def collector() -> Iterator[None]:
    """Each test starts with automatic collection on and restores what it changed."""
    enabled, threshold = gc.isenabled(), gc.get_threshold()
    gc.enable()
    yield
    gc.set_threshold(*threshold)
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_a_large_body_decodes_with_the_collector_paused() -> None:
    with collection_paused(LARGE):
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_small_body_leaves_the_collector_running() -> None:
    with collection_paused(SMALL):
        assert gc.isenabled()
    assert gc.isenabled()


def test_an_exception_during_the_decode_restores_the_collector() -> None:
    with pytest.raises(ValueError, match="malformed"), collection_paused(LARGE):
        raise ValueError("a malformed body")
    assert gc.isenabled()


def test_a_nested_decode_does_not_resume_collection_early() -> None:
    with collection_paused(LARGE):
        with collection_paused(LARGE):
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_the_application_disabled_stays_disabled() -> None:
    gc.disable()
    with collection_paused(LARGE):
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_zero_threshold_is_left_alone() -> None:
    """``gc.set_threshold(0)`` also turns automatic collection off; nothing is toggled."""
    gc.set_threshold(0)
    with collection_paused(LARGE):
        assert gc.isenabled()
    assert gc.isenabled()
    assert gc.get_threshold()[0] == 0


def test_concurrent_decodes_resume_collection_only_when_the_last_one_ends() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with collection_paused(LARGE):
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with collection_paused(LARGE):
            second_in.set()
            first_out.wait(5)
            seen["after the first ended"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"after the first ended": False}
    assert gc.isenabled()


def test_many_threads_with_failures_leave_the_collector_enabled() -> None:
    def decode(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(200):
            try:
                with collection_paused(LARGE):
                    if rng.random() < 0.3:
                        raise ValueError
            except ValueError:
                pass

    threads = [threading.Thread(target=decode, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert gc.isenabled()


def _large_page() -> bytes:
    item = json.loads((FIXTURES / "instance_list_item.json").read_text())
    items = [{**item, "id": f"docs-{n:05d}"} for n in range(200)]
    info = {"page": 1, "per_page": 200, "count": 200, "total_count": 200}
    body = json.dumps(envelope(items, result_info=info)).encode()
    assert len(body) >= LARGE_BODY
    return body


def _spy_on_decoding(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record whether the collector ran during each model decode of the client."""
    seen: list[bool] = []
    decode = _client._decode

    def spy(data: Any, model: Any, *, tolerant: bool) -> Any:
        seen.append(gc.isenabled())
        return decode(data, model, tolerant=tolerant)

    monkeypatch.setattr(_client, "_decode", spy)
    return seen


async def test_a_large_page_is_decoded_with_the_collector_paused(
    mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _spy_on_decoding(monkeypatch)
    url = f"{BASE}/accounts/{ACCOUNT}/ai-search/namespaces/default/instances"
    mocked.get(url, body=_large_page(), content_type="application/json")
    async with make_async() as client:
        page = await client.aisearch.namespaces.instances.list("default")
    assert len(page.result) == 200
    assert seen
    assert not any(seen)
    assert gc.isenabled()


async def test_a_large_page_that_fails_to_decode_restores_the_collector(
    mocked: aioresponses,
) -> None:
    url = f"{BASE}/accounts/{ACCOUNT}/ai-search/namespaces/default/instances"
    body = _large_page().replace(b'"created_at"', b'"created_at_"')  # a required field gone
    mocked.get(url, body=body, content_type="application/json")
    async with make_async() as client:
        with pytest.raises(cf.APIResponseValidationError, match="created_at"):
            await client.aisearch.namespaces.instances.list("default")
    assert gc.isenabled()

"""Every instance setting the SDK sends is accepted, stored and returned by the emulator.

The settings are declared once (``cfaisearch/types/params.py``); these tests
read that declaration, so a new setting fails here until it has a sample
value below and the emulator keeps it: it can never be dropped silently.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pytest

from cfaisearch import AsyncCloudflare, Cloudflare
from cfaisearch.types import InstanceListItem
from cfaisearch.types.params import _InstanceCreateSettings, _InstanceUpdateSettings
from tests.support.integration import BUCKET, make_r2_instance

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

CREATE_SETTINGS = _InstanceCreateSettings.__optional_keys__
UPDATE_SETTINGS = _InstanceUpdateSettings.__optional_keys__
MODEL = "@cf/meta/llama-3.1-8b-instruct"

# A value for each setting that differs from the emulator's default.
# ``token_id`` is the id of a token made by the test.
SAMPLES: Mapping[str, object] = {
    "ai_gateway_id": "gateway-1",
    "aisearch_model": MODEL,
    "cache": False,
    "cache_threshold": "flexible_friend",
    "cache_ttl": 3600,
    "chunk": False,
    "chunk_overlap": 20,
    "chunk_size": 512,
    "custom_metadata": [{"field_name": "author", "data_type": "text"}],
    "embedding_model": "@cf/baai/bge-m3",
    "fusion_method": "max",
    "hybrid_search_enabled": False,
    "index_method": {"keyword": False, "vector": True},
    "indexing_options": {"keyword_tokenizer": "trigram", "use_ocr": True},
    "max_num_results": 7,
    "metadata": {"worker_domain": "docs.example.com"},
    "paused": True,
    "public_endpoint_params": {"enabled": True, "authorized_hosts": ["docs.example.com"]},
    "reranking": True,
    "reranking_model": "@cf/baai/bge-reranker-base",
    "retrieval_options": {"keyword_match_mode": "or"},
    "rewrite_model": MODEL,
    "rewrite_query": True,
    "score_threshold": 0.25,
    "source": BUCKET,
    "source_params": {"prefix": "docs/"},
    "summarization": True,
    "summarization_model": MODEL,
    "sync_interval": 3600,
    "system_prompt_aisearch": "Answer briefly.",
    "system_prompt_index_summarization": "Summarise in one line.",
    "system_prompt_rewrite_query": "Rewrite as keywords.",
    "token_id": None,
    "type": "r2",
}
NOT_SETTINGS = {"self", "name", "id", "account_id", "options"}


def _field(value: object, key: str) -> object:
    return getattr(value, key) if attrs.has(type(value)) else value[key]  # type: ignore[index]


def _differences(sent: object, got: object, where: str) -> list[str]:
    """Where ``got`` lacks what ``sent`` holds (a returned object may hold more keys)."""
    if isinstance(sent, Mapping):
        return [
            difference
            for key, value in sent.items()
            for difference in _differences(value, _field(got, key), f"{where}.{key}")
        ]
    if isinstance(sent, list):
        if not isinstance(got, (list, tuple)) or len(got) != len(sent):
            return [f"{where}: sent {sent!r}, got {got!r}"]
        return [d for s, g in zip(sent, got, strict=True) for d in _differences(s, g, where)]
    return [] if sent == got else [f"{where}: sent {sent!r}, got {got!r}"]


def _keywords(method: Callable[..., object]) -> set[str]:
    return set(inspect.signature(method).parameters) - NOT_SETTINGS


def test_every_setting_has_a_sample() -> None:
    assert set(SAMPLES) == CREATE_SETTINGS | UPDATE_SETTINGS


@pytest.mark.parametrize("client_class", [AsyncCloudflare, Cloudflare])
def test_both_families_take_exactly_the_declared_settings(client_class: type[Any]) -> None:
    client = client_class(api_token="unused", account_id="unused")
    try:
        for instances in (client.aisearch.instances, client.aisearch.namespaces.instances):
            assert _keywords(instances.create) == CREATE_SETTINGS
            assert _keywords(instances.update) == UPDATE_SETTINGS
    finally:
        if isinstance(client, Cloudflare):
            client.close()


async def _listed(client: AsyncCloudflare, instance: str) -> InstanceListItem:
    # The list item is the view that holds every setting.
    async for item in client.aisearch.namespaces.instances.list("default"):
        if item.id == instance:
            return item
    raise AssertionError(f"{instance} is not listed")


async def _samples(client: AsyncCloudflare, names: frozenset[str]) -> dict[str, Any]:
    token = await client.aisearch.tokens.create(
        cf_api_id="settings-id", cf_api_key="secret", name="settings-token"
    )
    return {name: token.id if name == "token_id" else SAMPLES[name] for name in names}


async def test_every_create_setting_is_stored_and_returned(
    aisearch_async_client: AsyncCloudflare,
) -> None:
    settings = await _samples(aisearch_async_client, CREATE_SETTINGS)
    await aisearch_async_client.aisearch.instances.create(id="roundtrip", **settings)
    listed = await _listed(aisearch_async_client, "roundtrip")
    assert [d for k, v in settings.items() for d in _differences(v, _field(listed, k), k)] == []


async def test_every_update_setting_is_stored_and_returned(
    aisearch_async_client: AsyncCloudflare,
) -> None:
    settings = await _samples(aisearch_async_client, UPDATE_SETTINGS)
    # An R2 instance: an upload-only one takes no source.
    await make_r2_instance(aisearch_async_client, "roundtrip")
    await aisearch_async_client.aisearch.namespaces.instances.update(
        "roundtrip", name="default", **settings
    )
    listed = await _listed(aisearch_async_client, "roundtrip")
    assert [d for k, v in settings.items() for d in _differences(v, _field(listed, k), k)] == []

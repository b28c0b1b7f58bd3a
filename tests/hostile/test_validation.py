"""Rule 13: validate only what the API documents, and what makes a request unsafe.

Instance ids the server may hold are accepted everywhere but on create; bounds
the API reference does not state are left to the server; path parameters are
refused only when they cannot be one path segment, and are percent-encoded.
Requests here are answered 404, so only what was sent matters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import pytest
from aioresponses import aioresponses
from hypothesis import given
from hypothesis import strategies as st

import cfaisearch as cf
from cfaisearch.resources._base import segment
from cfaisearch.types import MessageParam
from tests.support.clients import ACCOUNT, make_async
from tests.support.ops import sent_requests, settle

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

AI_SEARCH = f"/client/v4/accounts/{ACCOUNT}/ai-search"
MESSAGES: list[MessageParam] = [{"role": "user", "content": "hi"}]
NOT_FOUND = {"success": False, "errors": [{"code": 7002, "message": "not found"}]}
UPLOAD = {"file": ("a.md", b"text")}

# Ids that break the create pattern ([a-z0-9_-]{1,64}) but are fine path segments.
FOREIGN_IDS = ["Docs-Search", "x" * 65, "v1.0 50%"]

# (label, call on client.aisearch with instance id ``i``, path after /ai-search)
ID_OPS: list[tuple[str, Any, str]] = [
    ("instances.read", lambda ai, i: ai.instances.read(i), "/instances/{}"),
    ("instances.update", lambda ai, i: ai.instances.update(i, paused=True), "/instances/{}"),
    ("instances.delete", lambda ai, i: ai.instances.delete(i), "/instances/{}"),
    ("instances.stats", lambda ai, i: ai.instances.stats(i), "/instances/{}/stats"),
    (
        "instances.search",
        lambda ai, i: ai.instances.search(i, query="q"),
        "/instances/{}/search",
    ),
    (
        "instances.chat_completions",
        lambda ai, i: ai.instances.chat_completions(i, messages=MESSAGES),
        "/instances/{}/chat/completions",
    ),
    ("instances.jobs.create", lambda ai, i: ai.instances.jobs.create(i), "/instances/{}/jobs"),
    ("instances.jobs.list", lambda ai, i: ai.instances.jobs.list(i), "/instances/{}/jobs"),
    ("instances.jobs.get", lambda ai, i: ai.instances.jobs.get("j", id=i), "/instances/{}/jobs/j"),
    (
        "instances.jobs.logs",
        lambda ai, i: ai.instances.jobs.logs("j", id=i),
        "/instances/{}/jobs/j/logs",
    ),
    (
        "instances.jobs.wait",
        lambda ai, i: ai.instances.jobs.wait("j", id=i),
        "/instances/{}/jobs/j",
    ),
    (
        "namespaces.instances.read",
        lambda ai, i: ai.namespaces.instances.read(i, name="default"),
        "/namespaces/default/instances/{}",
    ),
    (
        "namespaces.instances.update",
        lambda ai, i: ai.namespaces.instances.update(i, name="default", paused=True),
        "/namespaces/default/instances/{}",
    ),
    (
        "namespaces.instances.delete",
        lambda ai, i: ai.namespaces.instances.delete(i, name="default"),
        "/namespaces/default/instances/{}",
    ),
    (
        "namespaces.instances.stats",
        lambda ai, i: ai.namespaces.instances.stats(i, name="default"),
        "/namespaces/default/instances/{}/stats",
    ),
    (
        "namespaces.instances.search",
        lambda ai, i: ai.namespaces.instances.search(i, name="default", query="q"),
        "/namespaces/default/instances/{}/search",
    ),
    (
        "namespaces.instances.chat_completions",
        lambda ai, i: ai.namespaces.instances.chat_completions(
            i, name="default", messages=MESSAGES
        ),
        "/namespaces/default/instances/{}/chat/completions",
    ),
    (
        "namespaces.instances.jobs.create",
        lambda ai, i: ai.namespaces.instances.jobs.create(i, name="default"),
        "/namespaces/default/instances/{}/jobs",
    ),
    (
        "namespaces.instances.jobs.list",
        lambda ai, i: ai.namespaces.instances.jobs.list(i, name="default"),
        "/namespaces/default/instances/{}/jobs",
    ),
    (
        "namespaces.instances.jobs.get",
        lambda ai, i: ai.namespaces.instances.jobs.get("j", name="default", id=i),
        "/namespaces/default/instances/{}/jobs/j",
    ),
    (
        "namespaces.instances.jobs.update",
        lambda ai, i: ai.namespaces.instances.jobs.update(
            "j", name="default", id=i, action="cancel"
        ),
        "/namespaces/default/instances/{}/jobs/j",
    ),
    (
        "namespaces.instances.jobs.logs",
        lambda ai, i: ai.namespaces.instances.jobs.logs("j", name="default", id=i),
        "/namespaces/default/instances/{}/jobs/j/logs",
    ),
    (
        "namespaces.instances.jobs.wait",
        lambda ai, i: ai.namespaces.instances.jobs.wait("j", name="default", id=i),
        "/namespaces/default/instances/{}/jobs/j",
    ),
    (
        "namespaces.instances.items.list",
        lambda ai, i: ai.namespaces.instances.items.list(i, name="default"),
        "/namespaces/default/instances/{}/items",
    ),
    (
        "namespaces.instances.items.upload",
        lambda ai, i: ai.namespaces.instances.items.upload(i, name="default", file=UPLOAD),
        "/namespaces/default/instances/{}/items",
    ),
    (
        "namespaces.instances.items.create_or_update",
        lambda ai, i: ai.namespaces.instances.items.create_or_update(
            i, name="default", key="a.md", next_action="INDEX"
        ),
        "/namespaces/default/instances/{}/items",
    ),
    (
        "namespaces.instances.items.get",
        lambda ai, i: ai.namespaces.instances.items.get("it", name="default", id=i),
        "/namespaces/default/instances/{}/items/it",
    ),
    (
        "namespaces.instances.items.sync",
        lambda ai, i: ai.namespaces.instances.items.sync(
            "it", name="default", id=i, next_action="INDEX"
        ),
        "/namespaces/default/instances/{}/items/it",
    ),
    (
        "namespaces.instances.items.delete",
        lambda ai, i: ai.namespaces.instances.items.delete("it", name="default", id=i),
        "/namespaces/default/instances/{}/items/it",
    ),
    (
        "namespaces.instances.items.download",
        lambda ai, i: ai.namespaces.instances.items.download("it", name="default", id=i),
        "/namespaces/default/instances/{}/items/it/download",
    ),
    (
        "namespaces.instances.items.logs",
        lambda ai, i: ai.namespaces.instances.items.logs("it", name="default", id=i),
        "/namespaces/default/instances/{}/items/it/logs",
    ),
    (
        "namespaces.instances.items.chunks",
        lambda ai, i: ai.namespaces.instances.items.chunks("it", name="default", id=i),
        "/namespaces/default/instances/{}/items/it/chunks",
    ),
    (
        "namespaces.instances.items.wait",
        lambda ai, i: ai.namespaces.instances.items.wait("it", name="default", id=i),
        "/namespaces/default/instances/{}/items/it",
    ),
]


@pytest.fixture
def answered_404() -> Iterator[aioresponses]:
    """Every request is answered 404, so a call that gets as far as sending ends there."""
    with aioresponses() as mocked:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mocked.add(re.compile(".*"), method, status=404, payload=NOT_FOUND, repeat=True)
        yield mocked


async def sent_by(mocked: aioresponses, call: Any) -> tuple[str, dict[str, str]]:
    """Run ``call(client.aisearch)``; return the raw path and query of the one request sent."""
    async with make_async() as client:
        with pytest.raises(cf.NotFoundError):
            await settle(call(client.aisearch))
    (request,) = sent_requests(mocked)
    return request.url.raw_path, dict(request.url.query)


@pytest.mark.parametrize("instance", FOREIGN_IDS)
@pytest.mark.parametrize(("label", "call", "path"), ID_OPS, ids=[op[0] for op in ID_OPS])
async def test_any_instance_id_the_server_may_hold_is_accepted(
    answered_404: aioresponses, label: str, call: Any, path: str, instance: str
) -> None:
    """Rule 13: only create enforces the id pattern; every other call sends the id, encoded."""
    raw_path, _ = await sent_by(answered_404, lambda ai: call(ai, instance))
    assert raw_path == AI_SEARCH + path.format(quote(instance, safe=""))


UNDOCUMENTED_BOUNDS: list[tuple[str, Any, str, dict[str, str]]] = [
    (
        "jobs per_page minimum is 0",
        lambda ai: ai.instances.jobs.list("docs", per_page=0),
        "/instances/docs/jobs",
        {"per_page": "0"},
    ),
    (
        "namespaced jobs per_page minimum is 0",
        lambda ai: ai.namespaces.instances.jobs.list("docs", name="default", per_page=0),
        "/namespaces/default/instances/docs/jobs",
        {"per_page": "0"},
    ),
    (
        "items per_page minimum is 0",
        lambda ai: ai.namespaces.instances.items.list("docs", name="default", per_page=0),
        "/namespaces/default/instances/docs/items",
        {"per_page": "0"},
    ),
    (
        "job logs have no documented bounds",
        lambda ai: ai.instances.jobs.logs("j", id="docs", page=0, per_page=100),
        "/instances/docs/jobs/j/logs",
        {"page": "0", "per_page": "100"},
    ),
    (
        "namespaced job logs have no documented bounds",
        lambda ai: ai.namespaces.instances.jobs.logs("j", name="default", id="docs", per_page=1000),
        "/namespaces/default/instances/docs/jobs/j/logs",
        {"per_page": "1000"},
    ),
    (
        "namespaces per_page has no documented bounds",
        lambda ai: ai.namespaces.list(per_page=0),
        "/namespaces",
        {"per_page": "0"},
    ),
    (
        "tokens per_page has no documented bounds",
        lambda ai: ai.tokens.list(per_page=0),
        "/tokens",
        {"per_page": "0"},
    ),
]


@pytest.mark.parametrize(
    ("label", "call", "path", "query"), UNDOCUMENTED_BOUNDS, ids=[b[0] for b in UNDOCUMENTED_BOUNDS]
)
async def test_bounds_the_api_does_not_state_are_left_to_the_server(
    answered_404: aioresponses, label: str, call: Any, path: str, query: dict[str, str]
) -> None:
    """Rule 13: no invented bound; documented ones as documented (jobs/items per_page 0-50)."""
    assert await sent_by(answered_404, call) == (AI_SEARCH + path, query)


async def test_a_blank_looking_query_is_the_servers_to_judge(answered_404: aioresponses) -> None:
    """Rule 13: only an empty query is certainly wrong; whitespace is not refused."""
    raw_path, _ = await sent_by(answered_404, lambda ai: ai.instances.search("docs", query=" "))
    assert raw_path == AI_SEARCH + "/instances/docs/search"


UNSAFE_SEGMENTS = ["", ".", "..", "a/b", "../x", "a\x00b", "line\nbreak", "del\x7f"]

# (parameter, call on client.aisearch with value ``v``)
PATH_PARAMETERS: list[tuple[str, Any]] = [
    ("id", lambda ai, v: ai.instances.read(v)),
    ("id", lambda ai, v: ai.namespaces.instances.items.get("it", name="default", id=v)),
    ("name", lambda ai, v: ai.namespaces.read(v)),
    ("job_id", lambda ai, v: ai.instances.jobs.get(v, id="docs")),
    ("item_id", lambda ai, v: ai.namespaces.instances.items.get(v, name="default", id="docs")),
    ("id", lambda ai, v: ai.tokens.read(v)),
    ("account_id", lambda ai, v: ai.namespaces.read("default", account_id=v)),
]


@pytest.mark.parametrize("value", UNSAFE_SEGMENTS)
@pytest.mark.parametrize(("parameter", "call"), PATH_PARAMETERS)
async def test_what_cannot_be_one_path_segment_is_refused(
    answered_404: aioresponses, parameter: str, call: Any, value: str
) -> None:
    """Rule 13: empty, '.', '..', '/' and control characters are refused before sending."""
    async with make_async() as client:
        with pytest.raises(ValueError, match=f"`{parameter}`"):
            await settle(call(client.aisearch, value))
    assert sent_requests(answered_404) == []


def unsafe(value: str) -> bool:
    return value in ("", ".", "..") or any(c == "/" or c < " " or c == "\x7f" for c in value)


@given(st.text())
def test_a_path_parameter_is_one_encoded_segment_or_refused(value: str) -> None:
    """Rule 13: what is accepted stays exactly one segment and decodes back to itself."""
    try:
        encoded = segment("name", value)
    except ValueError:
        assert unsafe(value)
        return
    assert not unsafe(value)
    assert re.fullmatch(r"(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})+", encoded)
    assert encoded not in (".", "..")
    assert unquote(encoded, errors="strict") == value


@pytest.mark.parametrize("timeout", [math.nan, math.inf])
async def test_a_per_call_timeout_must_be_finite(
    answered_404: aioresponses, timeout: float
) -> None:
    """Rule 13 (and 6): nan or an infinite per-call timeout is refused (None means no limit)."""
    async with make_async() as client:
        with pytest.raises(ValueError, match="`timeout`"):
            await client.aisearch.namespaces.read("default", timeout=timeout)
    assert sent_requests(answered_404) == []

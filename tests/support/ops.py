"""Table-driven checks of API operations: one ``Op`` per call, run on both clients.

Each ``Op`` names a call (made on ``client.aisearch``), the exact request it must
send and the JSON the mock answers with; :func:`run_op` performs it with the
async or the sync client against aioresponses and returns the decoded result
and the one request that went out.
"""

from __future__ import annotations

import dataclasses
import email.parser
import email.policy
import inspect
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest
from aioresponses import aioresponses
from yarl import URL

from cfaisearch._binary import AsyncBinaryResponse, BinaryResponse
from cfaisearch._converter import converter, make_converter
from cfaisearch._pagination import AsyncPaginator, Page, SyncPager
from tests.support.clients import ACCOUNT, BASE, envelope, make_async, make_sync

FIXTURES = Path(__file__).parents[1] / "fixtures"
STRICT = make_converter(strict=True)
ROOT = f"{BASE}/accounts/{ACCOUNT}/ai-search"
KINDS = ("async", "sync")


def fixture(name: str) -> Any:
    """The JSON of ``tests/fixtures/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def strict(name: str, model: Any) -> Any:
    """Fixture ``name`` decoded by the strict converter (unknown keys and values refused)."""
    return STRICT.structure(fixture(name), model)


def unset_fields(value: object) -> set[str]:
    """``Class.attribute`` names that are None in every instance of the class in ``value``.

    A fixture that sets every field of the spec leaves this empty.
    """
    seen: dict[type, set[str]] = {}

    def walk(node: object) -> None:
        cls: Any = type(node)
        if attrs.has(cls):
            set_here = seen.setdefault(cls, set())
            for a in attrs.fields(cls):
                child = getattr(node, a.name)
                if child is not None:
                    set_here.add(a.name)
                walk(child)
        elif isinstance(node, Mapping):
            for child in node.values():
                walk(child)
        elif isinstance(node, (list, tuple)):
            for child in node:
                walk(child)

    walk(value)
    return {
        f"{cls.__name__}.{a.name}"
        for cls, names in seen.items()
        for a in attrs.fields(cls)
        if a.name not in names
    }


FormPart = tuple[str, "str | None", "str | None", bytes]
"""A multipart part as sent: (name, filename, content type, content)."""


@dataclass(frozen=True)
class Op:
    """One call and the exchange it must produce."""

    name: str
    call: Callable[[Any], Any]
    method: str
    path: str
    """After ``/accounts/{account}/ai-search``, percent-encoded as sent."""
    response: Any
    """The JSON body the server answers with (bytes: a file download)."""
    expected: Any
    """The call's decoded result (for lists: the first page's items; downloads: the bytes)."""
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    """The JSON body that must be sent; None for no body at all."""
    form: list[FormPart] | None = None
    """The multipart form that must be sent instead of a JSON body."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Headers the request must carry (besides authentication)."""
    retried: bool = False
    """Whether a 503 answer is retried (the op is safe to repeat)."""

    def __str__(self) -> str:
        return self.name


def ids(ops: list[Op]) -> list[str]:
    return [op.name for op in ops]


@dataclass(frozen=True)
class Sent:
    method: str
    url: URL
    headers: Mapping[str, str]
    data: Any
    form: list[FormPart] | None = None

    @property
    def json(self) -> Any:
        return None if self.data is None or self.form is not None else json.loads(self.data)


class _Buffer:
    """Collects what a payload writes (the writer interface aiohttp payloads use)."""

    def __init__(self) -> None:
        self.data = bytearray()

    async def write(self, chunk: bytes) -> None:
        self.data += chunk

    async def write_eof(self, chunk: bytes = b"") -> None:
        self.data += chunk


async def read_form(writer: aiohttp.MultipartWriter) -> list[FormPart]:
    """The parts of a multipart body, serialised as it would go over the wire."""
    buffer = _Buffer()
    await writer.write(buffer)  # type: ignore[arg-type]
    head = f"Content-Type: {writer.content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + buffer.data)
    return [
        (
            str(part.get_param("name", header="content-disposition")),
            part.get_filename(),
            part.get_content_type() if part.get("content-type") else None,
            bytes(part.get_payload(decode=True)),
        )
        for part in message.iter_parts()
    ]


def sent_requests(mocked: aioresponses) -> list[Sent]:
    return [
        Sent(method, url, call.kwargs["headers"], call.kwargs["data"])
        for (method, url), calls in mocked.requests.items()
        for call in calls
    ]


def mock(mocked: aioresponses, op: Op, *, status: int = 200, repeat: bool = False) -> None:
    url = URL(ROOT + op.path, encoded=True)
    if op.query:
        url = url.with_query(dict(op.query))
    if isinstance(op.response, bytes):
        headers = {"Content-Disposition": 'attachment; filename="guide.pdf"'}
        mocked.add(
            url,
            op.method,
            body=op.response,
            status=status,
            repeat=repeat,
            content_type="application/pdf",
            headers=headers,
        )
    else:
        mocked.add(url, op.method, payload=op.response, status=status, repeat=repeat)


async def resolve_async(result: Any) -> Any:
    if isinstance(result, AsyncPaginator) or inspect.isawaitable(result):
        result = await result
    if isinstance(result, AsyncBinaryResponse):
        return await result.read()
    return result.result if isinstance(result, Page) else result


def resolve_sync(result: Any) -> Any:
    if isinstance(result, BinaryResponse):
        return result.read()
    return result.result if isinstance(result, SyncPager) else result


async def call_op(kind: str, op: Op, **client_options: Any) -> Any:
    """Run ``op.call`` on a fresh client of ``kind`` and return its (first-page) result."""
    if kind == "async":
        async with make_async(**client_options) as client:
            return await resolve_async(op.call(client.aisearch))
    with make_sync(**client_options) as sync_client:
        return resolve_sync(op.call(sync_client.aisearch))


async def run_op(kind: str, op: Op, mocked: aioresponses) -> tuple[Any, Sent]:
    """Perform ``op`` against the mock; return its result and the single request sent."""
    mock(mocked, op)
    result = await call_op(kind, op)
    (request,) = sent_requests(mocked)
    if isinstance(request.data, aiohttp.MultipartWriter):
        request = dataclasses.replace(request, form=await read_form(request.data))
    return result, request


async def assert_refused(
    mocked: aioresponses, call: Callable[[Any], Any], name: str, *, on: str
) -> None:
    """``call(resource)`` raises ValueError naming ``name`` and sends nothing.

    ``on`` is the resource's path under ``client.aisearch`` (e.g. ``"namespaces.instances"``).
    """
    async with make_async() as client:
        resource: Any = client.aisearch
        for part in on.split("."):
            resource = getattr(resource, part)
        with pytest.raises(ValueError, match=f"`{re.escape(name)}`"):
            await settle(call(resource))
    assert sent_requests(mocked) == []


async def settle(result: Any) -> Any:
    """Await ``result`` if it is awaitable (methods returning paginators are not)."""
    return await result if inspect.isawaitable(result) else result


def assert_request(op: Op, request: Sent) -> None:
    """The request is exactly what ``op`` describes."""
    assert request.method == op.method
    assert request.url.raw_path == URL(ROOT + op.path, encoded=True).raw_path
    assert dict(request.url.query) == dict(op.query)
    assert request.json == op.body
    assert request.form == op.form
    if op.body is None:
        assert "Content-Type" not in request.headers
    else:
        assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"].startswith("Bearer ")
    for name, value in op.headers.items():
        assert request.headers[name] == value


def lenient_equals_strict(model: Any, data: Any) -> None:
    """Production decoding of a fixture equals the strict decoding."""
    assert converter.structure(data, model) == STRICT.structure(data, model)


__all__ = [
    "KINDS",
    "ROOT",
    "STRICT",
    "Op",
    "Sent",
    "assert_refused",
    "assert_request",
    "call_op",
    "read_form",
    "envelope",
    "fixture",
    "ids",
    "lenient_equals_strict",
    "mock",
    "resolve_async",
    "resolve_sync",
    "run_op",
    "sent_requests",
    "settle",
    "strict",
    "unset_fields",
]

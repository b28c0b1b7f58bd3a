"""User code written the way the official ``cloudflare`` SDK teaches it, run with either SDK.

Each scenario is one ``async def`` that takes a :class:`Run` (the SDK module,
a client made from it and the emulator's coordinates) and returns what a user
could observe: plain JSON values. The same body serves the sync and the async
client: :meth:`Run.aw` awaits what the async client returns and passes the sync
client's results through, so with the sync client a scenario never suspends and
runs without an event loop.

Nothing here may import either SDK: the module under test arrives as ``run.sdk``.
"""

from __future__ import annotations

import inspect
import json
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

NOTE = b"# Retries\n\nReads are retried on 503; writes are not.\n"


class Run:
    """One scenario's world: ``sdk`` is ``cloudflare`` or ``cfaisearch``."""

    def __init__(self, sdk: Any, flavour: str, base_url: str, api_token: str, account: str) -> None:
        self.sdk = sdk
        self.flavour = flavour
        self.base_url = base_url
        self.api_token = api_token
        self.account = account
        # Names per flavour, so the sync and async runs share one emulator.
        self.tag = flavour
        self.client: Any = self.make(max_retries=0)

    @property
    def is_async(self) -> bool:
        return self.flavour == "async"

    def make(self, **kwargs: Any) -> Any:
        cls = self.sdk.AsyncCloudflare if self.is_async else self.sdk.Cloudflare
        kwargs.setdefault("api_token", self.api_token)
        kwargs.setdefault("base_url", self.base_url)
        return cls(**kwargs)

    async def aw(self, value: Any) -> Any:
        """The value, awaited if the async client returned an awaitable."""
        return await value if inspect.isawaitable(value) else value

    async def walk(self, iterable: Any) -> list[Any]:
        """Every entry ``for`` (sync) or ``async for`` (async) yields."""
        if self.is_async:
            return [entry async for entry in iterable]
        return list(iterable)

    async def streamed(self, opened: Any, read: Callable[[Any], Any]) -> Any:
        """``read(response)`` inside ``with``/``async with`` of a streaming response."""
        if self.is_async:
            async with opened as response:
                return await self.aw(read(response))
        with opened as response:
            return await self.aw(read(response))

    async def close(self, client: Any = None) -> None:
        await self.aw((client or self.client).close())


def jsonable(value: Any) -> Any:
    """``value`` as JSON, keeping the kind of what is not JSON (a datetime, a tuple)."""
    if isinstance(value, datetime):
        return f"datetime({value.isoformat()})"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return f"<{type(value).__name__}>"


def dumps(model: Any) -> dict[str, Any]:
    """Every dict and JSON spelling of a model."""
    return {
        "to_dict": jsonable(model.to_dict()),
        "to_dict_json": model.to_dict(mode="json"),
        "to_dict_exclude_none": jsonable(model.to_dict(exclude_none=True)),
        "to_dict_python_names": jsonable(model.to_dict(use_api_names=False)),
        "to_dict_all": jsonable(model.to_dict(exclude_unset=False)),
        "to_json": json.loads(model.to_json()),
        "to_json_compact": model.to_json(indent=None).count("\n"),
        "model_dump": jsonable(model.model_dump()),
        "model_dump_json_mode": model.model_dump(mode="json", exclude_none=True),
        "model_dump_json": json.loads(model.model_dump_json()),
        "model_validate": jsonable(type(model).model_validate(model.to_dict()).to_dict()),
    }


async def error_of(run: Run, call: Callable[[], Awaitable[Any] | Any]) -> dict[str, Any]:
    """What a user sees of the error ``call`` raises (it must raise)."""
    try:
        await run.aw(call())
    except run.sdk.APIError as err:
        observed: dict[str, Any] = {
            "class": type(err).__name__,
            "bases": sorted(
                name
                for name in ("APIError", "APIStatusError", "APIConnectionError")
                if isinstance(err, getattr(run.sdk, name))
            ),
            "body": jsonable(err.body),
            "errors": [jsonable(e.to_dict()) for e in err.errors],
            "str": str(err),
            "request.method": err.request.method,
            "request.url": str(err.request.url),
        }
        if isinstance(err, run.sdk.APIStatusError):
            observed["status_code"] = err.status_code
            observed["response.status_code"] = err.response.status_code
            observed["response.json"] = jsonable(err.response.json())
        return observed
    raise AssertionError("the call did not raise")


# -- scenarios -------------------------------------------------------------------------


async def models(run: Run) -> dict[str, Any]:
    """Create, read and update a namespace and a token; every spelling of the results."""
    ai = run.client.aisearch
    ns = f"models-{run.tag}"
    created = await run.aw(
        ai.namespaces.create(account_id=run.account, name=ns, description="models")
    )
    read = await run.aw(ai.namespaces.read(ns, account_id=run.account))
    updated = await run.aw(
        ai.namespaces.update(ns, account_id=run.account, description="models, updated")
    )
    token = await run.aw(
        ai.tokens.create(
            account_id=run.account, cf_api_id="id-" + run.tag, cf_api_key="secret", name=run.tag
        )
    )
    instance = await run.aw(
        ai.namespaces.instances.create(ns, account_id=run.account, id="kb", chunk_size=128)
    )
    return {
        "namespace.create": dumps(created),
        "namespace.read": dumps(read),
        "namespace.update": dumps(updated),
        "namespace.attributes": [read.name, read.description, str(type(read.created_at))],
        "token.create": dumps(token),
        "token.attributes": [token.name, token.cf_api_id],
        "instance.create": dumps(instance),
        "instance.attributes": [instance.id, instance.chunk_size, instance.type],
        "equal_when_read_again": await run.aw(ai.namespaces.read(ns, account_id=run.account))
        == await run.aw(ai.namespaces.read(ns, account_id=run.account)),
    }


async def errors(run: Run) -> dict[str, Any]:
    """Errors from a missing resource, a rejected body, a refused connection."""
    ai = run.client.aisearch
    missing = await error_of(run, lambda: ai.namespaces.read("nope", account_id=run.account))
    rejected = await error_of(
        run, lambda: ai.namespaces.create(account_id=run.account, name="Not A Valid Name!")
    )
    # Port 9 (discard): nothing listens there on a test machine.
    unreachable = run.make(max_retries=0, base_url="http://127.0.0.1:9/client/v4")
    try:
        refused = await error_of(
            run, lambda: unreachable.aisearch.namespaces.list(account_id=run.account)
        )
    finally:
        await run.close(unreachable)
    refused.pop("request.url")  # the port: deliberately not one in use
    return {"not_found": missing, "bad_request": rejected, "connection": refused}


async def pages(run: Run) -> dict[str, Any]:
    """Upload five documents, then walk the item list two at a time every way there is.

    Pages are observed by size and the keys by their union: documents
    modified in the same instant may come in either order.
    """
    ai = run.client.aisearch
    ns = f"pages-{run.tag}"
    items = ai.namespaces.instances.items
    await run.aw(ai.namespaces.create(account_id=run.account, name=ns))
    await run.aw(ai.namespaces.instances.create(ns, account_id=run.account, id="kb"))
    for n in range(5):
        await run.aw(
            items.upload(
                "kb",
                account_id=run.account,
                name=ns,
                # Indexed before the walk: indexing reorders the list (newest first).
                file={
                    "file": (f"note-{n}.md", NOTE, "text/markdown"),
                    "wait_for_completion": True,
                },
            )
        )

    def first_page() -> Any:
        return items.list("kb", account_id=run.account, name=ns, per_page=2)

    page = await run.aw(first_page())
    observed: dict[str, Any] = {
        "result": len(page.result),
        "result_info": page.result_info.to_dict(),
        "has_next_page": page.has_next_page(),
        "next_page_info.params": page.next_page_info().params,
    }
    second = await run.aw(page.get_next_page())
    observed["second.result"] = len(second.result)
    observed["second.result_info"] = second.result_info.to_dict()
    walked = await run.walk(page.iter_pages())
    observed["iter_pages"] = [len(p.result) for p in walked]
    observed["iter_pages.keys"] = sorted(item.key for p in walked for item in p.result)
    last = walked[-1]
    observed["last.has_next_page"] = last.has_next_page()
    info = last.next_page_info()
    observed["last.next_page_info"] = None if info is None else info.params
    every = await run.walk(first_page() if run.is_async else page)
    observed["items"] = sorted(item.key for item in every)
    namespaces = await run.walk(ai.namespaces.list(account_id=run.account))
    observed["namespaces"] = sorted(n.name for n in namespaces if n.name in ("default", ns))
    return observed


async def streaming(run: Run) -> dict[str, Any]:
    """Download an item's bytes through ``with_streaming_response``; parse a streamed read."""
    ai = run.client.aisearch
    ns = f"stream-{run.tag}"
    items = ai.namespaces.instances.items
    await run.aw(ai.namespaces.create(account_id=run.account, name=ns))
    await run.aw(ai.namespaces.instances.create(ns, account_id=run.account, id="kb"))
    uploaded = await run.aw(
        items.upload(
            "kb",
            account_id=run.account,
            name=ns,
            file={"file": ("retries.md", NOTE, "text/markdown")},
        )
    )

    async def read_bytes(response: Any) -> bytes:
        if run.is_async:
            return b"".join([chunk async for chunk in response.iter_bytes()])
        return b"".join(response.iter_bytes())

    streamed = items.with_streaming_response.download(
        uploaded.id, account_id=run.account, name=ns, id="kb"
    )
    body = await run.streamed(streamed, read_bytes)

    async def parsed(response: Any) -> Any:
        return [response.status_code, (await run.aw(response.parse())).to_dict(mode="json")]

    read = await run.streamed(
        ai.namespaces.with_streaming_response.read(ns, account_id=run.account), parsed
    )
    return {"download": body.decode(), "read": read}


async def raw(run: Run) -> dict[str, Any]:
    """``with_raw_response``: the parsed model and the HTTP exchange around it."""
    ai = run.client.aisearch
    ns = f"raw-{run.tag}"
    await run.aw(ai.namespaces.create(account_id=run.account, name=ns, description="raw"))
    response = await run.aw(ai.namespaces.with_raw_response.read(ns, account_id=run.account))
    parsed = await run.aw(response.parse())
    return {
        "parse": parsed.to_dict(mode="json"),
        "status_code": response.status_code,
        "content-type": response.headers["content-type"],
        "http_request.method": response.http_request.method,
        "http_request.url": str(response.http_request.url),
        "url": str(response.url),
        "method": response.method,
        "text": json.loads(await run.aw(response.text())),
        "json": await run.aw(response.json()),
        "read": json.loads(await run.aw(response.read())),
        "http_response": hasattr(response, "http_response"),
        "elapsed": type(response.elapsed).__name__,
        "iter_bytes": json.loads(b"".join(await run.walk(response.iter_bytes()))),
        "iter_text": json.loads("".join(await run.walk(response.iter_text()))),
        "iter_lines": len(await run.walk(response.iter_lines())),
        "is_closed": response.is_closed,
        "parse_again_same": (await run.aw(response.parse())) == parsed,
        "closed": [await run.aw(response.close()), response.is_closed],
    }


async def client(run: Run) -> dict[str, Any]:
    """Construction keywords, ``with_options``, ``copy``, ``auth_headers``."""
    made = run.make(
        max_retries=4,
        timeout=20.0,
        default_headers={"X-Team": "search"},
        default_query={"trace": "1"},
    )
    try:
        faster = made.with_options(max_retries=1, timeout=5.0)
        copied = made.copy(default_headers={"X-Other": "1"})
        other = made.copy(api_token="other-token")
        ns = await run.walk(made.aisearch.namespaces.list(account_id=run.account))
        return {
            "max_retries": [made.max_retries, faster.max_retries, copied.max_retries],
            "timeout": [made.timeout, faster.timeout],
            "api_version": made.api_version,
            "base_url": [str(made.base_url), str(faster.base_url)],
            "auth_headers": made.auth_headers,
            "copy.auth_headers": copied.auth_headers,
            "copy.api_token_kept": copied.api_token == run.api_token,
            "copy.default_headers": {
                k: v for k, v in copied.default_headers.items() if k in ("X-Team", "X-Other")
            },
            "other.auth_headers": other.auth_headers,
            "listed": sorted(n.name for n in ns)[:1],
        }
    finally:
        await run.close(made)


async def generic(run: Run) -> dict[str, Any]:
    """The generic ``get``/``post``/``put``/``patch``/``delete`` with ``cast_to``."""
    base = f"/accounts/{run.account}/ai-search/namespaces"
    ns = f"generic-{run.tag}"
    posted = await run.aw(
        run.client.post(base, cast_to=object, body={"name": ns, "description": "generic"})
    )
    fetched = await run.aw(run.client.get(f"{base}/{ns}", cast_to=object))
    put = await run.aw(
        run.client.put(f"{base}/{ns}", cast_to=object, body={"description": "generic, put"})
    )
    patched = await error_of(
        run, lambda: run.client.patch(f"{base}/{ns}", cast_to=object, body={"description": "x"})
    )
    deleted = await run.aw(run.client.delete(f"{base}/{ns}", cast_to=object))
    return {"post": posted, "get": fetched, "put": put, "patch": patched, "delete": deleted}


async def deprecations(run: Run) -> dict[str, Any]:
    """The top-level ``aisearch.instances`` family warns when called."""
    ai = run.client.aisearch
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        created = await run.aw(ai.instances.create(account_id=run.account, id=f"old-{run.tag}"))
        listed = await run.walk(ai.instances.list(account_id=run.account))
        await run.aw(ai.instances.delete(f"old-{run.tag}", account_id=run.account))
    return {
        "created": created.id,
        "listed": f"old-{run.tag}" in [i.id for i in listed],
        "categories": sorted({w.category.__name__ for w in caught}),
        "warned_calls": len([w for w in caught if w.category is DeprecationWarning]) >= 3,
    }


SCENARIOS: dict[str, Callable[[Run], Awaitable[dict[str, Any]]]] = {
    "models": models,
    "errors": errors,
    "pages": pages,
    "streaming": streaming,
    "raw": raw,
    "client": client,
    "generic": generic,
    "deprecations": deprecations,
}

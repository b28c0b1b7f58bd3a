"""Rule 19: the emulator refuses input it could not store or send back, where it enters.

Each class of bad input is sent to each kind of write endpoint; every one must
get a Cloudflare-style 400, change nothing, and leave every list endpoint (and
a restart on the same data dir) serving.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.emulator_world import (
    INSTANCE,
    NAMESPACE,
    R2_INSTANCE,
    UPLOADS,
    Reply,
    World,
    open_world,
    restarted,
)

SLOT = '"@@"'  # replaced by a raw JSON fragment in the body templates

# Raw JSON fragments, each one bad input of its class.
BAD_TEXT = {
    "lone high surrogate": '"\\ud800"',
    "lone low surrogate": '"tail \\udfff"',
    "NUL": '"a\\u0000b"',
}
BAD_VALUES = {
    "1e999": "1e999",
    "-1e999": "-1e999",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "int above 2**63-1": str(2**63),
    "int below -2**63": str(-(2**63) - 1),
    "nested NaN": '{"inner": [1, {"deeper": NaN}]}',
    "nested 1e999": '[{"x": 1e999}]',
    "nested surrogate": '{"inner": ["\\udc80"]}',
    "surrogate key": '{"\\ud800": 1}',
    "NUL key": '{"a\\u0000": 1}',
    "deep nesting": "[" * 200 + "]" * 200,
}

# Per endpoint: a template whose slot is a stored (or echoed) string, and one
# whose slot takes any value (a number field, or a field the endpoint ignores).
ENDPOINTS: dict[str, tuple[str, str, str, str]] = {
    "instance create": (
        "POST",
        "/instances",
        '{"id": "fresh", "metadata": {"worker_domain": "@@"}}',
        '{"id": "fresh", "source_params": {"web_crawler": {"discover_options": {"depth": "@@"}}}}',
    ),
    "instance update": (
        "PUT",
        f"/instances/{INSTANCE}",
        '{"metadata": {"worker_domain": "@@"}}',
        '{"source_params": {"web_crawler": {"discover_options": {"depth": "@@"}}}}',
    ),
    "namespace create": (
        "POST",
        "/namespaces",
        '{"name": "fresh", "description": "@@"}',
        '{"name": "fresh", "public_endpoint_params": {"rate_limit": {"requests": "@@"}}}',
    ),
    "namespace update": (
        "PUT",
        f"/namespaces/{NAMESPACE}",
        '{"description": "@@"}',
        '{"public_endpoint_params": {"rate_limit": {"requests": "@@"}}}',
    ),
    "token create": (
        "POST",
        "/tokens",
        '{"name": "@@", "cf_api_id": "fresh", "cf_api_key": "k"}',
        '{"name": "fresh", "cf_api_id": "fresh", "cf_api_key": "k", "extra": "@@"}',
    ),
    "token update": (
        "PUT",
        "/tokens/{token}",
        '{"name": "@@", "cf_api_id": "r2", "cf_api_key": "secret"}',
        '{"name": "tok", "cf_api_id": "r2", "cf_api_key": "secret", "extra": "@@"}',
    ),
    "item create-or-update": (
        "PUT",
        UPLOADS,
        '{"key": "@@", "next_action": "INDEX"}',
        '{"key": "doc.txt", "next_action": "INDEX", "extra": "@@"}',
    ),
    "search": (
        "POST",
        f"/instances/{INSTANCE}/search",
        '{"query": "@@"}',
        '{"query": "apples", "extra": {"retrieval": "@@"}}',
    ),
    "chat": (
        "POST",
        f"/instances/{INSTANCE}/chat/completions",
        '{"messages": [{"role": "user", "content": "@@"}]}',
        '{"messages": [{"role": "user", "content": "apples"}], "extra": "@@"}',
    ),
    "namespace search": (
        "POST",
        "/namespaces/default/search",
        '{"query": "@@", "ai_search_options": {"instance_ids": ["kb"]}}',
        '{"query": "apples", "ai_search_options": {"instance_ids": ["kb"], "x": "@@"}}',
    ),
    "job create": (
        "POST",
        f"/instances/{R2_INSTANCE}/jobs",
        '{"description": "@@"}',
        '{"description": "second", "extra": "@@"}',
    ),
}

# Raw bytes for a string slot that are not valid UTF-8.
BAD_UTF8 = {
    "invalid UTF-8": b'"\xff\xfe"',
    "UTF-8-encoded surrogate": b'"\xed\xa0\x80"',
    "truncated UTF-8": b'"\xc3"',
}
# Whole bodies that are not a JSON object.
NOT_AN_OBJECT = {
    "array": b"[]",
    "string": b'"text"',
    "null": b"null",
    "number": b"42",
    "parser-deep nesting": b"[" * 100_000,
}


def assert_envelope_400(reply: Reply, case: str) -> None:
    assert reply.status == 400, (case, reply.status, reply.body[:300])
    assert reply.headers["Content-Type"].startswith("application/json"), case
    body = reply.json()
    assert body["success"] is False, case
    assert body["result"] is None, case
    (error,) = body["errors"]
    assert isinstance(error["code"], int), case
    assert error["message"], case


def _fill(template: str, fragment: str) -> str:
    assert SLOT in template
    return template.replace(SLOT, fragment)


@pytest.fixture
async def world(tmp_path: Path) -> Any:
    async with open_world(tmp_path) as world:
        yield world


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
async def test_bad_json_values_get_400_and_are_never_stored(
    world: World, tmp_path: Path, endpoint: str
) -> None:
    """Rule 19: non-finite numbers, 64-bit overflow, lone surrogates, NUL and deep
    nesting, anywhere in a JSON body, get a 400 envelope and are never stored."""
    method, raw_path, text_template, value_template = ENDPOINTS[endpoint]
    path = raw_path.format(token=world.token_id)
    before = await world.snapshot()
    cases = [(name, text_template, fragment) for name, fragment in BAD_TEXT.items()]
    cases += [(name, value_template, fragment) for name, fragment in BAD_VALUES.items()]
    cases += [
        (f"{name} (any field)", value_template, fragment) for name, fragment in BAD_TEXT.items()
    ]
    for name, template, fragment in cases:
        reply = await world.json_call(method, path, _fill(template, fragment))
        assert_envelope_400(reply, f"{endpoint}: {name}")
        await world.assert_still_serving(before)
    async with restarted(world, tmp_path) as again:
        await again.assert_still_serving(before)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
async def test_bodies_that_are_not_a_utf8_json_object_get_400(world: World, endpoint: str) -> None:
    """Rule 19: invalid UTF-8 (including encoded surrogates) and JSON that is not an
    object get a 400 envelope."""
    method, raw_path, text_template, _ = ENDPOINTS[endpoint]
    path = raw_path.format(token=world.token_id)
    before = await world.snapshot()
    cases = dict(NOT_AN_OBJECT)
    for name, fragment in BAD_UTF8.items():
        cases[name] = text_template.encode().replace(SLOT.encode(), fragment)
    for name, body in cases.items():
        assert_envelope_400(await world.json_call(method, path, body), f"{endpoint}: {name}")
        await world.assert_still_serving(before)


def _upload_form(metadata: str | bytes) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", b"Pears are green.", filename="pear.txt", content_type="text/plain")
    # Bytes go in a file object: aiohttp would otherwise warn about raw bytes.
    value = io.BytesIO(metadata) if isinstance(metadata, bytes) else metadata
    form.add_field("metadata", value, content_type="text/plain")
    return form


async def test_upload_metadata_with_bad_values_gets_400(world: World, tmp_path: Path) -> None:
    """Rule 19: the multipart ``metadata`` field of an upload is held to the same
    JSON rules, and must be UTF-8."""
    before = await world.snapshot()
    cases: dict[str, str | bytes] = {
        **{name: f'{{"author": {fragment}}}' for name, fragment in BAD_TEXT.items()},
        **{name: f'{{"rank": {fragment}}}' for name, fragment in BAD_VALUES.items()},
        "invalid UTF-8": b'{"author": "\xff"}',
        "UTF-8-encoded surrogate": b'{"author": "\xed\xa0\x80"}',
    }
    for name, metadata in cases.items():
        reply = await world.call("POST", UPLOADS, data=_upload_form(metadata))
        assert_envelope_400(reply, f"metadata: {name}")
        await world.assert_still_serving(before)
    async with restarted(world, tmp_path) as again:
        await again.assert_still_serving(before)


async def test_metadata_that_cannot_be_a_datetime_or_number_is_a_warning(world: World) -> None:
    """Rule 19: finite metadata values beyond what a datetime or a float holds are
    not indexed (a warning), never a 500."""
    await world.ok(
        "PUT",
        f"/instances/{INSTANCE}",
        {
            "custom_metadata": [
                {"field_name": "when", "data_type": "datetime"},
                {"field_name": "rank", "data_type": "number"},
            ]
        },
    )
    metadata = {"when": 1e300, "rank": "1e999"}
    for when in (1e300, -(2**63), "0001-01-01T00:00:00+01:00"):
        metadata["when"] = when
        reply = await world.call("POST", UPLOADS, data=_upload_form(json.dumps(metadata)))
        assert reply.status == 200, reply.body
        warned = {w["field"] for w in reply.json()["result"]["warnings"]}
        assert warned == {"when", "rank"}, when
    await world.assert_still_serving()


BOUNDARY = "b0undary"
_PART = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    "Content-Type: text/plain\r\n\r\nhello\r\n"
)
GOOD_MULTIPART = (_PART + f"--{BOUNDARY}--\r\n").encode()
MULTIPART_TYPE = f"multipart/form-data; boundary={BOUNDARY}"

BAD_MULTIPART: dict[str, tuple[bytes, str]] = {
    "missing boundary": (GOOD_MULTIPART, "multipart/form-data"),
    "empty boundary": (GOOD_MULTIPART, "multipart/form-data; boundary="),
    "wrong boundary": (GOOD_MULTIPART, "multipart/form-data; boundary=other"),
    "truncated in headers": (GOOD_MULTIPART[:60], MULTIPART_TYPE),
    "truncated in content": (GOOD_MULTIPART[: GOOD_MULTIPART.index(b"hello") + 2], MULTIPART_TYPE),
    "no final boundary": (_PART.encode(), MULTIPART_TYPE),
    "bare LF framing": (GOOD_MULTIPART.replace(b"\r\n", b"\n"), MULTIPART_TYPE),
    "file part without a name": (GOOD_MULTIPART.replace(b' name="file";', b""), MULTIPART_TYPE),
    "file part without a filename": (
        GOOD_MULTIPART.replace(b'; filename="a.txt"', b""),
        MULTIPART_TYPE,
    ),
    "unparsable Content-Disposition": (
        GOOD_MULTIPART.replace(b'filename="a.txt"', b'filename="a.txt'),
        MULTIPART_TYPE,
    ),
    "oversized part header": (
        GOOD_MULTIPART.replace(b"Content-Type: text/plain", b"X-Big: " + b"a" * 100_000),
        MULTIPART_TYPE,
    ),
    "too many part headers": (
        GOOD_MULTIPART.replace(
            b"Content-Type: text/plain", b"\r\n".join(b"X-%d: 1" % i for i in range(1000))
        ),
        MULTIPART_TYPE,
    ),
    "file name with raw surrogate bytes": (
        GOOD_MULTIPART.replace(b"a.txt", b"a\xed\xa0\x80.txt"),
        MULTIPART_TYPE,
    ),
    "file name with invalid UTF-8": (
        GOOD_MULTIPART.replace(b"a.txt", b"a\xff.txt"),
        MULTIPART_TYPE,
    ),
    "file name with encoded surrogate": (
        GOOD_MULTIPART.replace(b'filename="a.txt"', b"filename*=UTF-8''a%ED%A0%80.txt"),
        MULTIPART_TYPE,
    ),
    "file name with NUL": (
        GOOD_MULTIPART.replace(b'filename="a.txt"', b"filename*=UTF-8''a%00.txt"),
        MULTIPART_TYPE,
    ),
    "garbage": (b"\x00\xff" * 64, MULTIPART_TYPE),
}


async def test_broken_multipart_gets_400(world: World, tmp_path: Path) -> None:
    """Rule 19: broken multipart framing and bad file names get a 400 envelope."""
    headers = {"Content-Type": MULTIPART_TYPE}
    assert (await world.call("POST", UPLOADS, data=GOOD_MULTIPART, headers=headers)).status == 200
    before = await world.snapshot()
    for name, (body, content_type) in BAD_MULTIPART.items():
        reply = await world.call("POST", UPLOADS, data=body, headers={"Content-Type": content_type})
        assert_envelope_400(reply, f"multipart: {name}")
        await world.assert_still_serving(before)
    async with restarted(world, tmp_path) as again:
        await again.assert_still_serving(before)


def _cursor(number: int) -> str:
    return base64.urlsafe_b64encode(str(number).encode()).decode().rstrip("=")


async def test_bad_query_strings_and_path_parameters_get_400(world: World) -> None:
    """Rule 19: NUL and lone surrogates in query strings and path parameters, and
    numbers beyond 64 bits in integer parameters, get a 400 envelope."""
    instance = f"/namespaces/default/instances/{INSTANCE}"
    item = f"{instance}/items/{world.item_id}"
    cases = [
        "/instances?search=a%00b",
        "/namespaces?search=%00",
        "/tokens?%00=1",
        f"/instances?page={2**63}",
        f"/instances?per_page=1&page={10**30}",
        f"{instance}/items?metadata_filter=" + '{"author":"\\ud800"}',
        f"{instance}/items?metadata_filter=" + '{"author":NaN}',
        f"{instance}/items?metadata_filter=" + '{"author":{"$gt":1e999}}',
        f"{item}/chunks?offset={2**63}",
        f"{item}/logs?cursor={_cursor(2**64)}",
        f"{item}/logs?cursor={_cursor(-1)}",
        "/instances/a%00b",
        "/namespaces/%00/instances",
        f"/tokens/{world.token_id}%00",
    ]
    before = await world.snapshot()
    for path in cases:
        assert_envelope_400(await world.call("GET", path), path)
    assert_envelope_400(await world.call("DELETE", f"/instances/{INSTANCE}%00"), "delete")
    await world.assert_still_serving(before)


async def test_pages_far_past_the_end_are_empty_not_500(world: World) -> None:
    """Rule 19: a page number whose offset overflows SQLite's INTEGER is simply empty."""
    path = f"/instances/{R2_INSTANCE}/jobs/{world.job_id}/logs?per_page=100&page={2**62}"
    reply = await world.call("GET", path)
    assert reply.status == 200, reply.body
    assert reply.json()["result"] == []


async def test_uploaded_json_documents_that_cannot_be_indexed_settle(world: World) -> None:
    """Rule 19: a JSON file holding a lone surrogate escape, non-finite numbers or
    nesting too deep to walk is indexed (or marked as an error, or skipped as having no
    text), never left running."""
    documents = {
        "surrogate.json": b'{"fruit": "\\ud800 apples"}',
        "numbers.json": b'{"a": NaN, "b": 1e999, "c": -Infinity}',
        "deep.json": b"[" * 900 + b"]" * 900,
        "deeper.json": b"[" * 5000 + b"]" * 5000,
    }
    for name, content in documents.items():
        form = aiohttp.FormData()
        form.add_field("file", content, filename=name, content_type="application/json")
        form.add_field("wait_for_completion", "true")
        reply = await world.call("POST", UPLOADS, data=form)
        assert reply.status == 200, reply.body
        item = reply.json()["result"]
        # 900 empty lists hold no text: skipped where Python (3.12+) can walk that deep.
        assert item["status"] in ("completed", "error", "skipped"), (name, item)
        chunks = await world.call("GET", f"{UPLOADS}/{item['id']}/chunks")
        assert chunks.status == 200, (name, chunks.body)
    await world.assert_still_serving()

"""docs/api.md: scripts/api_reference.py lists every operation with its request and result."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "/accounts/{account_id}/ai-search"

# The 46 operations of the official SDK 5.9.0 (verb, path after PREFIX), plus
# the wait helpers, which poll the GET shown.
NS = "/namespaces/{name}/instances/{id}"
EXPECTED = {
    "instances.create": ("POST", "/instances"),
    "instances.update": ("PUT", "/instances/{id}"),
    "instances.list": ("GET", "/instances"),
    "instances.delete": ("DELETE", "/instances/{id}"),
    "instances.chat_completions": ("POST", "/instances/{id}/chat/completions"),
    "instances.read": ("GET", "/instances/{id}"),
    "instances.search": ("POST", "/instances/{id}/search"),
    "instances.stats": ("GET", "/instances/{id}/stats"),
    "instances.jobs.create": ("POST", "/instances/{id}/jobs"),
    "instances.jobs.list": ("GET", "/instances/{id}/jobs"),
    "instances.jobs.get": ("GET", "/instances/{id}/jobs/{job_id}"),
    "instances.jobs.logs": ("GET", "/instances/{id}/jobs/{job_id}/logs"),
    "namespaces.create": ("POST", "/namespaces"),
    "namespaces.update": ("PUT", "/namespaces/{name}"),
    "namespaces.list": ("GET", "/namespaces"),
    "namespaces.delete": ("DELETE", "/namespaces/{name}"),
    "namespaces.chat_completions": ("POST", "/namespaces/{name}/chat/completions"),
    "namespaces.read": ("GET", "/namespaces/{name}"),
    "namespaces.search": ("POST", "/namespaces/{name}/search"),
    "namespaces.instances.create": ("POST", "/namespaces/{name}/instances"),
    "namespaces.instances.update": ("PUT", NS),
    "namespaces.instances.list": ("GET", "/namespaces/{name}/instances"),
    "namespaces.instances.delete": ("DELETE", NS),
    "namespaces.instances.chat_completions": ("POST", f"{NS}/chat/completions"),
    "namespaces.instances.read": ("GET", NS),
    "namespaces.instances.search": ("POST", f"{NS}/search"),
    "namespaces.instances.stats": ("GET", f"{NS}/stats"),
    "namespaces.instances.jobs.create": ("POST", f"{NS}/jobs"),
    "namespaces.instances.jobs.update": ("PATCH", f"{NS}/jobs/{{job_id}}"),
    "namespaces.instances.jobs.list": ("GET", f"{NS}/jobs"),
    "namespaces.instances.jobs.get": ("GET", f"{NS}/jobs/{{job_id}}"),
    "namespaces.instances.jobs.logs": ("GET", f"{NS}/jobs/{{job_id}}/logs"),
    "namespaces.instances.items.list": ("GET", f"{NS}/items"),
    "namespaces.instances.items.upload": ("POST", f"{NS}/items"),
    "namespaces.instances.items.create_or_update": ("PUT", f"{NS}/items"),
    "namespaces.instances.items.get": ("GET", f"{NS}/items/{{item_id}}"),
    "namespaces.instances.items.sync": ("PATCH", f"{NS}/items/{{item_id}}"),
    "namespaces.instances.items.delete": ("DELETE", f"{NS}/items/{{item_id}}"),
    "namespaces.instances.items.download": ("GET", f"{NS}/items/{{item_id}}/download"),
    "namespaces.instances.items.logs": ("GET", f"{NS}/items/{{item_id}}/logs"),
    "namespaces.instances.items.chunks": ("GET", f"{NS}/items/{{item_id}}/chunks"),
    "tokens.create": ("POST", "/tokens"),
    "tokens.update": ("PUT", "/tokens/{id}"),
    "tokens.list": ("GET", "/tokens"),
    "tokens.delete": ("DELETE", "/tokens/{id}"),
    "tokens.read": ("GET", "/tokens/{id}"),
}
WAIT_HELPERS = {
    "instances.jobs.wait": ("GET", "/instances/{id}/jobs/{job_id}"),
    "namespaces.instances.jobs.wait": ("GET", f"{NS}/jobs/{{job_id}}"),
    "namespaces.instances.items.wait": ("GET", f"{NS}/items/{{item_id}}"),
}

HEADING = re.compile(r"^## `client\.aisearch\.(?P<resource>[\w.]+)`$")
ROW = re.compile(
    r"^\| `(?P<method>\w+)`(?P<polls> \*polls\*)? \| `(?P<verb>[A-Z]+) (?P<path>\S+)` \|"
)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "api_reference", ROOT / "scripts" / "api_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


api_reference = _load()


@pytest.fixture(scope="module")
def page() -> str:
    text: str = api_reference.render()
    return text


def _listed(page: str) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """Every row of the page as name -> (verb, path after PREFIX), and the polling ones."""
    rows: dict[str, tuple[str, str]] = {}
    polls: set[str] = set()
    resource = None
    for line in page.splitlines():
        if heading := HEADING.match(line):
            resource = heading["resource"]
        elif row := ROW.match(line):
            assert resource is not None, line
            name = f"{resource}.{row['method']}"
            assert name not in rows, f"{name} listed twice"
            assert row["path"].startswith(PREFIX), line
            rows[name] = (row["verb"], row["path"].removeprefix(PREFIX))
            if row["polls"]:
                polls.add(name)
    return rows, polls


def test_page_lists_exactly_the_46_operations_and_the_wait_helpers(page: str) -> None:
    rows, polls = _listed(page)
    assert len(EXPECTED) == 46
    assert rows == {**EXPECTED, **WAIT_HELPERS}
    assert polls == set(WAIT_HELPERS)
    assert "46 API operations and 3 polling helpers." in page


@pytest.mark.parametrize(
    ("name", "line"),
    [
        (
            "namespaces.instances.items.sync",
            f"`PATCH {PREFIX}/namespaces/{{name}}/instances/{{id}}/items/{{item_id}}` | `Item` | "
            "`Item` |",
        ),
        (
            "namespaces.instances.jobs.update",
            f"`PATCH {PREFIX}/namespaces/{{name}}/instances/{{id}}/jobs/{{job_id}}` | `Job` | "
            "`Job` |",
        ),
        ("tokens.read", f"`GET {PREFIX}/tokens/{{id}}` | `Token` | `Token` |"),
        (
            "namespaces.list",
            f"`GET {PREFIX}/namespaces` | `AsyncPaginator[Namespace]` | `SyncPager[Namespace]` |",
        ),
        (
            "namespaces.instances.items.download",
            f"`GET {PREFIX}/namespaces/{{name}}/instances/{{id}}/items/{{item_id}}/download` | "
            "`AsyncBinaryResponse` | `BinaryResponse` |",
        ),
        (
            "instances.chat_completions",
            f"`POST {PREFIX}/instances/{{id}}/chat/completions` | "
            r"`ChatCompletion \| AsyncChatCompletionStream[ChatCompletion]` | "
            r"`ChatCompletion \| ChatCompletionStream[ChatCompletion]` |",
        ),
        ("instances.jobs.logs", "| `list[JobLog]` | `list[JobLog]` |"),
    ],
)
def test_rows_show_request_and_result_types(page: str, name: str, line: str) -> None:
    resource, _, method = name.rpartition(".")
    section = page.split(f"## `client.aisearch.{resource}`\n", 1)[1].split("\n## ", 1)[0]
    row = next(r for r in section.splitlines() if r.startswith(f"| `{method}`"))
    assert line in row


def test_rows_carry_the_first_docstring_paragraph(page: str) -> None:
    assert "| Index item ``item_id`` again. |" in page
    assert "Get token ``id`` (without its secret). |" in page


def test_sync_types_come_from_the_sources_given() -> None:
    sources = {p.stem: p.read_text() for p in (ROOT / "cfaisearch" / "_sync").glob("*.py")}
    sources["tokens"] = sources["tokens"].replace(") -> Token:", ") -> Renamed:")
    sections = api_reference.sections(sources)
    tokens = next(s for s in sections if s.resource == "client.aisearch.tokens")
    read = next(op for op in tokens.operations if op.name == "read")
    assert (read.async_returns, read.sync_returns) == ("Token", "Renamed")

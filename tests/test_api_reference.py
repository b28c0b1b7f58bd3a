"""docs/api.md: scripts/api_reference.py lists every operation with its request and result."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from cfaisearch._operations import HELPERS, OPERATIONS, POLLING_HELPERS, PREFIX

ROOT = Path(__file__).resolve().parent.parent

# Every operation (verb, path after PREFIX), plus the helpers: the wait helpers poll
# the GET shown, the others send it first.
EXPECTED = {op.name: (op.verb, op.path) for op in OPERATIONS}
ALL_HELPERS = {op.name: (op.verb, op.path) for op in HELPERS}
WAIT_HELPERS = {op.name for op in POLLING_HELPERS}

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


def test_page_lists_exactly_the_registered_operations_and_the_wait_helpers(page: str) -> None:
    rows, polls = _listed(page)
    assert len(EXPECTED) == len(OPERATIONS)  # no name registered twice
    assert rows == {**EXPECTED, **ALL_HELPERS}
    assert polls == WAIT_HELPERS
    counts = (
        f"{len(OPERATIONS)} API operations and {len(HELPERS)} helpers "
        f"({len(POLLING_HELPERS)} of them polling)."
    )
    assert counts in page


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

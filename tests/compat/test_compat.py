"""The official-SDK-style user code of tests/compat/scenarios.py, run with cfaisearch.

What the official SDK observed is in official.json (recorded by
``nox -s compat -- --record``, which runs both SDKs live); cfaisearch must
observe the same, but for the differences ``ALLOWED`` names, each of which is
a row of docs/migrating.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.compat.runner import ALLOWED, GOLDEN, differences, normalise, observe

ROOT = Path(__file__).parents[2]
MIGRATING = ROOT / "docs" / "migrating.md"


@pytest.fixture(scope="module")
def official() -> dict[str, object]:
    golden: dict[str, object] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return golden


@pytest.fixture(scope="module")
def ours() -> dict[str, object]:
    return observe("cfaisearch")


def test_cfaisearch_observes_what_the_official_sdk_did(
    official: dict[str, object], ours: dict[str, object]
) -> None:
    assert sorted(ours) == sorted(official)
    assert differences(official, ours) == []


def test_no_scenario_broke_in_either_run(
    official: dict[str, object], ours: dict[str, object]
) -> None:
    runs = [*official.items(), *ours.items()]
    broken = [name for name, seen in runs if isinstance(seen, dict) and "raised" in seen]
    assert broken == []


def test_every_allowed_difference_is_still_one(
    official: dict[str, object], ours: dict[str, object]
) -> None:
    """An allowed difference that no longer differs is a row to drop from migrating.md."""
    for allowed in ALLOWED:
        for path in allowed.paths:
            scenario, key = path.split("/", 1)
            for flavour in ("sync", "async"):
                theirs = _at(official[f"{flavour}.{scenario}"], key)
                mine = _at(ours[f"{flavour}.{scenario}"], key)
                assert theirs != mine, f"{allowed.name}: {flavour}.{path} no longer differs"


def _at(observed: object, key: str) -> object:
    for part in key.split("/"):
        assert isinstance(observed, dict)
        observed = observed.get(part, "<missing>")
    return observed


def _table_rows(text: str, heading: str) -> list[str]:
    """The first cells of the table under ``heading`` (header and rule left out)."""
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [row.split("|")[1].strip() for row in rows[2:]]


def test_every_allowed_difference_is_a_row_of_migrating_md_and_back() -> None:
    rows = _table_rows(MIGRATING.read_text(encoding="utf-8"), "## Differences that remain")
    assert sorted(rows) == sorted(allowed.name for allowed in ALLOWED)


def test_the_normaliser_replaces_only_what_varies_run_to_run() -> None:
    observed = {
        "id": "8c1f0e2a-55d1-4c0e-9a8e-0f3b2f5e7a11",
        "public_endpoint_id": "0123456789abcdef0123456789abcdef",
        "created_at": "datetime(2026-05-02T09:15:00.250000+00:00)",
        "url": ["http://127.0.0.1:49152/client/v4/accounts/x", 3, None],
        "auth": "Bearer s3cr3t-token",
        "name": "kb-2",
        "version": "2026-05-02",
    }
    assert normalise(observed, "s3cr3t-token") == {
        "id": "<uuid>",
        "public_endpoint_id": "<hex-id>",
        "created_at": "datetime(<time>)",
        "url": ["http://127.0.0.1:<port>/client/v4/accounts/x", 3, None],
        "auth": "Bearer <api-token>",
        "name": "kb-2",
        "version": "<time>",
    }


# -- what README.md and the docs promise ------------------------------------------------


def _prose(path: Path) -> str:
    return " ".join(path.read_text(encoding="utf-8").split())


def test_the_readme_makes_the_promise_of_migrating_md_word_for_word() -> None:
    promise = re.search(r"Swap the import[^.]*\.", _prose(MIGRATING))
    assert promise is not None
    assert promise.group() in _prose(ROOT / "README.md")


INSTALL_FROM_INDEX = re.compile(r"pip install [^\n`]*?(?<![\w./-])['\"]?cfaisearch\b")
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_no_page_installs_cfaisearch_from_a_package_index(path: Path) -> None:
    """The package is not published: installs are from a checkout or a built wheel."""
    assert INSTALL_FROM_INDEX.findall(path.read_text(encoding="utf-8")) == []


PACKAGE_TEXTS = sorted(
    p
    for p in (ROOT / "cfaisearch").rglob("*")
    if p.suffix in (".py", ".md") and "_sync" not in p.parts
)


def test_no_message_of_the_package_installs_it_from_a_package_index() -> None:
    """Error messages, help texts and the demo corpus say what works, as the pages do."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in PACKAGE_TEXTS
        if INSTALL_FROM_INDEX.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_install_instructions_say_what_works() -> None:
    for path in (ROOT / "README.md", ROOT / "docs" / "quickstart.md"):
        text = path.read_text(encoding="utf-8")
        assert "pip install ." in text or "pip install -e ." in text, path.name

"""The test suite's own layout: helpers live in tests/support, conftest files hold fixtures.

A test module that imports another, or helpers imported from a conftest.py,
tie tests to how pytest happens to load them; these checks keep that from
creeping back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
MODULES = sorted(p for p in TESTS.rglob("*.py") if "fixtures" not in p.parts)


def _imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, relative imports written with their leading dots."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            names += [module] if node.module else [module + a.name for a in node.names]
    return names


# The compat suite's scenarios and runner: also run outside pytest (nox -s compat).
_SHARED = ("tests.support", "tests.compat.scenarios", "tests.compat.runner")


def _is_shared_elsewhere(name: str) -> bool:
    """An import of the suite's own code from outside tests/support (or the compat suite's)."""
    ours = name.startswith(".") or name == "tests" or name.startswith("tests.")
    return ours and not any(name == shared or name.startswith(shared + ".") for shared in _SHARED)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(TESTS)) for p in MODULES])
def test_shared_code_comes_only_from_tests_support(path: Path) -> None:
    """No test module imports another, nor helpers from a conftest.py."""
    imported = [name for name in _imported_modules(path) if _is_shared_elsewhere(name)]
    assert imported == [], f"{path.name} imports {imported}; move shared code to tests/support"


def _is_fixture(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr == "fixture"


CONFTESTS = sorted(TESTS.rglob("conftest.py"))


@pytest.mark.parametrize("path", CONFTESTS, ids=[str(p.relative_to(TESTS)) for p in CONFTESTS])
def test_conftest_files_hold_only_fixtures_and_hooks(path: Path) -> None:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.name.startswith("pytest_") or any(map(_is_fixture, node.decorator_list)), (
                f"{path}: {node.name} is not a fixture; move it to tests/support"
            )
        else:
            assert not isinstance(node, (ast.ClassDef, ast.Assign, ast.AnnAssign)), (
                f"{path}, line {node.lineno}: only fixtures belong here; move it to tests/support"
            )

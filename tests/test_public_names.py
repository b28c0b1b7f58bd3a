"""The public names of ``cfaisearch`` and ``cfaisearch.types`` agree wherever they are listed.

Each package keeps one table of its names (``_EXPORTS``: module -> names),
read lazily by its ``__getattr__``; ``__all__`` is derived from it, and the
``TYPE_CHECKING`` imports that type checkers read must say the same.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

import cfaisearch
import cfaisearch.types

PACKAGES = [cfaisearch, cfaisearch.types]


def table(package: ModuleType) -> set[tuple[str, str]]:
    """(module, name) of every name in the package's lazy export table."""
    exports: dict[str, tuple[str, ...]] = vars(package)["_EXPORTS"]
    return {(module, name) for module, names in exports.items() for name in names}


def type_checking_imports(package: ModuleType) -> set[tuple[str, str]]:
    """(module, name) of every name the package's ``if TYPE_CHECKING:`` block re-exports."""
    assert package.__file__ is not None
    tree = ast.parse(Path(package.__file__).read_text())
    (block,) = (
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    imported: set[tuple[str, str]] = set()
    for node in block.body:
        assert isinstance(node, ast.ImportFrom), ast.unparse(node)
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                home = importlib.import_module(module, package.__name__)
                imported |= {(module, name) for name in home.__all__}
            else:
                # Only ``X as X`` marks a re-export for type checkers.
                assert alias.asname == alias.name, ast.unparse(node)
                imported.add((module, alias.name))
    return imported


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_all_is_the_export_table(package: ModuleType) -> None:
    names = [name for _, name in table(package)]
    assert len(names) == len(set(names)), "a name is listed under two modules"
    assert package.__all__ == sorted(names)
    assert dir(package) == package.__all__


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_type_checkers_see_exactly_the_export_table(package: ModuleType) -> None:
    assert type_checking_imports(package) == table(package)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_every_name_is_its_home_modules_public_object(package: ModuleType) -> None:
    for module, name in table(package):
        home = importlib.import_module(module, package.__name__)
        assert getattr(package, name) is getattr(home, name), name
        if not name.startswith("__"):
            assert name in home.__all__, f"{name} is not public in {home.__name__}"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_star_import_gives_exactly_all(package: ModuleType) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package.__name__} import *", namespace)
    del namespace["__builtins__"]
    assert sorted(namespace) == package.__all__


def test_every_model_module_is_exported_whole() -> None:
    # Each types module's __all__ is what the package offers from it, no more, no less.
    for module, names in vars(cfaisearch.types)["_EXPORTS"].items():
        home = importlib.import_module(module, "cfaisearch.types")
        assert sorted(names) == sorted(home.__all__), module


def test_an_unknown_name_is_an_attribute_error() -> None:
    for package in PACKAGES:
        with pytest.raises(AttributeError, match="Nonexistent"):
            _ = package.Nonexistent

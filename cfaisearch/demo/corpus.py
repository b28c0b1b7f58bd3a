"""The documents the demo indexes, read from the package (works from a wheel or a zip)."""

from __future__ import annotations

import sys
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

__all__ = ["load_corpus"]


def _walk(folder: Traversable, prefix: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir():
            files |= _walk(entry, f"{prefix}{entry.name}/")
        else:
            files[prefix + entry.name] = entry.read_bytes()
    return files


def load_corpus() -> dict[str, bytes]:
    """Every bundled document, keyed by its path under ``corpus/`` (``guides/x.md``)."""
    return _walk(resources.files("cfaisearch.demo") / "corpus", "")

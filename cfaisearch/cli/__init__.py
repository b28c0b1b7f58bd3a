"""The ``cfaisearch`` command line (``pip install 'cfaisearch[cli]'``).

This module imports nothing but the standard library: it checks that the
``cli`` extra (click, rich) is installed and says what to install if not.
``import cfaisearch`` never imports this package.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Final

__all__ = ["EXIT_MISSING_EXTRA", "main"]

EXIT_MISSING_EXTRA: Final = 1
_EXTRA_MODULES: Final = ("click", "rich")


def _missing_modules() -> list[str]:
    missing = []
    for name in _EXTRA_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status."""
    missing = _missing_modules()
    if missing:
        print(
            f"cfaisearch: the command line needs {' and '.join(missing)}: "
            "pip install 'cfaisearch[cli]'",
            file=sys.stderr,
        )
        return EXIT_MISSING_EXTRA
    from .app import run

    return run(argv)

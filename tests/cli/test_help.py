"""Help texts, the entry points, and the extra staying optional."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from cfaisearch.cli._common import EXIT_CODES
from cfaisearch.cli.app import cli
from tests.support.cli import invoke

GROUPS = ["instances", "namespaces", "jobs", "items", "tokens"]


def _commands() -> list[list[str]]:
    paths: list[list[str]] = []
    for name, command in cli.commands.items():
        if isinstance(command, click.Group):
            paths += [[name, sub] for sub in command.commands]
        else:
            paths.append([name])
    return paths


def test_the_top_level_help_lists_every_command_and_the_exit_codes() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    listed = set(result.stdout.split("Commands:")[1].split())
    assert {*GROUPS, "sync", "search", "chat", "emulator", "demo"} <= listed
    for code, meaning in EXIT_CODES:
        assert f"{code:>3}  {meaning}" in result.stdout
    assert sorted(code for code, _ in EXIT_CODES) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 70, 130]


def test_the_groups_have_the_subcommands_of_the_issue() -> None:
    wanted = {
        "instances": {"list", "get", "create", "update", "delete", "stats"},
        "namespaces": {"list", "get", "create", "update", "delete"},
        "jobs": {"list", "create", "get", "logs", "cancel", "wait"},
        "items": {"list", "upload", "get", "download", "delete", "sync", "chunks", "logs"},
        "tokens": {"list", "get", "create", "update", "delete"},
    }
    for group, subcommands in wanted.items():
        command = cli.commands[group]
        assert isinstance(command, click.Group)
        assert set(command.commands) == subcommands


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_every_command_help_shows_an_example(path: list[str]) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    example = result.stdout.split("Example:\n\n", 1)[1]
    assert example.lstrip().startswith(f"cfaisearch {path[0]}") or "cfaisearch " in example


def test_instance_settings_are_options_made_from_the_declaration() -> None:
    from cfaisearch.types.params import _InstanceCreateSettings, _InstanceUpdateSettings

    create = invoke("instances", "create", "--help").stdout
    update = invoke("instances", "update", "--help").stdout
    for settings, text in ((_InstanceCreateSettings, create), (_InstanceUpdateSettings, update)):
        for name in settings.__annotations__:
            assert "--" + name.replace("_", "-") in text, name
    assert "--reranking / --no-reranking" in create
    assert "--hybrid-search-enabled" in create
    assert "--hybrid-search-enabled" not in update
    assert "--json-body FILE|-" in update


def test_the_emulator_help_lists_the_emulators_own_options() -> None:
    result = invoke("emulator", "--help")
    assert result.exit_code == 0
    assert "usage: cfaisearch emulator" in result.stdout
    assert "--r2-root" in result.stdout
    assert "--fault-429-rate" in result.stdout


def test_version() -> None:
    from cfaisearch import __version__

    assert invoke("--version").stdout == f"cfaisearch, version {__version__}\n"


def test_python_dash_m_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cfaisearch", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Exit codes:" in done.stdout


def test_importing_the_package_does_not_import_the_cli_extra() -> None:
    code = (
        "import sys, cfaisearch, cfaisearch.types;"
        "cfaisearch.AsyncCloudflare; cfaisearch.Cloudflare;"
        "print(sorted(m for m in ('click', 'rich', 'cfaisearch.cli') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "[]\n"

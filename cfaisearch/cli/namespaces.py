"""``cfaisearch namespaces``: groups of instances."""

from __future__ import annotations

from typing import Any

import click

from .. import AsyncCloudflare
from ._common import Column, CommandError, call, done, example, out, output_options, read_json_file

__all__ = ["group"]

COLUMNS = (
    Column("name", "name"),
    Column("description", "description"),
    Column("created", "created_at"),
)


def _body(description: str | None, json_body: str | None) -> dict[str, Any]:
    keywords: dict[str, Any] = {}
    if json_body is not None:
        body = read_json_file(json_body, "--json-body")
        if not isinstance(body, dict):
            raise CommandError("--json-body: expected a JSON object")
        keywords.update(body)
    if description is not None:
        keywords["description"] = description
    return keywords


_DESCRIPTION = click.option("--description", help="What the namespace holds.")
_JSON_BODY = click.option(
    "--json-body",
    metavar="FILE|-",
    type=click.Path(allow_dash=True),
    help="A JSON object (description, public_endpoint_params); options win over it.",
)


@click.group("namespaces")
def group() -> None:
    """List, inspect, create, change and delete namespaces."""


@group.command("list")
@click.option("--search", help="Only namespaces whose name or description contains this.")
@output_options
@example("cfaisearch namespaces list")
def list_(search: str | None) -> None:
    """List the namespaces of the account."""

    async def work(client: AsyncCloudflare) -> Any:
        return [n async for n in client.aisearch.namespaces.list(search=search)]

    out(call(work), COLUMNS)


@group.command("get")
@click.argument("name")
@output_options
@example("cfaisearch namespaces get default")
def get(name: str) -> None:
    """Show a namespace."""
    out(call(lambda c: c.aisearch.namespaces.read(name)))


@group.command("create")
@click.argument("name")
@_DESCRIPTION
@_JSON_BODY
@output_options
@example('cfaisearch namespaces create support --description "Support articles"')
def create(name: str, description: str | None, json_body: str | None) -> None:
    """Create a namespace."""
    keywords = _body(description, json_body)
    out(call(lambda c: c.aisearch.namespaces.create(name=name, **keywords)))


@group.command("update")
@click.argument("name")
@_DESCRIPTION
@_JSON_BODY
@output_options
@example('cfaisearch namespaces update support --description "Help centre"')
def update(name: str, description: str | None, json_body: str | None) -> None:
    """Change a namespace's description or public endpoint."""
    keywords = _body(description, json_body)
    out(call(lambda c: c.aisearch.namespaces.update(name, **keywords)))


@group.command("delete")
@click.argument("name")
@output_options
@example("cfaisearch namespaces delete support")
def delete(name: str) -> None:
    """Delete a namespace (it must hold no instance)."""
    done(call(lambda c: c.aisearch.namespaces.delete(name)), f"deleted namespace {name}")

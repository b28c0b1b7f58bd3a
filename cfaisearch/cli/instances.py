"""``cfaisearch instances``: the instances of a namespace."""

from __future__ import annotations

from typing import Any

import click

from .. import AsyncCloudflare
from ._common import Column, call, done, example, namespace_option, out, output_options
from .settings import CREATE_SETTINGS, UPDATE_SETTINGS, settings_from, settings_options

__all__ = ["group"]

COLUMNS = (
    Column("id", "id"),
    Column("status", "status"),
    Column("type", "type"),
    Column("source", "source"),
    Column("paused", "paused"),
    Column("modified", "modified_at"),
)


@click.group("instances")
def group() -> None:
    """List, inspect, create, change and delete instances."""


@group.command("list")
@namespace_option
@click.option("--search", help="Only instances whose id contains this.")
@output_options
@example("cfaisearch instances list -n default")
def list_(namespace: str, search: str | None) -> None:
    """List the instances of a namespace."""

    async def work(client: AsyncCloudflare) -> Any:
        pages = client.aisearch.namespaces.instances.list(namespace, search=search)
        return [instance async for instance in pages]

    out(call(work), COLUMNS)


@group.command("get")
@click.argument("instance")
@namespace_option
@output_options
@example("cfaisearch instances get my-docs")
def get(instance: str, namespace: str) -> None:
    """Show an instance's settings."""
    out(call(lambda c: c.aisearch.namespaces.instances.read(instance, name=namespace)))


@group.command("create")
@click.argument("instance")
@namespace_option
@settings_options(CREATE_SETTINGS)
@output_options
@example(
    "cfaisearch instances create my-docs --chunk-size 512 --no-reranking",
    "cfaisearch instances create crawled --type web-crawler --source https://example.com",
)
def create(instance: str, namespace: str, json_body: str | None, **given: Any) -> None:
    """Create an instance; without --source it is fed by uploads (items upload, sync)."""
    keywords, extra = settings_from(given, json_body, CREATE_SETTINGS)
    if extra:
        keywords["extra_body"] = extra
    out(call(lambda c: c.aisearch.namespaces.instances.create(namespace, id=instance, **keywords)))


@group.command("update")
@click.argument("instance")
@namespace_option
@settings_options(UPDATE_SETTINGS)
@output_options
@example("cfaisearch instances update my-docs --max-num-results 20 --paused")
def update(instance: str, namespace: str, json_body: str | None, **given: Any) -> None:
    """Change the settings given; the others keep their values."""
    keywords, extra = settings_from(given, json_body, UPDATE_SETTINGS)
    if extra:
        keywords["extra_body"] = extra
    out(
        call(lambda c: c.aisearch.namespaces.instances.update(instance, name=namespace, **keywords))
    )


@group.command("delete")
@click.argument("instance")
@namespace_option
@output_options
@example("cfaisearch instances delete my-docs")
def delete(instance: str, namespace: str) -> None:
    """Delete an instance and everything it indexed."""
    deleted = call(lambda c: c.aisearch.namespaces.instances.delete(instance, name=namespace))
    done(deleted, f"deleted instance {instance}")


@group.command("stats")
@click.argument("instance")
@namespace_option
@output_options
@example("cfaisearch instances stats my-docs")
def stats(instance: str, namespace: str) -> None:
    """Item counts per status of an instance."""
    out(call(lambda c: c.aisearch.namespaces.instances.stats(instance, name=namespace)))

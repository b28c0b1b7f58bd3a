"""``cfaisearch items``: the files and pages of an instance."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .. import AsyncCloudflare
from .._files import UploadFile
from ..types import Item, ItemUploadResult
from ._common import (
    EXIT_LOCAL_FILE,
    Column,
    CommandError,
    call,
    done,
    example,
    namespace_option,
    out,
    output_options,
    state,
)
from ._progress import bar
from .filters import FilterError, Scalar, parse_value

__all__ = ["group", "parse_metadata"]

COLUMNS = (
    Column("id", "id"),
    Column("key", "key"),
    Column("status", "status"),
    Column("chunks", "chunks_count"),
    Column("size", "file_size"),
    Column("error", "error"),
)
CHUNK_COLUMNS = (Column("id", "id"), Column("text", "text"))
LOG_COLUMNS = (
    Column("time", "timestamp"),
    Column("action", "action"),
    Column("chunks", "chunkCount"),
    Column("error", "errorType"),
    Column("message", "message"),
)
_STATUSES = ("queued", "running", "completed", "error", "skipped", "outdated")


def parse_metadata(pairs: tuple[str, ...]) -> dict[str, Scalar]:
    """``("lang=en", "year=2024")`` -> ``{"lang": "en", "year": 2024}``, typed as filters are."""
    metadata: dict[str, Scalar] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise CommandError(f"--metadata {pair!r}: expected KEY=VALUE")
        try:
            metadata[key.strip()] = parse_value(value.strip(), pair)
        except FilterError as exc:
            raise CommandError(f"--metadata {exc}") from None
    return metadata


_INSTANCE = click.argument("instance")
_ITEM = click.argument("item_id")


@click.group("items")
def group() -> None:
    """Upload, list, inspect, download, re-index and delete items."""


@group.command("list")
@_INSTANCE
@namespace_option
@click.option("--status", type=click.Choice(_STATUSES), help="Only items in this state.")
@click.option("--search", help="Only items whose key contains this.")
@output_options
@example("cfaisearch items list my-docs --status error")
def list_(instance: str, namespace: str, status: Any, search: str | None) -> None:
    """List the items of an instance."""

    async def work(client: AsyncCloudflare) -> list[Item]:
        items = client.aisearch.namespaces.instances.items
        return [i async for i in items.list(instance, name=namespace, status=status, search=search)]

    out(call(work), COLUMNS)


@group.command("upload")
@_INSTANCE
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@namespace_option
@click.option("--key", help="The item key (default: the file's name); one file only.")
@click.option(
    "--metadata", "-m", multiple=True, metavar="KEY=VALUE", help="Custom metadata (repeatable)."
)
@click.option("--wait", is_flag=True, help="Answer once each file is indexed.")
@output_options
@example("cfaisearch items upload my-docs guide.md faq.md -m lang=en --wait")
def upload(
    instance: str,
    files: tuple[Path, ...],
    namespace: str,
    key: str | None,
    metadata: tuple[str, ...],
    wait: bool,
) -> None:
    """Upload files; an existing key is replaced and indexed again. Folders: use `sync`."""
    if key is not None and len(files) != 1:
        raise CommandError("--key names one file; give exactly one")
    fields = parse_metadata(metadata)

    async def work(client: AsyncCloudflare) -> list[ItemUploadResult]:
        items = client.aisearch.namespaces.instances.items
        results = []
        with bar("uploading") as progress:
            for done_count, path in enumerate(files):
                progress.update(
                    description=f"uploading {path.name}", done=done_count, total=len(files)
                )
                upload: UploadFile = {"file": (key or path.name, path)}
                if fields:
                    upload["metadata"] = fields
                if wait:
                    upload["wait_for_completion"] = True
                results.append(await items.upload(instance, name=namespace, file=upload))
        return results

    uploaded = call(work)
    out(uploaded if len(uploaded) != 1 else uploaded[0], COLUMNS)


@group.command("get")
@_INSTANCE
@_ITEM
@namespace_option
@output_options
@example("cfaisearch items get my-docs 0c9f...")
def get(instance: str, item_id: str, namespace: str) -> None:
    """Show an item and where its indexing stands."""
    out(
        call(
            lambda c: c.aisearch.namespaces.instances.items.get(
                item_id, name=namespace, id=instance
            )
        )
    )


@group.command("download")
@_INSTANCE
@_ITEM
@namespace_option
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="FILE|-",
    type=click.Path(allow_dash=True),
    help="Where to write the file (- = stdout).",
)
@output_options
@example("cfaisearch items download my-docs 0c9f... -o guide.md")
def download(instance: str, item_id: str, namespace: str, output: str) -> None:
    """Download an item's original file."""
    if output == "-" and state().json:
        raise CommandError("--json prints what was written: give -o FILE")

    async def work(client: AsyncCloudflare) -> int:
        items = client.aisearch.namespaces.instances.items
        async with await items.download(item_id, name=namespace, id=instance) as response:
            if output != "-":
                try:
                    return await response.write_to_file(output)
                except OSError as exc:  # named as given, not as the hidden temporary file
                    raise CommandError(
                        f"-o: cannot write {output}: {exc.strerror or exc}", EXIT_LOCAL_FILE
                    ) from None
            size = 0
            stdout = sys.stdout.buffer
            async for piece in response.iter_bytes():
                stdout.write(piece)
                size += len(piece)
            stdout.flush()
            return size

    size = call(work)
    if output != "-":
        done({"item_id": item_id, "path": output, "bytes": size}, f"wrote {size} bytes to {output}")


@group.command("delete")
@_INSTANCE
@_ITEM
@namespace_option
@output_options
@example("cfaisearch items delete my-docs 0c9f...")
def delete(instance: str, item_id: str, namespace: str) -> None:
    """Delete an item: its file and its indexed chunks."""
    deleted = call(
        lambda c: c.aisearch.namespaces.instances.items.delete(item_id, name=namespace, id=instance)
    )
    done(deleted, f"deleted item {deleted.key}")


@group.command("sync")
@_INSTANCE
@_ITEM
@namespace_option
@click.option("--wait", is_flag=True, help="Answer once it is indexed.")
@output_options
@example("cfaisearch items sync my-docs 0c9f... --wait")
def sync_item(instance: str, item_id: str, namespace: str, wait: bool) -> None:
    """Index one item again (its stored file). For a folder, use `cfaisearch sync`."""
    keywords: dict[str, Any] = {"wait_for_completion": True} if wait else {}
    out(
        call(
            lambda c: c.aisearch.namespaces.instances.items.sync(
                item_id, name=namespace, id=instance, next_action="INDEX", **keywords
            )
        )
    )


@group.command("chunks")
@_INSTANCE
@_ITEM
@namespace_option
@click.option("--limit", type=click.IntRange(1, 100), help="Chunks per request (1-100).")
@output_options
@example("cfaisearch items chunks my-docs 0c9f...")
def chunks(instance: str, item_id: str, namespace: str, limit: int | None) -> None:
    """Show every indexed chunk of an item."""

    async def work(client: AsyncCloudflare) -> list[Any]:
        items = client.aisearch.namespaces.instances.items
        first = await items.chunks(item_id, name=namespace, id=instance, limit=limit)
        return [chunk async for chunk in first]

    out(call(work), CHUNK_COLUMNS)


@group.command("logs")
@_INSTANCE
@_ITEM
@namespace_option
@click.option("--limit", type=click.IntRange(1, 100), help="Entries per request (1-100).")
@output_options
@example("cfaisearch items logs my-docs 0c9f...")
def logs(instance: str, item_id: str, namespace: str, limit: int | None) -> None:
    """Show every processing event of an item."""

    async def work(client: AsyncCloudflare) -> list[Any]:
        items = client.aisearch.namespaces.instances.items
        first = await items.logs(item_id, name=namespace, id=instance, limit=limit)
        return [entry async for entry in first]

    out(call(work), LOG_COLUMNS)

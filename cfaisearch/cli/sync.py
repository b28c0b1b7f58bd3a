"""``cfaisearch sync``: make an instance's items match a local folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import AsyncCloudflare, NotFoundError
from ._common import (
    EXIT_SYNC_FAILED,
    Column,
    FiniteFloat,
    Glob,
    call,
    example,
    namespace_option,
    out,
    output_options,
    print_json,
    state,
    stdout_console,
)
from ._progress import bar
from .items import parse_metadata

if TYPE_CHECKING:
    from ..types import SyncEvent, SyncReport

__all__ = ["sync"]

FAILURE_COLUMNS = (
    Column("key", "key"),
    Column("error", "error"),
    Column("message", "message"),
)


@click.command("sync")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("instance")
@namespace_option
@click.option(
    "--include",
    multiple=True,
    metavar="GLOB",
    type=Glob(),
    help="Only files whose key (relative path, with /) matches; repeatable. "
    "* stays within a folder, ** spans folders: '**/*.md'.",
)
@click.option(
    "--exclude", multiple=True, metavar="GLOB", type=Glob(), help="Skip matching files; repeatable."
)
@click.option("--delete", is_flag=True, help="Delete items whose file is gone from the folder.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Uploads at a time.",
)
@click.option(
    "--metadata",
    "-m",
    multiple=True,
    metavar="KEY=VALUE",
    help="Custom metadata for every uploaded file (repeatable).",
)
@click.option("--create", is_flag=True, help="Create the instance (upload-only) if it is missing.")
@click.option("--wait", is_flag=True, help="Then wait until the instance has indexed them.")
@click.option(
    "--timeout",
    type=FiniteFloat(minimum=0),
    default=600.0,
    show_default=True,
    help="Seconds --wait waits before giving up (exit 7).",
)
@output_options
@example(
    "cfaisearch sync ./docs my-docs --include '**/*.md' --exclude 'drafts/**' --delete --wait",
)
def sync(
    directory: Path,
    instance: str,
    namespace: str,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    delete: bool,
    concurrency: int,
    metadata: tuple[str, ...],
    create: bool,
    wait: bool,
    timeout: float,
) -> None:
    """Upload DIRECTORY's new and changed files to INSTANCE (unchanged ones are skipped).

    Exits 8 when some files failed (the others are uploaded); --json prints one
    summary: counts of uploaded, unchanged, deleted and failed files, and the failures.
    Ctrl-C stops (exit 130) without undoing what was uploaded.
    """
    fields = parse_metadata(metadata)

    async def work(client: AsyncCloudflare) -> SyncReport:
        instances = client.aisearch.namespaces.instances
        if create:
            try:
                await instances.read(instance, name=namespace)
            except NotFoundError:
                await instances.create(namespace, id=instance)
        with bar(f"syncing {directory}") as progress:

            def on_progress(event: SyncEvent) -> None:
                progress.update(
                    description=f"{event.kind} {event.key or ''}".strip(),
                    done=event.done,
                    total=event.total,
                )

            return await instances.items.sync_directory(
                directory,
                id=instance,
                name=namespace,
                include=include,
                exclude=exclude,
                delete=delete,
                concurrency=concurrency,
                wait=wait,
                wait_timeout=timeout,
                on_progress=on_progress,
                metadata=fields or None,
            )

    report = call(work)
    summary = report.summary()
    if state().json:
        print_json(summary)
    else:
        counts = ", ".join(
            f"{name.replace('_', ' ')} {summary[name]}"
            for name in ("uploaded", "unchanged", "deleted", "failed", "index_failed")
            if name != "index_failed" or wait
        )
        stdout_console().print(counts, markup=False)
        if summary["failures"]:
            out(list(summary["failures"]), FAILURE_COLUMNS, title="Failures")
    if not report.ok:
        click.get_current_context().exit(EXIT_SYNC_FAILED)

"""``cfaisearch jobs``: an instance's indexing (sync) jobs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import click

from .. import AsyncCloudflare, WaitTimeoutError
from ..types import Job
from ._common import (
    Column,
    FiniteFloat,
    call,
    example,
    namespace_option,
    out,
    output_options,
    print_json,
    state,
)
from ._progress import bar

__all__ = ["group", "wait_for_job"]

COLUMNS = (
    Column("id", "id"),
    Column("source", "source"),
    Column("started", "started_at"),
    Column("ended", "ended_at"),
    Column("end reason", "end_reason"),
    Column("description", "description"),
)
LOG_COLUMNS = (
    Column("id", "id"),
    Column("created", "created_at"),
    Column("type", "message_type"),
    Column("message", "message"),
)

_TIMEOUT = click.option(
    "--timeout",
    type=FiniteFloat(minimum=0),
    default=600.0,
    show_default=True,
    help="Seconds to wait before giving up (exit 7).",
)
_POLL = click.option(
    "--poll-interval",
    type=FiniteFloat(minimum=0),
    default=2.0,
    show_default=True,
    help="Seconds between checks.",
)


async def wait_for_job(
    client: AsyncCloudflare,
    job_id: str,
    *,
    instance: str,
    namespace: str,
    timeout: float,
    poll_interval: float,
) -> Job:
    """Poll the job until it ends, showing progress (a spinner, or JSON Lines with --json).

    Raises WaitTimeoutError (with the last job seen) after ``timeout`` seconds.
    Interrupting it cancels nothing on the server.
    """
    jobs = client.aisearch.namespaces.instances.jobs
    deadline = time.monotonic() + timeout
    last: Job | None = None
    with bar(f"job {job_id}") as progress:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = "never answered" if last is None else f"last seen at {last.last_seen_at}"
                raise WaitTimeoutError(
                    f"job {job_id!r} of instance {instance!r} has not ended ({seen}); "
                    f"gave up after {timeout}s",
                    last=last,
                )
            last = await jobs.get(job_id, name=namespace, id=instance, timeout=remaining)
            if state().json:
                print_json(last, indent=None)
            progress.update(description=f"job {job_id}: last seen at {last.last_seen_at}")
            if last.ended:
                return last
            await asyncio.sleep(min(poll_interval, max(deadline - time.monotonic(), 0)))


@click.group("jobs")
def group() -> None:
    """Start, list, inspect, follow and cancel indexing jobs."""


@group.command("list")
@click.argument("instance")
@namespace_option
@output_options
@example("cfaisearch jobs list my-docs")
def list_(instance: str, namespace: str) -> None:
    """List the jobs of an instance."""

    async def work(client: AsyncCloudflare) -> Any:
        jobs = client.aisearch.namespaces.instances.jobs
        return [job async for job in jobs.list(instance, name=namespace)]

    out(call(work), COLUMNS)


@group.command("create")
@click.argument("instance")
@namespace_option
@click.option("--description", help="Why this job was started.")
@click.option("--wait", is_flag=True, help="Wait for the job to end.")
@_TIMEOUT
@_POLL
@output_options
@example('cfaisearch jobs create my-docs --description "after the release" --wait')
def create(
    instance: str,
    namespace: str,
    description: str | None,
    wait: bool,
    timeout: float,
    poll_interval: float,
) -> None:
    """Start syncing an instance with its data source (R2 bucket or website)."""
    keywords: dict[str, Any] = {} if description is None else {"description": description}

    async def work(client: AsyncCloudflare) -> Job:
        jobs = client.aisearch.namespaces.instances.jobs
        job = await jobs.create(instance, name=namespace, **keywords)
        if not wait:
            return job
        if state().json:
            print_json(job, indent=None)
        return await wait_for_job(
            client,
            job.id,
            instance=instance,
            namespace=namespace,
            timeout=timeout,
            poll_interval=poll_interval,
        )

    job = call(work)
    if not (wait and state().json):  # a wait already printed the final state as a line
        out(job)


@group.command("get")
@click.argument("instance")
@click.argument("job_id")
@namespace_option
@output_options
@example("cfaisearch jobs get my-docs 3f2a...")
def get(instance: str, job_id: str, namespace: str) -> None:
    """Show a job."""
    out(
        call(
            lambda c: c.aisearch.namespaces.instances.jobs.get(job_id, name=namespace, id=instance)
        )
    )


@group.command("logs")
@click.argument("instance")
@click.argument("job_id")
@namespace_option
@click.option("--page", type=click.IntRange(min=1), help="Page of the log (default: the first).")
@click.option("--per-page", type=click.IntRange(min=1), help="Entries per page.")
@output_options
@example("cfaisearch jobs logs my-docs 3f2a...")
def logs(
    instance: str, job_id: str, namespace: str, page: int | None, per_page: int | None
) -> None:
    """Show a page of a job's log."""
    out(
        call(
            lambda c: c.aisearch.namespaces.instances.jobs.logs(
                job_id, name=namespace, id=instance, page=page, per_page=per_page
            )
        ),
        LOG_COLUMNS,
    )


@group.command("cancel")
@click.argument("instance")
@click.argument("job_id")
@namespace_option
@output_options
@example("cfaisearch jobs cancel my-docs 3f2a...")
def cancel(instance: str, job_id: str, namespace: str) -> None:
    """Cancel a running job."""
    out(
        call(
            lambda c: c.aisearch.namespaces.instances.jobs.update(
                job_id, name=namespace, id=instance, action="cancel"
            )
        )
    )


@group.command("wait")
@click.argument("instance")
@click.argument("job_id")
@namespace_option
@_TIMEOUT
@_POLL
@output_options
@example("cfaisearch jobs wait my-docs 3f2a... --timeout 300")
def wait(instance: str, job_id: str, namespace: str, timeout: float, poll_interval: float) -> None:
    """Wait for a job to end; --json prints its state at each check (JSON Lines).

    Ctrl-C stops waiting (exit 130); the job goes on.
    """
    job = call(
        lambda c: wait_for_job(
            c,
            job_id,
            instance=instance,
            namespace=namespace,
            timeout=timeout,
            poll_interval=poll_interval,
        )
    )
    if not state().json:
        out(job)

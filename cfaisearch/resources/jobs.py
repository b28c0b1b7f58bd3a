"""Indexing jobs of an instance in the default namespace (``/instances/{id}/jobs``)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from .. import types as _types
from .._options import NOT_GIVEN, NotGiven, RequestOptions, Unpack, resolve_options
from ._base import AsyncResource, body, page_params, poll, segment

if TYPE_CHECKING:
    from .._pagination import AsyncPaginator
    from ..types.jobs import Job, JobLog

__all__ = ["AsyncJobs"]

_PER_PAGE_RANGE = (0, 50)


class AsyncJobs(AsyncResource):
    """Create, list, inspect and wait for an instance's indexing jobs."""

    def _path(self, account_id: str | None, id: str, *rest: str) -> str:
        return self._ai_search(account_id, "instances", segment("id", id), "jobs", *rest)

    async def create(
        self,
        id: str,
        *,
        account_id: str | None = None,
        description: str | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> Job:
        """Start an indexing job for instance ``id``.

        Not retried after the request may have reached the server (a repeat
        could start a second job); see the retry policy in the docs.
        """
        return await self._client.get_result(
            _types.Job,
            "POST",
            self._path(account_id, id),
            body=body(description=description),
            options=resolve_options(options),
        )

    def list(
        self,
        id: str,
        *,
        account_id: str | None = None,
        page: int | None = None,
        per_page: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[Job]:
        """List the jobs of instance ``id``, page by page (iterate for every job)."""
        return self._client.paginate(
            _types.Job,
            self._path(account_id, id),
            query=page_params(page, per_page, per_page_range=_PER_PAGE_RANGE),
            options=resolve_options(options),
        )

    async def get(
        self,
        job_id: str,
        *,
        id: str,
        account_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Job:
        """Get the details of job ``job_id`` of instance ``id``."""
        return await self._client.get_result(
            _types.Job,
            "GET",
            self._path(account_id, id, segment("job_id", job_id)),
            options=resolve_options(options),
        )

    async def logs(
        self,
        job_id: str,
        *,
        id: str,
        account_id: str | None = None,
        page: int | None = None,
        per_page: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> builtins.list[JobLog]:
        """Get one page of the log entries of job ``job_id``."""
        return await self._client.get_result(
            builtins.list[_types.JobLog],
            "GET",
            self._path(account_id, id, segment("job_id", job_id), "logs"),
            query=page_params(page, per_page, per_page_range=None, page_from=None),
            options=resolve_options(options),
        )

    async def wait(
        self,
        job_id: str,
        *,
        id: str,
        account_id: str | None = None,
        poll_interval: float = 2.0,
        timeout: float = 600.0,
    ) -> Job:
        """Poll job ``job_id`` until it has ended; return its final state.

        Gives up after ``timeout`` seconds, each request included, raising
        :class:`~cfaisearch.WaitTimeoutError` (carrying the last ``Job`` seen,
        or None).
        """
        return await poll(
            lambda seconds: self.get(job_id, id=id, account_id=account_id, timeout=seconds),
            lambda job: job.ended,
            poll_interval=poll_interval,
            timeout=timeout,
            request_timeout=self._client.timeout,
            subject=f"job {job_id!r} of instance {id!r}",
            progress=lambda job: f"still running (last seen at {job.last_seen_at})",
        )

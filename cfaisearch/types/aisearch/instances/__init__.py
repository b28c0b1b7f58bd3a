"""The official SDK's ``cloudflare.types.aisearch.instances`` names.

Each is an alias of the model (or list of models) the same call returns
here, so type annotations written for the official SDK keep working after
the import swap (see docs/migrating.md). Resolved on first use: importing
this module loads no model module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from cfaisearch.types.aisearch import resolve_alias

if TYPE_CHECKING:
    from typing import TypeAlias

    from cfaisearch.types.jobs import Job, JobLog

    JobCreateResponse: TypeAlias = Job
    JobGetResponse: TypeAlias = Job
    JobListResponse: TypeAlias = Job
    JobLogsResponse: TypeAlias = list[JobLog]

_ALIASES: Final[dict[str, str]] = {
    "JobCreateResponse": "Job",
    "JobGetResponse": "Job",
    "JobListResponse": "Job",
    "JobLogsResponse": "list[JobLog]",
}
"""Official name -> what cfaisearch.types calls it (``list[X]``: a list of X)."""

__all__ = sorted(_ALIASES)


def __getattr__(name: str) -> Any:
    value = resolve_alias(__name__, _ALIASES, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

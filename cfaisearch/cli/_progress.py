"""Progress on a terminal (rich, on stderr); nothing when stdout is not a terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from ._common import err, interactive, shown

__all__ = ["Bar", "bar"]


class Bar:
    """One task of a progress display, or nothing at all (``progress`` is None)."""

    def __init__(self, progress: Progress | None, description: str) -> None:
        self._progress = progress
        self._task: TaskID | None = (
            None if progress is None else progress.add_task(description, total=None)
        )

    def update(
        self, *, description: str | None = None, done: int | None = None, total: int | None = None
    ) -> None:
        if self._progress is None or self._task is None:
            return
        self._progress.update(
            self._task,
            description=None if description is None else shown(description),
            completed=done,
            total=total,
            refresh=True,
        )


@contextlib.contextmanager
def bar(description: str) -> Iterator[Bar]:
    """A progress bar on stderr when both streams are terminals (and not ``--json``)."""
    if not interactive():
        yield Bar(None, description)
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
    )
    with progress:
        yield Bar(progress, description)

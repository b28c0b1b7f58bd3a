"""What ``items.sync_directory`` reports: its outcome, its failures, and its progress."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any, Literal, TypeAlias, Union

import attrs

from .._models import BaseModel
from .items import Item

__all__ = ["SyncEvent", "SyncEventKind", "SyncFailure", "SyncMetadata", "SyncReport"]

SyncMetadata: TypeAlias = Union[  # noqa: UP007 (a runtime alias on 3.10)
    Mapping[str, Union[str, float, bool]],  # noqa: UP007
    Callable[[PurePosixPath], Union[Mapping[str, Union[str, float, bool]], None]],  # noqa: UP007
]
"""The ``metadata`` of ``sync_directory``: one mapping for every file, or a function
of the key returning each file's (None: no metadata)."""

SyncEventKind = Literal[
    "scanned", "uploaded", "unchanged", "deleted", "failed", "indexed", "index_failed"
]


@attrs.frozen(kw_only=True)
class SyncFailure(BaseModel):
    """One file (or directory) the sync could not handle; the others went on."""

    path: str
    """The path as walked (the directory given, joined with the key)."""
    key: str
    """The item key it stands for: its POSIX path relative to the directory."""
    error: str
    """The exception's class name, e.g. ``"BadRequestError"`` or ``"PermissionError"``."""
    message: str
    """What went wrong, on one line."""


@attrs.frozen(kw_only=True)
class SyncEvent(BaseModel):
    """One step of a sync, for progress bars.

    ``done`` counts the steps finished so far (files uploaded, unchanged or
    failed, items deleted; while waiting, items whose indexing ended) out of
    ``total``, which is None while the directory is still being walked.
    """

    kind: SyncEventKind
    key: str | None = None
    done: int
    total: int | None = None


@attrs.frozen(kw_only=True)
class SyncReport(BaseModel):
    """What a directory sync did.

    ``index_failed`` is filled only with ``wait=True``: the uploaded items
    whose indexing ended in ``error`` or ``skipped`` (an unsupported file type,
    for instance).
    """

    uploaded: tuple[str, ...] = ()
    """Keys of the files uploaded (new or changed)."""
    unchanged: int = 0
    """How many files the instance already had with the same content."""
    deleted: tuple[str, ...] = ()
    """Keys of the items deleted because their file is gone (``delete=True`` only)."""
    failed: tuple[SyncFailure, ...] = ()
    index_failed: tuple[Item, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every file was synced and, if waited for, indexed."""
        return not self.failed and not self.index_failed

    def summary(self) -> dict[str, Any]:
        """Counts, and each failure as a dict: a JSON-ready digest of the report."""
        return {
            "uploaded": len(self.uploaded),
            "unchanged": self.unchanged,
            "deleted": len(self.deleted),
            "failed": len(self.failed),
            "index_failed": len(self.index_failed),
            "failures": [
                *(failure.to_dict() for failure in self.failed),
                *(
                    {
                        "path": None,
                        "key": item.key,
                        "error": f"index_{item.status}",
                        "message": item.error or f"indexing ended {item.status}",
                    }
                    for item in self.index_failed
                ),
            ],
        }

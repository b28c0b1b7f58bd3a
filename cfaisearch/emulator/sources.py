"""External data sources of sync jobs: R2 buckets stood in for by local folders.

``--r2-root/<bucket>/docs/a.md`` is object ``docs/a.md`` of bucket ``<bucket>``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from pathlib import Path

from .parsing import guess_content_type


class SourceError(Exception):
    """The source cannot be read at all; the job ends with this reason."""


@dataclasses.dataclass(frozen=True)
class SourceDocument:
    """One file of an external source (R2 folder or crawled page), ready to upsert."""

    key: str
    content: bytes
    content_type: str
    modified_ms: int
    #: Set when the document must not be indexed (e.g. over the size limit).
    skip_reason: str | None = None


@functools.lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    """micromatch-style glob: ``**`` spans folders, ``*`` and ``?`` stay within one."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def selected(key: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Whether a key passes the source's prefix, include and exclude globs."""
    if include and not any(_glob(p).fullmatch(key) for p in include):
        return False
    return not any(_glob(p).fullmatch(key) for p in exclude)


def bucket_path(r2_root: Path, bucket: str) -> Path:
    # Bucket names are validated against R2's pattern, so no "..", no "/".
    """The folder that stands for an R2 bucket under ``--r2-root``."""
    return r2_root / bucket


def scan_bucket(
    r2_root: Path,
    bucket: str,
    *,
    prefix: str,
    include: Sequence[str],
    exclude: Sequence[str],
    max_bytes: int,
) -> list[SourceDocument]:
    """Every selected object of the bucket folder, sorted by key (blocking: run in a thread)."""
    root = bucket_path(r2_root, bucket)
    if not root.is_dir():
        raise SourceError(f"R2 bucket '{bucket}' not found (no folder {root})")
    documents = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue  # symlinks could point outside the bucket folder
        key = path.relative_to(root).as_posix()
        if not key.startswith(prefix) or not selected(key, include, exclude):
            continue
        stat = path.stat()
        modified_ms = int(stat.st_mtime * 1000)
        if stat.st_size > max_bytes:
            reason = f"file is larger than the {max_bytes} byte limit"
            documents.append(SourceDocument(key, b"", guess_content_type(key), modified_ms, reason))
            continue
        content = path.read_bytes()
        documents.append(SourceDocument(key, content, guess_content_type(key), modified_ms))
    return documents

"""``items.sync_directory``: make an instance's uploaded items match a local directory.

One run lists the instance's items once (key -> checksum and size), then walks
the directory lazily in a worker thread, a batch of entries at a time, feeding
a bounded queue that ``concurrency`` workers drain: each compares its file
with the listed item and uploads it if it is new or changed. Listed items
whose files were not seen are deleted afterwards, with ``delete=True`` only.
Memory grows with the instance's item count (the listing), never with the
directory's size beyond one batch and one directory's open iterator per level.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import os
import re
import threading
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

import attrs

from ._exceptions import (
    AuthenticationError,
    CloudflareError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    WaitTimeoutError,
)
from ._files import UploadFile, upload_form
from ._options import json_body
from ._pagination import _count
from .resources._base import _seconds, check_int, notify, poll, segment
from .types.directory_sync import (
    SyncEvent,
    SyncEventKind,
    SyncFailure,
    SyncMetadata,
    SyncReport,
)

if TYPE_CHECKING:
    from .resources.items import AsyncItems
    from .types.items import Item, ItemStatus

__all__ = ["DirectorySync", "Scope", "glob_regex", "walk_batches"]

_T = TypeVar("_T")

BUILTIN: Final = "builtin"
"""The ``source_id`` of uploaded items: the only ones a sync compares or deletes."""
PER_PAGE: Final = 50
WALK_BATCH: Final = 256
"""Directory entries read per trip to the worker thread."""
HASH_CHUNK: Final = 256 * 1024
_MD5_HEX: Final = re.compile(r"[0-9a-f]{32}")
# Statuses an item leaves by itself: while in one, its indexing is not over.
_BUSY_STATUSES: Final[tuple[ItemStatus, ...]] = ("queued", "running", "outdated")
_FAILED_STATUSES: Final[tuple[ItemStatus, ...]] = ("error", "skipped")
# Failures no other file would escape: the whole sync stops on the first.
_FATAL: Final = (ConfigurationError, AuthenticationError, PermissionDeniedError)
_MESSAGE_LIMIT: Final = 300


# -- globs ------------------------------------------------------------------------------


def _class_end(segment: str, start: int) -> int:
    """Where the ``[...]`` opened at ``start`` closes (-1: it does not, ``[`` is literal).

    As in fnmatch, a ``]`` right after ``[`` or ``[!`` belongs to the class.
    """
    first = start + 1
    if segment[first : first + 1] == "!":
        first += 1
    return segment.find("]", first + 1)


def _fnmatch_class(text: str) -> str:
    """The regex of one ``[...]`` glob class, as fnmatch translates it (ranges, ``!``)."""
    translated = fnmatch.translate(text)
    inner = re.fullmatch(r"\(\?s:(.*)\)\\[Zz]", translated, re.S)
    if inner is None:  # pragma: no cover - a future fnmatch with another wrapper
        raise RuntimeError(f"unexpected fnmatch translation {translated!r}")
    return inner.group(1)


def _segment_regex(segment: str) -> str:
    """One path segment of a glob: ``*``, ``?`` and ``[...]`` never match ``/``."""
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            while i + 1 < len(segment) and segment[i + 1] == "*":
                i += 1  # ``**`` inside a segment is a plain ``*``
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := _class_end(segment, i)) != -1:
            out.append(f"(?!/){_fnmatch_class(segment[i : end + 1])}")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def glob_regex(pattern: str) -> str:
    """The regular expression (to ``fullmatch``) of a glob on a POSIX relative key.

    ``*``, ``?`` and ``[...]`` match within one path segment; ``**`` as a whole
    segment matches any number of segments, none included (``**/*.md`` is
    every Markdown file, ``docs/**`` everything under ``docs``). A glob is
    matched against the whole key: ``*.md`` matches top-level files only.
    """
    segments = pattern.split("/")
    out: list[str] = []
    for index, part in enumerate(segments):
        last = index == len(segments) - 1
        if part == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
        else:
            out.append(_segment_regex(part) + ("" if last else "/"))
    return "".join(out)


def _globs(parameter: str, value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"`{parameter}` must be a sequence of glob strings, got {value!r}")
    return tuple(_glob(parameter, glob) for glob in value)


def _glob(parameter: str, glob: object) -> str:
    """A glob as keys are written, or ValueError if it can match no key.

    Keys never start with ``./`` nor end with ``/``, so such a glob would
    silently match nothing (an exclude excluding nothing): ``./`` is dropped
    and a trailing ``/`` means the folder and everything below it.
    """
    if not isinstance(glob, str) or not glob:
        raise TypeError(f"`{parameter}` must hold non-empty glob strings, got {glob!r}")
    if glob.startswith("/") or os.path.isabs(glob):
        raise ValueError(f"`{parameter}` globs are relative to the directory, got {glob!r}")
    written = glob
    while written.startswith("./"):
        written = written[2:]
    if written.endswith("/") or not written:
        written += "**"
    if any(part in ("", ".", "..") for part in written.split("/")):
        raise ValueError(
            f"`{parameter}` glob {glob!r} has an empty, '.' or '..' segment: it could match no key"
        )
    return written


def _any_of(regexes: Iterable[str]) -> re.Pattern[str] | None:
    either = "|".join(f"(?:{regex})" for regex in regexes)
    return re.compile(either) if either else None


@attrs.frozen
class Scope:
    """Which keys a sync handles: those matching an ``include`` glob (any key if
    there are none) and no ``exclude`` glob."""

    include: re.Pattern[str] | None
    exclude: re.Pattern[str] | None
    pruned: re.Pattern[str] | None
    """Directory keys (ending in ``/``) an exclude glob ending in ``/**`` covers whole."""

    @classmethod
    def of(cls, include: Sequence[str], exclude: Sequence[str]) -> Scope:
        # "docs/**" covers directory "docs/" whole; "**" covers every directory.
        covering = [glob[:-2] for glob in exclude if glob == "**" or glob.endswith("/**")]
        return cls(
            _any_of(glob_regex(glob) for glob in include),
            _any_of(glob_regex(glob) for glob in exclude),
            _any_of(glob_regex(prefix) if prefix else ".*" for prefix in covering),
        )

    def __contains__(self, key: str) -> bool:
        if self.include is not None and not self.include.fullmatch(key):
            return False
        return self.exclude is None or not self.exclude.fullmatch(key)

    def skips_directory(self, key: str) -> bool:
        """Whether nothing under directory ``key`` (ending in ``/``) can be in scope."""
        return self.pruned is not None and self.pruned.fullmatch(key) is not None


# -- the walk ---------------------------------------------------------------------------


@attrs.frozen
class Walked:
    """A file found by the walk, or an entry it could not read (``problem``)."""

    path: str
    key: str
    problem: OSError | None = None
    directory: bool = False


class _Walk:
    """A depth-first walk that never holds more than one open iterator per level.

    Directory symlinks are not followed (no loops, nothing outside the tree);
    file symlinks are (the target's content is synced); sockets, pipes and
    devices are skipped. ``take`` and ``close`` may run on different threads.
    """

    def __init__(self, root: str, scope: Scope) -> None:
        self._scope = scope
        self._lock = threading.Lock()
        # (open directory iterator, its key prefix, its path), one per level.
        self._stack: list[tuple[Any, str, str]] = [(os.scandir(root), "", root)]

    def take(self, limit: int) -> list[Walked]:
        """Up to ``limit`` more entries; an empty list once the walk is over."""
        found: list[Walked] = []
        with self._lock:
            while self._stack and len(found) < limit:
                entries, prefix, path = self._stack[-1]
                try:
                    entry = next(entries, None)
                except OSError as exc:  # the directory went away while read
                    entry = None
                    found.append(Walked(path, prefix, exc, directory=True))
                if entry is None:
                    entries.close()
                    self._stack.pop()
                    continue
                self._visit(entry, prefix + entry.name, found)
        return found

    def _visit(self, entry: os.DirEntry[str], key: str, found: list[Walked]) -> None:
        try:
            if entry.is_dir(follow_symlinks=False):
                if not self._scope.skips_directory(key + "/"):
                    try:
                        self._stack.append((os.scandir(entry.path), key + "/", entry.path))
                    except OSError as exc:
                        found.append(Walked(entry.path, key + "/", exc, directory=True))
            elif entry.is_file():
                found.append(Walked(entry.path, key))
            elif entry.is_symlink() and not os.path.exists(entry.path):
                problem = FileNotFoundError(f"dangling symlink {entry.path}")
                found.append(Walked(entry.path, key, problem))
        except OSError as exc:
            found.append(Walked(entry.path, key, exc))

    def close(self) -> None:
        with self._lock:
            while self._stack:
                self._stack.pop()[0].close()


async def walk_batches(root: str, scope: Scope) -> AsyncGenerator[list[Walked], None]:
    """The walk of ``root`` in batches, each read in a worker thread."""
    walk = _Walk(root, scope)
    try:
        while batch := await asyncio.to_thread(walk.take, WALK_BATCH):
            yield batch
    finally:
        # Waits (briefly) for a batch still being read after a cancellation.
        walk.close()


# -- comparing --------------------------------------------------------------------------


@attrs.frozen
class Remote:
    """What the instance holds under a key."""

    id: str
    checksum: str | None
    size: float | None
    deletable: bool


def _remote(item: Item) -> Remote | None:
    """What a listed item tells the sync, or None if another source owns it."""
    source = item.source_id
    if source is not None and source != BUILTIN:
        return None
    checksum = item.checksum if isinstance(item.checksum, str) else None
    if checksum is not None:  # an ETag-like '"ABC..."' is the same MD5 as 'abc...'
        checksum = checksum.strip().strip('"').lower()
    size = item.file_size if isinstance(item.file_size, (int, float)) else None
    return Remote(item.id, checksum, size, deletable=source == BUILTIN)


def _unchanged(path: str, remote: Remote) -> bool:
    """Whether the file's content is the listed item's (run in a worker thread).

    The API leaves the checksum's algorithm undocumented; its documented
    example and the service give the MD5 hex. Any other checksum falls back to
    comparing sizes, and with neither the file counts as changed.
    """
    with open(path, "rb") as handle:
        if remote.checksum is not None and _MD5_HEX.fullmatch(remote.checksum):
            digest = hashlib.md5(usedforsecurity=False)
            while chunk := handle.read(HASH_CHUNK):
                digest.update(chunk)
            return digest.hexdigest() == remote.checksum
        size = os.fstat(handle.fileno()).st_size
        return remote.size is not None and size == remote.size


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


async def _pool(
    source: AsyncGenerator[_T, None], handle: Callable[[_T], Awaitable[None]], concurrency: int
) -> None:
    """``handle`` each value of ``source``, at most ``concurrency`` at once.

    The queue between them is bounded, so ``source`` is read only as fast as
    the values are handled. Workers start as values wait for one, so a large
    ``concurrency`` costs nothing beyond the work there is. The first
    exception stops everything and is raised.
    """
    # A None slot tells a worker the source is exhausted.
    queue: asyncio.Queue[_Slot[_T] | None] = asyncio.Queue(maxsize=concurrency * 2)
    tasks: list[asyncio.Future[None]] = []
    settled = asyncio.Event()
    errors: list[BaseException] = []
    running = idle = 0

    def ended(task: asyncio.Future[None]) -> None:
        nonlocal running
        running -= 1
        if not task.cancelled() and (error := task.exception()) is not None:
            errors.append(error)
        if errors or running == 0:
            settled.set()

    def start(job: Awaitable[None]) -> None:
        nonlocal running
        running += 1
        task = asyncio.ensure_future(job)
        task.add_done_callback(ended)
        tasks.append(task)

    async def produce() -> None:
        workers = 0
        async for value in source:
            if workers < concurrency and queue.qsize() >= idle:
                workers += 1
                start(work())
            await queue.put(_Slot(value))
        for _ in range(workers):
            await queue.put(None)

    async def work() -> None:
        nonlocal idle
        while True:
            idle += 1
            try:
                slot = await queue.get()
            finally:
                idle -= 1
            if slot is None:
                return
            await handle(slot.value)

    start(produce())
    try:
        await settled.wait()
        if errors:
            raise errors[0]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await source.aclose()


@attrs.frozen
class _Slot(Generic[_T]):
    value: _T


@attrs.frozen
class Upload:
    """One file uploaded: its key, and the item the server answered."""

    key: str
    item_id: str
    item_key: str
    """The item's key as the server stores it (it may normalise the file name)."""

    @property
    def keys(self) -> tuple[str, str]:
        return (self.key, self.item_key)


def _printable(text: str) -> str:
    """``text`` as valid UTF-8: a name's undecodable bytes shown as ``\\xe9``.

    File names that are not UTF-8 come from ``os.fsdecode`` with lone
    surrogates, which no JSON encoder writes.
    """
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no undecodable byte stands for
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


# -- one run ----------------------------------------------------------------------------


@attrs.define
class DirectorySync:
    """One ``sync_directory`` call, its arguments checked."""

    items: AsyncItems
    root: str
    id: str
    account_id: str | None
    name: str
    scope: Scope
    delete: bool
    concurrency: int
    metadata: SyncMetadata | None
    wait: bool
    wait_timeout: float
    poll_interval: float
    on_progress: Callable[[SyncEvent], object] | None
    _remote: dict[str, Remote] = attrs.field(factory=dict)
    _uploads: list[Upload] = attrs.field(factory=list)
    """Each upload, in order: two files may land in one item (a server folding case)."""
    _unchanged: int = 0
    _deleted: list[str] = attrs.field(factory=list)
    _failed: list[SyncFailure] = attrs.field(factory=list)
    _unreadable: list[str] = attrs.field(factory=list)
    """Keys (ending in ``/``) of directories the walk could not read."""
    _listing_moved: bool = False
    """Whether the listing gave an item twice, or not as many as it counts: files
    not in it are looked up by key."""
    _done: int = 0
    _total: int | None = None

    @classmethod
    def checked(
        cls,
        items: AsyncItems,
        directory: str | os.PathLike[str],
        *,
        id: str,
        account_id: str | None,
        name: str,
        include: Sequence[str],
        exclude: Sequence[str],
        delete: bool,
        concurrency: int,
        metadata: SyncMetadata | None,
        wait: bool,
        wait_timeout: float,
        poll_interval: float,
        on_progress: Callable[[SyncEvent], object] | None,
    ) -> DirectorySync:
        """A run, once every argument is known good (before any request)."""
        if isinstance(directory, bytes) or not isinstance(directory, (str, os.PathLike)):
            raise TypeError(f"`directory` must be a str or os.PathLike path, got {directory!r}")
        root = os.fspath(directory)
        if not isinstance(root, str):
            raise TypeError(f"`directory` must be a str path, got {root!r}")
        if not os.path.isdir(root):
            kind = "not a directory" if os.path.exists(root) else "does not exist"
            raise ValueError(f"`directory`: {root!r} {kind}")
        segment("id", id)
        segment("name", name)
        for flag, value in (("delete", delete), ("wait", wait)):
            if not isinstance(value, bool):
                raise TypeError(f"`{flag}` must be a bool, got {value!r}")
        check_int("concurrency", concurrency, 1)
        if metadata is not None and not callable(metadata):
            if not isinstance(metadata, Mapping):
                kind = type(metadata).__name__
                raise TypeError(f"`metadata` must be a mapping, a callable or None, got {kind}")
            try:
                json_body(metadata, "metadata")
            except TypeError as exc:
                raise TypeError(f"`metadata` is not JSON-serialisable: {exc}") from exc
        if on_progress is not None and not callable(on_progress):
            raise TypeError(f"`on_progress` must be callable, got {on_progress!r}")
        return cls(
            items=items,
            root=root,
            id=id,
            account_id=account_id,
            name=name,
            scope=Scope.of(_globs("include", include), _globs("exclude", exclude)),
            delete=delete,
            concurrency=concurrency,
            metadata=metadata,
            wait=wait,
            wait_timeout=_seconds("wait_timeout", wait_timeout),
            poll_interval=_seconds("poll_interval", poll_interval),
            on_progress=on_progress,
        )

    @property
    def _where(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "name": self.name}

    async def _report(self, kind: SyncEventKind, key: str | None, *, step: bool = True) -> None:
        if step:
            self._done += 1
        event = SyncEvent(kind=kind, key=key, done=self._done, total=self._total)
        await notify(self.on_progress, event)

    async def _fail(self, path: str, key: str, exc: BaseException) -> None:
        self._failed.append(
            SyncFailure(
                path=_printable(path),
                key=_printable(key),
                error=type(exc).__name__,
                message=_printable(_one_line(exc)),
            )
        )
        await self._report("failed", key)

    async def _list_remote(self) -> None:
        """What the instance holds, by key; notes whether the listing moved meanwhile."""
        seen = 0
        total: int | None = None
        listing = self.items.list(self.id, per_page=PER_PAGE, **self._where)
        async for page in listing.pages():
            seen += len(page.result)
            total = _count(page.result_info.total_count)
            for item in page.result:
                remote = _remote(item)
                if remote is not None:
                    # Items move between pages while they are indexed (lists are
                    # sorted by status or modification time): an item read twice
                    # means another may have been skipped.
                    self._listing_moved = self._listing_moved or item.key in self._remote
                    self._remote[item.key] = remote
        # A skip without a repeat (an item before it deleted meanwhile) shows
        # only in the count.
        self._listing_moved = self._listing_moved or (total is not None and seen != total)

    async def run(self) -> SyncReport:
        await self._list_remote()
        await _pool(self._scan(), self._sync_file, self.concurrency)
        if self.delete:
            # A server normalising keys (Unicode NFC, case) lists under another
            # key the very item an upload of this run just wrote: never delete it.
            uploaded_ids = {upload.item_id for upload in self._uploads}
            uploaded_keys = {key for upload in self._uploads for key in upload.keys}
            gone = [
                (key, remote)
                for key, remote in self._remote.items()
                if remote.deletable
                and key in self.scope
                and key not in uploaded_keys
                and remote.id not in uploaded_ids
                and not any(key.startswith(prefix) for prefix in self._unreadable)
            ]
            self._total = (self._total or 0) + len(gone)
            await _pool(_aiter(gone), self._delete, self.concurrency)
        report = SyncReport(
            uploaded=tuple(upload.key for upload in self._uploads),
            unchanged=self._unchanged,
            deleted=tuple(self._deleted),
            failed=tuple(self._failed),
        )
        if self.wait and self._uploads:
            report = attrs.evolve(report, index_failed=await self._wait_indexed(report))
        return report

    async def _scan(self) -> AsyncGenerator[tuple[Walked, Remote | None], None]:
        """Each file in scope with what the instance holds under its key."""
        scanned = 0
        async with contextlib.aclosing(walk_batches(self.root, self.scope)) as batches:
            async for batch in batches:
                for walked in batch:
                    if walked.directory:
                        self._unreadable.append(walked.key)
                        await self._fail(walked.path, walked.key, walked.problem or OSError())
                        continue
                    if walked.key not in self.scope:
                        continue
                    scanned += 1
                    # Seen: whatever happens to the file, its item is not deleted.
                    remote = self._remote.pop(walked.key, None)
                    await self._report("scanned", walked.key, step=False)
                    yield walked, remote
        self._total = scanned + len(self._unreadable)

    async def _sync_file(self, found: tuple[Walked, Remote | None]) -> None:
        """Compare one file with its item and upload it if changed.

        Only the SDK's own per-file errors (the file's, the upload's input,
        the API's answer) fail the file alone; what the caller's functions
        (hooks, ``metadata``, ``on_progress``) raise stops the sync.
        """
        walked, remote = found
        try:
            if walked.problem is not None:
                raise walked.problem
            walked.key.encode()  # a name that is not UTF-8 can be no key, nor be looked up
        except (OSError, UnicodeEncodeError) as exc:
            await self._fail(walked.path, walked.key, exc)
            return
        if remote is None and self._listing_moved:
            try:
                remote = await self._look_up(walked.key)
            except _FATAL:
                raise
            except CloudflareError as exc:
                await self._fail(walked.path, walked.key, exc)
                return
        try:
            same = remote is not None and await asyncio.to_thread(_unchanged, walked.path, remote)
        except OSError as exc:
            await self._fail(walked.path, walked.key, exc)
            return
        if same:
            self._unchanged += 1
            await self._report("unchanged", walked.key)
            return
        upload = UploadFile(file=(walked.key, Path(walked.path)))
        metadata = self._metadata_of(walked.key)
        if metadata is not None:
            upload["metadata"] = metadata
        try:
            upload_form(upload)  # the upload's own checks: a name too long, not a regular file
        except (OSError, ValueError, TypeError) as exc:
            await self._fail(walked.path, walked.key, exc)
            return
        try:
            item = await self.items.upload(self.id, file=upload, **self._where)
        except _FATAL:
            raise
        except CloudflareError as exc:
            await self._fail(walked.path, walked.key, exc)
            return
        except OSError as exc:
            if exc.filename != walked.path:  # not the file's: a hook's, say
                raise
            await self._fail(walked.path, walked.key, exc)
            return
        self._uploads.append(Upload(walked.key, item.id, item.key))
        await self._report("uploaded", walked.key)

    async def _look_up(self, key: str) -> Remote | None:
        """The uploaded item under ``key``, asked for alone (the listing may have missed it)."""
        async for item in self.items.list(self.id, key=key, per_page=PER_PAGE, **self._where):
            remote = _remote(item)
            if remote is not None and item.key == key:
                return remote
        return None

    def _metadata_of(self, key: str) -> Mapping[str, Any] | None:
        """The caller's metadata for ``key``: what its function raises stops the sync."""
        if self.metadata is None or isinstance(self.metadata, Mapping):
            return self.metadata
        metadata = self.metadata(PurePosixPath(key))
        if metadata is not None and not isinstance(metadata, Mapping):
            raise TypeError(
                f"`metadata` returned {type(metadata).__name__} for {key!r}; "
                "expected a mapping or None"
            )
        return metadata

    async def _delete(self, gone: tuple[str, Remote]) -> None:
        key, remote = gone
        try:
            await self.items.delete(remote.id, id=self.id, **self._where)
        except NotFoundError:
            pass  # already gone: what was asked
        except _FATAL:
            raise
        except CloudflareError as exc:
            await self._fail(os.path.join(self.root, *key.split("/")), key, exc)
            return
        self._deleted.append(key)
        await self._report("deleted", key)

    async def _wait_indexed(self, report: SyncReport) -> tuple[Item, ...]:
        """The uploaded items whose indexing failed, once none is indexing any more.

        Each poll lists the instance's items by busy status (paged), not each
        item. Those listings drift while items are indexed, so an upload they
        no longer show is looked up by key: it is over once seen completed,
        error or skipped, or gone from the instance. An error raised here
        carries the report so far as ``report``.
        """
        # Item id -> the keys of the files uploaded into it.
        pending: dict[str, list[str]] = {}
        item_keys: dict[str, str] = {}
        for upload in self._uploads:
            pending.setdefault(upload.item_id, []).append(upload.key)
            item_keys[upload.item_id] = upload.item_key
        failed: dict[str, Item] = {}
        self._done, self._total = 0, len(self._uploads)

        async def fetch(seconds: float) -> int:
            busy: set[str] = set()
            for status in _BUSY_STATUSES:
                busy.update([item.id async for item in self._listed(status, seconds)])

            async def confirm(item_id: str) -> None:
                over, item = await self._indexing_over(item_id, item_keys[item_id], seconds)
                if not over:
                    return
                kind: SyncEventKind = "indexed"
                if item is not None and item.status in _FAILED_STATUSES:
                    failed[item_id] = item
                    kind = "index_failed"
                for key in pending.pop(item_id):
                    await self._report(kind, key)

            unlisted = [item_id for item_id in pending if item_id not in busy]
            await _pool(_aiter(unlisted), confirm, self.concurrency)
            return len(pending)

        def partial() -> SyncReport:
            return attrs.evolve(report, index_failed=tuple(failed.values()))

        try:
            await poll(
                fetch,
                lambda left: left == 0,
                poll_interval=self.poll_interval,
                timeout=self.wait_timeout,
                request_timeout=self.items._client.timeout,
                subject=f"the {len(pending)} items uploaded to instance {self.id!r}",
                progress=lambda left: f"have {left} still indexing",
            )
        except WaitTimeoutError as exc:
            timed_out = WaitTimeoutError(str(exc), last=partial())
            timed_out.report = partial()  # type: ignore[attr-defined]
            raise timed_out from exc
        except Exception as exc:
            # Every upload happened: what was done must not be lost with the error.
            with contextlib.suppress(AttributeError):
                exc.report = partial()  # type: ignore[attr-defined]
            raise
        return tuple(failed.values())

    async def _indexing_over(
        self, item_id: str, key: str, seconds: float
    ) -> tuple[bool, Item | None]:
        """Whether item ``item_id`` (under ``key``) is done, or gone; and the item, if there."""
        listing = self.items.list(
            self.id, key=key, per_page=PER_PAGE, timeout=seconds, **self._where
        )
        async for item in listing:
            if item.id == item_id:
                return item.done, item
        return True, None

    def _listed(self, status: ItemStatus, seconds: float) -> AsyncIterator[Item]:
        return self.items.list(  # type: ignore[return-value]
            self.id, per_page=PER_PAGE, status=status, timeout=seconds, **self._where
        )


async def _aiter(values: Iterable[_T]) -> AsyncGenerator[_T, None]:
    for value in values:
        yield value

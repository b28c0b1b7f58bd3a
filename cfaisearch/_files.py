"""Upload inputs: what ``items.upload(file=...)`` accepts, checked and made replayable.

Everything here is independent of aiohttp: :func:`upload_form` validates the
caller's ``file`` mapping and returns a :class:`MultipartForm`, which the
transport turns into a multipart body. File contents are never read whole: a
path is opened and read in chunks on each attempt, a file object is rewound to
where it stood when the call was made, so a retried upload sends the same bytes
again, or is not retried at all if the source cannot be rewound.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import stat
import sys
from collections.abc import AsyncGenerator, Mapping
from pathlib import Path
from typing import IO, Any, BinaryIO, Final, TypeAlias, TypedDict

import attrs

from ._options import json_body

if sys.version_info >= (3, 11):
    from typing import Required
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import Required

__all__ = [
    "FileContent",
    "FilePart",
    "FileTypes",
    "MultipartForm",
    "UploadFile",
    "file_from_path",
    "upload_form",
]

FileContent: TypeAlias = IO[bytes] | bytes | os.PathLike[str]
"""A file's content: bytes, an open binary file, or a path to read it from."""

FileTypes: TypeAlias = (
    FileContent
    | tuple[str | None, FileContent]
    | tuple[str | None, FileContent, str | None]
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
"""As the official SDK: content alone, or ``(filename, content[, content_type[, headers]])``."""


def file_from_path(path: str | os.PathLike[str]) -> tuple[str, Path]:
    """``(file name, path)`` for ``file=``, as the official helper; read only when sent.

    The official SDK reads the whole file here; the path is kept instead, so
    the upload streams it (and a retry reads it again from the start).
    """
    source = Path(path)
    return source.name, source


class UploadFile(TypedDict, total=False):
    """The ``file`` argument of ``items.upload``."""

    file: Required[FileTypes]
    """The document; its file name (at most 128 characters) becomes the item key."""
    metadata: str | Mapping[str, Any]
    """Custom metadata: a mapping (sent as JSON) or an already-encoded JSON string."""
    wait_for_completion: bool
    """Answer only once indexing has finished (see the API docs for its limits)."""


CHUNK_SIZE: Final = 256 * 1024
MAX_FILENAME_LENGTH: Final = 128
_DEFAULT_FILENAME: Final = "upload"  # what the official SDK (httpx) names nameless content
_KEYS: Final = frozenset(UploadFile.__annotations__)


@attrs.define(kw_only=True)
class FilePart:
    """One file part of a form; each call of :meth:`chunks` reads it from the start."""

    name: str
    filename: str
    content_type: str
    headers: Mapping[str, str]
    source: bytes | Path | IO[bytes]
    start: int | None
    """Where a file object stood when the call was made; None if it cannot seek."""
    size: int | None
    """Bytes the part will send, when known (it sets the request's Content-Length)."""
    _started: bool = attrs.field(default=False, init=False)

    @property
    def replayable(self) -> bool:
        """Whether the content can be sent (again) from its start."""
        rewindable = isinstance(self.source, (bytes, Path)) or self.start is not None
        return rewindable or not self._started

    async def chunks(self, chunk_size: int = CHUNK_SIZE) -> AsyncGenerator[bytes, None]:
        """The content, read in the default executor so the event loop never blocks."""
        if not self.replayable:
            raise ValueError(f"the content of {self.filename!r} was already consumed")
        self._started = True
        source = self.source
        if isinstance(source, bytes):
            yield source
            return
        if isinstance(source, Path):
            handle = await _open(source)
            try:
                while chunk := await asyncio.to_thread(handle.read, chunk_size):
                    yield chunk
            finally:
                handle.close()
            return
        if self.start is not None:
            await asyncio.to_thread(source.seek, self.start)
        while chunk := await asyncio.to_thread(source.read, chunk_size):
            yield chunk


async def _open(path: Path) -> BinaryIO:
    """``path`` opened for reading in the default executor.

    A cancellation (the server answered before the body was sent) can land
    while the thread opens the file: the file it opens is then closed, not
    dropped to the garbage collector.
    """
    opening: asyncio.Future[BinaryIO] = asyncio.get_running_loop().run_in_executor(
        None, path.open, "rb"
    )
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_close_opened)
        raise


def _close_opened(opening: asyncio.Future[BinaryIO]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


@attrs.frozen(kw_only=True)
class MultipartForm:
    """A ``multipart/form-data`` body: text fields first, then files, in order."""

    fields: tuple[tuple[str, str], ...]
    files: tuple[FilePart, ...]

    @property
    def replayable(self) -> bool:
        """Whether the whole body can be sent again (for a retry)."""
        return all(part.replayable for part in self.files)


def _content_name(content: object) -> str | None:
    if isinstance(content, os.PathLike):
        return Path(content).name
    name = getattr(content, "name", None)
    return Path(name).name if isinstance(name, str) and name else None


def _file_part(value: object, where: str) -> FilePart:
    filename: str | None
    content_type: str | None = None
    headers: Mapping[str, str] = {}
    if isinstance(value, tuple):
        if not 2 <= len(value) <= 4:
            raise TypeError(
                f"`{where}` must be (filename, content[, content_type[, headers]]), "
                f"got a tuple of {len(value)}"
            )
        filename, content, *rest = value
        if rest:
            content_type = rest[0]
        if len(rest) > 1:
            headers = rest[1]
        if filename is None:
            filename = _content_name(content)
    else:
        content = value
        filename = _content_name(content) or _DEFAULT_FILENAME
    if isinstance(content, str):
        raise TypeError(
            f"`{where}` content must be bytes, a binary file or a path, got a str "
            "(wrap a path in pathlib.Path, or encode text to bytes)"
        )
    if not isinstance(filename, str) or not filename:
        raise ValueError(f"`{where}` needs a file name: pass (filename, content, content_type)")
    if len(filename) > MAX_FILENAME_LENGTH:
        raise ValueError(
            f"`{where}` file name must be at most {MAX_FILENAME_LENGTH} characters, "
            f"got {len(filename)}"
        )
    if any(ord(char) < 0x20 or char == "\x7f" for char in filename):
        # The name travels in a MIME header: a line break there could forge headers.
        raise ValueError(f"`{where}` file name must not contain control characters")
    if content_type is not None and not isinstance(content_type, str):
        raise TypeError(f"`{where}` content type must be a str, got {content_type!r}")
    content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    source: bytes | Path | IO[bytes]
    start: int | None = None
    if isinstance(content, (bytes, bytearray, memoryview)):
        source = bytes(content)
        size: int | None = len(source)
    elif isinstance(content, os.PathLike):
        source = Path(content)
        size = _readable_file_size(source, where)
    elif isinstance(content, io.IOBase) or hasattr(content, "read"):
        if isinstance(content, io.TextIOBase):
            raise TypeError(f"`{where}` must be opened in binary mode ('rb'), not text mode")
        if getattr(content, "closed", False):
            raise ValueError(f"`{where}` is a closed file")
        readable = getattr(content, "readable", None)
        if readable is not None and not readable():
            raise ValueError(f"`{where}` is not open for reading (open it with 'rb')")
        source = content
        start, size = _position_and_size(content)
    else:
        raise TypeError(
            f"`{where}` must be bytes, a binary file, a path or a (filename, content, "
            f"content_type) tuple, got {type(content).__name__}"
        )
    return FilePart(
        name="file",
        filename=filename,
        content_type=content_type,
        headers=dict(headers),
        source=source,
        start=start,
        size=size,
    )


def _readable_file_size(path: Path, where: str) -> int:
    """The size of the regular file at ``path``, once it is known to open for reading.

    Checked here, before any request: a directory, a pipe or an unreadable
    file would otherwise fail halfway through sending the upload.
    """
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise ValueError(f"`{where}`: {str(path)!r} is {kind}")
        with path.open("rb") as handle:  # opening a regular file never blocks
            return os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise ValueError(f"`{where}`: cannot read {str(path)!r}: {exc.strerror or exc}") from exc


def _position_and_size(handle: Any) -> tuple[int | None, int | None]:
    """A seekable file's current position and the bytes left from it; else (None, None)."""
    seekable = getattr(handle, "seekable", None)
    if seekable is None or not seekable():
        return None, None
    try:
        start = handle.tell()
        end = handle.seek(0, io.SEEK_END)
        handle.seek(start)
    except (OSError, ValueError):
        return None, None
    return start, max(end - start, 0)


def upload_form(file: UploadFile, *, parameter: str = "file") -> MultipartForm:
    """Validate ``items.upload``'s ``file`` argument and build its form.

    Parts follow the official SDK's order: ``metadata``, ``wait_for_completion``,
    then the ``file`` part.
    """
    if not isinstance(file, Mapping):
        raise TypeError(
            f"`{parameter}` must be a mapping like {{'file': ..., 'metadata': ...}}, "
            f"got {type(file).__name__}"
        )
    unknown = set(file) - _KEYS
    if unknown:
        raise TypeError(f"`{parameter}` has unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    if file.get("file") is None:
        raise ValueError(f"`{parameter}['file']` is required: the document to upload")
    fields: list[tuple[str, str]] = []
    if "metadata" in file and file["metadata"] is not None:
        metadata = file["metadata"]
        if isinstance(metadata, Mapping):
            try:
                encoded = json_body(metadata, f"{parameter}['metadata']")
                fields.append(("metadata", encoded.decode()))
            except TypeError as exc:
                raise TypeError(
                    f"`{parameter}['metadata']` is not JSON-serialisable: {exc}"
                ) from exc
        elif isinstance(metadata, str):
            fields.append(("metadata", metadata))
        else:
            raise TypeError(
                f"`{parameter}['metadata']` must be a mapping or a JSON string, "
                f"got {type(metadata).__name__}"
            )
    if "wait_for_completion" in file:
        wait = file["wait_for_completion"]
        if not isinstance(wait, bool):
            raise TypeError(f"`{parameter}['wait_for_completion']` must be a bool, got {wait!r}")
        fields.append(("wait_for_completion", "true" if wait else "false"))
    part = _file_part(file["file"], f"{parameter}['file']")
    return MultipartForm(fields=tuple(fields), files=(part,))

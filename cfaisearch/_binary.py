"""Binary responses (item downloads), read on demand in bounded memory."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import os
import re
import secrets
import stat
from collections.abc import AsyncGenerator, Iterator
from email.message import Message
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Final

import orjson

from ._envelope import ResponseFacts
from ._exceptions import CloudflareError
from ._raw import RequestInfo
from ._text import LineSplitter, charset, text_decoder

if TYPE_CHECKING:
    from ._portal import Portal
    from ._transport import StreamedResponse

__all__ = ["AsyncBinaryResponse", "BinaryResponse", "write_atomically"]

CHUNK_SIZE: Final = 64 * 1024
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


class AsyncBinaryResponse(ResponseFacts):
    """A file the API is sending: read it whole, in chunks, or straight to disk.

    The body is not read until asked for. Each way of reading it releases the
    connection at the end; close the response (``async with`` or
    :meth:`aclose`) if you do not read it at all.
    """

    def __init__(self, response: StreamedResponse) -> None:
        self._response = response
        self._content: bytes | None = None
        self._consumed = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code}] {self.content_type!r}>"

    @property
    def _facts(self) -> StreamedResponse:
        return self._response

    @property
    def url(self) -> str:
        return self._response.url

    @property
    def http_request(self) -> RequestInfo:
        """The request's method and URL; its headers (credentials) are not kept."""
        return RequestInfo(method=self._response.method, url=self._response.url)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def content_length(self) -> int | None:
        """The announced size in bytes, if the server sent one."""
        value = self.headers.get("content-length", "")
        return int(value) if value.isascii() and value.isdigit() else None  # not "²"

    @property
    def filename(self) -> str | None:
        """The file name from ``Content-Disposition``, without any directory part."""
        header = self.headers.get("content-disposition")
        if not header:
            return None
        # aiohttp keeps bytes that are not UTF-8 as lone surrogates, which the
        # email parser cannot mix with other non-ASCII text: replace them first.
        header = header.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        message = Message()
        message["content-disposition"] = header
        name = message.get_filename() or ""
        # Never a path: a hostile "../../x" must not steer where a caller saves it.
        name = _CONTROL.sub("", name.replace("\\", "/").rsplit("/", 1)[-1])
        return name if name not in ("", ".", "..") else None

    def _start(self) -> None:
        if self._consumed:
            raise CloudflareError("the body of this response was already read")
        self._consumed = True

    async def read(self) -> bytes:
        """The whole body (kept, so reading again returns it)."""
        if self._content is None:
            self._start()
            self._content = await self._response.read()
        return self._content

    async def iter_bytes(self, chunk_size: int = CHUNK_SIZE) -> AsyncGenerator[bytes, None]:
        """The body in chunks of ``chunk_size`` bytes (the last may be shorter)."""
        if chunk_size <= 0:
            raise ValueError(f"`chunk_size` must be positive, got {chunk_size!r}")
        if self._content is not None:
            for start in range(0, len(self._content), chunk_size):
                yield self._content[start : start + chunk_size]
            return
        self._start()
        try:
            # Pieces are joined once per chunk: a growing bytearray would copy a
            # large chunk again each time it reallocates, and once more into bytes.
            pieces: list[bytes] = []
            size = 0
            while chunk := await self._response.read_chunk(chunk_size - size):
                if not size and len(chunk) == chunk_size:
                    yield chunk
                    continue
                pieces.append(chunk)
                size += len(chunk)
                if size == chunk_size:
                    yield b"".join(pieces)
                    pieces.clear()
                    size = 0
            if pieces:
                yield b"".join(pieces)
        finally:
            self._response.close()

    async def text(self) -> str:
        """The whole body decoded as text, by its declared charset (UTF-8 by default)."""
        return (await self.read()).decode(charset(self.headers), "replace")

    async def json(self) -> Any:
        """The whole body decoded as JSON (a ``ValueError`` if it is not JSON)."""
        return orjson.loads(await self.read())

    async def iter_text(self, chunk_size: int = CHUNK_SIZE) -> AsyncGenerator[str, None]:
        """The body as text, in pieces (a multi-byte character is never split)."""
        decoder = text_decoder(self.headers)
        async with contextlib.aclosing(self.iter_bytes(chunk_size)) as chunks:
            async for chunk in chunks:
                if text := decoder.decode(chunk):
                    yield text
        if tail := decoder.decode(b"", final=True):
            yield tail

    async def iter_lines(self) -> AsyncGenerator[str, None]:
        """The body as text, line by line, without line endings."""
        lines = LineSplitter()
        async with contextlib.aclosing(self.iter_text()) as texts:
            async for text in texts:
                for line in lines.feed(text):
                    yield line
        for line in lines.end():
            yield line

    async def stream_to_file(self, path: str | os.PathLike[str]) -> None:
        """The official SDK's name of :meth:`write_to_file` (which also returns the size)."""
        await self.write_to_file(path)

    async def write_to_file(self, path: str | os.PathLike[str]) -> int:
        """Stream the body into ``path``; return the bytes written.

        The body goes to a temporary file in the same directory, which replaces
        ``path`` only once the whole body has arrived: a download that fails
        leaves an existing file as it was, and no partial file behind.
        """
        if self._consumed and self._content is None:
            raise CloudflareError("the body of this response was already read")
        creating = asyncio.ensure_future(asyncio.to_thread(_create_beside, Path(path)))
        try:
            target, temporary, handle = await asyncio.shield(creating)
        except asyncio.CancelledError:
            # The thread runs on regardless: remove what it creates once it is done.
            creating.add_done_callback(_discard_created)
            raise
        written = 0
        try:
            async with contextlib.aclosing(self.iter_bytes()) as chunks:
                async for chunk in chunks:
                    await asyncio.to_thread(handle.write, chunk)
                    written += len(chunk)
            await asyncio.to_thread(handle.close)
            await asyncio.to_thread(os.replace, temporary, target)
        except BaseException:
            # Synchronous: cleanup must also run when the task is being cancelled.
            handle.close()
            temporary.unlink(missing_ok=True)
            raise
        return written

    async def aclose(self) -> None:
        """Release the connection without reading the rest; idempotent."""
        self._response.close()

    async def __aenter__(self) -> AsyncBinaryResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _create_beside(path: Path) -> tuple[Path, Path, BinaryIO]:
    """The file to replace (through symlinks), and a new temporary file beside it, open.

    Created with ``open``'s usual permissions (umask applies, unlike ``tempfile``'s
    0600), or the permissions of the file it will replace.
    """
    target = path.resolve() if path.is_symlink() else path
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "`path` is a directory", str(path))
    # The name is cut so that the temporary one stays within file name limits.
    temporary = target.with_name(f".{target.name[:200]}.{secrets.token_hex(6)}.part")
    handle = temporary.open("xb")  # "x": never clobbers another file
    # Best effort: a new file has no mode to keep, and some file systems have none.
    with contextlib.suppress(OSError):
        temporary.chmod(stat.S_IMODE(target.stat().st_mode))
    return target, temporary, handle


def write_atomically(path: str | os.PathLike[str], content: bytes) -> None:
    """Write ``content`` to ``path`` as :meth:`AsyncBinaryResponse.write_to_file` does."""
    target, temporary, handle = _create_beside(Path(path))
    try:
        with handle:
            handle.write(content)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _discard_created(creating: asyncio.Future[tuple[Path, Path, BinaryIO]]) -> None:
    if not creating.cancelled() and creating.exception() is None:
        _, temporary, handle = creating.result()
        handle.close()
        temporary.unlink(missing_ok=True)


class BinaryResponse(ResponseFacts):
    """The sync client's download: the same reads, each run on the client's loop."""

    def __init__(self, portal: Portal, response: AsyncBinaryResponse) -> None:
        self._portal = portal
        self._async = response

    def __repr__(self) -> str:
        return repr(self._async).replace("Async", "", 1)

    @property
    def _facts(self) -> AsyncBinaryResponse:
        return self._async

    @property
    def url(self) -> str:
        return self._async.url

    @property
    def http_request(self) -> RequestInfo:
        """The request's method and URL; its headers (credentials) are not kept."""
        return self._async.http_request

    @property
    def content_type(self) -> str | None:
        return self._async.content_type

    @property
    def content_length(self) -> int | None:
        """The announced size in bytes, if the server sent one."""
        return self._async.content_length

    @property
    def filename(self) -> str | None:
        """The file name from ``Content-Disposition``, without any directory part."""
        return self._async.filename

    def read(self) -> bytes:
        """The whole body (kept, so reading again returns it)."""
        return self._portal.call(self._async.read)

    def iter_bytes(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The body in chunks of ``chunk_size`` bytes (the last may be shorter)."""
        return self._portal.iterate(functools.partial(self._async.iter_bytes, chunk_size))

    def text(self) -> str:
        """The whole body decoded as text, by its declared charset (UTF-8 by default)."""
        return self._portal.call(self._async.text)

    def json(self) -> Any:
        """The whole body decoded as JSON (a ``ValueError`` if it is not JSON)."""
        return self._portal.call(self._async.json)

    def iter_text(self, chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
        """The body as text, in pieces (a multi-byte character is never split)."""
        return self._portal.iterate(functools.partial(self._async.iter_text, chunk_size))

    def iter_lines(self) -> Iterator[str]:
        """The body as text, line by line, without line endings."""
        return self._portal.iterate(self._async.iter_lines)

    def write_to_file(self, path: str | os.PathLike[str]) -> int:
        """Stream the body into ``path``, replacing it only once complete; the bytes written."""
        return self._portal.call(self._async.write_to_file, path)

    def stream_to_file(self, path: str | os.PathLike[str]) -> None:
        """The official SDK's name of :meth:`write_to_file` (which also returns the size)."""
        self._portal.call(self._async.write_to_file, path)

    def close(self) -> None:
        """Release the connection without reading the rest; idempotent."""
        if self._portal.closed:
            self._async._response.close()  # the client's loop is gone: nothing to wait for
        else:
            self._portal.call(self._async.aclose)

    def __enter__(self) -> BinaryResponse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

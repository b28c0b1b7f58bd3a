"""Error codes of the emulator and the exception that carries them to the wire.

Only 7097, 7099 and 60012-60015 are documented for AI Search; the other codes
are the emulator's own choice, listed in docs/emulator.md.
"""

from __future__ import annotations

import enum
import re


class ErrorCode(enum.IntEnum):
    RATE_LIMITED = 971  # Cloudflare's generic "please throttle" code
    NO_ROUTE = 7000
    METHOD_NOT_ALLOWED = 7001
    UNKNOWN_ACCOUNT = 7003
    NAMESPACE_NOT_FOUND = 7010
    INSTANCE_NOT_FOUND = 7011
    JOB_NOT_FOUND = 7012
    ITEM_NOT_FOUND = 7013
    TOKEN_NOT_FOUND = 7014
    ALREADY_EXISTS = 7020
    NAMESPACE_NOT_DELETABLE = 7021
    TOKEN_IN_USE = 7022
    SYNC_RATE_LIMITED = 7030
    NO_SYNC_SOURCE = 7031
    INSTANCES_ALLOWED_UNKNOWN = 7097
    AUTHENTICATION = 10000
    VALIDATION = 10001
    MALFORMED_BODY = 10002
    PAYLOAD_TOO_LARGE = 10003
    INTERNAL = 10500
    BAD_GATEWAY = 10502
    SERVICE_UNAVAILABLE = 10503
    INVALID_INSTANCE_IDS = 60012


class ApiError(Exception):
    """A failure that becomes a Cloudflare v4 error envelope."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        pointer: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        message = _encodable(message)
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        #: JSON pointer to the offending input, sent as ``source.pointer``.
        self.pointer = None if pointer is None else _encodable(pointer)
        self.headers = headers or {}

    def __reduce__(self) -> tuple[object, ...]:
        # Search processes send errors back pickled; the default would call
        # ApiError(message) alone.
        return (_rebuild, (self.status, self.code, self.message, self.pointer, self.headers))


def _rebuild(
    status: int, code: ErrorCode, message: str, pointer: str | None, headers: dict[str, str]
) -> ApiError:
    return ApiError(status, code, message, pointer=pointer, headers=headers)


def _encodable(text: str) -> str:
    # Messages echo client input (names, ids, keys); a lone surrogate in it
    # would make the error envelope itself impossible to encode.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def invalid(field: str, problem: str) -> ApiError:
    """400 naming the offending field, e.g. ``invalid("chunk_size", "must be >= 64")``."""
    pointer = "/" + re.sub(r"\[(\d+)\]", r".\1", field).replace(".", "/") if field else None
    label = field or "body"
    return ApiError(400, ErrorCode.VALIDATION, f"{label}: {problem}", pointer=pointer)


def not_found(code: ErrorCode, what: str) -> ApiError:
    return ApiError(404, code, f"{what} not found")


def conflict(code: ErrorCode, message: str) -> ApiError:
    return ApiError(409, code, message)

"""What every async resource shares: its client, and argument checks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from .._options import NotGiven
from .._wire import BODY_NAMES

if TYPE_CHECKING:
    from .._client import AsyncCloudflare

__all__ = ["AsyncResource", "body", "instance_id", "page_params", "segment"]

_INSTANCE_ID: Final = re.compile(r"[a-z0-9_-]{1,64}")


class AsyncResource:
    """Base of the resource tree; each node keeps the client that sends requests."""

    def __init__(self, client: AsyncCloudflare) -> None:
        self._client = client


def segment(name: str, value: object) -> str:
    """Check a path parameter and percent-encode it as exactly one path segment."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"`{name}` must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        raise ValueError(f"`{name}` must not be {value!r}")
    return quote(value, safe="")


def instance_id(value: object, name: str = "id") -> str:
    """An instance id: 1-64 lowercase letters, digits, ``-`` or ``_``."""
    if not isinstance(value, str) or not _INSTANCE_ID.fullmatch(value):
        raise ValueError(
            f"`{name}` must be an AI Search instance id (1-64 lowercase letters, digits, "
            f"'-' or '_'), got {value!r}"
        )
    return value


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"`{name}` must be {bound}, got {value!r}")


def page_params(page: int | None, per_page: int | None, *, max_per_page: int) -> dict[str, int]:
    """Validated ``page``/``per_page`` query parameters (unset ones left out)."""
    params: dict[str, int] = {}
    if page is not None:
        _check_int("page", page, 1, None)
        params["page"] = page
    if per_page is not None:
        _check_int("per_page", per_page, 1, max_per_page)
        params["per_page"] = per_page
    return params


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body of the fields the caller gave, under their wire names.

    NOT_GIVEN is left out; an explicit None is sent as JSON null.
    """
    return {
        BODY_NAMES.get(name, name): value
        for name, value in fields.items()
        if not isinstance(value, NotGiven)
    }

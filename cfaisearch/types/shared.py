"""Shapes shared by several resources."""

from __future__ import annotations

import attrs

from .._models import BaseModel

__all__ = ["ResultInfo"]


@attrs.frozen(kw_only=True)
class ResultInfo(BaseModel):
    """Paging facts of a list response (``result_info``); any may be absent."""

    page: int | None = None
    per_page: int | None = None
    count: int | None = None
    total_count: int | None = None
    total_pages: int | None = None

"""AI Search service tokens: stored credentials used to read R2 data sources."""

from __future__ import annotations

from datetime import datetime

import attrs

from .._models import BaseModel

__all__ = ["Token"]


@attrs.frozen(kw_only=True)
class Token(BaseModel):
    """A registered service token. The API never returns its secret."""

    id: str
    cf_api_id: str
    created_at: datetime
    modified_at: datetime
    name: str
    created_by: str | None = None
    enabled: bool | None = None
    legacy: bool | None = None
    modified_by: str | None = None

"""Namespaces: groups of instances that can be searched together."""

from __future__ import annotations

from datetime import datetime

import attrs

from .._models import BaseModel
from .instances import PublicEndpointParams

__all__ = ["Namespace", "NamespacePublicEndpointParams"]


@attrs.frozen(kw_only=True)
class NamespacePublicEndpointParams(PublicEndpointParams):
    """The public endpoint of a namespace: an instance's, plus which instances it serves."""

    instances_allowed: list[str] | None = None


@attrs.frozen(kw_only=True)
class Namespace(BaseModel):
    """A namespace of the account (``default`` always exists)."""

    created_at: datetime | None = None
    name: str
    description: str | None = None
    public_endpoint_id: str | None = None
    public_endpoint_params: NamespacePublicEndpointParams | None = None

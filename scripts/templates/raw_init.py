"""``with_raw_response`` of every async resource; see scripts/gen_sync.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

from cfaisearch._raw import raw_twin

if TYPE_CHECKING:
    # scripts/gen_sync.py imports every resource and its raw twin here.
    from cfaisearch.resources._base import AsyncResource

__all__ = ["WithRawResponse"]


class WithRawResponse(property):
    """A read-only property: the raw-response twin of its resource, typed per resource."""

    def __init__(self) -> None:
        super().__init__(
            raw_twin, doc="The same methods, each returning the HTTP response and parsed result."
        )

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None, /) -> WithRawResponse: ...

    # scripts/gen_sync.py writes one overload per resource in place of this one.
    @overload
    def __get__(self, obj: AsyncResource, owner: type[Any] | None = None, /) -> Any: ...

    def __get__(self, obj: Any, owner: type[Any] | None = None, /) -> Any:
        return super().__get__(obj, owner)

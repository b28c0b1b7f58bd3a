"""``with_raw_response`` and ``with_streaming_response`` of every async resource.

See scripts/gen_sync.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

from cfaisearch._raw import raw_twin, streaming_twin

if TYPE_CHECKING:
    # scripts/gen_sync.py imports every resource and its twins here.
    from cfaisearch.resources._base import AsyncResource

__all__ = ["WithRawResponse", "WithStreamingResponse"]


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


class WithStreamingResponse(property):
    """A read-only property: the streamed-response twin of its resource, typed per resource."""

    def __init__(self) -> None:
        super().__init__(
            streaming_twin,
            doc="The same methods, each a context manager around the HTTP response.",
        )

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None, /) -> WithStreamingResponse: ...

    # scripts/gen_sync.py writes one streaming overload per resource in place of this one.
    @overload
    def __get__(self, obj: AsyncResource, owner: type[Any] | None = None, /) -> Any: ...

    def __get__(self, obj: Any, owner: type[Any] | None = None, /) -> Any:
        return super().__get__(obj, owner)

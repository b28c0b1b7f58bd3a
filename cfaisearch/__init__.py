"""cfaisearch: the async-first Python SDK for Cloudflare AI Search.

``import cfaisearch`` is cheap: the clients (and aiohttp behind them) load on
first attribute access, so command-line tools that never build a client do
not pay for the HTTP stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._binary import AsyncBinaryResponse, BinaryResponse
    from ._client import AsyncCloudflare
    from ._exceptions import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        CloudflareError,
        ConfigurationError,
        ConflictError,
        ErrorData,
        InternalServerError,
        NotFoundError,
        PaginationError,
        PermissionDeniedError,
        RateLimitError,
        RedirectError,
        ResponseTooLargeError,
        StreamError,
        UnprocessableEntityError,
        WaitTimeoutError,
    )
    from ._options import NOT_GIVEN, NotGiven, RequestOptions
    from ._pagination import AsyncPaginator, Page, SyncPager
    from ._raw import RawResponse
    from ._streaming import (
        AsyncChatCompletionStream,
        ChatCompletionChunk,
        ChatCompletionStream,
        ChatStreamEvent,
        RetrievedChunks,
    )
    from ._sync import Cloudflare
    from ._version import __version__

_EXPORTS = {
    "AsyncCloudflare": "._client",
    "Cloudflare": "._sync",
    "NOT_GIVEN": "._options",
    "NotGiven": "._options",
    "RequestOptions": "._options",
    "AsyncPaginator": "._pagination",
    "Page": "._pagination",
    "SyncPager": "._pagination",
    "AsyncBinaryResponse": "._binary",
    "BinaryResponse": "._binary",
    "RawResponse": "._raw",
    **dict.fromkeys(
        [
            "AsyncChatCompletionStream",
            "ChatCompletionChunk",
            "ChatCompletionStream",
            "ChatStreamEvent",
            "RetrievedChunks",
        ],
        "._streaming",
    ),
    "__version__": "._version",
    **dict.fromkeys(
        [
            "APIConnectionError",
            "APIError",
            "APIResponseValidationError",
            "APIStatusError",
            "APITimeoutError",
            "AuthenticationError",
            "BadRequestError",
            "CloudflareError",
            "ConfigurationError",
            "ConflictError",
            "ErrorData",
            "InternalServerError",
            "NotFoundError",
            "PaginationError",
            "PermissionDeniedError",
            "RateLimitError",
            "RedirectError",
            "ResponseTooLargeError",
            "StreamError",
            "UnprocessableEntityError",
            "WaitTimeoutError",
        ],
        "._exceptions",
    ),
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBinaryResponse",
    "AsyncChatCompletionStream",
    "AsyncCloudflare",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "BinaryResponse",
    "ChatCompletionChunk",
    "ChatCompletionStream",
    "ChatStreamEvent",
    "Cloudflare",
    "CloudflareError",
    "ConfigurationError",
    "ConflictError",
    "ErrorData",
    "InternalServerError",
    "NOT_GIVEN",
    "NotFoundError",
    "NotGiven",
    "Page",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RawResponse",
    "RedirectError",
    "RequestOptions",
    "ResponseTooLargeError",
    "RetrievedChunks",
    "StreamError",
    "SyncPager",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cfaisearch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

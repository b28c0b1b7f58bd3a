"""cfaisearch: the async-first Python SDK for Cloudflare AI Search.

``import cfaisearch`` is cheap: the clients (and aiohttp behind them) load on
first attribute access, so command-line tools that never build a client do
not pay for the HTTP stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    # What type checkers see (``X as X`` marks a re-export);
    # tests/test_public_names.py checks it imports exactly what _EXPORTS lists.
    from ._binary import AsyncBinaryResponse as AsyncBinaryResponse
    from ._binary import BinaryResponse as BinaryResponse
    from ._client import DEFAULT_MAX_RETRIES as DEFAULT_MAX_RETRIES
    from ._client import AsyncCloudflare as AsyncCloudflare
    from ._exceptions import APIConnectionError as APIConnectionError
    from ._exceptions import APIError as APIError
    from ._exceptions import APIResponseValidationError as APIResponseValidationError
    from ._exceptions import APIStatusError as APIStatusError
    from ._exceptions import APITimeoutError as APITimeoutError
    from ._exceptions import AuthenticationError as AuthenticationError
    from ._exceptions import BadRequestError as BadRequestError
    from ._exceptions import CloudflareError as CloudflareError
    from ._exceptions import ConfigurationError as ConfigurationError
    from ._exceptions import ConflictError as ConflictError
    from ._exceptions import ErrorData as ErrorData
    from ._exceptions import ErrorRequest as ErrorRequest
    from ._exceptions import ErrorResponse as ErrorResponse
    from ._exceptions import InternalServerError as InternalServerError
    from ._exceptions import NotFoundError as NotFoundError
    from ._exceptions import PaginationError as PaginationError
    from ._exceptions import PermissionDeniedError as PermissionDeniedError
    from ._exceptions import RateLimitError as RateLimitError
    from ._exceptions import RedirectError as RedirectError
    from ._exceptions import ResponseTooLargeError as ResponseTooLargeError
    from ._exceptions import StreamError as StreamError
    from ._exceptions import UnprocessableEntityError as UnprocessableEntityError
    from ._exceptions import WaitTimeoutError as WaitTimeoutError
    from ._files import file_from_path as file_from_path
    from ._hooks import EventHooks as EventHooks
    from ._hooks import RequestEvent as RequestEvent
    from ._hooks import ResponseEvent as ResponseEvent
    from ._models import BaseModel as BaseModel
    from ._options import NOT_GIVEN as NOT_GIVEN
    from ._options import NotGiven as NotGiven
    from ._options import Omit as Omit
    from ._options import RequestOptions as RequestOptions
    from ._options import not_given as not_given
    from ._options import omit as omit
    from ._pagination import AsyncPaginator as AsyncPaginator
    from ._pagination import Page as Page
    from ._pagination import SyncPager as SyncPager
    from ._raw import RawResponse as RawResponse
    from ._retry import RetryPolicy as RetryPolicy
    from ._streaming import AsyncChatCompletionStream as AsyncChatCompletionStream
    from ._streaming import ChatCompletionChunk as ChatCompletionChunk
    from ._streaming import ChatCompletionStream as ChatCompletionStream
    from ._streaming import ChatStreamEvent as ChatStreamEvent
    from ._streaming import RetrievedChunks as RetrievedChunks
    from ._sync import Cloudflare as Cloudflare
    from ._version import __version__ as __version__

_EXPORTS: Final[dict[str, tuple[str, ...]]] = {
    "._client": ("DEFAULT_MAX_RETRIES", "AsyncCloudflare"),
    "._files": ("file_from_path",),
    "._sync": ("Cloudflare",),
    "._retry": ("RetryPolicy",),
    "._hooks": ("EventHooks", "RequestEvent", "ResponseEvent"),
    "._models": ("BaseModel",),
    "._options": (
        "NOT_GIVEN",
        "NotGiven",
        "Omit",
        "RequestOptions",
        "not_given",
        "omit",
    ),
    "._pagination": (
        "AsyncPaginator",
        "Page",
        "SyncPager",
    ),
    "._binary": ("AsyncBinaryResponse", "BinaryResponse"),
    "._raw": ("RawResponse",),
    "._streaming": (
        "AsyncChatCompletionStream",
        "ChatCompletionChunk",
        "ChatCompletionStream",
        "ChatStreamEvent",
        "RetrievedChunks",
    ),
    "._exceptions": (
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
        "ErrorRequest",
        "ErrorResponse",
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
    ),
    "._version": ("__version__",),
}
"""Module -> the public names this package takes from it: the package's one list of names."""

_HOMES: Final = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module 'cfaisearch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

"""Chat completions (OpenAI-compatible) answered from an instance's or namespace's content."""

from __future__ import annotations

from collections.abc import ItemsView, KeysView, ValuesView
from typing import Any, Literal

import attrs

from .._models import BaseModel
from .search import InstanceError, NamespaceSearchChunk, SearchChunk

__all__ = [
    "ChatCompletion",
    "ChatUsage",
    "Choice",
    "ChoiceMessage",
    "ContentFile",
    "ContentPart",
    "ImageURL",
    "MessageRole",
    "NamespaceChatCompletion",
]

MessageRole = Literal["system", "developer", "user", "assistant", "tool"]


@attrs.frozen(kw_only=True)
class ImageURL(BaseModel):
    url: str


@attrs.frozen(kw_only=True)
class ContentFile(BaseModel):
    filename: str
    file_data: str | None = None
    file_id: str | None = None


@attrs.frozen(kw_only=True)
class ContentPart(BaseModel):
    """One part of a multi-part message.

    ``type`` says which member is set: ``"text"`` → ``text``, ``"image_url"`` →
    ``image_url``, ``"file"`` → ``file``. One class rather than a union, so a
    part type added by the API later still decodes.
    """

    type: Literal["text", "image_url", "file"]
    file: ContentFile | None = None
    image_url: ImageURL | None = None
    text: str | None = None


@attrs.frozen(kw_only=True)
class ChoiceMessage(BaseModel):
    content: str | list[ContentPart] | None
    role: MessageRole


@attrs.frozen(kw_only=True)
class Choice(BaseModel):
    message: ChoiceMessage
    finish_reason: str | None = None
    index: int | None = None


@attrs.frozen(kw_only=True)
class ChatUsage(BaseModel):
    """Token counts of the generation."""

    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    total_tokens: int | None = None

    # The official SDK leaves ``usage`` undeclared, so its users hold a dict:
    # the reads of one work here too, on what the response sent.
    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def keys(self) -> KeysView[str]:
        return self.to_dict().keys()

    def values(self) -> ValuesView[object]:
        return self.to_dict().values()

    def items(self) -> ItemsView[str, object]:
        return self.to_dict().items()


@attrs.frozen(kw_only=True)
class ChatCompletion(BaseModel):
    """A generated answer with the chunks it was grounded on."""

    choices: list[Choice]
    chunks: list[SearchChunk]
    created: int | None = None
    """Unix time (seconds) the answer was generated."""
    id: str | None = None
    model: str | None = None
    object: str | None = None
    usage: ChatUsage | None = None


@attrs.frozen(kw_only=True)
class NamespaceChatCompletion(BaseModel):
    """An answer grounded on several instances of a namespace."""

    choices: list[Choice]
    chunks: list[NamespaceSearchChunk]
    id: str | None = None
    errors: list[InstanceError] | None = None
    """Instances that failed; the answer used the others."""
    model: str | None = None
    object: str | None = None
    created: int | None = None
    usage: ChatUsage | None = None

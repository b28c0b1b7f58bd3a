"""How the wire (JSON) spells things differently from Python: names and booleans.

Kept in one declarative place so that request building and response decoding
cannot disagree, and so a new alias is added in exactly one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["BODY_NAMES", "MODEL_NAMES", "wire_bool"]

BODY_NAMES: Final[Mapping[str, str]] = {
    "aisearch_options": "ai_search_options",
    "aisearch_model": "ai_search_model",
    "system_prompt_aisearch": "system_prompt_ai_search",
}
"""Method keyword -> JSON key, for request bodies of every operation."""

MODEL_NAMES: Final[Mapping[str, Mapping[str, str]]] = {
    "Instance": {"aisearch_model": "ai_search_model"},
    "InstanceListItem": {
        "aisearch_model": "ai_search_model",
        "system_prompt_aisearch": "system_prompt_ai_search",
    },
    "BoostBy": {"data_type": "dataType"},
    "EngineR2": {
        "metadata_size_bytes": "metadataSizeBytes",
        "object_count": "objectCount",
        "payload_size_bytes": "payloadSizeBytes",
    },
    "EngineVectorize": {"vectors_count": "vectorsCount"},
    "ItemLog": {
        "chunk_count": "chunkCount",
        "error_type": "errorType",
        "file_key": "fileKey",
        "processing_time_ms": "processingTimeMs",
    },
}
"""Model class name -> {attribute -> JSON key}, for decoding responses."""


_BOOL_STRINGS: Final[Mapping[str, bool]] = {"true": True, "false": False, "1": True, "0": False}


def wire_bool(value: object) -> bool | None:
    """``value`` as a boolean: a JSON boolean, or a string the API may send for one.

    ``"false"``, ``"true"``, ``"0"`` and ``"1"`` (any case) count; anything else
    is None, so ``"false"`` can never be read as a truthy string.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _BOOL_STRINGS.get(value.lower())
    return None

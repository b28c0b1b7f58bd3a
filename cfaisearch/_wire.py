"""Every place where a Python name differs from its wire (JSON) name.

Kept in one declarative table so that request building and response decoding
cannot disagree, and so a new alias is added in exactly one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["BODY_NAMES", "MODEL_NAMES"]

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

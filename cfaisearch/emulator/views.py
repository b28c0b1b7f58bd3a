"""Wire shapes of stored records (API sheet §2.12-2.15); exactly the documented fields."""

from __future__ import annotations

import sqlite3
from typing import Any

from .store import ChunkRow, ItemRow, JobRow, NamespaceRow, TokenRow


def namespace(ns: NamespaceRow) -> dict[str, Any]:
    """``Namespace`` as the API shows it."""
    return {
        "name": ns.name,
        "description": ns.description,
        "created_at": ns.created_at,
        "public_endpoint_id": ns.public_endpoint_id,
        "public_endpoint_params": ns.public_endpoint_params,
    }


def item(row: ItemRow, namespace_name: str) -> dict[str, Any]:
    """``Item`` as the API shows it."""
    return {
        "id": row.id,
        "key": row.key,
        "checksum": row.checksum,
        "status": row.status,
        "next_action": row.next_action,
        "error": row.error,
        "namespace": namespace_name,
        "source_id": row.source_id,
        "created_at": row.created_at,
        "last_seen_at": row.last_seen_at,
        "chunks_count": row.chunks_count,
        "file_size": row.file_size,
        "metadata": row.metadata,
    }


def chunk_item_ref(key: str, metadata: dict[str, Any], timestamp: int) -> dict[str, Any]:
    """The ``item`` object that search and chunk results carry."""
    return {"key": key, "metadata": metadata, "timestamp": timestamp}


def item_chunk(row: ChunkRow, parent: ItemRow) -> dict[str, Any]:
    """One element of ``items.chunks``."""
    return {
        "id": row.id,
        "text": row.text,
        "item": chunk_item_ref(parent.key, parent.metadata, parent.modified_ms),
        "start_byte": row.start_byte,
        "end_byte": row.end_byte,
    }


def item_log(row: sqlite3.Row) -> dict[str, Any]:
    """One element of ``items.logs`` (camelCase wire names)."""
    entry: dict[str, Any] = {
        "timestamp": row["timestamp"],
        "action": row["action"],
        "fileKey": row["file_key"],
        "message": row["message"],
    }
    for column, wire in (
        ("chunk_count", "chunkCount"),
        ("processing_time_ms", "processingTimeMs"),
        ("error_type", "errorType"),
    ):
        if row[column] is not None:
            entry[wire] = row[column]
    return entry


def job(row: JobRow) -> dict[str, Any]:
    """``Job`` as the API shows it."""
    return {
        "id": row.id,
        "source": row.source,
        "description": row.description,
        "started_at": row.started_at,
        "last_seen_at": row.last_seen_at,
        "ended_at": row.ended_at,
        "end_reason": row.end_reason,
    }


def job_log(row: sqlite3.Row) -> dict[str, Any]:
    """One element of ``jobs.logs``."""
    return {
        "id": row["pk"],
        "created_at": row["created_at"],
        "message": row["message"],
        "message_type": row["message_type"],
    }


def token(row: TokenRow) -> dict[str, Any]:
    # The secret (cf_api_key) is stored but never leaves the emulator.
    """``Token`` as the API shows it, without the secret."""
    return {
        "id": row.id,
        "cf_api_id": row.cf_api_id,
        "name": row.name,
        "enabled": row.enabled,
        "legacy": row.legacy,
        "created_at": row.created_at,
        "modified_at": row.modified_at,
        "created_by": None,
        "modified_by": None,
    }

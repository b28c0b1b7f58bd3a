"""Instance settings: request schemas, defaults, update rules and wire views (§2.2-2.5)."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from .errors import invalid
from .metadata import RESERVED_FIELDS, schema_of
from .validation import (
    Checker,
    array,
    boolean,
    clean,
    enum,
    integer,
    number,
    obj,
    str_map,
    string,
)

INSTANCE_ID = re.compile(r"[a-z0-9_-]{1,64}")
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
CACHE_THRESHOLDS = ("super_strict_match", "close_enough", "flexible_friend", "anything_goes")
CACHE_TTLS = (600, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 259200, 518400)
SYNC_INTERVALS = (900, 1800, 3600, 7200, 14400, 21600, 43200, 86400)
DATA_TYPES = ("text", "number", "boolean", "datetime")
DIRECTIONS = ("asc", "desc", "exists", "not_exists")
MAX_BOOSTS = 3
MAX_CUSTOM_FIELDS = 5

_model = string(nullable=True)
_endpoint_switch = obj({"disabled": boolean()})

PUBLIC_ENDPOINT_PARAMS: dict[str, Checker] = {
    "enabled": boolean(),
    "authorized_hosts": array(string()),
    "chat_completions_endpoint": _endpoint_switch,
    "search_endpoint": _endpoint_switch,
    "mcp": obj({"description": string(), "disabled": boolean()}),
    "rate_limit": obj(
        {
            "period_ms": integer(lo=60_000, hi=3_600_000),
            "requests": integer(lo=1),
            "technique": enum("fixed", "sliding"),
        }
    ),
    "custom_domains": array(string(min_len=1), nullable=True),
    "default_domain_enabled": boolean(),
}

_WEB_CRAWLER = obj(
    {
        "parse_type": enum("sitemap", "discover"),
        "parse_options": obj(
            {
                "content_selector": array(
                    obj({"path": string(), "selector": string()}, required=("path", "selector"))
                ),
                "include_headers": str_map(max_len=5),
                "include_images": boolean(),
                "specific_sitemaps": array(string()),
                "use_browser_rendering": boolean(),
            }
        ),
        "discover_options": obj(
            {
                "depth": number(lo=0),
                "include_external_links": boolean(),
                "include_subdomains": boolean(),
                "limit": number(lo=1, hi=100_000),
                "max_age": number(lo=0, hi=604_800),
                "source": enum("all", "sitemaps", "links"),
            }
        ),
    }
)

_COMMON: dict[str, Checker] = {
    "source": string(max_len=512, nullable=True),
    "source_params": obj(
        {
            "include_items": array(string(), max_len=10),
            "exclude_items": array(string(), max_len=10),
            "prefix": string(),
            "r2_jurisdiction": string(),
            "web_crawler": _WEB_CRAWLER,
        },
        nullable=True,
    ),
    "token_id": string(nullable=True),
    "ai_gateway_id": string(nullable=True),
    "ai_search_model": _model,
    "embedding_model": _model,
    "rewrite_model": _model,
    "reranking_model": _model,
    "rewrite_query": boolean(),
    "reranking": boolean(),
    "cache": boolean(),
    "cache_threshold": enum(*CACHE_THRESHOLDS),
    "cache_ttl": enum(*CACHE_TTLS),
    "chunk": boolean(),
    "chunk_size": integer(lo=64),  # the spec gives a minimum only
    "chunk_overlap": integer(lo=0, hi=30),
    "custom_metadata": array(
        obj(
            {"field_name": string(min_len=1, max_len=64), "data_type": enum(*DATA_TYPES)},
            required=("field_name", "data_type"),
        )
    ),
    "fusion_method": enum("max", "rrf"),
    "index_method": obj(
        {"keyword": boolean(), "vector": boolean()}, required=("keyword", "vector")
    ),
    "indexing_options": obj(
        {"keyword_tokenizer": enum("porter", "trigram"), "use_ocr": boolean()}, nullable=True
    ),
    "max_num_results": integer(lo=1, hi=50),
    "metadata": obj(
        {
            "created_from_aisearch_wizard": boolean(),
            "worker_domain": string(),
            "search_for_agents": obj(
                {"zone_name": string(), "hostname": string(), "zone_id": string()},
                required=("zone_name", "hostname", "zone_id"),
            ),
        }
    ),
    "public_endpoint_params": obj(PUBLIC_ENDPOINT_PARAMS),
    "retrieval_options": obj(
        {
            "boost_by": array(
                obj(
                    {"field": string(min_len=1), "direction": enum(*DIRECTIONS)},
                    required=("field",),
                ),
                max_len=MAX_BOOSTS,
            ),
            "keyword_match_mode": enum("and", "or"),
        },
        nullable=True,
    ),
    "score_threshold": number(lo=0, hi=1),
    "sync_interval": enum(*SYNC_INTERVALS),
}

CREATE_SCHEMA: dict[str, Checker] = {
    **_COMMON,
    "id": string(min_len=1, max_len=64, pattern=INSTANCE_ID),
    "type": enum("r2", "web-crawler", nullable=True),
    "hybrid_search_enabled": boolean(),
}

UPDATE_SCHEMA: dict[str, Checker] = {
    **_COMMON,
    "paused": boolean(),
    "summarization": boolean(),
    "summarization_model": _model,
    "system_prompt_ai_search": string(nullable=True),
    "system_prompt_index_summarization": string(nullable=True),
    "system_prompt_rewrite_query": string(nullable=True),
}

DEFAULTS: dict[str, Any] = {
    "type": None,
    "source": None,
    "source_params": None,
    "token_id": None,
    "ai_gateway_id": None,
    "ai_search_model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "embedding_model": "@cf/qwen/qwen3-embedding-0.6b",
    "rewrite_model": None,
    "reranking_model": None,
    "rewrite_query": False,
    "reranking": False,
    "cache": True,
    "cache_threshold": "close_enough",
    "cache_ttl": 86400,
    "chunk": True,
    "chunk_size": 256,
    "chunk_overlap": 10,
    "custom_metadata": [],
    "fusion_method": "rrf",
    "hybrid_search_enabled": True,
    "index_method": {"vector": True, "keyword": True},
    "indexing_options": {"keyword_tokenizer": "porter", "use_ocr": False},
    "max_num_results": 10,
    "metadata": {},
    "public_endpoint_id": None,
    "public_endpoint_params": {"enabled": False},
    "retrieval_options": {"keyword_match_mode": "and", "boost_by": []},
    "score_threshold": 0.4,
    "sync_interval": 21600,
    "paused": False,
    "enable": True,
    "engine_version": 3,
    "created_by": None,
    "modified_by": None,
    "summarization": False,
    "summarization_model": None,
    "system_prompt_ai_search": None,
    "system_prompt_index_summarization": None,
    "system_prompt_rewrite_query": None,
}

#: Changing any of these rebuilds the index, as the service does.
REINDEX_FIELDS = ("custom_metadata", "index_method", "chunk", "chunk_size", "chunk_overlap")

_INSTANCE_FIELDS = (
    "id", "created_at", "modified_at", "ai_gateway_id", "ai_search_model", "cache",
    "cache_threshold", "cache_ttl", "chunk_overlap", "chunk_size", "created_by",
    "custom_metadata", "embedding_model", "enable", "engine_version", "fusion_method",
    "hybrid_search_enabled", "index_method", "indexing_options", "last_activity",
    "max_num_results", "metadata", "modified_by", "namespace", "paused", "public_endpoint_id",
    "public_endpoint_params", "reranking", "reranking_model", "retrieval_options",
    "rewrite_model", "rewrite_query", "score_threshold", "source", "source_params", "status",
    "sync_interval", "token_id", "type",
)  # fmt: skip
_LIST_ONLY_FIELDS = (
    "chunk", "summarization", "summarization_model", "system_prompt_ai_search",
    "system_prompt_index_summarization", "system_prompt_rewrite_query",
)  # fmt: skip


def validate_create(body: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a create body and fill in defaults; the full instance configuration."""
    fields = clean(body, CREATE_SCHEMA, required=("id",))
    config = copy.deepcopy(DEFAULTS)
    hybrid = fields.pop("hybrid_search_enabled", None)
    if "index_method" not in fields and hybrid is False:
        config["index_method"] = {"vector": True, "keyword": False}
    config.update(fields)
    return _finish(config)


def apply_update(current: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """Partial update: supplied fields replace stored ones (§2.5)."""
    fields = clean(body, UPDATE_SCHEMA)
    config = copy.deepcopy(dict(current))
    options = fields.get("retrieval_options")
    previous = current.get("retrieval_options") or {}
    if options is not None:
        # Omitted keyword_match_mode (and boost_by) keep their previous values.
        for key in ("keyword_match_mode", "boost_by"):
            if key not in options and key in previous:
                options[key] = previous[key]
    config.update(fields)
    return _finish(config)


def _finish(config: dict[str, Any]) -> dict[str, Any]:
    """Cross-field rules and derived values shared by create and update."""
    method = config["index_method"]
    if not (method["keyword"] or method["vector"]):
        raise invalid("index_method", "at least one of keyword and vector must be true")
    config["hybrid_search_enabled"] = bool(method["keyword"] and method["vector"])
    config["custom_metadata"] = _custom_metadata(config["custom_metadata"])
    boosts = (config["retrieval_options"] or {}).get("boost_by") or []
    check_boosts(boosts, config, "retrieval_options.boost_by")
    endpoint = config["public_endpoint_params"]
    if endpoint.get("default_domain_enabled") is False and not endpoint.get("custom_domains"):
        raise invalid(
            "public_endpoint_params.default_domain_enabled",
            "can only be false when custom_domains lists at least one domain",
        )
    return config


def _custom_metadata(fields: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(fields) > MAX_CUSTOM_FIELDS:
        raise invalid("custom_metadata", f"must have at most {MAX_CUSTOM_FIELDS} fields")
    seen: set[str] = set()
    result = []
    for i, field in enumerate(fields):
        name = field["field_name"].lower()  # case-insensitive, stored lower-case
        if name in RESERVED_FIELDS:
            raise invalid(f"custom_metadata[{i}].field_name", f"'{name}' is a built-in attribute")
        if name in seen:
            raise invalid(f"custom_metadata[{i}].field_name", f"duplicate field '{name}'")
        seen.add(name)
        result.append({"field_name": name, "data_type": field["data_type"]})
    return result


def boost_type(field: str, config: Mapping[str, Any]) -> str | None:
    """Data type of a boostable field: ``timestamp`` or a custom metadata field."""
    name = field.lower()
    if name == "timestamp":
        return "datetime"
    return schema_of(config["custom_metadata"]).get(name)


def check_boosts(boosts: list[dict[str, str]], config: Mapping[str, Any], field: str) -> None:
    """Validate ``boost_by`` entries against the instance's metadata schema."""
    seen: set[str] = set()
    for i, boost in enumerate(boosts):
        name = boost["field"].lower()
        data_type = boost_type(name, config)
        if data_type is None:
            raise invalid(
                f"{field}[{i}].field", f"'{name}' is neither timestamp nor a custom field"
            )
        if name in seen:
            raise invalid(f"{field}[{i}].field", f"duplicate field '{name}'")
        seen.add(name)
        direction = boost.get("direction")
        if direction in ("asc", "desc") and data_type in ("text", "boolean"):
            raise invalid(f"{field}[{i}].direction", f"'{direction}' needs a number or datetime")


def default_direction(data_type: str) -> str:
    """The boost direction used when an entry gives none, by data type."""
    return "exists" if data_type in ("text", "boolean") else "asc"


def view(
    instance_id: str,
    namespace: str,
    config: Mapping[str, Any],
    *,
    created_at: str,
    modified_at: str,
    last_activity: str | None,
    status: str,
    listed: bool = False,
) -> dict[str, Any]:
    """The ``Instance`` object, or with ``listed`` the ``InstanceListItem`` object."""
    record = {
        **copy.deepcopy(dict(config)),
        "id": instance_id,
        "namespace": namespace,
        "created_at": created_at,
        "modified_at": modified_at,
        "last_activity": last_activity,
        "status": status,
    }
    names = _INSTANCE_FIELDS + _LIST_ONLY_FIELDS if listed else _INSTANCE_FIELDS
    result = {name: record.get(name) for name in names}
    options = result.get("retrieval_options")
    if listed and options and options.get("boost_by"):
        options["boost_by"] = [
            {**boost, "dataType": boost_type(boost["field"], config)}
            for boost in options["boost_by"]
        ]
    return result

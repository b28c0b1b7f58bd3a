"""Models as dicts and JSON (``to_dict``/``to_json``, pydantic's ``model_dump*``) and back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cfaisearch
import cfaisearch.types
from cfaisearch._converter import make_converter, structure
from cfaisearch._models import BaseModel
from cfaisearch.types import (
    ChatCompletion,
    Instance,
    InstanceListItem,
    InstanceStats,
    Item,
    ItemChunk,
    ItemChunksPage,
    ItemLog,
    ItemLogsPage,
    ItemUploadResult,
    Job,
    JobLog,
    Namespace,
    NamespaceChatCompletion,
    NamespaceSearchResult,
    ResultInfo,
    SearchResult,
    Token,
)

FIXTURES = Path(__file__).parent / "fixtures"
NAMESPACE_KEYS = frozenset(
    {"name", "created_at", "description", "public_endpoint_id", "public_endpoint_params"}
)

MODELS: list[tuple[str, type[BaseModel]]] = [
    ("instance", Instance),
    ("instance_list_item", InstanceListItem),
    ("instance_stats", InstanceStats),
    ("namespace", Namespace),
    ("token", Token),
    ("item", Item),
    ("item_upload", ItemUploadResult),
    ("item_log", ItemLog),
    ("item_chunk", ItemChunk),
    ("job", Job),
    ("job_log", JobLog),
    ("search_result", SearchResult),
    ("namespace_search_result", NamespaceSearchResult),
    ("chat_completion", ChatCompletion),
    ("namespace_chat_completion", NamespaceChatCompletion),
]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def decode(data: Any, model: type[BaseModel]) -> Any:
    """``data`` decoded as responses are by default (tolerantly)."""
    return structure(data, model, tolerant=True)


def pages() -> list[BaseModel]:
    """The models that fixtures do not hold: the item pages and ``result_info``."""
    return [
        decode({"result": [fixture("item_log")], "cursor": "c2", "truncated": True}, ItemLogsPage),
        decode(
            {"result": [fixture("item_chunk")], "offset": 0, "limit": 1, "total": 3},
            ItemChunksPage,
        ),
        decode({"page": 1, "per_page": 20, "count": 2, "total_count": 2}, ResultInfo),
    ]


def every_model() -> list[BaseModel]:
    return [decode(fixture(name), model) for name, model in MODELS] + pages()


def test_every_public_model_has_the_methods() -> None:
    models = [
        value
        for name in cfaisearch.types.__all__
        if isinstance(value := getattr(cfaisearch.types, name), type) and attrs.has(value)
    ]
    assert len(models) > 40
    missing = [m.__name__ for m in models if not issubclass(m, cfaisearch.BaseModel)]
    assert missing == []
    # Exported where the official SDK has it, for isinstance checks.
    assert cfaisearch.BaseModel is BaseModel


# -- datetimes, enums, unknown and kept values ------------------------------------------


def test_datetimes_are_objects_in_python_mode_and_iso_strings_in_json() -> None:
    data = fixture("token")
    data["created_at"] = "2026-05-02T09:15:00.250Z"
    data["modified_at"] = "2026-05-03T11:00:00+02:00"
    token = decode(data, Token)

    python = token.to_dict()
    assert python["created_at"] == datetime(2026, 5, 2, 9, 15, 0, 250000, tzinfo=timezone.utc)
    json_ready = token.to_dict(mode="json")
    # UTC as ``Z``, as the official SDK writes it; another offset kept.
    assert json_ready["created_at"] == "2026-05-02T09:15:00.250000Z"
    assert json_ready["modified_at"] == "2026-05-03T11:00:00+02:00"
    assert json.loads(token.to_json())["created_at"] == "2026-05-02T09:15:00.250000Z"
    assert token.model_dump(mode="json")["modified_at"] == "2026-05-03T11:00:00+02:00"
    assert json.loads(token.model_dump_json())["created_at"] == "2026-05-02T09:15:00.250000Z"


def test_a_hand_made_datetime_in_another_zone_or_none_keeps_its_offset() -> None:
    cet = timezone(timedelta(hours=1))
    namespace = Namespace(name="docs", created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=cet))
    assert namespace.to_dict(mode="json")["created_at"] == "2026-01-02T03:04:05+01:00"
    naive = Namespace(name="docs", created_at=datetime(2026, 1, 2, 3, 4, 5))
    assert naive.to_dict(mode="json")["created_at"] == "2026-01-02T03:04:05"


def test_enums_are_their_strings_and_unknown_values_are_kept() -> None:
    data = fixture("instance")
    data["cache_threshold"] = "a_threshold_from_the_future"
    data["type"] = "web-crawler"
    instance = decode(data, Instance)

    out = instance.to_dict()
    assert out["cache_threshold"] == "a_threshold_from_the_future"
    assert out["type"] == "web-crawler"
    assert json.loads(instance.to_json())["cache_threshold"] == "a_threshold_from_the_future"


def test_values_a_tolerant_decode_kept_are_emitted_as_received() -> None:
    data = fixture("instance")
    data["created_at"] = "not a date"
    data["chunk_size"] = {"unexpected": ["shape"]}
    data["custom_metadata"] = "not a list"
    instance = decode(data, Instance)
    assert instance.created_at == "not a date"  # kept, not parsed

    for out in (instance.to_dict(), instance.to_dict(mode="json"), json.loads(instance.to_json())):
        assert out["created_at"] == "not a date"
        assert out["chunk_size"] == {"unexpected": ["shape"]}
        assert out["custom_metadata"] == "not a list"
    assert Instance.from_dict(instance.to_dict()) == instance


def test_unknown_response_keys_are_kept_at_every_depth_in_every_spelling() -> None:
    data = fixture("search_result")
    data["a_new_field"] = {"nested": [1, None]}
    data["chunks"][0]["rerank_debug"] = None
    data["chunks"][0]["item"]["shard"] = 7
    result = decode(data, SearchResult)

    for out in (
        result.to_dict(),
        result.to_dict(mode="json"),
        result.to_dict(use_api_names=False),
        json.loads(result.to_json()),
        result.model_dump(),
        json.loads(result.model_dump_json()),
    ):
        assert out["a_new_field"] == {"nested": [1, None]}
        chunk: Any = out["chunks"]
        assert chunk[0]["rerank_debug"] is None
        assert chunk[0]["item"]["shard"] == 7
    # An unknown key holding null is a None like any other.
    assert "rerank_debug" not in result.to_dict(exclude_none=True)["chunks"][0]
    assert "a_new_field" not in result.model_dump(exclude={"a_new_field"})
    assert result.model_dump(include={"a_new_field"}) == {"a_new_field": {"nested": [1, None]}}
    # Kept out of the fields: equality, hashing and repr see only those.
    plain = decode(fixture("search_result"), SearchResult)
    assert result == plain
    assert repr(result) == repr(plain)
    assert SearchResult.from_dict(result.to_dict()).to_dict() == result.to_dict()


def test_a_renamed_fields_wire_key_also_shows_under_python_names_as_officially() -> None:
    instance = decode(fixture("instance"), Instance)
    model = fixture("instance")["ai_search_model"]
    assert instance.aisearch_model == model
    # The official SDK keeps the wire key as an extra beside the field.
    assert instance.model_dump()["aisearch_model"] == model
    assert instance.model_dump()["ai_search_model"] == model
    assert "aisearch_model" not in instance.to_dict()
    assert instance.to_dict()["ai_search_model"] == model


def test_the_slow_and_tolerant_decodes_remember_the_response_too() -> None:
    data = {"name": "docs", "description": None, "extra": 1}
    slow = make_converter(fast=False).structure(data, Namespace)
    assert slow.to_dict() == data
    drifted = decode({**data, "created_at": 5}, Namespace)  # a drift: the tolerant walk
    assert drifted.to_dict() == {**data, "created_at": 5}


# What a JSON response can hold (orjson decodes it): 64-bit integers, no lone surrogates.
JSON_TEXT = st.text(st.characters(codec="utf-8"), max_size=8)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_TEXT, inner, max_size=3),
    max_leaves=6,
)


@settings(deadline=None)
@given(
    extra=st.dictionaries(
        JSON_TEXT.filter(lambda key: key not in NAMESPACE_KEYS), JSON_VALUES, max_size=4
    )
)
def test_unknown_keys_of_any_json_survive_the_round_trip(extra: dict[str, Any]) -> None:
    data = {**fixture("namespace"), **extra}
    namespace = decode(data, Namespace)
    assert namespace.to_dict(mode="json") == {**namespace.to_dict(mode="json"), **extra}
    again = Namespace.from_dict(json.loads(namespace.to_json()))
    assert again == namespace
    assert again.to_dict() == namespace.to_dict()


def test_a_non_finite_number_becomes_null_in_json() -> None:
    data = fixture("search_result")
    data["chunks"][0]["score"] = float("nan")  # a number JSON cannot hold
    result = decode(data, SearchResult)
    for text in (result.to_json(), result.to_json(indent=4), result.model_dump_json()):
        assert json.loads(text)["chunks"][0]["score"] is None


# -- nesting, names and what is left out --------------------------------------------------


def test_nested_models_and_lists_become_plain_dicts_and_lists() -> None:
    result = decode(fixture("namespace_search_result"), NamespaceSearchResult)
    out = result.to_dict()
    assert isinstance(out["chunks"], list)
    first = out["chunks"][0]
    assert type(first) is dict
    assert type(first["item"]) is dict
    assert first["instance_id"] == result.chunks[0].instance_id
    assert type(first["scoring_details"]) is dict

    # The output is a copy: changing it leaves the model alone.
    first["item"]["key"] = "changed"
    out["chunks"].clear()
    assert result.chunks[0].item is not None
    assert result.chunks[0].item.key != "changed"
    assert result.to_dict()["chunks"]


def test_message_content_as_a_list_of_parts_is_dumped_part_by_part() -> None:
    data = fixture("chat_completion")
    data["choices"][0]["message"]["content"] = [
        {"type": "text", "text": "hi"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]
    completion = decode(data, ChatCompletion)
    content = completion.to_dict()["choices"][0]["message"]["content"]
    assert content == [
        {"type": "text", "text": "hi"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]
    assert ChatCompletion.from_dict(completion.model_dump()) == completion


def test_api_names_by_default_python_names_on_request() -> None:
    log = decode(fixture("item_log"), ItemLog)
    assert {"fileKey", "chunkCount", "processingTimeMs"} <= log.to_dict().keys()
    assert "file_key" in log.to_dict(use_api_names=False)
    assert "file_key" in log.model_dump()
    assert "fileKey" in log.model_dump(by_alias=True)
    instance = decode(fixture("instance"), Instance)
    assert "ai_search_model" in json.loads(instance.to_json())
    assert "aisearch_model" in json.loads(instance.model_dump_json())


def test_to_dict_keeps_explicit_nulls_and_leaves_out_absent_fields() -> None:
    namespace = decode({"name": "docs", "description": None}, Namespace)

    # As in the official SDK: sent as null is set, absent is unset.
    assert namespace.to_dict() == {"name": "docs", "description": None}
    assert json.loads(namespace.to_json()) == {"name": "docs", "description": None}
    assert namespace.to_dict(exclude_none=True) == {"name": "docs"}
    assert namespace.to_dict(exclude_unset=False) == {
        "name": "docs",
        "created_at": None,
        "description": None,
        "public_endpoint_id": None,
        "public_endpoint_params": None,
    }
    # pydantic's model_dump includes every field by default.
    assert namespace.model_dump() == namespace.to_dict(exclude_unset=False)
    assert namespace.model_dump(exclude_unset=True) == {"name": "docs", "description": None}


def test_a_model_made_in_code_counts_a_field_holding_none_as_unset() -> None:
    # No response to tell absent from null: None is unset.
    made = Namespace(name="docs", created_at=None, description=None)
    assert made.to_dict() == {"name": "docs"}
    assert made.model_dump(exclude_unset=True) == {"name": "docs"}
    assert attrs.evolve(decode({"name": "a", "description": None}, Namespace)).to_dict() == {
        "name": "a"
    }


def test_a_required_field_a_tolerant_decode_found_missing_is_unset() -> None:
    data = fixture("token")
    del data["cf_api_id"]
    token = decode(data, Token)
    assert "cf_api_id" not in token.to_dict()
    assert token.model_dump()["cf_api_id"] is None


def test_exclude_unset_applies_at_every_depth() -> None:
    data = fixture("namespace")
    data["public_endpoint_params"] = {"enabled": True, "rate_limit": {"requests": 5}}
    namespace = decode(data, Namespace)
    assert namespace.to_dict()["public_endpoint_params"] == {
        "enabled": True,
        "rate_limit": {"requests": 5},
    }
    assert namespace.to_dict(exclude_unset=False)["public_endpoint_params"]["mcp"] is None


def test_exclude_none_and_exclude_defaults_apply_to_fields_at_every_depth() -> None:
    data = fixture("search_result")
    data["chunks"][0]["scoring_details"] = {"vector_score": 0.5, "keyword_score": None}
    data["chunks"][0]["item"]["metadata"] = {"kept": None}
    result = decode(data, SearchResult)

    for out in (
        result.to_dict(exclude_unset=False, exclude_none=True),
        result.to_dict(exclude_unset=False, exclude_defaults=True),
        result.model_dump(exclude_none=True),
    ):
        chunk = out["chunks"][0]
        assert chunk["scoring_details"] == {"vector_score": 0.5}
        # A dict's own values are data, not fields: kept as the official SDK does.
        assert chunk["item"]["metadata"] == {"kept": None}
    assert result.model_dump()["chunks"][0]["scoring_details"]["keyword_score"] is None


def test_include_and_exclude_select_fields_at_any_depth() -> None:
    result = decode(fixture("search_result"), SearchResult)
    assert result.model_dump(include={"query_kind"}) == {"query_kind": result.query_kind}
    assert "chunks" not in result.model_dump(exclude={"chunks"})
    texts_only = result.model_dump(include={"chunks": {"__all__": {"text"}}})
    assert texts_only == {"chunks": [{"text": chunk.text} for chunk in result.chunks]}
    first_only = result.model_dump(include={"chunks": {0: True}})
    assert first_only["chunks"] == [result.model_dump()["chunks"][0]]
    no_items = result.model_dump(exclude={"chunks": {"__all__": {"item"}}})
    assert all("item" not in chunk for chunk in no_items["chunks"])
    with pytest.raises(TypeError, match="include/exclude"):
        result.model_dump(include=["chunks"])


def test_a_mode_other_than_python_or_json_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="mode must be 'python' or 'json'"):
        ResultInfo(page=1).to_dict(mode="yaml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode"):
        ResultInfo(page=1).model_dump(mode="JSON")  # type: ignore[arg-type]


# -- JSON text ---------------------------------------------------------------------------


def test_to_json_is_indented_by_two_and_compact_on_request() -> None:
    info = decode({"page": 1, "count": 2}, ResultInfo)
    assert info.to_json() == '{\n  "page": 1,\n  "count": 2\n}'
    assert info.to_json(indent=None) == '{"page":1,"count":2}'
    assert info.to_json(indent=4) == '{\n    "page": 1,\n    "count": 2\n}'
    assert info.model_dump_json(exclude_unset=True) == '{"page":1,"count":2}'


def test_json_keeps_non_ascii_text_unless_asked_to_escape_it() -> None:
    namespace = Namespace(name="docs", description="café ☕")
    assert "café ☕" in namespace.to_json()
    assert "café ☕" in namespace.model_dump_json()
    escaped = namespace.model_dump_json(ensure_ascii=True)
    assert "caf\\u00e9" in escaped
    assert json.loads(escaped)["description"] == "café ☕"


# -- back from a dict ----------------------------------------------------------------------


@pytest.mark.parametrize("model", every_model(), ids=lambda m: type(m).__name__)
def test_every_model_round_trips_through_each_spelling(model: BaseModel) -> None:
    cls = type(model)
    assert cls.from_dict(model.to_dict()) == model
    assert cls.from_dict(model.to_dict(mode="json")) == model
    assert cls.from_dict(json.loads(model.to_json())) == model
    assert cls.from_dict(model.model_dump()) == model
    assert cls.model_validate(json.loads(model.model_dump_json())) == model
    assert cls.from_dict(model.to_dict()).to_dict() == model.to_dict()


def test_from_dict_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(TypeError, match="data must be a mapping"):
        Namespace.from_dict([("name", "docs")])  # type: ignore[arg-type]


def test_repr_does_not_show_the_decoded_keys() -> None:
    decoded = decode({"name": "docs"}, Namespace)
    assert repr(decoded) == repr(Namespace(name="docs"))
    assert decoded == Namespace(name="docs")


def _optional_keys(model: type[BaseModel], data: dict[str, Any]) -> list[str]:
    from cfaisearch._wire import wire_name

    return sorted(
        wire_name(a)
        for a in attrs.fields(model)  # type: ignore[arg-type]
        if a.default is not attrs.NOTHING and wire_name(a) in data
    )


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[m[0] for m in MODELS])
@settings(deadline=None)  # the machine running the suite may be loaded; no timing here
@given(choice=st.data())
def test_round_trip_holds_for_any_subset_of_fields_and_nulls(
    name: str, model: type[BaseModel], choice: st.DataObject
) -> None:
    data = fixture(name)
    optional = _optional_keys(model, data)
    dropped = choice.draw(st.sets(st.sampled_from(optional)) if optional else st.just(set()))
    nulled = choice.draw(st.sets(st.sampled_from(optional)) if optional else st.just(set()))
    for key in dropped:
        del data[key]
    for key in nulled - dropped:
        data[key] = None
    value = decode(data, model)

    out = value.to_dict(mode="json")
    assert set(out) == set(data)  # what was absent is unset; null is kept
    assert {key for key in nulled - dropped if out[key] is not None} == set()
    again = model.from_dict(json.loads(value.to_json()))
    assert again == value
    assert again.to_dict() == value.to_dict()

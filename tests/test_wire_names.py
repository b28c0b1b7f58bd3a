"""Wire names are declared on the model fields, and both directions read them there."""

from __future__ import annotations

import attrs
import cattrs
import pytest

from cfaisearch._converter import make_converter, structure
from cfaisearch._exceptions import ShapeError
from cfaisearch._wire import body_names, wire, wire_name, wire_names
from cfaisearch.types import Instance, InstanceListItem, ItemLog
from cfaisearch.types.instances import EngineR2


@attrs.frozen(kw_only=True)
class Probe:
    """A model unknown to the library: only its field metadata can name its keys."""

    chunk_total: int = attrs.field(metadata=wire("chunkTotal"))
    label: str | None = None


def test_a_fields_wire_name_is_used_by_both_decoding_modes() -> None:
    assert structure({"chunkTotal": 3, "label": "x"}, Probe) == Probe(chunk_total=3, label="x")
    # A drifted value elsewhere sends the tolerant walk down its own path.
    tolerant = structure({"chunkTotal": 3, "label": ["x"]}, Probe, tolerant=True)
    assert tolerant.chunk_total == 3
    with pytest.raises(ShapeError):
        structure({"chunk_total": 3}, Probe)


def test_the_strict_converter_refuses_the_python_name() -> None:
    strict = make_converter(strict=True)
    assert strict.structure({"chunkTotal": 1}, Probe).chunk_total == 1
    with pytest.raises(cattrs.ClassValidationError):
        strict.structure({"chunkTotal": 1, "chunk_total": 1}, Probe)


def test_wire_name_falls_back_to_the_attribute_name() -> None:
    fields = attrs.fields_dict(ItemLog)
    assert wire_name(fields["file_key"]) == "fileKey"
    assert wire_name(fields["action"]) == "action"
    assert wire_names(EngineR2) == {
        "metadata_size_bytes": "metadataSizeBytes",
        "object_count": "objectCount",
        "payload_size_bytes": "payloadSizeBytes",
    }


def test_request_bodies_use_the_instance_fields_wire_names() -> None:
    names = body_names()
    for model in (Instance, InstanceListItem):
        for field in attrs.fields(model):
            if wire_name(field) != field.name:
                assert names[field.name] == wire_name(field)
    assert names["aisearch_model"] == "ai_search_model"
    assert names["system_prompt_aisearch"] == "system_prompt_ai_search"
    assert names["aisearch_options"] == "ai_search_options"


def test_the_instance_models_spell_a_shared_setting_alike() -> None:
    listed = attrs.fields_dict(InstanceListItem)
    for field in attrs.fields(Instance):
        if field.name in listed:
            assert wire_name(field) == wire_name(listed[field.name]), field.name

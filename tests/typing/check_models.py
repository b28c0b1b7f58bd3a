"""Static typing assertions for the models' dict/JSON methods; checked by mypy, never run."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from cfaisearch.types import Instance, ItemUploadResult


def dict_and_json(instance: Instance, upload: ItemUploadResult) -> None:
    assert_type(instance.to_dict(), dict[str, object])
    assert_type(instance.to_dict(mode="json", exclude_none=True), dict[str, object])
    assert_type(instance.to_json(indent=None), str)
    assert_type(instance.model_dump(by_alias=True, include={"id"}), dict[str, Any])
    assert_type(instance.model_dump_json(exclude={"source_params": {"prefix"}}), str)
    # The classmethods return the class they are called on, subclasses included.
    assert_type(Instance.from_dict(instance.to_dict()), Instance)
    assert_type(ItemUploadResult.model_validate(upload.model_dump()), ItemUploadResult)
    instance.to_dict(mode="yaml")  # type: ignore[arg-type]

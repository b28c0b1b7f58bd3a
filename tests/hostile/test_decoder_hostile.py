"""Rule 12 (decoding): the generated fast decoder against hostile and odd documents.

The invariant under test: for any JSON document, the fast converter gives what
cattrs' own functions (``make_converter(fast=False)``) give, as a user can see
it. Each test here is a defect found by breaking that (or, where it says so, a
defect both paths share); each was fixed and is kept as a test.
"""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path
from typing import Any

import pytest

from cfaisearch._converter import _shared_cache, converter, make_converter, structure
from cfaisearch._exceptions import ShapeError
from cfaisearch.types.chat import ImageURL
from cfaisearch.types.instances import (
    BoostBy,
    InstanceListItem,
    PublicEndpointParams,
    SourceParams,
)
from cfaisearch.types.items import ItemLog

SLOW = make_converter(fast=False)
FIXTURES = Path(__file__).parent.parent / "fixtures"

# An item log as the API spells it: the renamed keys come in another order
# than the model declares its fields (chunk_count, file_key, processing_time_ms).
ITEM_LOG: dict[str, Any] = {
    "action": "index",
    "timestamp": "2026-05-02T09:20:01Z",
    "processingTimeMs": 12,
    "fileKey": "a.txt",
    "chunkCount": 3,
}


def test_renamed_keys_are_dumped_in_the_order_they_were_received() -> None:
    """Rule 12: Python-named dumps list a renamed field's wire key as received, in its order.

    The slow path (and the decoder before the fast paths) keeps the received
    object's order; the fast path builds its record of renamed keys field by
    field, so ``to_json``/``model_dump`` key order depends on which path ran.
    """
    fast = converter.structure(ITEM_LOG, ItemLog)
    slow = SLOW.structure(ITEM_LOG, ItemLog)
    assert fast.to_json(use_api_names=False, indent=None) == slow.to_json(
        use_api_names=False, indent=None
    )
    assert list(fast.model_dump()) == list(slow.model_dump())
    assert list(fast.to_dict(use_api_names=False)) == list(slow.to_dict(use_api_names=False))


def test_a_dropped_model_with_a_big_free_text_field_is_freed() -> None:
    """Rule 12: a response the caller dropped does not stay in memory for the process's life.

    ``ImageURL`` (all-scalar, so shareable) holds a data: URL; every distinct
    one decoded is pinned by the sharing cache until 512 of them (per class)
    fill it. The slow path frees it as soon as the caller lets go.
    """
    _shared_cache(ImageURL).clear()  # a cache: emptying it only costs sharing
    url = "data:image/png;base64," + "A" * 1_000_000
    slow = weakref.ref(SLOW.structure({"url": url}, ImageURL))
    fast = weakref.ref(converter.structure({"url": url}, ImageURL))
    gc.collect()
    assert slow() is None
    assert fast() is None


def test_a_string_where_a_list_of_strings_is_expected_is_refused_when_strict() -> None:
    """Rule 12: strict decoding rejects a JSON string for ``list[str]``, naming the field."""
    with pytest.raises(ShapeError, match="authorized_hosts"):
        structure({"authorized_hosts": "abc"}, PublicEndpointParams)


def test_an_object_where_a_list_of_strings_is_expected_is_refused_when_strict() -> None:
    """Rule 12: strict decoding rejects a JSON object for ``list[str]``, naming the field."""
    with pytest.raises(ShapeError, match="include_items"):
        structure({"include_items": {"docs/": True, "blog/": False}}, SourceParams)


def test_a_string_where_a_list_is_expected_is_kept_as_received_when_tolerant() -> None:
    """Rule 12: tolerant decoding keeps a wrong-typed value as received, not its characters."""
    decoded = structure({"authorized_hosts": "example.com"}, PublicEndpointParams, tolerant=True)
    assert decoded.authorized_hosts == "example.com"


def test_an_updated_copy_decodes_back_from_its_dump_with_the_update() -> None:
    """Rule 12: ``model_validate(m.model_dump())`` gives ``m`` back, also after ``model_copy``."""
    boost = converter.structure({"field": "created", "dataType": "text"}, BoostBy)
    updated = boost.model_copy(update={"data_type": "number"})
    assert BoostBy.model_validate(updated.model_dump()) == updated


@pytest.mark.parametrize("reverse", [False, True])
def test_two_renamed_keys_are_dumped_in_either_received_order(reverse: bool) -> None:
    """Rule 12: two renamed keys (the usual case, settled by the first one met), either order."""
    data = json.loads((FIXTURES / "instance_list_item.json").read_text())
    if reverse:
        data = dict(reversed(data.items()))
    fast = converter.structure(data, InstanceListItem)
    slow = SLOW.structure(data, InstanceListItem)
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.to_json(use_api_names=False, indent=None) == slow.to_json(
        use_api_names=False, indent=None
    )

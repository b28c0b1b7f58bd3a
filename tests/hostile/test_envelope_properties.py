"""Rule 12, as properties: no response can make decoding fail with an untyped error.

Whatever bytes, status and headers arrive, the envelope decoder gives a result
or one of the documented ``APIError`` subclasses (never a KeyError, TypeError,
UnicodeDecodeError, orjson error...). Whatever JSON object arrives for a model,
tolerant decoding gives that model, and strict decoding gives it or raises
``APIResponseValidationError``.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

import cfaisearch as cf
import cfaisearch.types as cf_types
from cfaisearch import _converter
from cfaisearch._envelope import (
    Envelope,
    Response,
    decode_envelope,
    decode_json,
    retry_after,
    status_error,
)
from cfaisearch._exceptions import ShapeError
from cfaisearch._wire import wire_name
from tests.support.clients import make_async

# No example database: the suite leaves nothing behind in the working tree.
PROPERTY = settings(
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
PER_MODEL = settings(PROPERTY, max_examples=30)
URL = "https://api.example.test/client/v4/accounts/a/ai-search/instances/x"

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
wire_booleans = st.sampled_from(["true", "false", "TRUE", "False", "0", "1", "yes", ""])
error_entries = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "code": json_values,
            "message": json_values,
            "documentation_url": json_values,
            "source": json_values,
        },
    )
    | json_values,
    max_size=3,
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "success": st.booleans() | wire_booleans | json_values,
        "result": json_values,
        "result_info": json_values,
        "errors": error_entries | json_values,
        "messages": error_entries | json_values,
        "error": json_values,
    },
)
bodies = (
    st.binary(max_size=200)
    | envelopes.map(orjson.dumps)
    | json_values.map(orjson.dumps)
    | st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass"))
    | st.just(b"<html><title>502 Bad Gateway</title></html>")
)
header_names = st.sampled_from(["cf-ray", "retry-after", "retry-after-ms", "content-type"])
header_values = (
    st.text(max_size=40)
    | st.floats(allow_nan=True).map(str)
    | st.datetimes(timezones=st.just(timezone.utc)).map(
        lambda when: when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    )
)
headers = st.lists(st.tuples(header_names | st.text(max_size=10), header_values), max_size=4).map(
    lambda pairs: CIMultiDictProxy(CIMultiDict(pairs))
)
statuses = st.integers(min_value=0, max_value=999)
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"])
responses = st.builds(Response, methods, st.just(URL), statuses, headers, bodies)


def outcome(call: Callable[..., Any], *args: Any) -> Any:
    """What ``call(*args)`` returns, or the ``APIError`` it raises (anything else propagates)."""
    try:
        return call(*args)
    except cf.APIError as exc:
        return exc


@PROPERTY
@given(responses)
@example(  # an error message that would split a log line
    Response("GET", URL, 400, {"cf-ray": "a\nb"}, b'{"errors": [{"message": "x\\ny"}]}')
)
def test_any_response_decodes_or_raises_a_documented_error(response: Response) -> None:
    """Rule 12: any bytes, status and headers give an envelope or an ``APIError``."""
    envelope = outcome(decode_envelope, response)
    if isinstance(envelope, Envelope):
        assert envelope.result_info is None or isinstance(envelope.result_info, Mapping)
    else:
        assert isinstance(envelope, (cf.APIStatusError, cf.APIResponseValidationError))
        assert envelope.method == response.method
        assert "\n" not in str(envelope)
    body = outcome(decode_json, response)
    assert not isinstance(body, cf.APIError) or isinstance(body, cf.APIResponseValidationError)
    error = status_error(response)
    assert isinstance(error, cf.APIStatusError)
    assert error.status_code == response.status
    assert "\n" not in str(error)
    delay = retry_after(response.headers)
    # How long is too long is the retry policy's call; the parser gives a real wait.
    assert delay is None or 0 < delay < float("inf")


def public_models() -> list[type[Any]]:
    models = []
    for name in cf_types.__all__:
        value = getattr(cf_types, name)
        if isinstance(value, type) and attrs.has(value):
            models.append(attrs.resolve_types(value))
    return models


MODELS = public_models()


@functools.cache
def near(tp: Any) -> st.SearchStrategy[Any]:
    """JSON that often fits ``tp`` (so decoding goes deep) and sometimes is anything."""
    return st.one_of(shaped(tp), json_values)


def shaped(tp: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([near(arg) for arg in args])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is list:
        return st.lists(near(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(st.text(max_size=6), near(args[1]), max_size=3)
    if isinstance(tp, type) and attrs.has(tp):
        fields = {wire_name(a): near(a.type) for a in attrs.fields(tp)}
        return st.fixed_dictionaries({}, optional=fields)
    # JSON has no NaN (and NaN != NaN would fail the comparison of two decodings).
    json_floats = st.floats(allow_nan=False, allow_infinity=False)
    scalars: dict[Any, st.SearchStrategy[Any]] = {
        type(None): st.none(),
        str: st.text(max_size=8),
        int: st.integers() | json_floats,
        float: json_floats | st.integers(),
        bool: st.booleans() | wire_booleans,
        datetime: st.datetimes().map(datetime.isoformat) | st.text(max_size=8),
    }
    return scalars.get(tp, json_values)


@functools.cache
def objects_for(model: type[Any]) -> st.SearchStrategy[dict[str, Any]]:
    anything = st.dictionaries(st.text(max_size=8), json_values, max_size=6)
    return shaped(model) | anything


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
@PER_MODEL
@given(data=st.data())
def test_tolerant_decoding_of_any_object_gives_the_model(model: Any, data: Any) -> None:
    """Rule 12: any JSON object, near the model's shape or not, decodes in tolerant mode."""
    value = data.draw(objects_for(model))
    decoded = _converter.structure(value, model, tolerant=True)
    assert type(decoded) is model
    try:
        strict = _converter.structure(value, model)
    except ShapeError:
        return
    assert strict == decoded


@pytest.mark.parametrize("strict", [False, True])
@PROPERTY
@given(model=st.sampled_from(MODELS), data=st.data())
def test_the_client_decodes_any_result_or_raises_a_validation_error(
    strict: bool, model: Any, data: Any
) -> None:
    """Rule 12: any ``result`` for any model and list gives it or APIResponseValidationError."""
    client = make_async(_strict_response_validation=strict)
    response = Response("GET", URL, 200, {}, b"")
    for target in (model, list[model]):
        value = data.draw(near(target))
        decoded = outcome(client.structure, value, target, response)
        if isinstance(decoded, cf.APIError):
            assert isinstance(decoded, cf.APIResponseValidationError)
            assert f"GET {URL}" in str(decoded)
            # Tolerant decoding refuses only a result of the wrong kind altogether.
            assert strict or not isinstance(value, dict if target is model else list)
        else:
            assert isinstance(decoded, model if target is model else list)

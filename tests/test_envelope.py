"""Sans-I/O decoding of the v4 envelope, error mapping and Retry-After parsing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

import cfaisearch as cf
from cfaisearch._envelope import Response, decode_envelope, decode_json, retry_after, status_error

URL = "https://api.cloudflare.com/client/v4/accounts/a/ai-search/instances/x/jobs/j"


def response(status: int, body: object, **headers: str) -> Response:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response("GET", URL, status, CIMultiDictProxy(CIMultiDict(headers)), raw)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, cf.BadRequestError),
        (401, cf.AuthenticationError),
        (403, cf.PermissionDeniedError),
        (404, cf.NotFoundError),
        (409, cf.ConflictError),
        (422, cf.UnprocessableEntityError),
        (429, cf.RateLimitError),
        (500, cf.InternalServerError),
        (503, cf.InternalServerError),
        (418, cf.APIStatusError),
    ],
)
def test_status_maps_to_exception_class(status: int, cls: type[cf.APIStatusError]) -> None:
    body = {"success": False, "errors": [{"code": 7003, "message": "nope"}], "result": None}
    err = status_error(response(status, body, **{"cf-ray": "8f1e2d3c4b5a6978-LHR"}))
    assert type(err) is cls
    assert isinstance(err, cf.APIError)
    assert err.status_code == status
    assert err.request_id == "8f1e2d3c4b5a6978-LHR"
    assert err.errors == (cf.ErrorData(code=7003, message="nope"),)
    assert err.method == "GET"
    assert err.url == URL
    assert str(err) == f"[7003] nope (HTTP {status}; GET {URL}; cf-ray 8f1e2d3c4b5a6978-LHR)"


def test_several_errors_are_all_shown_in_one_line() -> None:
    body = {
        "success": False,
        "errors": [
            {"code": 10000, "message": "Authentication error"},
            {"code": 9109, "message": "Invalid access token", "source": {"pointer": "/x"}},
        ],
    }
    err = status_error(response(401, body))
    assert str(err).startswith("[10000] Authentication error; [9109] Invalid access token (")
    assert err.errors[1].source == {"pointer": "/x"}
    assert "\n" not in str(err)


def test_html_error_page_from_the_edge_is_an_api_error_not_a_decode_error() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"
    err = status_error(response(502, page, **{"content-type": "text/html"}))
    assert isinstance(err, cf.InternalServerError)
    assert str(err).startswith("502 Bad Gateway (HTTP 502;")
    assert err.body == page.decode()
    assert err.errors == ()


def test_empty_error_body_uses_the_status_phrase() -> None:
    assert str(status_error(response(503, b""))).startswith("Service Unavailable (HTTP 503;")


def test_openai_style_error_outside_the_envelope() -> None:
    err = status_error(response(400, {"error": {"message": "messages is required"}}))
    assert str(err).startswith("messages is required (HTTP 400;")


def test_success_envelope_returns_result_and_info() -> None:
    env = decode_envelope(
        response(
            200,
            {
                "success": True,
                "errors": [],
                "messages": [{"code": 1, "message": "hi"}],
                "result": [1, 2],
                "result_info": {"page": 1, "total_count": 2},
            },
        )
    )
    assert env.result == [1, 2]
    assert env.result_info == {"page": 1, "total_count": 2}
    assert env.messages == (cf.ErrorData(code=1, message="hi"),)


def test_success_false_with_2xx_status_raises() -> None:
    body = {"success": False, "errors": [{"code": 7099, "message": "retry"}], "result": None}
    with pytest.raises(cf.APIStatusError) as info:
        decode_envelope(response(200, body))
    assert info.value.status_code == 200
    assert info.value.errors[0].code == 7099


@pytest.mark.parametrize("body", [b"<html>ok</html>", b"", b"[1, 2]", b'"text"'])
def test_2xx_body_that_is_not_an_envelope_is_a_validation_error(body: bytes) -> None:
    with pytest.raises(cf.APIResponseValidationError) as info:
        decode_envelope(response(200, body))
    assert info.value.status_code == 200


def test_bare_json_is_decoded_without_envelope() -> None:
    assert decode_json(response(200, {"choices": []})) == {"choices": []}


NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "Sat, 28 Nov 2026 12:00:07 GMT"}, 7.0),
        ({"retry-after": "0"}, None),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "3600"}, 3600.0),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "Sat, 28 Nov 2026 11:00:00 GMT"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(CIMultiDictProxy(CIMultiDict(headers)), now=NOW) == expected


def test_retry_after_http_date_relative_to_now() -> None:
    later = (datetime.now(timezone.utc) + timedelta(seconds=30)).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )
    delay = retry_after({"retry-after": later})
    assert delay is not None
    assert 25 < delay <= 30

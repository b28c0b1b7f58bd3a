"""``--debug``: every HTTP attempt on stderr, credentials redacted, stdout untouched."""

from __future__ import annotations

import json

import pytest

from cfaisearch.emulator import Emulator
from tests.support.cli import invoke


def test_debug_shows_each_attempt_without_the_token(
    aisearch_env: dict[str, str], aisearch_emulator: Emulator
) -> None:
    aisearch_emulator.faults.inject(503, times=1, retry_after=0)
    result = invoke("--debug", "--json", "namespaces", "list")
    assert result.exit_code == 0, result.output
    assert [n["name"] for n in json.loads(result.stdout)] == ["default"]  # stdout: only JSON
    url = f"{aisearch_env['CLOUDFLARE_BASE_URL']}/accounts/{aisearch_env['CLOUDFLARE_ACCOUNT_ID']}"
    lines = result.stderr.splitlines()
    requests = [line for line in lines if line.startswith("> GET ")]
    responses = [line for line in lines if line.startswith("< ")]
    assert requests == [
        f"> GET {url}/ai-search/namespaces (attempt 1) [namespaces.list]",
        f"> GET {url}/ai-search/namespaces (attempt 2) [namespaces.list]",
    ]
    assert [line.split()[1] for line in responses if not line.startswith("<   ")] == ["503", "200"]
    assert any(" cf-ray " in line for line in responses)
    assert ">   Authorization: <redacted>" in lines
    assert aisearch_env["CLOUDFLARE_API_TOKEN"] not in result.output


@pytest.mark.usefixtures("aisearch_env")
def test_debug_after_the_command_and_a_request_that_got_no_answer() -> None:
    result = invoke("namespaces", "list", "--debug", "--json")
    assert result.exit_code == 0
    assert "> GET " in result.stderr
    failed = invoke("--base-url", "http://127.0.0.1:9/client/v4", "namespaces", "list", "--debug")
    assert failed.exit_code == 6
    assert any(
        line.startswith("< GET http://127.0.0.1:9/") and "no response (" in line
        for line in failed.stderr.splitlines()
    )

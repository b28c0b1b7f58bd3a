"""Errors: one line on stderr (status, Cloudflare code, message, cf-ray), a distinct exit code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cfaisearch import Cloudflare
from cfaisearch.emulator import Emulator
from tests.support.cli import invoke
from tests.support.integration import make_r2_instance_sync

README = str(Path(__file__).parents[2] / "README.md")
PYPROJECT = str(Path(__file__).parents[2] / "pyproject.toml")


def one_error_line(stderr: str) -> str:
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("error: ")
    assert "Traceback" not in stderr
    return stderr


@pytest.mark.usefixtures("aisearch_env")
def test_not_found_is_3_with_status_code_message_and_ray() -> None:
    result = invoke("instances", "get", "nope")
    assert result.exit_code == 3
    assert result.stdout == ""
    line = one_error_line(result.stderr)
    assert re.search(r"\[\d+\] instance 'nope' not found \(HTTP 404; GET \S+; cf-ray \S+\)$", line)


def test_rejected_credentials_are_4_and_the_token_is_never_shown(
    aisearch_env: dict[str, str],
) -> None:
    result = invoke("--api-token", "wrong-token-value", "instances", "list")
    assert result.exit_code == 4
    line = one_error_line(result.stderr)
    assert "HTTP 401" in line
    assert "wrong-token-value" not in result.output
    assert aisearch_env["CLOUDFLARE_API_TOKEN"] not in result.output


@pytest.mark.usefixtures("aisearch_env")
def test_rate_limited_is_5(aisearch_emulator: Emulator) -> None:
    aisearch_emulator.faults.inject(429, times=3, retry_after=0)
    result = invoke("instances", "list")
    assert result.exit_code == 5
    assert "HTTP 429" in one_error_line(result.stderr)


@pytest.mark.usefixtures("aisearch_env")
def test_other_api_errors_are_6() -> None:
    assert invoke("instances", "create", "kb").exit_code == 0
    result = invoke("instances", "create", "kb")
    assert result.exit_code == 6
    assert "HTTP 409" in one_error_line(result.stderr)


def test_connection_errors_are_6(aisearch_env: dict[str, str]) -> None:
    # A port nothing listens on (the emulator's own, on a host alias that refuses).
    result = invoke("--base-url", "http://127.0.0.1:9/client/v4", "namespaces", "list")
    assert result.exit_code == 6
    one_error_line(result.stderr)


@pytest.mark.aisearch_emulator(job_step_delay=5.0)
def test_a_wait_that_times_out_is_7(
    aisearch_env: dict[str, str], aisearch_client: Cloudflare
) -> None:
    make_r2_instance_sync(aisearch_client, "site")
    job = aisearch_client.aisearch.namespaces.instances.jobs.create("site", name="default")
    result = invoke("jobs", "wait", "site", job.id, "--timeout", "0.5", "--poll-interval", "0.1")
    assert result.exit_code == 7
    assert "gave up after 0.5s" in one_error_line(result.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["instances", "list", "--bogus"], "No such option"),
        (["instances", "create", "kb", "--cache-ttl", "5"], "'5' is not one of"),
        (["instances", "create", "kb", "--index-method", "{nope"], "is not JSON"),
        (["items", "upload", "kb", "missing-file.md"], "does not exist"),
        (["jobs", "wait", "site", "j", "--timeout", "0"], "--timeout"),
        (["items", "upload", "kb", README, "-m", "novalue"], "expected KEY=VALUE"),
        (["items", "upload", "kb", README, "-m", "k='x"], "unbalanced quote"),
        (["items", "upload", "kb", README, PYPROJECT, "--key", "k"], "one file"),
        (["--json", "items", "download", "kb", "item"], "give -o FILE"),
        (["search", "kb", "q", "--filter", "k^=\U0010ffff"], "cannot end with U+10FFFF"),
    ],
)
@pytest.mark.usefixtures("aisearch_env")
def test_usage_errors_are_2(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.usefixtures("aisearch_env")
def test_a_bad_json_body_is_2(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text("[1, 2]", encoding="utf-8")
    result = invoke("instances", "create", "kb", "--json-body", str(body))
    assert result.exit_code == 2
    assert one_error_line(result.stderr) == "error: --json-body: expected a JSON object\n"
    missing = invoke("instances", "create", "kb", "--json-body", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2
    assert "--json-body: cannot read" in one_error_line(missing.stderr)
    body.write_text("{not json", encoding="utf-8")
    broken = invoke("namespaces", "create", "team", "--json-body", str(body))
    assert broken.exit_code == 2
    assert "is not JSON" in one_error_line(broken.stderr)
    body.write_text('"a string"', encoding="utf-8")
    scalar = invoke("namespaces", "update", "team", "--json-body", str(body))
    assert one_error_line(scalar.stderr) == "error: --json-body: expected a JSON object\n"


@pytest.mark.usefixtures("aisearch_env")
def test_bad_input_caught_by_the_sdk_is_2() -> None:
    result = invoke("instances", "create", "Not An Id!")
    assert result.exit_code == 2
    one_error_line(result.stderr)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        (
            "CLOUDFLARE_ACCOUNT_ID",
            "error: no account id: pass --account-id or set CLOUDFLARE_ACCOUNT_ID\n",
        ),
        (
            "CLOUDFLARE_API_TOKEN",
            "error: no API token: pass --api-token or set CLOUDFLARE_API_TOKEN\n",
        ),
    ],
)
def test_missing_configuration_names_the_flag_and_the_variable(
    aisearch_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, missing: str, message: str
) -> None:
    monkeypatch.delenv(missing)
    result = invoke("namespaces", "list")
    assert result.exit_code == 2
    assert result.stderr == message


def test_flags_stand_in_for_the_variables(
    aisearch_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in aisearch_env:
        monkeypatch.delenv(name)
    result = invoke(
        "--account-id",
        aisearch_env["CLOUDFLARE_ACCOUNT_ID"],
        "--api-token",
        aisearch_env["CLOUDFLARE_API_TOKEN"],
        "--base-url",
        aisearch_env["CLOUDFLARE_BASE_URL"],
        "--json",
        "namespaces",
        "list",
    )
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("aisearch_env")
def test_an_unwritable_output_file_is_1(aisearch_client: Cloudflare, tmp_path: Path) -> None:
    from cfaisearch.testing import seed_documents

    (item,) = seed_documents(aisearch_client, {"a.md": "some text"}, instance="kb")
    result = invoke("items", "download", "kb", item.id, "-o", str(tmp_path / "no-dir" / "a.md"))
    assert result.exit_code == 1
    assert "No such file or directory" in one_error_line(result.stderr)


def test_the_legacy_key_and_email_stand_in_for_a_token(
    aisearch_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    monkeypatch.setenv("CLOUDFLARE_API_KEY", "legacy-key-value")
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "me@example.com")
    result = invoke("namespaces", "list")
    # Sent (the emulator accepts only its token, so it answers 401): no configuration error.
    assert result.exit_code == 4
    assert "HTTP 401" in one_error_line(result.stderr)
    assert "legacy-key-value" not in result.output

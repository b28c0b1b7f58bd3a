"""The command line against a hostile server and hostile input: a hostile tester's findings.

Each test names the defect it holds fixed (the tester's numbering) and the rule it keeps.

The servers here are raw aiohttp servers on 127.0.0.1 (in a thread, as the command line
runs its own event loop), answering what a broken proxy or a hostile API could.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from click.testing import CliRunner, Result

from cfaisearch.cli.app import cli
from tests.support.cli import SCRIPT, invoke

TOKEN = "hostile-test-token-0123456789"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Server:
    """A raw aiohttp server on 127.0.0.1, run in a thread with its own event loop."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handler)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def _answering(result: Any, status: int = 200, errors: Any = ()) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        body = {"success": status < 400, "errors": list(errors), "messages": [], "result": result}
        if isinstance(result, list):
            body["result_info"] = {"page": 1, "per_page": 50, "count": len(result)}
            body["result_info"]["total_count"] = len(result)
        return web.json_response(body, status=status)

    return handle


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], str]]:
    servers: list[_Server] = []

    def start(handler: Handler) -> str:
        server = _Server(handler)
        server.start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


def _cli(url: str, *args: str) -> Result:
    return invoke("--account-id", "acc", "--api-token", TOKEN, "--base-url", url, *args)


def _assert_one_line_error(result: Result, code: int) -> None:
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stderr.startswith("error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


# -- secret leak ---------------------------------------------------------------------------


def test_a_server_echoing_the_token_in_an_error_does_not_get_it_printed(
    serve: Callable[[Handler], str],
) -> None:
    """Defect 1: a configured credential is redacted from all output, even a server's echo."""
    echo = [{"code": 10000, "message": f"bad credentials: Bearer {TOKEN}"}]
    result = _cli(serve(_answering(None, 400, echo)), "instances", "list")
    assert result.exit_code == 6
    assert TOKEN not in result.output


def test_a_server_echoing_the_service_token_secret_does_not_get_it_printed(
    serve: Callable[[Handler], str],
) -> None:
    """Defect 2: a secret given to a command (`--cf-api-key`) is redacted from what it prints."""
    secret = "service-token-secret-9876543210"
    echo = [{"code": 10000, "message": f"cf_api_key {secret} was rejected"}]
    url = serve(_answering(None, 400, echo))
    result = _cli(
        url, "tokens", "create", "--name", "n", "--cf-api-id", "a", "--cf-api-key", secret
    )
    assert result.exit_code == 6
    assert secret not in result.output


# -- crashes with a traceback ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("search", "kb", "q", "--filter", "n=123456789012345678901234567890"),
        ("instances", "create", "kb", "--chunk-size", "123456789012345678901234567890"),
    ],
    ids=["filter", "option"],
)
def test_an_integer_beyond_64_bits_is_a_usage_error(
    serve: Callable[[Handler], str], args: tuple[str, ...]
) -> None:
    """Defect 3: an integer beyond 64 bits (filter or option) is a one-line usage error, exit 2."""
    _assert_one_line_error(_cli(serve(_answering({})), *args), 2)


@pytest.mark.parametrize(
    "args",
    [("search", "kb", "caf\udce9"), ("search", "kb", "q", "--filter", "lang=\udcff")],
    ids=["query", "filter"],
)
def test_a_non_utf8_argument_is_a_usage_error(
    serve: Callable[[Handler], str], args: tuple[str, ...]
) -> None:
    """Defect 4: text argv that is not UTF-8 (a surrogate) is a one-line usage error, exit 2."""
    _assert_one_line_error(_cli(serve(_answering({})), *args), 2)


@pytest.mark.parametrize(
    "chunk",
    [
        {"id": "c", "type": "text", "text": "hello", "item": {"key": "a.md"}},
        {"id": "c", "type": "text", "score": 0.5, "item": {"key": "a.md"}},
    ],
    ids=["no-score", "no-text"],
)
def test_search_shows_a_chunk_missing_a_field(
    serve: Callable[[Handler], str], chunk: dict[str, Any]
) -> None:
    """Defect 5: a chunk decoded without `score` or `text` is shown with blanks, not a crash."""
    result = _cli(serve(_answering({"chunks": [chunk], "search_query": "q"})), "search", "kb", "q")
    assert result.exit_code == 0, result.stderr
    assert "a.md" in result.stdout


def test_chat_without_streaming_survives_an_answer_without_chunks(
    serve: Callable[[Handler], str],
) -> None:
    """Defect 6: `chat --no-stream` with no `chunks` in the answer shows no sources, `(none)`."""
    completion = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
    }
    result = _cli(serve(_answering(completion)), "chat", "kb", "q", "--no-stream")
    assert result.exit_code == 0, result.stderr
    assert "(none)" in result.stdout


# -- wrong results ---------------------------------------------------------------------------


def test_a_score_that_is_not_a_number_is_not_a_usage_error(
    serve: Callable[[Handler], str],
) -> None:
    """Defect 14: a drifted value (a string score) is shown as it is; exit 2 is for input only."""
    chunk = {"id": "c", "type": "text", "score": "high", "text": "t", "item": {"key": "a.md"}}
    result = _cli(serve(_answering({"chunks": [chunk], "search_query": "q"})), "search", "kb", "q")
    assert result.exit_code != 2, result.stderr


def test_ctrl_c_at_the_secret_prompt_exits_130() -> None:
    """Defect 13: Ctrl-C at a prompt exits 130, as Ctrl-C anywhere else."""
    process = subprocess.Popen(
        [str(SCRIPT), "tokens", "create", "--name", "n", "--cf-api-id", "a"],
        env={k: v for k, v in os.environ.items() if k != "CFAISEARCH_CF_API_KEY"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    seen = b""
    while b"Secret" not in seen:
        piece = os.read(process.stderr.fileno(), 4096)
        assert piece, seen
        seen += piece
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 130, (seen + rest).decode(errors="replace")


def test_json_output_is_valid_utf8_for_a_non_utf8_file_name(
    serve: Callable[[Handler], str], tmp_path: Path
) -> None:
    """Defect 12: `--json` output is valid UTF-8, even for a file name that is not."""
    folder = os.fsencode(tmp_path)
    with open(os.path.join(folder, b"caf\xe9.md"), "wb") as file:
        file.write(b"hello")
    env = {**os.environ, "CLOUDFLARE_ACCOUNT_ID": "acc", "CLOUDFLARE_API_TOKEN": TOKEN}
    env["CLOUDFLARE_BASE_URL"] = serve(_answering([]))
    process = subprocess.run(
        [str(SCRIPT), "--json", "sync", str(tmp_path), "kb"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 8, process.stderr
    summary = json.loads(process.stdout.decode("utf-8"))
    assert summary["failed"] == 1


def test_a_filter_key_may_be_any_metadata_key(serve: Callable[[Handler], str]) -> None:
    """Defect 15: a filter key is any run of non-space characters but the operators'."""
    result = _cli(serve(_answering({"chunks": []})), "search", "kb", "q", "--filter", "läng=x")
    assert result.exit_code == 0, result.stderr


def test_a_prefix_with_an_unbalanced_quote_is_refused(serve: Callable[[Handler], str]) -> None:
    """Defect 16: `^=` refuses an unbalanced quote as every other operator does."""
    result = _cli(serve(_answering({"chunks": []})), "search", "kb", "q", "--filter", 'x^="a')
    _assert_one_line_error(result, 2)
    assert "quote" in result.stderr


def test_emulator_with_a_port_out_of_range_is_a_usage_error() -> None:
    """Defect 8: `emulator --port 99999` is a one-line usage error (exit 2), not a traceback."""
    _assert_one_line_error(invoke("emulator", "--port", "99999"), 2)


def test_a_nan_poll_interval_is_refused(serve: Callable[[Handler], str]) -> None:
    """Defect 9: number options refuse nan and inf (exit 2): `sleep(nan)` would never end."""
    job = {"id": "j", "source": "user", "started_at": "2024-01-01T00:00:00Z"}
    url = serve(_answering(job))
    result = _cli(url, "jobs", "wait", "kb", "j", "--timeout", "1", "--poll-interval", "nan")
    assert result.exit_code == 2, result.stderr


def _items(*items: dict[str, Any]) -> Handler:
    return _answering([{"status": "completed", **item} for item in items])


def test_table_cells_are_shown_as_they_are_not_as_rich_markup(
    serve: Callable[[Handler], str],
) -> None:
    """Defect 10: table cells are plain text: `[draft]` in a key is shown, not eaten as markup."""
    result = _cli(
        serve(_items({"id": "i1", "key": "notes/[draft] plan.md"})), "items", "list", "kb"
    )
    assert result.exit_code == 0, result.stderr
    assert "[draft]" in result.stdout


def test_a_key_holding_a_closing_tag_does_not_crash_the_table(
    serve: Callable[[Handler], str],
) -> None:
    """Defect 7: a key holding a markup closing tag (`a[/b]c.md`) is shown, not a crash."""
    result = _cli(serve(_items({"id": "i1", "key": "a[/b]c.md"})), "items", "list", "kb")
    assert result.exit_code == 0, result.stderr
    assert "a[/b]c.md" in result.stdout


_CONTROLS = "\x1b[2J\x1b]0;pwned\x07"


async def _chat_with_controls(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    delta = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    delta["choices"] = [{"index": 0, "delta": {"content": f"hi{_CONTROLS}"}}]
    await response.write(b"event: chunks\ndata: []\n\n")
    await response.write(f"data: {json.dumps(delta)}\n\ndata: [DONE]\n\n".encode())
    return response


@pytest.mark.parametrize(
    ("handler", "args"),
    [
        (_items({"id": "i1", "key": f"evil{_CONTROLS}.md"}), ("items", "list", "kb")),
        (
            _answering(None, 400, [{"code": 1, "message": f"bad{_CONTROLS}"}]),
            ("items", "list", "kb"),
        ),
        (_chat_with_controls, ("chat", "kb", "q")),
    ],
    ids=["table", "error", "chat"],
)
def test_server_text_cannot_send_terminal_controls(
    serve: Callable[[Handler], str], handler: Handler, args: tuple[str, ...]
) -> None:
    """Defect 11: terminal controls from the server reach neither stdout nor stderr (escaped)."""
    result = _cli(serve(handler), *args)
    assert "\x1b" not in result.stdout
    assert "\x1b" not in result.stderr


# -- cosmetic --------------------------------------------------------------------------------


def test_a_download_into_a_missing_folder_names_the_path_given(
    serve: Callable[[Handler], str], tmp_path: Path
) -> None:
    """Defect 17: a download that cannot be written names `-o`'s path, not a temporary file."""

    async def file(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"data", content_type="application/octet-stream")

    target = tmp_path / "missing" / "x.txt"
    result = _cli(serve(file), "items", "download", "kb", "item", "-o", str(target))
    _assert_one_line_error(result, 1)
    assert ".part" not in result.stderr


def test_a_chat_stream_that_ends_early_still_ends_the_answer_line(
    serve: Callable[[Handler], str],
) -> None:
    """Defect 18: a chat stream that breaks off still ends the answer's line before the error."""

    async def early(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        delta = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        delta["choices"] = [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}]
        await response.write(b"event: chunks\ndata: []\n\n")
        await response.write(f"data: {json.dumps(delta)}\n\n".encode())
        return response

    result = _cli(serve(early), "chat", "kb", "q")
    assert result.exit_code == 6
    assert result.stdout.endswith("\n"), repr(result.stdout)


# -- beyond the tester's list ------------------------------------------------------------------


def test_credentials_from_the_environment_are_redacted_everywhere(
    serve: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 1: the legacy key and e-mail of the environment are redacted too, in JSON as well."""
    key, email = "legacy-global-key-123456", "someone@example.com"
    monkeypatch.setenv("CLOUDFLARE_API_KEY", key)
    monkeypatch.setenv("CLOUDFLARE_EMAIL", email)
    echo = [{"code": 1, "message": f"key {key} of {email} and token {TOKEN}"}]
    failed = _cli(serve(_answering(None, 400, echo)), "--debug", "instances", "list")
    assert failed.exit_code == 6
    listed = _cli(
        serve(_items({"id": "i1", "key": f"{TOKEN}.md"})), "--json", "items", "list", "kb"
    )
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["key"] == "***.md"
    for secret in (key, email, TOKEN):
        assert secret not in failed.output + listed.output


async def _chat_echoing_the_token_in_two_pieces(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for piece in ("token: " + TOKEN[:10], TOKEN[10:] + " end\n\tok"):
        delta = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        delta["choices"] = [{"index": 0, "delta": {"content": piece}}]
        await response.write(f"data: {json.dumps(delta)}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    return response


def test_a_secret_split_across_streamed_pieces_is_still_redacted(
    serve: Callable[[Handler], str],
) -> None:
    """Defect 1: the streamed answer holds back a possible secret's start until it is known."""
    result = _cli(serve(_chat_echoing_the_token_in_two_pieces), "chat", "kb", "q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("token: *** end\n\tok\n")  # newlines and tabs stay


def test_json_output_escapes_c1_controls(serve: Callable[[Handler], str]) -> None:
    """Defect 11: in JSON, C1 controls (which json.dumps leaves raw) are escaped too."""
    result = _cli(
        serve(_items({"id": "i1", "key": "a\x9b2Jb\x1b.md"})), "--json", "items", "list", "kb"
    )
    assert result.exit_code == 0, result.stderr
    assert "\x9b" not in result.stdout
    assert "\x1b" not in result.stdout
    assert json.loads(result.stdout)[0]["key"] == "a\x9b2Jb\x1b.md"


def test_sdk_warnings_are_silent_unless_debugging(
    serve: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule (a): tolerant-decoding warnings print nothing; with --debug one line each."""
    from cfaisearch import _converter

    chunk = {"id": "c", "type": ["text"], "score": "high", "text": 5, "item": "a.md"}
    url = serve(_answering({"chunks": [chunk], "search_query": 7}))
    monkeypatch.setattr(_converter, "_reported", set())  # each drift is logged once a process
    quiet = _cli(url, "search", "kb", "q")
    assert quiet.exit_code == 0, quiet.stderr
    assert quiet.stderr == ""
    monkeypatch.setattr(_converter, "_reported", set())
    debugging = _cli(url, "--debug", "search", "kb", "q")
    warnings = [line for line in debugging.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings, debugging.stderr
    assert all(line.startswith(("warning: ", "> ", "< ")) for line in debugging.stderr.splitlines())


def test_an_unexpected_error_is_one_line_and_exit_70(
    serve: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 14: a bug of the CLI is not a usage error: one line, exit 70 (--debug: traceback)."""
    from cfaisearch.cli import search

    def broken(chunks: object) -> object:
        raise ValueError("a rendering bug")

    monkeypatch.setattr(search, "_chunk_rows", broken)
    url = serve(_answering({"chunks": [], "search_query": "q"}))
    result = _cli(url, "search", "kb", "q")
    _assert_one_line_error(result, 70)
    assert "ValueError: a rendering bug" in result.stderr
    debugging = _cli(url, "--debug", "search", "kb", "q")
    assert debugging.exit_code == 70
    assert "Traceback" in debugging.stderr


def test_end_of_input_at_the_secret_prompt_exits_130() -> None:
    """Defect 13: end of input at a prompt (Abort) exits 130 with one line, not 1 'Aborted!'."""
    result = invoke("tokens", "create", "--name", "n", "--cf-api-id", "a", input="")
    assert result.exit_code == 130, result.output
    assert "Aborted!" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("emulator", "--port", "abc"),
        ("emulator", "--no-such-option"),
        ("search", "kb"),
        ("--no-such-root-option", "search"),
        ("instances", "create", "kb", "--json-body", "-"),
    ],
    ids=["emulator-type", "emulator-option", "missing-argument", "root-option", "json-body"],
)
def test_every_usage_error_is_one_line(
    serve: Callable[[Handler], str], args: tuple[str, ...]
) -> None:
    """Rule: every usage error is one `error:` line, exit 2 (an int beyond 64 bits in JSON too)."""
    result = CliRunner().invoke(
        cli,
        ["--account-id", "acc", "--api-token", TOKEN, "--base-url", serve(_answering({})), *args],
        input='{"chunk_size": 18446744073709551616}',
        catch_exceptions=False,
    )
    _assert_one_line_error(result, 2)


@pytest.mark.parametrize("args", [(), ("items",)], ids=["root", "group"])
def test_a_group_without_a_command_still_shows_its_help(args: tuple[str, ...]) -> None:
    """Rule: one-line usage errors leave a bare group's help as it was (not one long line)."""
    result = invoke(*args)
    assert "Usage:" in result.output
    assert "\nCommands:\n" in result.output


def _listing(count: int) -> Handler:
    return _items(*({"id": f"i{n}", "key": f"{'x' * 60}-{n}.md"} for n in range(count)))


async def _large_file(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"x" * 2_000_000, content_type="application/octet-stream")


@pytest.mark.parametrize(
    ("handler", "args"),
    [(_listing(3000), ("items", "list", "kb")), (_large_file, ("items", "download", "kb", "i"))],
    ids=["table", "download"],
)
def test_a_reader_that_stops_early_ends_the_command_quietly(
    serve: Callable[[Handler], str], handler: Handler, args: tuple[str, ...]
) -> None:
    """Rule (b): a broken pipe on stdout is the same for every command: quiet, exit 0."""
    env = {**os.environ, "CLOUDFLARE_ACCOUNT_ID": "acc", "CLOUDFLARE_API_TOKEN": TOKEN}
    env["CLOUDFLARE_BASE_URL"] = serve(handler)
    process = subprocess.Popen(
        [str(SCRIPT), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    assert process.stdout.read(1)
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert stderr == b""


def test_a_non_utf8_name_can_be_excluded_from_a_sync(
    serve: Callable[[Handler], str], tmp_path: Path
) -> None:
    """Rule 4: only text that is sent must be UTF-8; a glob (never sent) may hold any byte."""
    folder = os.fsencode(tmp_path)
    with open(os.path.join(folder, b"caf\xe9.md"), "wb") as file:
        file.write(b"hello")
    env = {**os.environ, "CLOUDFLARE_ACCOUNT_ID": "acc", "CLOUDFLARE_API_TOKEN": TOKEN}
    env["CLOUDFLARE_BASE_URL"] = serve(_answering([]))
    process = subprocess.run(
        [os.fsencode(SCRIPT), b"--json", b"sync", folder, b"kb", b"--exclude", b"caf\xe9.md"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["failed"] == 0

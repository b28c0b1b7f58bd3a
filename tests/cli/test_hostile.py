"""A hostile tester's findings on the command line: each test fails until its defect is fixed.

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
from click.testing import Result

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
    """docs/cli.md: 'The token is never printed, not in errors'; a proxy may echo headers."""
    echo = [{"code": 10000, "message": f"bad credentials: Bearer {TOKEN}"}]
    result = _cli(serve(_answering(None, 400, echo)), "instances", "list")
    assert result.exit_code == 6
    assert TOKEN not in result.output


def test_a_server_echoing_the_service_token_secret_does_not_get_it_printed(
    serve: Callable[[Handler], str],
) -> None:
    """docs/cli.md (tokens): the secret 'is never printed'; an error echoing it is printed."""
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
    """Today orjson's TypeError escapes as a traceback (exit 1)."""
    _assert_one_line_error(_cli(serve(_answering({})), *args), 2)


@pytest.mark.parametrize(
    "args",
    [("search", "kb", "caf\udce9"), ("search", "kb", "q", "--filter", "lang=\udcff")],
    ids=["query", "filter"],
)
def test_a_non_utf8_argument_is_a_usage_error(
    serve: Callable[[Handler], str], args: tuple[str, ...]
) -> None:
    """A non-UTF-8 byte in argv arrives as a surrogate; today orjson's TypeError escapes."""
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
    """The SDK decodes it tolerantly (None); the table then crashes on None."""
    result = _cli(serve(_answering({"chunks": [chunk], "search_query": "q"})), "search", "kb", "q")
    assert result.exit_code == 0, result.stderr
    assert "a.md" in result.stdout


def test_chat_without_streaming_survives_an_answer_without_chunks(
    serve: Callable[[Handler], str],
) -> None:
    """`_sources(None)` raises TypeError when the response has no `chunks`."""
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
    """Any ValueError maps to exit 2 'usage'; here the format of a string score raised it."""
    chunk = {"id": "c", "type": "text", "score": "high", "text": "t", "item": {"key": "a.md"}}
    result = _cli(serve(_answering({"chunks": [chunk], "search_query": "q"})), "search", "kb", "q")
    assert result.exit_code != 2, result.stderr


def test_ctrl_c_at_the_secret_prompt_exits_130() -> None:
    """docs/cli.md: Ctrl-C exits 130; at `tokens create`'s prompt it is click's 'Aborted!', 1."""
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
    """`--json sync` prints the failed file's name with its raw byte: stdout is not UTF-8."""
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
    """`-m läng=x` uploads such a key, but `--filter läng=x` is refused as malformed."""
    result = _cli(serve(_answering({"chunks": []})), "search", "kb", "q", "--filter", "läng=x")
    assert result.exit_code == 0, result.stderr


def test_a_prefix_with_an_unbalanced_quote_is_refused(serve: Callable[[Handler], str]) -> None:
    """`x="a` is refused (unbalanced quote) but `x^="a` sends the quote as part of the prefix."""
    result = _cli(serve(_answering({"chunks": []})), "search", "kb", "q", "--filter", 'x^="a')
    _assert_one_line_error(result, 2)
    assert "quote" in result.stderr


def test_emulator_with_a_port_out_of_range_is_a_usage_error() -> None:
    """`cfaisearch emulator --port 99999` ends in bind()'s OverflowError traceback."""
    _assert_one_line_error(invoke("emulator", "--port", "99999"), 2)


def test_a_nan_poll_interval_is_refused(serve: Callable[[Handler], str]) -> None:
    """FloatRange lets `nan` through; `sleep(min(nan, ...))` overruns `--timeout 1` by ~15 s."""
    job = {"id": "j", "source": "user", "started_at": "2024-01-01T00:00:00Z"}
    url = serve(_answering(job))
    result = _cli(url, "jobs", "wait", "kb", "j", "--timeout", "1", "--poll-interval", "nan")
    assert result.exit_code == 2, result.stderr


def _items(*items: dict[str, Any]) -> Handler:
    return _answering([{"status": "completed", **item} for item in items])


def test_table_cells_are_shown_as_they_are_not_as_rich_markup(
    serve: Callable[[Handler], str],
) -> None:
    """An item key `notes/[draft] plan.md` is shown as `notes/ plan.md` (rich ate the tag)."""
    result = _cli(
        serve(_items({"id": "i1", "key": "notes/[draft] plan.md"})), "items", "list", "kb"
    )
    assert result.exit_code == 0, result.stderr
    assert "[draft]" in result.stdout


def test_a_key_holding_a_closing_tag_does_not_crash_the_table(
    serve: Callable[[Handler], str],
) -> None:
    """A valid key `a[/b]c.md` raises rich's MarkupError: a traceback, exit 1."""
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
    """docs/cli.md: 'Output to a pipe has no ... terminal controls'; a server's ESC passes."""
    result = _cli(serve(handler), *args)
    assert "\x1b" not in result.stdout
    assert "\x1b" not in result.stderr


# -- cosmetic --------------------------------------------------------------------------------


def test_a_download_into_a_missing_folder_names_the_path_given(
    serve: Callable[[Handler], str], tmp_path: Path
) -> None:
    """The error names the hidden temporary `.x.txt.<hex>.part` file instead of `-o`'s path."""

    async def file(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"data", content_type="application/octet-stream")

    target = tmp_path / "missing" / "x.txt"
    result = _cli(serve(file), "items", "download", "kb", "item", "-o", str(target))
    _assert_one_line_error(result, 1)
    assert ".part" not in result.stderr


def test_a_chat_stream_that_ends_early_still_ends_the_answer_line(
    serve: Callable[[Handler], str],
) -> None:
    """Without a final newline the error line is glued to the partial answer on a terminal."""

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

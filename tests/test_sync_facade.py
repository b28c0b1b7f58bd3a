"""The generated sync facade: parity with the async client, threads, loops, shutdown."""

from __future__ import annotations

import asyncio
import gc
import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aiohttp import web

import cfaisearch as cf
import cfaisearch._sync
import cfaisearch.resources
from tests.support.clients import ACCOUNT, envelope, make_sync

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
PATH = f"/client/v4/accounts/{ACCOUNT}/ai-search/instances/docs/jobs"


@pytest.fixture(scope="module")
def threaded_base_url() -> Iterator[str]:
    """A loopback API server on its own thread and loop, so sync calls can block freely."""
    started = threading.Event()
    state: dict[str, object] = {}

    async def get_job(request: web.Request) -> web.Response:
        return web.json_response(envelope({"id": request.match_info["job_id"], "source": "user"}))

    async def fail(request: web.Request) -> web.Response:
        return web.json_response(
            {"success": False, "errors": [{"code": 7002, "message": "not found"}]}, status=404
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_get(PATH + "/missing", fail)
        app.router.add_get(PATH + "/{job_id}", get_job)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        state["url"] = f"http://127.0.0.1:{port}/client/v4"
        stop = asyncio.Event()
        state["stop"] = stop
        state["loop"] = asyncio.get_running_loop()
        started.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    started.wait(10)
    yield str(state["url"])
    loop = state["loop"]
    assert isinstance(loop, asyncio.AbstractEventLoop)
    loop.call_soon_threadsafe(state["stop"].set)  # type: ignore[attr-defined]
    thread.join(10)


def portal_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "cfaisearch-portal"]


def test_sync_call_returns_models_and_raises_typed_errors(threaded_base_url: str) -> None:
    with make_sync(base_url=threaded_base_url) as client:
        job = client.aisearch.instances.jobs.get("j1", id="docs")
        assert isinstance(job, cf.types.Job)
        assert job.id == "j1"
        with pytest.raises(cf.NotFoundError, match=r"\[7002\] not found"):
            client.aisearch.instances.jobs.get("missing", id="docs")
        with pytest.raises(ValueError, match="`job_id`"):
            client.aisearch.instances.jobs.get("", id="docs")


async def test_sync_client_works_inside_a_running_event_loop(threaded_base_url: str) -> None:
    # As in a Jupyter cell: a loop is running in this thread, and the call blocks it.
    # The private loop cannot run here, so a background thread drives it.
    asyncio.get_running_loop()
    with make_sync(base_url=threaded_base_url) as client:
        assert client.aisearch.instances.jobs.get("in-loop", id="docs").id == "in-loop"
        assert client.aisearch.instances.jobs.get("again", id="docs").id == "again"
        background = client._portal._engine._background
        assert background is not None
        assert background.is_alive()
    assert not background.is_alive()


def test_a_plain_thread_drives_the_loop_itself(threaded_base_url: str) -> None:
    # The common case costs no thread switch: no background thread is started.
    with make_sync(base_url=threaded_base_url) as client:
        for n in range(3):
            assert client.aisearch.instances.jobs.get(f"j{n}", id="docs").id == f"j{n}"
        assert client._portal._engine._background is None
        assert not portal_threads()


def test_many_threads_share_one_client(threaded_base_url: str) -> None:
    with make_sync(base_url=threaded_base_url) as client:

        def work(n: int) -> list[str]:
            return [
                client.aisearch.instances.jobs.get(f"t{n}-{i}", id="docs").id for i in range(15)
            ]

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(work, range(8)))
        assert results == [[f"t{n}-{i}" for i in range(15)] for n in range(8)]
        # One loop and one connection pool served every thread.
        session = client._async._transport._session
        assert session is not None
        assert not session.closed


def test_threads_and_a_running_loop_mix(threaded_base_url: str) -> None:
    # Threads drive the loop in turn until a caller with its own loop needs a
    # background driver; calls from every kind of thread keep working after that.
    with make_sync(base_url=threaded_base_url) as client:

        def plain(n: int) -> list[str]:
            return [
                client.aisearch.instances.jobs.get(f"p{n}-{i}", id="docs").id for i in range(10)
            ]

        async def in_loop() -> str:
            return client.aisearch.instances.jobs.get("looped", id="docs").id

        with ThreadPoolExecutor(max_workers=5) as pool:
            plains = [pool.submit(plain, n) for n in range(4)]
            looped = pool.submit(asyncio.run, in_loop())
            assert looped.result() == "looped"
            assert [f.result() for f in plains] == [
                [f"p{n}-{i}" for i in range(10)] for n in range(4)
            ]
        assert plain(9)[-1] == "p9-9"


def test_close_closes_the_loop_and_session(threaded_base_url: str) -> None:
    client = make_sync(base_url=threaded_base_url)
    client.aisearch.instances.jobs.get("x", id="docs")
    loop = client._portal._engine._loop
    session = client._async._transport._session
    assert loop is not None
    assert session is not None
    client.close()
    client.close()  # idempotent
    assert loop.is_closed()
    assert session.closed
    with pytest.raises(cf.CloudflareError, match="closed"):
        client.aisearch.instances.jobs.get("x", id="docs")


def test_an_unclosed_client_is_cleaned_up_when_collected(threaded_base_url: str) -> None:
    client = make_sync(base_url=threaded_base_url)
    client.aisearch.instances.jobs.get("x", id="docs")
    loop = client._portal._engine._loop
    session = client._async._transport._session
    assert loop is not None
    assert session is not None
    del client
    gc.collect()
    assert loop.is_closed()
    assert session.closed


def test_calling_from_the_portal_thread_is_refused(threaded_base_url: str) -> None:
    with make_sync(base_url=threaded_base_url) as client:
        client.aisearch.instances.jobs.get("warm", id="docs")

        async def reenter() -> str:
            return client.aisearch.instances.jobs.get("x", id="docs").id

        with pytest.raises(cf.CloudflareError, match="deadlock"):
            client.run(lambda _: reenter())


def test_run_gives_the_async_client_on_the_clients_own_loop(threaded_base_url: str) -> None:
    async def fetch_all(aio: cf.AsyncCloudflare, ids: list[str]) -> list[str]:
        jobs = aio.aisearch.instances.jobs
        found = await asyncio.gather(*(jobs.get(i, id="docs") for i in ids))
        return [job.id for job in found]

    with make_sync(base_url=threaded_base_url) as client:
        assert client.run(fetch_all, ["a", "b", "c"]) == ["a", "b", "c"]
        # The same client, settings and connection pool as the sync calls use.
        assert client.run(lambda aio: asyncio.sleep(0, aio)).base_url == threaded_base_url
        assert client.aisearch.instances.jobs.get("d", id="docs").id == "d"
    with pytest.raises(cf.CloudflareError, match="closed"):
        client.run(fetch_all, ["e"])


def test_a_client_is_not_used_across_fork() -> None:
    code = (
        "import os, sys, cfaisearch\n"
        "c = cfaisearch.Cloudflare(api_token='t', account_id='a', base_url='http://127.0.0.1:9')\n"
        "import asyncio\n"
        "c.run(lambda _: asyncio.sleep(0))\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    try:\n"
        "        c.aisearch.instances.jobs.get('j', id='i')\n"
        "    except cfaisearch.CloudflareError as e:\n"
        "        os._exit(0 if 'fork' in str(e) else 1)\n"
        "    os._exit(2)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "c.close()\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def _resource_pairs() -> Iterator[tuple[type, type]]:
    for info in pkgutil.iter_modules(cfaisearch.resources.__path__):
        if info.name.startswith("_"):
            continue
        async_module = importlib.import_module(f"cfaisearch.resources.{info.name}")
        sync_module = importlib.import_module(f"cfaisearch._sync.{info.name}")
        for name, cls in vars(async_module).items():
            if (
                name.startswith("Async")
                and inspect.isclass(cls)
                and cls.__module__ == async_module.__name__
            ):
                yield cls, getattr(sync_module, name[len("Async") :])


PAIRS = list(_resource_pairs())


def test_every_async_resource_module_has_a_generated_twin() -> None:
    assert {cls.__name__ for cls, _ in PAIRS} >= {"AsyncJobs", "AsyncInstances", "AsyncAISearch"}


@pytest.mark.parametrize(("async_cls", "sync_cls"), PAIRS, ids=[a.__name__ for a, _ in PAIRS])
def test_every_public_method_has_a_sync_twin_with_identical_parameters(
    async_cls: type, sync_cls: type
) -> None:
    public = {n for n in dir(async_cls) if not n.startswith("_")}
    assert public == {n for n in dir(sync_cls) if not n.startswith("_")}
    for name in public:
        a, s = inspect.getattr_static(async_cls, name), inspect.getattr_static(sync_cls, name)
        if isinstance(a, property) or hasattr(a, "func"):  # cached_property sub-resources
            continue
        assert inspect.signature(a).parameters == inspect.signature(s).parameters, name
        assert inspect.getdoc(a) == inspect.getdoc(s), name
        assert not inspect.iscoroutinefunction(s), name


def test_client_constructors_match_except_the_session() -> None:
    a = dict(inspect.signature(cf.AsyncCloudflare).parameters)
    a.pop("http_session")
    assert a == dict(inspect.signature(cf.Cloudflare).parameters)


def test_committed_sync_facade_is_fresh() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/gen_sync.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_generation_reads_this_checkout_not_the_first_cfaisearch_on_the_path(
    tmp_path: Path,
) -> None:
    impostor = tmp_path / "cfaisearch"
    impostor.mkdir()
    (impostor / "__init__.py").write_text("raise ImportError('the wrong cfaisearch')\n")
    result = subprocess.run(
        [sys.executable, "scripts/gen_sync.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_generated_files_are_marked() -> None:
    package = Path(cfaisearch._sync.__file__).parent
    generated = [*package.glob("*.py"), *(package.parent / "_with_raw").glob("*.py")]
    assert len(generated) > 10
    for path in generated:
        if path != package / "__init__.py":
            assert path.read_text().startswith("# Generated by scripts/gen_sync.py"), path


def test_ctrl_c_during_a_call_abandons_it_and_the_client_stays_usable() -> None:
    code = (
        "import asyncio, signal\n"
        # A child of a background job inherits SIGINT ignored; Ctrl-C must reach it.
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from cfaisearch._portal import Portal\n"
        "p = Portal()\n"
        "cancelled = []\n"
        "async def slow():\n"
        "    asyncio.get_running_loop().call_later(0.05, signal.raise_signal, signal.SIGINT)\n"
        "    try:\n"
        "        await asyncio.sleep(30)\n"
        "    except asyncio.CancelledError:\n"
        "        cancelled.append(True)\n"
        "        raise\n"
        "try:\n"
        "    p.call(slow)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
        "print(p.call(asyncio.sleep, 0, 'usable'))\n"
        "print('cancelled' if cancelled else 'still running')\n"
        "p.close()\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["interrupted", "usable", "cancelled"], result.stderr

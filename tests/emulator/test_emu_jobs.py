"""Sync jobs: R2 bucket folders, loopback web crawling, cancellation, the scheduler."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from cfaisearch.emulator.state import STATE
from cfaisearch.emulator.store import Database
from tests.support.emulator_api import Api, eventually

JOB_FIELDS = {"id", "source", "description", "started_at", "last_seen_at", "ended_at", "end_reason"}


@pytest.fixture
def r2_root(tmp_path: Path) -> Path:
    bucket = tmp_path / "r2" / "docs-bucket"
    (bucket / "sub").mkdir(parents=True)
    (bucket / "a.md").write_text("# Alpha\nAlpha explains apples.")
    (bucket / "b.txt").write_text("Bravo talks about bananas.")
    (bucket / "sub" / "c.html").write_text("<p>Charlie covers <b>cherries</b>.</p>")
    (bucket / "skip.pdf").write_bytes(b"%PDF-1.4")
    (bucket / "big.txt").write_text("x" * 5000)
    return tmp_path / "r2"


@pytest.fixture
def timing() -> dict[str, Any]:
    """Overridden by tests that need slower jobs or the scheduler."""
    return {}


@pytest.fixture
def emulator_options(r2_root: Path, timing: dict[str, Any]) -> dict[str, Any]:
    return {"r2_root": r2_root, "max_file_bytes": 4096, **timing}


async def _token(api: Api) -> str:
    token = await api.ok(
        "POST", "/tokens", json={"cf_api_id": "r2", "cf_api_key": "secret", "name": "r2"}
    )
    return str(token["id"])


async def _finished(api: Api, job_id: str, instance: str = "kb") -> Any:
    async def ended() -> bool:
        return (await api.ok("GET", f"/instances/{instance}/jobs/{job_id}"))["ended_at"] is not None

    await eventually(ended)
    return await api.ok("GET", f"/namespaces/default/instances/{instance}/jobs/{job_id}")


async def _items(api: Api) -> dict[str, Any]:
    rows = await api.ok("GET", "/namespaces/default/instances/kb/items?per_page=50")
    return {r["key"]: r for r in rows}


async def _logs(api: Api, job_id: str) -> list[str]:
    rows = await api.ok("GET", f"/instances/kb/jobs/{job_id}/logs?per_page=100")
    return [r["message"] for r in rows]


async def test_r2_bucket_sync(api: Api, r2_root: Path) -> None:
    created = await api.create_instance(type="r2", source="docs-bucket", token_id=await _token(api))
    assert created["type"] == "r2"
    (initial,) = await api.ok("GET", "/instances/kb/jobs")
    assert set(initial) == JOB_FIELDS
    assert initial["source"] == "schedule"  # the first sync starts on its own
    initial = await _finished(api, initial["id"])
    assert initial["end_reason"] == "completed"
    assert initial["started_at"] <= initial["last_seen_at"] <= initial["ended_at"]
    items = await _items(api)
    assert set(items) == {"a.md", "b.txt", "sub/c.html", "skip.pdf", "big.txt"}
    assert {i["source_id"] for i in items.values()} == {"r2:docs-bucket"}
    assert items["sub/c.html"]["metadata"]["folder"] == "sub/"
    assert items["skip.pdf"]["status"] == "skipped"
    assert items["big.txt"]["status"] == "skipped"
    assert "larger than" in items["big.txt"]["error"]
    assert [c["item"]["key"] for c in await api.search("cherries")] == ["sub/c.html"]

    bucket = r2_root / "docs-bucket"
    (bucket / "a.md").unlink()
    (bucket / "b.txt").write_text("Bravo now talks about blueberries.")
    (bucket / "d.md").write_text("Delta describes dates.")
    job = await api.ok(
        "POST", "/namespaces/default/instances/kb/jobs", json={"description": "resync"}
    )
    assert (job["source"], job["description"]) == ("user", "resync")
    job = await _finished(api, job["id"])
    assert job["end_reason"] == "completed"
    items = await _items(api)
    assert set(items) == {"b.txt", "sub/c.html", "skip.pdf", "big.txt", "d.md"}
    assert await api.search("apples") == []
    assert await api.search("bananas") == []
    assert [c["item"]["key"] for c in await api.search("blueberries")] == ["b.txt"]
    assert [c["item"]["key"] for c in await api.search("dates")] == ["d.md"]
    messages = await _logs(api, job["id"])
    assert "found 5 files: 2 new or changed, 3 unchanged, 1 removed" in messages
    assert "removed a.md" in messages
    assert messages[-1].startswith("job completed")
    listed = await api.ok("GET", "/instances/kb/jobs")
    assert [j["id"] for j in listed] == [job["id"], initial["id"]]  # newest first


async def test_r2_type_is_inferred_and_filters_apply(api: Api) -> None:
    params = {"prefix": "", "include_items": ["**/*.html", "*.md"], "exclude_items": ["a.*"]}
    created = await api.create_instance(
        source="docs-bucket", token_id=await _token(api), source_params=params
    )
    assert created["type"] == "r2"
    (job,) = await api.ok("GET", "/instances/kb/jobs")
    await _finished(api, job["id"])
    assert set(await _items(api)) == {"sub/c.html"}
    await api.ok("PUT", "/instances/kb", json={"source_params": {"prefix": "sub/"}})
    job = await api.ok("POST", "/instances/kb/jobs", json={})
    await _finished(api, job["id"])
    assert set(await _items(api)) == {"sub/c.html"}


async def test_r2_needs_a_token(api: Api) -> None:
    reply = await api.request(
        "POST", "/instances", json={"id": "kb", "type": "r2", "source": "docs-bucket"}
    )
    assert reply.status == 400
    assert "token_id" in reply.json["errors"][0]["message"]


async def test_vanished_bucket_fails_the_job(api: Api, r2_root: Path) -> None:
    await api.create_instance(type="r2", source="docs-bucket", token_id=await _token(api))
    (job,) = await api.ok("GET", "/instances/kb/jobs")
    await _finished(api, job["id"])
    (r2_root / "docs-bucket").rename(r2_root / "elsewhere")
    job = await _finished(api, (await api.ok("POST", "/instances/kb/jobs", json={}))["id"])
    assert job["end_reason"].startswith("failed: R2 bucket 'docs-bucket' not found")
    stats = await api.ok("GET", "/instances/kb/stats")
    assert stats["index_source_errors"] == {"docs-bucket": job["end_reason"]}


async def test_create_or_update_registers_a_bucket_object(api: Api, r2_root: Path) -> None:
    await api.create_instance(type="r2", source="docs-bucket", token_id=await _token(api))
    (job,) = await api.ok("GET", "/instances/kb/jobs")
    await _finished(api, job["id"])
    (r2_root / "docs-bucket" / "e.md").write_text("Echo mentions elderberries.")
    body = {"key": "e.md", "next_action": "INDEX", "wait_for_completion": True}
    item = await api.ok("PUT", "/namespaces/default/instances/kb/items", json=body)
    assert (item["key"], item["status"], item["source_id"]) == (
        "e.md",
        "completed",
        "r2:docs-bucket",
    )
    assert len(await api.search("elderberries")) == 1


@pytest.mark.parametrize("timing", [{"job_step_delay": 0.15, "initial_sync": False}])
async def test_cancel_a_running_job(api: Api, r2_root: Path) -> None:
    bucket = r2_root / "slow"
    bucket.mkdir()
    for n in range(6):
        (bucket / f"f{n}.txt").write_text(f"file {n}")
    await api.create_instance("slow-kb", type="r2", source="slow", token_id=await _token(api))
    job = await api.ok("POST", "/namespaces/default/instances/slow-kb/jobs", json={})
    assert job["started_at"] is None or job["ended_at"] is None

    async def progressing() -> bool:
        rows = await api.ok("GET", "/namespaces/default/instances/slow-kb/items")
        return len(rows) >= 1

    await eventually(progressing)
    path = f"/namespaces/default/instances/slow-kb/jobs/{job['id']}"
    cancelled = await api.ok("PATCH", path, json={"action": "cancel"})
    assert cancelled["end_reason"] == "cancelled"
    assert cancelled["ended_at"] is not None
    assert cancelled["started_at"] is not None
    indexed = await api.ok("GET", "/namespaces/default/instances/slow-kb/items")
    assert 1 <= len(indexed) < 6
    logs = await api.ok("GET", f"{path}/logs")
    assert logs[-1]["message"] == "job cancelled"
    again = await api.ok("PATCH", path, json={"action": "cancel"})
    assert again == cancelled  # cancelling an ended job changes nothing
    bad = await api.request("PATCH", path, json={"action": "pause"})
    assert bad.status == 400


@pytest.mark.parametrize(
    "timing",
    [
        {
            "scheduler_enabled": True,
            "sync_interval_override": 0.2,
            "scheduler_tick": 0.05,
            "initial_sync": False,
        }
    ],
)
async def test_scheduler_runs_unpaused_instances(api: Api) -> None:
    token = await _token(api)
    await api.create_instance("live", type="r2", source="docs-bucket", token_id=token)
    await api.create_instance("frozen", type="r2", source="docs-bucket", token_id=token)
    await api.ok("PUT", "/instances/frozen", json={"paused": True})
    await api.create_instance("uploads-only")

    async def scheduled() -> bool:
        jobs = await api.ok("GET", "/instances/live/jobs")
        return any(j["source"] == "schedule" and j["end_reason"] == "completed" for j in jobs)

    await eventually(scheduled)
    assert await api.ok("GET", "/instances/frozen/jobs") == []
    assert await api.ok("GET", "/instances/uploads-only/jobs") == []


# -- web crawler ---------------------------------------------------------------------------

PAGES = {
    "/": '<a href="/guide.html">Guide</a> <a href="https://example.org/x">out</a>',
    "/guide.html": '<p>Gardening guide about tomatoes.</p><a href="/deep/more.html">more</a>',
    "/deep/more.html": "<html><body><p>More about cucumbers.</p></body></html>",
    "/orphan.html": "<html><body><p>Only listed in the sitemap: pumpkins.</p></body></html>",
}


@dataclasses.dataclass
class Site:
    server: TestServer
    sitemap: bool = False

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async def page(request: web.Request) -> web.Response:
        path = request.path
        if path == "/sitemap.xml" and state.sitemap:
            base = f"http://{request.host}"
            urls = "".join(
                f"<url><loc>{base}{p}</loc></url>" for p in ("/guide.html", "/orphan.html")
            )
            body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            return web.Response(text=body, content_type="application/xml")
        if path not in PAGES:
            raise web.HTTPNotFound()
        return web.Response(text=PAGES[path], content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    state = Site(TestServer(app, host="127.0.0.1"))
    await state.server.start_server()
    try:
        yield state
    finally:
        await state.server.close()


async def test_crawl_follows_same_host_links(api: Api, site: Site) -> None:
    source = site.url("/")
    params = {"web_crawler": {"parse_type": "discover"}}
    created = await api.create_instance(source=source, source_params=params)
    assert created["type"] == "web-crawler"
    (job,) = await api.ok("GET", "/instances/kb/jobs")
    job = await _finished(api, job["id"])
    assert job["end_reason"] == "completed"
    items = await _items(api)
    assert set(items) == {source, source + "guide.html", source + "deep/more.html"}
    assert {i["source_id"] for i in items.values()} == {f"web-crawler:{source}"}
    assert [c["item"]["key"] for c in await api.search("cucumbers")] == [source + "deep/more.html"]


async def test_crawl_reads_the_sitemap(api: Api, site: Site) -> None:
    site.sitemap = True
    source = site.url("/")
    await api.create_instance(source=source)
    (job,) = await api.ok("GET", "/instances/kb/jobs")
    await _finished(api, job["id"])
    assert set(await _items(api)) == {source + "guide.html", source + "orphan.html"}


async def test_crawl_refuses_non_loopback_hosts(api: Api) -> None:
    await api.create_instance(type="web-crawler", source="example.com")
    (job,) = await api.ok("GET", "/instances/kb/jobs")
    job = await _finished(api, job["id"])
    assert job["end_reason"].startswith("failed: web crawling is only emulated for loopback hosts")
    assert await _items(api) == {}


@pytest.mark.parametrize("timing", [{"job_step_delay": 0.2, "initial_sync": False}])
async def test_cancel_a_queued_job(api: Api) -> None:
    await api.create_instance(type="r2", source="docs-bucket", token_id=await _token(api))
    running = await api.ok("POST", "/instances/kb/jobs", json={})
    waiting = await api.ok("POST", "/instances/kb/jobs", json={})  # runs after the first
    base = "/namespaces/default/instances/kb/jobs"
    started = time.monotonic()
    cancelled = await api.ok("PATCH", f"{base}/{waiting['id']}", json={"action": "cancel"})
    assert time.monotonic() - started < 0.5  # no wait for the running job
    assert cancelled["started_at"] is None
    assert cancelled["end_reason"] == "cancelled"
    stopped = await api.ok("PATCH", f"{base}/{running['id']}", json={"action": "cancel"})
    assert stopped["end_reason"] == "cancelled"
    # Jobs of the deprecated top-level paths cannot be cancelled (no such operation).
    reply = await api.request(
        "PATCH", f"/instances/kb/jobs/{running['id']}", json={"action": "cancel"}
    )
    assert reply.status == 405


async def test_a_sync_job_leaves_its_keyword_index_merged(api: Api) -> None:
    await api.create_instance(type="r2", source="docs-bucket", token_id=await _token(api))
    (initial,) = await api.ok("GET", "/instances/kb/jobs")
    assert (await _finished(api, initial["id"]))["end_reason"] == "completed"
    runner = api.emulator._runner
    assert runner is not None
    store = runner.app[STATE].store
    instance = await store.read(Database.get_instance, "default", "kb")
    assert instance is not None
    # Three files indexed one by one leave three segments, unless merged.
    assert await store.run(Database.merge_keyword_index, instance.pk) is False

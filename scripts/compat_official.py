"""Drive the emulator with the official ``cloudflare`` SDK: every AI Search operation.

Every call must succeed, and its result must decode strictly: the official SDK
builds models leniently (a wrong type is kept as it came), so each result is
validated again with pydantic against its model. Exits 0 when every step
passes, 1 at the first step that fails, saying which and why.

    nox -s compat          # installs this package and cloudflare==5.9.0
    python scripts/compat_official.py
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
from cloudflare import Cloudflare
from cloudflare import __version__ as cloudflare_version

from cfaisearch.emulator import Emulator

NS = "compat"
KB = "kb"  # R2 instance in namespace NS (jobs, items)
LEGACY = "legacy-kb"  # upload-only instance in the default namespace, via /instances
BUCKET = "compat-bucket"
BUCKET_FILES = {
    "docs/retries.md": "# Retries\n\nReads are retried on 503; job creation is not retried.\n",
    "docs/streaming.md": "# Streaming\n\nChat answers stream as server-sent events.\n",
    "docs/pagination.md": "# Pagination\n\nLists are paged with page and per_page.\n",
}
UPLOADS = {
    f"notes/note-{n}.md": f"# Note {n}\n\nHybrid search fuses keyword and vector rankings {n}.\n"
    for n in range(5)
}


class StepFailed(Exception):
    pass


def strict(value: Any) -> Any:
    """Validate a result of the official SDK against its own model, strictly."""
    if isinstance(value, list):
        for entry in value:
            strict(entry)
    elif isinstance(value, pydantic.BaseModel):
        data = value.model_dump(by_alias=True, warnings=False)
        type(value).model_validate(data)
    return value


class Runner:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, label: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            result = strict(call())
        except Exception as exc:
            raise StepFailed(f"{label}: {type(exc).__name__}: {exc}") from exc
        self.count += 1
        print(f"ok  {label:<62} {1000 * (time.perf_counter() - started):6.1f} ms")
        return result


def wait_job(client: Cloudflare, account: str, job_id: str) -> Any:
    jobs = client.aisearch.namespaces.instances.jobs
    deadline = time.monotonic() + 20
    while True:
        job = strict(jobs.get(job_id, account_id=account, name=NS, id=KB))
        if job.ended_at is not None:
            return job
        if time.monotonic() > deadline:
            raise StepFailed(f"job {job_id} did not end within 20 s")
        time.sleep(0.05)


def flow(client: Cloudflare, account: str) -> int:
    step = Runner()
    ai = client.aisearch
    ns_instances = ai.namespaces.instances
    items = ns_instances.items
    chat = [{"role": "user", "content": "How are chat answers streamed?"}]

    # Tokens
    token = step(
        "tokens.create",
        lambda: ai.tokens.create(
            account_id=account, cf_api_id="compat-id", cf_api_key="compat-secret", name="compat"
        ),
    )
    spare = step(
        "tokens.create (a second one, to delete)",
        lambda: ai.tokens.create(
            account_id=account, cf_api_id="spare-id", cf_api_key="spare-secret", name="spare"
        ),
    )
    step("tokens.read", lambda: ai.tokens.read(token.id, account_id=account))
    step(
        "tokens.update",
        lambda: ai.tokens.update(
            spare.id,
            account_id=account,
            cf_api_id="spare-id",
            cf_api_key="spare-secret-2",
            name="spare-renamed",
        ),
    )
    listed = step("tokens.list", lambda: list(ai.tokens.list(account_id=account)))
    if {t.id for t in listed} != {token.id, spare.id}:
        raise StepFailed(f"tokens.list returned {[t.id for t in listed]}")
    step("tokens.delete", lambda: ai.tokens.delete(spare.id, account_id=account))

    # Namespaces and their instances
    step(
        "namespaces.create",
        lambda: ai.namespaces.create(account_id=account, name=NS, description="compat run"),
    )
    step("namespaces.read", lambda: ai.namespaces.read(NS, account_id=account))
    step(
        "namespaces.update",
        lambda: ai.namespaces.update(NS, account_id=account, description="compat run, updated"),
    )
    names = step("namespaces.list", lambda: list(ai.namespaces.list(account_id=account)))
    if {n.name for n in names} != {"default", NS}:
        raise StepFailed(f"namespaces.list returned {[n.name for n in names]}")
    step(
        "namespaces.instances.create (R2 source)",
        lambda: ns_instances.create(
            NS,
            account_id=account,
            id=KB,
            type="r2",
            source=BUCKET,
            token_id=token.id,
            index_method={"vector": True, "keyword": True},
            chunk_size=128,
        ),
    )
    step("namespaces.instances.read", lambda: ns_instances.read(KB, account_id=account, name=NS))
    step(
        "namespaces.instances.update",
        lambda: ns_instances.update(KB, account_id=account, name=NS, max_num_results=8),
    )
    step(
        "namespaces.instances.list",
        lambda: list(ns_instances.list(NS, account_id=account)),
    )

    # Jobs (namespaced): create, get, wait, logs, list, cancel
    jobs = ns_instances.jobs
    job = step(
        "namespaces.instances.jobs.create",
        lambda: jobs.create(KB, account_id=account, name=NS, description="compat sync"),
    )
    step(
        "namespaces.instances.jobs.get",
        lambda: jobs.get(job.id, account_id=account, name=NS, id=KB),
    )
    ended = wait_job(client, account, job.id)
    if ended.end_reason != "completed":
        raise StepFailed(f"job {job.id} ended with {ended.end_reason!r}")
    logs = step(
        "namespaces.instances.jobs.logs",
        lambda: jobs.logs(job.id, account_id=account, name=NS, id=KB, per_page=50),
    )
    if not logs:
        raise StepFailed("job logs are empty")
    step(
        "namespaces.instances.jobs.list",
        lambda: list(jobs.list(KB, account_id=account, name=NS, per_page=1)),
    )
    second = step(
        "namespaces.instances.jobs.create (to cancel)",
        lambda: jobs.create(KB, account_id=account, name=NS),
    )
    step(
        "namespaces.instances.jobs.update (cancel)",
        lambda: jobs.update(second.id, account_id=account, name=NS, id=KB, action="cancel"),
    )
    wait_job(client, account, second.id)

    # Items
    uploaded = {}
    for key, text in UPLOADS.items():
        uploaded[key] = step(
            f"namespaces.instances.items.upload {key}",
            lambda key=key, text=text: items.upload(
                KB,
                account_id=account,
                name=NS,
                file={
                    "file": (key, text.encode(), "text/markdown"),
                    "metadata": '{"team": "docs"}',
                    "wait_for_completion": "true",
                },
            ),
        )
    pages: list[int] = []

    def walk() -> list[Any]:
        pager = items.list(KB, account_id=account, name=NS, per_page=3)
        found = []
        for page in pager.iter_pages():
            pages.append(len(page.result))
            found.extend(page.result)
        return found

    every = step("namespaces.instances.items.list (per_page=3, every page)", walk)
    expected = len(UPLOADS) + len(BUCKET_FILES)
    if len(every) != expected or len({i.id for i in every}) != expected:
        raise StepFailed(f"walked {len(every)} items over pages {pages}, expected {expected}")
    print(f"    pages walked: {pages}")
    first = uploaded["notes/note-0.md"]
    step(
        "namespaces.instances.items.get",
        lambda: items.get(first.id, account_id=account, name=NS, id=KB),
    )
    step(
        "namespaces.instances.items.sync",
        lambda: items.sync(
            first.id,
            account_id=account,
            name=NS,
            id=KB,
            next_action="INDEX",
            wait_for_completion=True,
        ),
    )
    step(
        "namespaces.instances.items.create_or_update (bucket key)",
        lambda: items.create_or_update(
            KB, account_id=account, name=NS, key="docs/retries.md", next_action="INDEX"
        ),
    )
    step(
        "namespaces.instances.items.chunks",
        lambda: items.chunks(first.id, account_id=account, name=NS, id=KB, limit=10),
    )
    step(
        "namespaces.instances.items.logs",
        lambda: items.logs(first.id, account_id=account, name=NS, id=KB, limit=10),
    )
    download = step(
        "namespaces.instances.items.download",
        lambda: items.download(first.id, account_id=account, name=NS, id=KB),
    )
    if download.read() != UPLOADS["notes/note-0.md"].encode():
        raise StepFailed("download returned other bytes than were uploaded")

    # Retrieval (namespaced)
    result = step(
        "namespaces.instances.search",
        lambda: ns_instances.search(
            KB,
            account_id=account,
            name=NS,
            query="streaming server-sent events",
            aisearch_options={"retrieval": {"retrieval_type": "hybrid"}},
        ),
    )
    if not result.chunks:
        raise StepFailed("search found nothing")
    step(
        "namespaces.instances.chat_completions",
        lambda: ns_instances.chat_completions(KB, account_id=account, name=NS, messages=chat),
    )
    step(
        "namespaces.instances.chat_completions (stream=True, raw SSE)",
        lambda: _read_sse(
            ns_instances.with_streaming_response.chat_completions(
                KB, account_id=account, name=NS, messages=chat, stream=True
            )
        ),
    )
    step("namespaces.instances.stats", lambda: ns_instances.stats(KB, account_id=account, name=NS))
    step(
        "namespaces.search",
        lambda: ai.namespaces.search(
            NS, account_id=account, query="pagination", aisearch_options={"instance_ids": [KB]}
        ),
    )
    step(
        "namespaces.chat_completions",
        lambda: ai.namespaces.chat_completions(
            NS, account_id=account, messages=chat, aisearch_options={"instance_ids": [KB]}
        ),
    )

    # The deprecated top-level /instances paths (the default namespace)
    step(
        "instances.create",
        lambda: ai.instances.create(account_id=account, id=LEGACY),
    )
    step("instances.read", lambda: ai.instances.read(LEGACY, account_id=account))
    step(
        "instances.update",
        lambda: ai.instances.update(LEGACY, account_id=account, max_num_results=5),
    )
    step("instances.list", lambda: list(ai.instances.list(account_id=account)))
    client.aisearch.namespaces.instances.items.upload(
        LEGACY,
        account_id=account,
        name="default",
        file={"file": ("faq.md", b"Refunds take five days.", "text/markdown")},
    )
    step(
        "instances.search",
        lambda: ai.instances.search(LEGACY, account_id=account, query="refunds"),
    )
    step(
        "instances.chat_completions",
        lambda: ai.instances.chat_completions(
            LEGACY, account_id=account, messages=[{"role": "user", "content": "Refunds?"}]
        ),
    )
    step("instances.stats", lambda: ai.instances.stats(LEGACY, account_id=account))
    # Jobs need an external source: the R2 instance lives in NS, so this uses a
    # second R2 instance in the default namespace.
    step(
        "instances.create (R2 source)",
        lambda: ai.instances.create(
            account_id=account, id="legacy-r2", type="r2", source=BUCKET, token_id=token.id
        ),
    )
    legacy_job = step(
        "instances.jobs.create",
        lambda: ai.instances.jobs.create("legacy-r2", account_id=account),
    )
    step(
        "instances.jobs.get",
        lambda: ai.instances.jobs.get(legacy_job.id, account_id=account, id="legacy-r2"),
    )
    step(
        "instances.jobs.list",
        lambda: list(ai.instances.jobs.list("legacy-r2", account_id=account)),
    )
    step(
        "instances.jobs.logs",
        lambda: ai.instances.jobs.logs(legacy_job.id, account_id=account, id="legacy-r2"),
    )

    # Teardown
    step(
        "namespaces.instances.items.delete",
        lambda: items.delete(first.id, account_id=account, name=NS, id=KB),
    )
    step("instances.delete", lambda: ai.instances.delete(LEGACY, account_id=account))
    step("instances.delete (R2)", lambda: ai.instances.delete("legacy-r2", account_id=account))
    step(
        "namespaces.instances.delete",
        lambda: ns_instances.delete(KB, account_id=account, name=NS),
    )
    step("namespaces.delete", lambda: ai.namespaces.delete(NS, account_id=account))
    step("tokens.delete (now unused)", lambda: ai.tokens.delete(token.id, account_id=account))
    return step.count


def _read_sse(response: Any) -> None:
    with response as opened:
        lines = list(opened.iter_lines())
    deltas = [line for line in lines if line.startswith('data: {"')]
    if "event: chunks" not in lines or "data: [DONE]" not in lines or not deltas:
        raise StepFailed(f"unexpected event stream: {lines[:3]} ... {lines[-3:]}")


def main() -> int:
    # The official SDK flags the top-level /instances methods as deprecated; they
    # are still part of its API, and of this check.
    warnings.filterwarnings("ignore", "deprecated", DeprecationWarning)
    print(f"official cloudflare SDK {cloudflare_version} against the cfaisearch emulator")
    with tempfile.TemporaryDirectory() as root:
        bucket = Path(root) / BUCKET
        for key, text in BUCKET_FILES.items():
            (bucket / key).parent.mkdir(parents=True, exist_ok=True)
            (bucket / key).write_text(text, encoding="utf-8")
        settings: dict[str, Any] = {
            "r2_root": Path(root),
            "manual_sync_interval": 0.0,
            "scheduler_enabled": False,
            "initial_sync": False,
            # Slow enough that a job created just before can still be cancelled.
            "job_step_delay": 0.05,
        }
        with Emulator(**settings) as emulator:
            client = Cloudflare(api_token=emulator.api_token, base_url=emulator.base_url)
            try:
                count = flow(client, emulator.account_id)
            except StepFailed as exc:
                print(f"FAIL {exc}", file=sys.stderr)
                return 1
            finally:
                client.close()
    print(f"all {count} calls succeeded and decoded strictly")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The clients under test, each behind the same small interface.

Every operation returns something checkable (a job id, an item count), so the
runner can verify once that each client really talked to the server and
decoded what it got, and the measured work cannot be skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import orjson
from fixtures import ACCOUNT_ID, API_TOKEN, INSTANCE_ID, JOB_ID, NAMESPACE

import cfaisearch

__all__ = [
    "AsyncContender",
    "SyncContender",
    "Team",
    "official_available",
    "start_team",
]


class AsyncContender(Protocol):
    name: str

    async def get_job(self) -> str: ...
    async def list_jobs(self) -> int: ...
    async def list_instances(self) -> int: ...
    async def aclose(self) -> None: ...


class SyncContender(Protocol):
    name: str

    def get_job(self) -> str: ...
    def list_jobs(self) -> int: ...
    def list_instances(self) -> int: ...
    def close(self) -> None: ...


def official_available() -> bool:
    """Whether the official ``cloudflare`` package can be imported here."""
    try:
        import cloudflare  # noqa: F401
    except ImportError:
        return False
    return True


class RawAiohttp:
    """The honest floor: one shared session, a status check, a JSON decode, no models."""

    def __init__(self, base_url: str, loads: Callable[[bytes], Any], name: str) -> None:
        self.name = name
        self._loads = loads
        self._headers = {"Authorization": f"Bearer {API_TOKEN}", "Accept": "application/json"}
        instances = f"{base_url}/accounts/{ACCOUNT_ID}/ai-search/namespaces/{NAMESPACE}/instances"
        self._job_url = f"{instances}/{INSTANCE_ID}/jobs/{JOB_ID}"
        self._jobs_url = f"{instances}/{INSTANCE_ID}/jobs"
        self._instances_url = instances
        self._session = aiohttp.ClientSession()

    async def _get(self, url: str) -> Any:
        async with self._session.get(url, headers=self._headers) as resp:
            body = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{self.name}: HTTP {resp.status}")
        return self._loads(body)

    async def get_job(self) -> str:
        job: str = (await self._get(self._job_url))["result"]["id"]
        return job

    async def list_jobs(self) -> int:
        return len((await self._get(self._jobs_url))["result"])

    async def list_instances(self) -> int:
        return len((await self._get(self._instances_url))["result"])

    async def aclose(self) -> None:
        await self._session.close()


class CfaisearchAsync:
    name = "cfaisearch async"

    def __init__(self, base_url: str) -> None:
        self._client = cfaisearch.AsyncCloudflare(
            api_token=API_TOKEN, account_id=ACCOUNT_ID, base_url=base_url
        )

    async def get_job(self) -> str:
        jobs = self._client.aisearch.namespaces.instances.jobs
        return (await jobs.get(JOB_ID, name=NAMESPACE, id=INSTANCE_ID)).id

    async def list_jobs(self) -> int:
        jobs = self._client.aisearch.namespaces.instances.jobs
        return len(await jobs.list(INSTANCE_ID, name=NAMESPACE))

    async def list_instances(self) -> int:
        return len(await self._client.aisearch.namespaces.instances.list(NAMESPACE))

    async def aclose(self) -> None:
        await self._client.aclose()


class CfaisearchSync:
    name = "cfaisearch sync"

    def __init__(self, base_url: str) -> None:
        self._client = cfaisearch.Cloudflare(
            api_token=API_TOKEN, account_id=ACCOUNT_ID, base_url=base_url
        )

    def get_job(self) -> str:
        jobs = self._client.aisearch.namespaces.instances.jobs
        return jobs.get(JOB_ID, name=NAMESPACE, id=INSTANCE_ID).id

    def list_jobs(self) -> int:
        jobs = self._client.aisearch.namespaces.instances.jobs
        return len(jobs.list(INSTANCE_ID, name=NAMESPACE).result)

    def list_instances(self) -> int:
        return len(self._client.aisearch.namespaces.instances.list(NAMESPACE).result)

    def close(self) -> None:
        self._client.close()


class OfficialAsync:
    name = "official async"

    def __init__(self, base_url: str) -> None:
        import cloudflare

        self._client = cloudflare.AsyncCloudflare(api_token=API_TOKEN, base_url=base_url)

    async def get_job(self) -> str:
        jobs = self._client.aisearch.namespaces.instances.jobs
        return (await jobs.get(JOB_ID, account_id=ACCOUNT_ID, name=NAMESPACE, id=INSTANCE_ID)).id

    async def list_jobs(self) -> int:
        jobs = self._client.aisearch.namespaces.instances.jobs
        page = await jobs.list(INSTANCE_ID, account_id=ACCOUNT_ID, name=NAMESPACE)
        return len(page.result)

    async def list_instances(self) -> int:
        instances = self._client.aisearch.namespaces.instances
        return len((await instances.list(NAMESPACE, account_id=ACCOUNT_ID)).result)

    async def aclose(self) -> None:
        await self._client.close()


class OfficialSync:
    name = "official sync"

    def __init__(self, base_url: str) -> None:
        import cloudflare

        self._client = cloudflare.Cloudflare(api_token=API_TOKEN, base_url=base_url)

    def get_job(self) -> str:
        jobs = self._client.aisearch.namespaces.instances.jobs
        return jobs.get(JOB_ID, account_id=ACCOUNT_ID, name=NAMESPACE, id=INSTANCE_ID).id

    def list_jobs(self) -> int:
        jobs = self._client.aisearch.namespaces.instances.jobs
        return len(jobs.list(INSTANCE_ID, account_id=ACCOUNT_ID, name=NAMESPACE).result)

    def list_instances(self) -> int:
        instances = self._client.aisearch.namespaces.instances
        return len(instances.list(NAMESPACE, account_id=ACCOUNT_ID).result)

    def close(self) -> None:
        self._client.close()


@dataclass
class Team:
    """Every contender, in the order the tables list them; the first is the baseline."""

    asyncs: list[AsyncContender]
    syncs: list[SyncContender]

    async def aclose(self) -> None:
        for sync in self.syncs:
            sync.close()
        for contender in self.asyncs:
            await contender.aclose()


async def start_team(base_url: str, *, official: bool) -> Team:
    """Build every client; must run on the loop that will drive the async ones."""
    asyncs: list[AsyncContender] = [
        RawAiohttp(base_url, orjson.loads, "raw aiohttp + orjson"),
        RawAiohttp(base_url, json.loads, "raw aiohttp + json"),
        CfaisearchAsync(base_url),
    ]
    syncs: list[SyncContender] = [CfaisearchSync(base_url)]
    if official:
        asyncs.append(OfficialAsync(base_url))
        syncs.append(OfficialSync(base_url))
    return Team(asyncs, syncs)

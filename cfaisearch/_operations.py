"""Every operation of the API, listed once: name, HTTP verb and path.

The tests, the API reference page (scripts/api_reference.py) and the check of
the emulator's route table read this list, so nothing else counts operations;
a client with event hooks or tracing reads it to name the operation of a request.
A namespaced instance or job operation with ``top_level=True`` also exists in
the deprecated top-level family (``/instances/...``, the ``default``
namespace); that twin is derived here, as its resource is derived by
scripts/gen_sync.py. A client without hooks or tracing never imports it.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = ["HELPERS", "OPERATIONS", "POLLING_HELPERS", "PREFIX", "Operation"]

PREFIX: Final = "/accounts/{account_id}/ai-search"
"""What every path below is relative to."""


class Operation(NamedTuple):
    """One API operation, as ``client.aisearch.<name>(...)`` sends it."""

    name: str
    """Dotted path under ``client.aisearch``, e.g. ``namespaces.instances.create``."""
    verb: str
    path: str
    """After :data:`PREFIX`, with ``{parameter}`` for each path parameter."""

    @property
    def family(self) -> str:
        """The resource it belongs to, e.g. ``namespaces.instances``."""
        return self.name.rpartition(".")[0]

    @property
    def deprecated(self) -> bool:
        """Whether it belongs to the top-level family Cloudflare keeps for compatibility."""
        return self.name.startswith("instances.")


_NS: Final = "/namespaces/{name}/instances"
_ID: Final = f"{_NS}/{{id}}"

# (name, verb, path, has a top-level twin)
_DECLARED: Final = (
    ("namespaces.create", "POST", "/namespaces", False),
    ("namespaces.update", "PUT", "/namespaces/{name}", False),
    ("namespaces.list", "GET", "/namespaces", False),
    ("namespaces.delete", "DELETE", "/namespaces/{name}", False),
    ("namespaces.chat_completions", "POST", "/namespaces/{name}/chat/completions", False),
    ("namespaces.read", "GET", "/namespaces/{name}", False),
    ("namespaces.search", "POST", "/namespaces/{name}/search", False),
    ("namespaces.instances.create", "POST", _NS, True),
    ("namespaces.instances.update", "PUT", _ID, True),
    ("namespaces.instances.list", "GET", _NS, True),
    ("namespaces.instances.delete", "DELETE", _ID, True),
    ("namespaces.instances.chat_completions", "POST", f"{_ID}/chat/completions", True),
    ("namespaces.instances.read", "GET", _ID, True),
    ("namespaces.instances.search", "POST", f"{_ID}/search", True),
    ("namespaces.instances.stats", "GET", f"{_ID}/stats", True),
    ("namespaces.instances.jobs.create", "POST", f"{_ID}/jobs", True),
    ("namespaces.instances.jobs.update", "PATCH", f"{_ID}/jobs/{{job_id}}", False),
    ("namespaces.instances.jobs.list", "GET", f"{_ID}/jobs", True),
    ("namespaces.instances.jobs.get", "GET", f"{_ID}/jobs/{{job_id}}", True),
    ("namespaces.instances.jobs.logs", "GET", f"{_ID}/jobs/{{job_id}}/logs", True),
    ("namespaces.instances.items.list", "GET", f"{_ID}/items", False),
    ("namespaces.instances.items.upload", "POST", f"{_ID}/items", False),
    ("namespaces.instances.items.create_or_update", "PUT", f"{_ID}/items", False),
    ("namespaces.instances.items.get", "GET", f"{_ID}/items/{{item_id}}", False),
    ("namespaces.instances.items.sync", "PATCH", f"{_ID}/items/{{item_id}}", False),
    ("namespaces.instances.items.delete", "DELETE", f"{_ID}/items/{{item_id}}", False),
    ("namespaces.instances.items.download", "GET", f"{_ID}/items/{{item_id}}/download", False),
    ("namespaces.instances.items.logs", "GET", f"{_ID}/items/{{item_id}}/logs", False),
    ("namespaces.instances.items.chunks", "GET", f"{_ID}/items/{{item_id}}/chunks", False),
    ("tokens.create", "POST", "/tokens", False),
    ("tokens.update", "PUT", "/tokens/{id}", False),
    ("tokens.list", "GET", "/tokens", False),
    ("tokens.delete", "DELETE", "/tokens/{id}", False),
    ("tokens.read", "GET", "/tokens/{id}", False),
)


def _top_level(name: str, verb: str, path: str) -> Operation:
    return Operation(name.removeprefix("namespaces."), verb, path.replace(_NS, "/instances", 1))


OPERATIONS: Final[tuple[Operation, ...]] = (
    *(_top_level(name, verb, path) for name, verb, path, twin in _DECLARED if twin),
    *(Operation(name, verb, path) for name, verb, path, _ in _DECLARED),
)
"""Every API operation; the top-level twins first."""

POLLING_HELPERS: Final[tuple[Operation, ...]] = (
    Operation("instances.jobs.wait", "GET", "/instances/{id}/jobs/{job_id}"),
    Operation("namespaces.instances.jobs.wait", "GET", f"{_ID}/jobs/{{job_id}}"),
    Operation("namespaces.instances.items.wait", "GET", f"{_ID}/items/{{item_id}}"),
    Operation("namespaces.instances.wait_until_indexed", "GET", f"{_ID}/stats"),
)
"""Helpers that repeat the GET shown until a job, an item or an instance is done;
not operations."""

HELPERS: Final[tuple[Operation, ...]] = (
    *POLLING_HELPERS,
    Operation("namespaces.instances.items.sync_directory", "GET", f"{_ID}/items"),
)
"""Every helper (built on the operations, not one), with the first request it sends."""

"""Startup: building a client and reaching one resource loads only that resource's path.

Checked by which modules a fresh interpreter has imported, not by timing (too
noisy for a test): the model, stream and download modules, the other
resources and cattrs load on first use, not when ``client.aisearch`` is reached.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import cfaisearch.types

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

SCRIPT = """
import json, sys
import cfaisearch

client = cfaisearch.{client}(api_token="token", account_id="account")
client.aisearch.instances.jobs
print(json.dumps(sorted(sys.modules)))
"""

# The resource modules on the way to ``client.aisearch.instances.jobs``.
PATH = ("aisearch", "instances", "jobs")


def loaded_after_reaching_jobs(client: str) -> set[str]:
    """The modules imported once a fresh ``client`` has reached ``aisearch.instances.jobs``."""
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", SCRIPT.format(client=client)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout))


def model_modules() -> set[str]:
    """Every ``cfaisearch.types`` module but ``shared``, which the client itself uses."""
    return {
        f"cfaisearch.types.{module.name}"
        for module in pkgutil.iter_modules(cfaisearch.types.__path__)
        if module.name != "shared"
    }


def submodules(loaded: set[str], package: str) -> set[str]:
    return {name.rpartition(".")[2] for name in loaded if name.startswith(f"{package}.")}


@pytest.mark.parametrize(
    ("client", "resources"),
    [("AsyncCloudflare", "cfaisearch.resources"), ("Cloudflare", "cfaisearch._sync")],
)
def test_reaching_a_resource_loads_only_its_path(client: str, resources: str) -> None:
    loaded = loaded_after_reaching_jobs(client)
    never = {
        "cattrs",
        # Hooks and tracing load only for a client that asks for them.
        "cfaisearch._hooks",
        "cfaisearch._tracing",
        "opentelemetry",
        "cfaisearch._streaming",
        "cfaisearch._binary",
        "cfaisearch.resources.items",
        "cfaisearch.resources.tokens",
        f"{resources}.items",
        f"{resources}.tokens",
        f"{resources}.namespaces",
        *model_modules(),
    }
    assert "cfaisearch.types.items" in never  # the listing found the model modules
    assert loaded.isdisjoint(never), sorted(loaded & never)
    on_path = {*PATH, "client"} if resources == "cfaisearch._sync" else {*PATH, "_base"}
    assert submodules(loaded, resources) == on_path
    assert submodules(loaded, "cfaisearch.resources") == {*PATH, "_base"}
    # Raw-response twins load with the first ``with_raw_response``.
    assert submodules(loaded, "cfaisearch._with_raw") == set()


def test_the_official_type_names_load_no_model_until_used() -> None:
    """Importing ``cfaisearch.types.aisearch...`` (the official names) loads no model module."""
    script = (
        "import json, sys\n"
        "import cfaisearch.types.aisearch.namespaces.instances\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(out.stdout))
    assert "cfaisearch.types.aisearch.namespaces.instances" in loaded
    assert loaded.isdisjoint(
        {"cattrs", "aiohttp", *model_modules()} - {"cfaisearch.types.aisearch"}
    )

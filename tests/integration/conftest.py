"""The SDK against the emulator over real loopback HTTP, through cfaisearch.testing.

pytest honours ``pytest_plugins`` only in the rootdir conftest, so the plugin's
fixtures and hook are imported here instead; users write
``pytest_plugins = ["cfaisearch.testing"]`` (test_plugin.py runs that
documented path in a separate pytest process).

Every emulator here also has an R2 root holding one bucket, ``BUCKET``, so
instances with an external source (the only ones with sync jobs) can be made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cfaisearch.testing import (  # noqa: F401
    aisearch_async_client,
    aisearch_client,
    aisearch_emulator,
    aisearch_emulator_config,
    aisearch_emulator_session,
    aisearch_env,
    pytest_configure,
)
from tests.support.integration import BUCKET, BUCKET_FILES


@pytest.fixture
def aisearch_emulator_settings(tmp_path: Path) -> dict[str, Any]:
    bucket = tmp_path / "r2" / BUCKET
    for key, text in BUCKET_FILES.items():
        (bucket / key).parent.mkdir(parents=True, exist_ok=True)
        (bucket / key).write_text(text, encoding="utf-8")
    # initial_sync off: only the tests start jobs, so job lists are predictable.
    return {"r2_root": tmp_path / "r2", "initial_sync": False}

"""The command line against the emulator: its fixtures, and an R2 bucket for jobs.

As in tests/integration, the plugin's fixtures are imported here (pytest only
honours ``pytest_plugins`` in the rootdir conftest).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cfaisearch.testing import (  # noqa: F401
    aisearch_client,
    aisearch_emulator,
    aisearch_emulator_config,
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
    return {"r2_root": tmp_path / "r2", "initial_sync": False}

"""Fixtures shared by several test modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The demo region planned once per test session by the real command, offline base map: (dir, process)."""
    out = tmp_path_factory.mktemp("demo") / "plan"
    p = subprocess.run(
        [sys.executable, "-m", "planner", "demo", "--out", str(out), "--lang", "zh", "--basemap", "none"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return out, p

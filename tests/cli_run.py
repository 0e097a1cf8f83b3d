"""The planner's real command in a subprocess, for tests that go through the CLI as a user does."""

from __future__ import annotations

import subprocess
import sys


def run_planner(
    *args: str, timeout: int = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m planner ARGS`` with its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "planner", *args], capture_output=True, text=True, timeout=timeout, env=env
    )

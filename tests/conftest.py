"""Fixtures shared by several test modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from planner.bench.common import shared_dir


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


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared data beside the repository (real OSM extracts, benchmark instances); a test that needs it fails
    with the way to provide it, it is never skipped."""
    root = shared_dir()
    if not (root / "benchmarks").is_dir() or not (root / "data" / "raw").is_dir():
        pytest.fail(
            f"{root} lacks benchmarks/ or data/raw/: clone the project beside shared/ or set PLANNER_SHARED"
        )
    return root


@pytest.fixture(scope="session")
def county_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """牟定县's own layer (tests/county_fixture.py: CGCS2000, a 备注 column, two units left out, one renamed,
    one added) planned once per session by the real command: no road data, ``--county``, short names in the
    rules file, a GBK Shapefile export. (dir, process)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from county_fixture import RULES_TOML, county_layer

    folder = tmp_path_factory.mktemp("county")
    layer = county_layer(folder / "villages.gpkg")
    rules = folder / "rules.toml"
    rules.write_text(RULES_TOML, encoding="utf-8")
    out = folder / "plan"
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "planner",
            "plan",
            "--villages",
            str(layer),
            "--id-col",
            "code",
            "--roads",
            "none",
            "--county",
            "牟定县",
            "--config",
            str(rules),
            "--shapefile-encoding",
            "GBK",
            "--month",
            "2026-12",
            "--out",
            str(out),
            "--lang",
            "zh",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return out, p

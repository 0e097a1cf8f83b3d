"""The package as a user installs it: a wheel in a fresh virtual environment runs `planner demo`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_in_a_fresh_virtual_environment_runs_the_demo(tmp_path: Path) -> None:
    """The built wheel carries the demo data: installed in a new venv (no system site-packages, no source
    checkout on the path), `planner demo` writes a plan."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        timeout=600,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("planner-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    # the wheel itself goes into the new venv; its dependencies are taken from this interpreter's
    # site-packages, appended to the path after the venv's own (offline: nothing is downloaded)
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # no source checkout on the path (else pip would find planner "already installed" there)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PLANNER_CACHE"] = str(tmp_path / "cache")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        check=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    where = subprocess.run(
        [str(python), "-c", "import planner; print(planner.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where
    planner = venv / ("Scripts" if os.name == "nt" else "bin") / "planner"
    out = tmp_path / "demo"
    p = subprocess.run(
        [str(planner), "demo", "--out", str(out), "--basemap", "none", "--lang", "en"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=1800,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["villages"] == 66
    assert (out / ".planner-plan").is_file()

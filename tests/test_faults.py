"""Faults and repeat runs of `planner plan`: interrupts leave nothing behind, an earlier plan is never lost,
solver time limits, and the same inputs and seed give the same plan files."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from corpus.make_corpus import county, points_csv

from planner.io import write_layer
from planner.io.files import PLAN_MARKER

ROOT = Path(__file__).resolve().parent.parent
SENTINEL = b"the earlier plan\n"


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PLANNER_CACHE": str(cache)}


def _argv(inputs: Path, out: Path, *more: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "planner",
        "plan",
        "--villages",
        str(inputs / "villages.csv"),
        "--roads",
        str(inputs / "roads.gpkg"),
        "--out",
        str(out),
        "--month",
        "2026-12",
        "--lang",
        "en",
        "--seed",
        "7",
        *more,
    ]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 12-village grid county as a CSV of committee points and a road-line GeoPackage."""
    where = tmp_path_factory.mktemp("inputs")
    villages, roads = county()
    points_csv(villages).to_csv(where / "villages.csv", index=False)
    write_layer(roads, where / "roads.gpkg", layer="roads")
    pd.DataFrame({"officer_id": ["P1"], "office": ["O1"], "kind": ["chief"]}).to_csv(
        where / "bad_roster.csv", index=False
    )
    return where


def _earlier_plan(out: Path) -> None:
    """A plan directory the planner wrote (it carries the marker), with a note the bureau added."""
    out.mkdir(parents=True)
    (out / "plan.gpkg").write_bytes(SENTINEL)
    (out / "notes.txt").write_text("kept", encoding="utf-8")
    (out / PLAN_MARKER).write_text("planner plan\n", encoding="utf-8")


def _intact(out: Path) -> bool:
    return (
        sorted(p.name for p in out.iterdir()) == [PLAN_MARKER, "notes.txt", "plan.gpkg"]
        and (out / "plan.gpkg").read_bytes() == SENTINEL
    )


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def test_second_run_over_a_plan_is_refused_at_once_and_keeps_it(inputs: Path, tmp_path: Path) -> None:
    """Without --overwrite an existing plan directory is refused with exit 2 before any work, and kept."""
    out = tmp_path / "plan"
    _earlier_plan(out)
    p = subprocess.run(_argv(inputs, out), capture_output=True, text=True, timeout=600, env=_env(tmp_path))
    assert p.returncode == 2, p.stderr[-2000:]
    assert "--overwrite" in p.stderr and str(out) in p.stderr
    assert "stage" not in p.stderr  # refused before the first stage (-v is not given: nothing else logs)
    assert _intact(out) and not _leftovers(out)


def test_failing_run_with_overwrite_keeps_the_earlier_plan(inputs: Path, tmp_path: Path) -> None:
    """--overwrite with a bad roster fails (exit 2) and leaves the earlier plan as it was."""
    out = tmp_path / "plan"
    _earlier_plan(out)
    argv = _argv(inputs, out, "--overwrite", "--officers", str(inputs / "bad_roster.csv"))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=_env(tmp_path))
    assert p.returncode == 2, p.stderr[-2000:]
    assert "bad_roster.csv" in p.stderr and "Traceback" not in p.stderr
    assert _intact(out) and not _leftovers(out)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _refused_before_solving(p: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert p.returncode == 2, p.stderr[-2000:]
    assert "stage" not in p.stderr and "Traceback" not in p.stderr, p.stderr[-2000:]
    message = p.stderr.strip().splitlines()[-1]
    for part in parts:
        assert part in message, (part, message)


def _copy_inputs(inputs: Path, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    for name in ("villages.csv", "roads.gpkg"):
        (where / name).write_bytes((inputs / name).read_bytes())
    return where


def test_out_holding_the_inputs_is_refused_and_nothing_is_deleted(inputs: Path, tmp_path: Path) -> None:
    """--out set to the folder of the inputs, or to a parent of it, is refused with --overwrite, before solving,
    and every file stays."""
    folder = _copy_inputs(inputs, tmp_path / "county" / "data")
    before = _snapshot(tmp_path)
    for out in (folder, tmp_path / "county", tmp_path):
        p = subprocess.run(
            _argv(folder, out, "--overwrite"), capture_output=True, text=True, timeout=600, env=_env(tmp_path)
        )
        _refused_before_solving(p, str(out), "input", "--out")
        assert _snapshot(tmp_path) == before


def test_out_with_foreign_files_is_never_replaced(inputs: Path, tmp_path: Path) -> None:
    """A folder holding anything but a plan (a home folder, Documents) is refused even with --overwrite."""
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    (home / "Documents" / "report.docx").write_bytes(b"precious")
    (home / ".bashrc").write_text("export X=1\n", encoding="utf-8")
    before = _snapshot(home)
    for out in (home, home / "Documents"):
        p = subprocess.run(
            _argv(inputs, out, "--overwrite"), capture_output=True, text=True, timeout=600, env=_env(tmp_path)
        )
        _refused_before_solving(p, str(out), "not a planner plan", PLAN_MARKER)
        assert _snapshot(home) == before
    p = subprocess.run(
        [sys.executable, "-m", "planner", "demo", "--out", str(home), "--lang", "en"],
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(tmp_path),
    )
    _refused_before_solving(p, str(home), "not a planner plan")
    assert _snapshot(home) == before


def test_out_that_is_a_link_a_file_or_the_current_folder_is_refused(inputs: Path, tmp_path: Path) -> None:
    """--out as a symbolic link, a file, below a file, or the current folder: exit 2 naming --out, nothing
    touched."""
    _earlier_plan(tmp_path / "plan")
    (tmp_path / "link").symlink_to(tmp_path / "plan")
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    cases = [
        (tmp_path / "link", "symbolic link"),
        (tmp_path / "a.txt", "is a file"),
        (tmp_path / "a.txt" / "plan", "is a file"),
        (Path("."), "current folder"),
    ]
    before = _snapshot(tmp_path)
    for out, part in cases:
        p = subprocess.run(
            _argv(inputs, out, "--overwrite"),
            capture_output=True,
            text=True,
            timeout=600,
            env=_env(tmp_path / "cache"),
            cwd=work,
        )
        _refused_before_solving(p, part)
        assert _snapshot(tmp_path) == before
    assert _intact(tmp_path / "plan")


def test_unwritable_out_is_refused_before_solving(inputs: Path, tmp_path: Path) -> None:
    """A folder that cannot be written to (here /proc, refused even to root) is found before any solving."""
    p = subprocess.run(
        _argv(inputs, Path("/proc/planner-plan")),
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(tmp_path),
    )
    _refused_before_solving(p, "/proc", "cannot be written")


def test_second_run_into_the_same_out_is_refused_while_the_first_runs(inputs: Path, tmp_path: Path) -> None:
    """A lock held by a live run (here: this test's own process) refuses a second run into the same --out."""
    out = tmp_path / "plan"
    lock = tmp_path / ".plan.lock"
    lock.write_text(f"{os.getpid()}\n{socket.gethostname()}\n", encoding="utf-8")
    p = subprocess.run(_argv(inputs, out), capture_output=True, text=True, timeout=600, env=_env(tmp_path))
    _refused_before_solving(p, "another planner run", str(os.getpid()), str(lock))
    assert not out.exists() and lock.read_text(encoding="utf-8").startswith(str(os.getpid()))


def test_stale_lock_is_taken_over_and_a_marked_plan_replaced(inputs: Path, tmp_path: Path) -> None:
    """A lock left by a killed run (its PID is gone) is removed with a warning; --overwrite replaces a plan
    directory carrying the marker, and the new plan carries it; no lock is left."""
    out = tmp_path / "plan"
    _earlier_plan(out)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / ".plan.lock"
    lock.write_text(f"{dead.pid}\n{socket.gethostname()}\n", encoding="utf-8")
    argv = _argv(inputs, out, "--overwrite", "--time-limit", "5")
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=_env(tmp_path))
    assert p.returncode in (0, 1), p.stderr[-2000:]
    assert "stale lock" in p.stderr
    assert (out / PLAN_MARKER).is_file() and (out / "summary.json").is_file()
    assert not (out / "notes.txt").exists()
    assert not lock.exists() and not _leftovers(out)


def test_failing_run_leaves_no_folders_and_no_lock(inputs: Path, tmp_path: Path) -> None:
    """A run into a new nested --out that fails after the checks leaves neither the folders it made for the
    lock nor the lock."""
    out = tmp_path / "a" / "b" / "plan"
    argv = _argv(inputs, out, "--officers", str(inputs / "bad_roster.csv"))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=_env(tmp_path / "cache"))
    assert p.returncode == 2 and "bad_roster.csv" in p.stderr, p.stderr[-2000:]
    assert not (tmp_path / "a").exists()


def _interrupt_while_solving(inputs: Path, tmp_path: Path, sig: int) -> tuple[int, str, Path]:
    """Start a plan run, wait until it is in a solving stage, send ``sig``; return (code, stderr, out)."""
    out = tmp_path / "plan"
    proc = subprocess.Popen(
        [*_argv(inputs, out), "-v"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    lines: list[str] = []
    solving = threading.Event()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            # the district stage starts the solving: the whole monthly plan is still ahead of the signal
            if "stage districts" in line:
                solving.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    assert solving.wait(timeout=300), "".join(lines)[-3000:]
    time.sleep(0.2)  # inside the solver, not at its first line
    proc.send_signal(sig)
    code = proc.wait(timeout=120)
    reader.join(timeout=10)
    return code, "".join(lines), out


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_while_solving_leaves_no_plan_and_no_temporary_directory(
    inputs: Path, tmp_path: Path, sig: int
) -> None:
    """SIGINT or SIGTERM during solving: the run stops, and neither the plan nor a temporary directory exists."""
    code, stderr, out = _interrupt_while_solving(inputs, tmp_path, sig)
    assert code != 0
    assert "Traceback" not in stderr, stderr[-3000:]
    assert not out.exists()
    assert not _leftovers(out), _leftovers(out)
    if sig == signal.SIGINT:
        assert code == 130 and "interrupted" in stderr


@pytest.mark.slow
def test_tiny_time_limit_gives_a_plan_or_exit_3_with_the_reason(inputs: Path, tmp_path: Path) -> None:
    """--time-limit 0.01: a complete plan marked as cut by the time limit (the solvers keep their first
    feasible answer), or exit 3 with the reason."""
    out = tmp_path / "plan"
    argv = _argv(inputs, out, "--time-limit", "0.01")
    p = subprocess.run(argv, capture_output=True, text=True, timeout=900, env=_env(tmp_path))
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    if p.returncode == 3:
        assert "time" in p.stderr.lower() and not out.exists()
    else:
        assert p.returncode in (0, 1), p.stderr[-3000:]
        s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert s["villages"] == 12
        v = pyogrio.read_dataframe(out / "plan.gpkg", layer="villages")
        assert v["district_id"].notna().all()
        assert s["solver"]["districts"]["stopped_by_time"] is True
        assert "time limit" in p.stderr


# --- determinism ---------------------------------------------------------------------------------------------
# Files compared byte for byte; plan.gpkg (GeoPackage metadata timestamps) and schedule.xlsx (docProps
# created/modified) are compared by content; summary.json without "seconds", which measures the run.
BYTE_IDENTICAL = (
    "schedule.csv",
    "travel_times.npz",
    "map.html",
)


@pytest.fixture(scope="module")
def two_runs(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same inputs and seed planned twice, each with its own empty travel-time cache (run one after the
    other: the machine has two cores)."""
    outs = []
    for k in range(2):
        where = tmp_path_factory.mktemp(f"run{k}")
        out = where / "plan"
        p = subprocess.run(
            _argv(inputs, out, "--time-limit", "20"),
            capture_output=True,
            text=True,
            timeout=900,
            env=_env(where / "cache"),
        )
        assert p.returncode in (0, 1), p.stderr[-3000:]
        outs.append(out)
    return outs[0], outs[1]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("name", BYTE_IDENTICAL)
def test_same_inputs_and_seed_give_byte_identical_files(two_runs, name: str) -> None:
    """Text and matrix outputs are byte-identical across runs with the same seed."""
    a, b = two_runs
    assert _digest(a / name) == _digest(b / name)


@pytest.mark.slow
def test_report_is_identical_apart_from_stage_seconds(two_runs) -> None:
    """report.html differs only in its line of seconds per stage, which measures the run."""
    ra, rb = ((d / "report.html").read_text(encoding="utf-8") for d in two_runs)
    seconds = re.compile(r"<p class='note' id='timing'>.*?</p>", re.S)
    assert len(seconds.findall(ra)) == 1
    assert seconds.sub("", ra) == seconds.sub("", rb)


@pytest.mark.slow
def test_same_inputs_and_seed_give_the_same_summary_apart_from_seconds(two_runs) -> None:
    """summary.json is identical once the per-stage seconds are removed."""
    a, b = (json.loads((d / "summary.json").read_text(encoding="utf-8")) for d in two_runs)
    a.pop("seconds")
    b.pop("seconds")
    assert a == b


@pytest.mark.slow
def test_same_inputs_and_seed_give_the_same_layers_and_workbook(two_runs) -> None:
    """plan.gpkg layers and schedule.xlsx sheets hold the same rows (their files differ in timestamps only)."""
    a, b = two_runs
    layers = [name for name, _ in pyogrio.list_layers(a / "plan.gpkg")]
    assert layers == [name for name, _ in pyogrio.list_layers(b / "plan.gpkg")]
    for layer in layers:
        la = pyogrio.read_dataframe(a / "plan.gpkg", layer=layer)
        lb = pyogrio.read_dataframe(b / "plan.gpkg", layer=layer)
        pd.testing.assert_frame_equal(la.drop(columns="geometry"), lb.drop(columns="geometry"))
        assert np.array_equal(la.geometry.to_wkb(), lb.geometry.to_wkb())
    xa = pd.read_excel(a / "schedule.xlsx", sheet_name=None)
    xb = pd.read_excel(b / "schedule.xlsx", sheet_name=None)
    assert list(xa) == list(xb)
    for sheet in xa:
        pd.testing.assert_frame_equal(xa[sheet], xb[sheet])

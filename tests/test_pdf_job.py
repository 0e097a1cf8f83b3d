"""report.pdf printed in Chromium's own process while the plan's other files are written (planner.io.pdf)."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from planner.io.pdf import report_pdf, start_report_pdf


def _fake_chromium(tmp_path: Path, body: str) -> Path:
    exe = tmp_path / "fake-chromium"
    exe.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return exe


def test_a_chromium_that_prints_nothing_gives_its_last_message(tmp_path, monkeypatch):
    exe = _fake_chromium(tmp_path, "echo 'first line' >&2; echo 'no display found' >&2; exit 3")
    monkeypatch.setenv("PLANNER_CHROMIUM", str(exe))
    result = report_pdf("<html><body>x</body></html>")
    assert result.pdf is None
    assert "no display found" in result.reason and "first line" not in result.reason
    assert "Chromium" in result.reason_zh


def test_a_started_print_gives_its_pdf_when_asked(tmp_path, monkeypatch):
    # a fake that writes its --print-to-pdf target after a while, as Chromium does; start returns before that
    exe = _fake_chromium(
        tmp_path,
        'for a in "$@"; do case "$a" in --print-to-pdf=*) out="${a#--print-to-pdf=}";; esac; done\n'
        'sleep 0.3; printf "%%PDF-1.4 fake" > "$out"',
    )
    monkeypatch.setenv("PLANNER_CHROMIUM", str(exe))
    job = start_report_pdf("<html><body>x</body></html>")
    result = job.result()
    assert result.pdf == b"%PDF-1.4 fake"
    assert job.result() is result  # asked again: the same result, Chromium not run twice


def test_cancel_stops_chromium_and_leaves_no_files(tmp_path, monkeypatch):
    exe = _fake_chromium(tmp_path, 'echo $$ > "$(dirname "$0")/pid"; exec sleep 60')
    monkeypatch.setenv("PLANNER_CHROMIUM", str(exe))
    job = start_report_pdf("<html><body>x</body></html>")
    for _ in range(100):
        if (tmp_path / "pid").is_file() and (tmp_path / "pid").read_text().strip():
            break
        time.sleep(0.05)
    pid = int((tmp_path / "pid").read_text())
    work = Path(job._tmp.name)
    job.cancel()
    assert not work.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert job.result().pdf is None


def test_a_timeout_kills_chromium_and_says_so(tmp_path, monkeypatch):
    exe = _fake_chromium(tmp_path, "exec sleep 60")
    monkeypatch.setenv("PLANNER_CHROMIUM", str(exe))
    result = report_pdf("<html><body>x</body></html>", timeout=0.5)
    assert result.pdf is None
    assert "TimeoutExpired" in result.reason

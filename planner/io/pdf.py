"""report.pdf: the report page printed to A4 by headless Chromium (the browser the project's tests already use).

Chromium prints the page exactly as a bureau's browser shows it, with the report's print stylesheet, its inline
SVG maps and charts and its Chinese fonts; no Python PDF library renders CJK text and SVG as well, and none is
needed. When no Chromium is installed the plan is still written: :func:`report_pdf` says why there is no PDF
and how to get one, and the caller reports that (never a crash, never a silent skip).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["PdfResult", "PrintJob", "chromium_binary", "report_pdf", "start_report_pdf"]

#: Seconds Chromium may take to print the report before the PDF is given up (the plan is still written).
PRINT_TIMEOUT_S = 120.0

_HOW_EN = (
    "install Chromium (Debian/Ubuntu: apt-get install chromium) or set PLANNER_CHROMIUM to its path and run "
    "the plan again, or open report.html in a browser and print it to PDF"
)
_HOW_ZH = "请安装 Chromium (Debian/Ubuntu: apt-get install chromium) 或设置 PLANNER_CHROMIUM 后重新运行, 或用浏览器打开 report.html 打印为 PDF"


@dataclass(frozen=True)
class PdfResult:
    """The printed report (``pdf``) or why there is none (``reason`` and ``reason_zh``, with how to get it)."""

    pdf: bytes | None
    reason: str = ""
    reason_zh: str = ""


def chromium_binary() -> str | None:
    """The Chromium to print with: $PLANNER_CHROMIUM, /usr/bin/chromium, or chromium on the PATH."""
    env = os.environ.get("PLANNER_CHROMIUM")
    if env is not None:
        return env if Path(env).is_file() else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def report_pdf(html: str, *, timeout: float = PRINT_TIMEOUT_S) -> PdfResult:
    """Print ``html`` (a self-contained page) to an A4 PDF with headless Chromium.

    Returns
    -------
    PdfResult
        The PDF's bytes, or None with the reason (no Chromium, it failed or timed out) and how to get a PDF.
    """
    return start_report_pdf(html, timeout=timeout).result()


class PrintJob:
    """A report being printed by Chromium in its own process (:func:`start_report_pdf`); :meth:`result` waits."""

    def __init__(self, html: str, *, timeout: float) -> None:
        self._deadline = time.monotonic() + timeout
        self._done: PdfResult | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        binary = chromium_binary()
        if binary is None:
            self._done = PdfResult(
                None,
                f"report.pdf not made: headless Chromium is not installed; {_HOW_EN}",
                f"未生成 report.pdf: 未安装无头 Chromium; {_HOW_ZH}",
            )
            return
        self._binary = binary
        self._tmp = tempfile.TemporaryDirectory(prefix="planner-pdf-")
        page, self._pdf = Path(self._tmp.name) / "report.html", Path(self._tmp.name) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        cmd = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            # the page in the browser's own process, no zygote: a print costs about 2.2 CPU-seconds, not 2.9
            # (measured, BENCHMARKS.md), which a province's counties pay on cores that are busy; same pages
            "--single-process",
            "--no-zygote",
            f"--user-data-dir={Path(self._tmp.name) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={self._pdf}",
            page.as_uri(),
        ]
        # its messages go to a file: a pipe nobody reads while the plan's other files are written could fill up
        self._err = Path(self._tmp.name) / "stderr.txt"
        try:
            with self._err.open("wb") as err:
                self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        except OSError as exc:
            self._finish(self._failed(f"{type(exc).__name__}: {exc}"))

    def cancel(self) -> None:
        """Stop Chromium (the plan's other files failed, or it took too long) and remove its files."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._done is None:
            self._done = PdfResult(None, "report.pdf not made: cancelled", "未生成 report.pdf: 已取消")
            self._tmp.cleanup()

    def _failed(self, why: str) -> PdfResult:
        return PdfResult(
            None,
            f"report.pdf not made: Chromium failed ({why}); {_HOW_EN}",
            f"未生成 report.pdf: Chromium 出错 ({why}); {_HOW_ZH}",
        )

    def _finish(self, result: PdfResult) -> PdfResult:
        if self._done is None:
            self._tmp.cleanup()
        self._done = result
        return result

    def result(self) -> PdfResult:
        """The printed PDF, or why there is none; waits for Chromium (at most the timeout from the start)."""
        if self._done is not None:
            return self._done
        assert self._proc is not None
        try:
            self._proc.wait(timeout=max(0.0, self._deadline - time.monotonic()))
        except subprocess.TimeoutExpired as exc:
            self.cancel()
            return self._finish(self._failed(f"{type(exc).__name__}: {exc}"))
        if not self._pdf.is_file() or self._pdf.stat().st_size == 0:
            last = self._err.read_bytes().decode("utf-8", "replace").strip().splitlines()[-1:]
            why = last[0] if last else f"exit {self._proc.returncode}"
            return self._finish(
                PdfResult(
                    None,
                    f"report.pdf not made: Chromium printed nothing ({why}); {_HOW_EN}",
                    f"未生成 report.pdf: Chromium 未输出 ({why}); {_HOW_ZH}",
                )
            )
        data = self._pdf.read_bytes()
        logger.info("report.pdf: %d bytes printed by %s", len(data), self._binary)
        return self._finish(PdfResult(data))


def start_report_pdf(html: str, *, timeout: float = PRINT_TIMEOUT_S) -> PrintJob:
    """Start printing ``html`` to PDF (as :func:`report_pdf`) and return at once: the caller writes the plan's
    other files while Chromium prints, then asks :meth:`PrintJob.result`."""
    return PrintJob(html, timeout=timeout)

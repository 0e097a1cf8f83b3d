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
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["PdfResult", "chromium_binary", "report_pdf"]

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
    binary = chromium_binary()
    if binary is None:
        return PdfResult(
            None,
            f"report.pdf not made: headless Chromium is not installed; {_HOW_EN}",
            f"未生成 report.pdf: 未安装无头 Chromium; {_HOW_ZH}",
        )
    with tempfile.TemporaryDirectory(prefix="planner-pdf-") as tmp:
        page, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        cmd = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        try:
            run = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = f"{type(exc).__name__}: {exc}"
            return PdfResult(
                None,
                f"report.pdf not made: Chromium failed ({why}); {_HOW_EN}",
                f"未生成 report.pdf: Chromium 出错 ({why}); {_HOW_ZH}",
            )
        if not pdf.is_file() or pdf.stat().st_size == 0:
            err = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [
                f"exit {run.returncode}"
            ]
            return PdfResult(
                None,
                f"report.pdf not made: Chromium printed nothing ({err[0]}); {_HOW_EN}",
                f"未生成 report.pdf: Chromium 未输出 ({err[0]}); {_HOW_ZH}",
            )
        data = pdf.read_bytes()
    logger.info("report.pdf: %d bytes printed by %s", len(data), binary)
    return PdfResult(data)

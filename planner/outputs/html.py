"""What the three pages (map.html, report.html, route_sheets.html) share: escaping, numbers, page frame, font.

Every text that comes from the data (village names, townships, ids, reasons) goes through :func:`escape` before
it is put in a page, so a village named ``<script>alert(1)</script>`` is shown as text. The map's texts also go
into the JavaScript template strings folium writes, where a backtick, ``$`` or backslash would end the string or
run code: :func:`js_text` escapes those too.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import pandas as pd

__all__ = [
    "CSS_LIGHT",
    "CSS_NOTE",
    "CSS_PRINT_HEADERS",
    "FONT",
    "escape",
    "html_lang",
    "html_page",
    "js_number",
    "js_safe",
    "js_text",
    "number",
    "svg_image",
    "table_html",
]

#: The font stack of the report and the route sheets (and their SVG charts): CJK fonts first, so Chinese prints.
FONT = '"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif'

# Style rules the printed pages share.
#: Light colours even when the reader's system is in dark mode: the pages are meant to look like their print.
CSS_LIGHT = ":root { color-scheme: light; }"
#: A side remark in grey.
CSS_NOTE = ".note { color: #4a5568; font-size: 0.9em; }"
#: (Inside ``@media print``) a table's header row is repeated on every printed page it runs over.
CSS_PRINT_HEADERS = "thead { display: table-header-group; }"


def escape(value: Any) -> str:
    """``value`` as HTML text.

    Parameters
    ----------
    value
        Anything; ``str(value)`` is escaped.

    Returns
    -------
    str
        The escaped text (quotes too, so it may go in an attribute); empty for a missing value (None, NaN, NA,
        NaT).
    """
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):  # a list or array: not a missing scalar, shown as its text
        pass
    return html.escape(str(value), quote=True)


def js_safe(escaped: str) -> str:
    """Already escaped HTML text made safe inside a JavaScript template string as well.

    Backslash, backtick and ``$`` become HTML entities: the browser shows the same characters, but folium's
    template strings (`` `...${...}...` ``) can no longer be closed or made to run code.
    """
    return escaped.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def js_text(value: Any) -> str:
    """``value`` as HTML text that is also safe inside a JavaScript template string (:func:`js_safe`)."""
    return js_safe(escape(value))


def number(value: Any, digits: int = 0, *, missing: str = "—") -> str:
    """A number for display, with thousands separators.

    Parameters
    ----------
    value
        A number, or anything else (shown as escaped text).
    digits
        Digits after the decimal point.
    missing
        Shown for None and NaN (the report shows a dash, the map nothing).

    Returns
    -------
    str
        The formatted number, "∞" for infinity (a village not reachable), ``missing`` for None and NaN, and the
        escaped text of a value that is not a number (empty for pd.NA and NaT, like :func:`escape`).
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        return missing if value is None else escape(value)
    if math.isnan(x):
        return missing
    if math.isinf(x):
        return "∞"
    return f"{x:,.{digits}f}"


def travel_minutes_text(value: Any, *, missing: str = "—") -> str:
    """A travel time in whole minutes as the schedule's clock counts them (:func:`planner.model.clock_minutes`,
    rounded up): the report's and the map's longest trips read as the route sheets and the rule messages do
    (Lawena 108.14 min is 109 everywhere a bureau reads it; summary.json keeps the minutes unrounded)."""
    from planner.model import clock_minutes

    try:
        x = float(value)
    except (TypeError, ValueError):
        return number(value, missing=missing)
    return number(float(clock_minutes(x)) if math.isfinite(x) else x, missing=missing)


def table_html(head: Any, rows: Any, *, cls: str | None = None) -> str:
    """An HTML table: ``head`` texts are escaped here, cells are (html, numeric) pairs already escaped; a numeric
    cell is right-aligned (class ``n``)."""
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td class='n'>{c}</td>" if num else f"<td>{c}</td>" for c, num in row) + "</tr>"
        for row in rows
    )
    attr = f" class='{cls}'" if cls else ""
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def html_lang(lang: str) -> str:
    """The ``lang`` attribute of a page in ``lang`` ("zh" or "en")."""
    return "zh-CN" if lang == "zh" else "en"


def html_page(*, title: str, lang: str, css: str, body: str) -> str:
    """One self-contained HTML page: inline CSS, no external resource.

    Parameters
    ----------
    title
        The page title (escaped here).
    lang
        "zh" or "en".
    css
        The page's style sheet.
    body
        The body's HTML, already escaped.

    Returns
    -------
    str
        The page.
    """
    return (
        f"<!DOCTYPE html><html lang='{html_lang(lang)}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(title)}</title>"
        f"<style>{css}</style></head><body>{body}</body></html>"
    )


def js_number(value: Any, digits: int = 0) -> str:
    """:func:`number` for the map: empty when missing, and safe inside a JavaScript template string."""
    return js_safe(number(value, digits, missing=""))


def svg_image(width: float, height: float, *, title: str, body: str, font_size: int | None = None) -> str:
    """An inline SVG image of ``width`` x ``height`` pixels in the pages' font.

    Parameters
    ----------
    width, height
        Size in pixels (also the view box).
    title
        The image's title, shown on hover and read by screen readers (escaped here).
    body
        The SVG elements, texts already escaped.
    font_size
        The default font size of its texts; the browser's when None.

    Returns
    -------
    str
        The ``<svg>`` element.
    """
    size = f" font-size='{font_size}'" if font_size is not None else ""
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' font-family='{escape(FONT)}'{size}>"
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def month_text(month: str, lang: str) -> str:
    """A plan's month as a bureau writes it: 2027年1月 in zh, 2027-01 in en (and anything else as given)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", str(month))
    return f"{match.group(1)}年{int(match.group(2))}月" if match and lang == "zh" else str(month)

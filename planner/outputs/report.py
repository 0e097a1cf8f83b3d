"""The plan report (report.html): one self-contained page a bureau reads and prints.

:func:`report_html` turns a :class:`planner.model.PlanData` into HTML with inline CSS (and a print stylesheet),
inline SVG charts and no external resource: the key figures of summary.json, every rule check in plain
language, the district table, the comparison with the current districts, charts (residents per officer,
travel-time distribution, coverage curve), an explanation of every break and dropped visit, and a patrol summary
per officer. Every text from the data is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from planner.check import rules_of
from planner.districts.compare import match_districts, village_moves
from planner.model import PlanData
from planner.outputs.colours import ACCENT, ALERT
from planner.outputs.datanotes import completeness_html, data_notes_html
from planner.outputs.front import breaks_html, conclusion, dropped_html, rules_table, title_block
from planner.outputs.html import (
    CSS_LIGHT,
    CSS_NOTE,
    CSS_PRINT_HEADERS,
    FONT,
    escape,
    html_page,
    number,
    svg_image,
    table_html,
    travel_minutes_text,
)
from planner.outputs.lookups import (
    VISIT_ACTIVITIES,
    office_villages,
    travel_minutes,
    village_names,
    with_shown_names,
)
from planner.outputs.stations import matches_html, stations_html
from planner.texts import check_lang, has, t

logger = logging.getLogger(__name__)

__all__ = ["compare_current", "coverage_curve", "report_html"]

COVERAGE_MAX_MIN = 90
# The minutes marked on the coverage curve of a plan whose summary names no coverage thresholds.
DEFAULT_MARKS = (15, 30, 60)

_CSS = f"""
{CSS_LIGHT}
body {{ font-family: {FONT}; margin: 0 auto; max-width: 1000px; padding: 16px 24px; color: #1a202c;
       line-height: 1.5; }}
h1 {{ font-size: 1.6em; border-bottom: 3px solid {ACCENT}; padding-bottom: 6px; }}
h2 {{ font-size: 1.25em; margin-top: 1.6em; border-left: 5px solid {ACCENT}; padding-left: 8px; }}
h3 {{ font-size: 1.05em; }}
table {{ border-collapse: collapse; margin: 8px 0 12px; font-size: 0.92em; }}
th, td {{ border: 1px solid #cbd5e0; padding: 3px 8px; text-align: left; vertical-align: top; }}
th {{ background: #edf2f7; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.figures {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 8px; }}
.figure {{ border: 1px solid #cbd5e0; border-radius: 6px; padding: 6px 10px; background: #f7fafc; }}
.figure .v {{ font-size: 1.35em; font-weight: bold; }}
.figure .k {{ font-size: 0.85em; color: #4a5568; }}
.ok {{ color: #276749; font-weight: bold; }}
.bad {{ color: {ALERT}; font-weight: bold; }}
ul.breaks li {{ margin-bottom: 4px; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 16px; }}
.chart {{ border: 1px solid #e2e8f0; border-radius: 6px; padding: 6px; }}
{CSS_NOTE}
td:first-child, th:first-child {{ white-space: nowrap; }}
table.force {{ font-size: 0.85em; }}
table.force th, table.force td {{ white-space: nowrap; }}
.meta {{ color: #4a5568; margin-top: -6px; }}
.conclusion {{ border: 1px solid #cbd5e0; border-left: 5px solid {ACCENT}; padding: 4px 12px; background: #f7fafc; }}
.conclusion p {{ margin: 6px 0 2px; }}
.conclusion ul {{ margin: 0 0 4px; padding-left: 1.4em; }}
table.rules th {{ width: 4.5em; }}
.id {{ font-size: 0.72em; color: #718096; }}
.v {{ white-space: nowrap; }}
ul.groups {{ padding-left: 1.2em; }}
ul.groups li {{ margin-bottom: 8px; }}
ul.groups .rule {{ font-size: 0.88em; color: #4a5568; }}
ul.groups .who {{ font-size: 0.88em; color: #2d3748; }}
.tag {{ display: inline-block; font-size: 0.78em; padding: 0 5px; border-radius: 3px; color: #fff; }}
li.hard .tag {{ background: {ALERT}; }}
li.soft .tag {{ background: #b7791f; }}
.soft {{ color: #975a16; font-weight: bold; }}
.map svg {{ max-width: 100%; height: auto; border: 1px solid #e2e8f0; }}
@page {{ size: A4; margin: 14mm; }}
@media print {{
  body {{ max-width: none; padding: 0; font-size: 10pt; }}
  h2 {{ break-after: avoid; }}
  /* a long table runs on over the page (its header row repeated); a row, a chart, a list item do not split */
  tr, .chart, .figure, li {{ break-inside: avoid; }}
  {CSS_PRINT_HEADERS}
  .figure {{ background: none; }}
  /* the first page's sections run on into the map's: no half-empty page when the rules spill over */
  /* tables in 9 pt with tight rows: the report is read on paper, and a chief reads five pages, not seven */
  th, td {{ padding: 2px 5px; font-size: 9pt; }}
  /* the first page holds the conclusion, the key figures and the rules: tight rows so that it stays one page */
  #front table.rules th, #front table.rules td {{ padding: 1px 6px; font-size: 9pt; }}
  #front li {{ margin: 0; }}
  #front .figure {{ padding: 3px 6px; }}
  .charts {{ gap: 4px; }}
  .chart svg {{ width: 300px; height: auto; }}
  .figures {{ grid-template-columns: repeat(4, 1fr); }}
  a {{ color: inherit; text-decoration: none; }}
  /* a header breaks between words, never inside one ("最少小时" split as "最少小 / 时" on a narrow column) */
  th {{ word-break: keep-all; overflow-wrap: normal; }}
  /* the stages' seconds are for support, not for the printed plan a bureau signs */
  #timing {{ display: none; }}
}}
"""


def _table(head: Sequence[str], rows: Sequence[Sequence[tuple[str, bool]]]) -> str:
    """An HTML table; ``head`` texts are escaped here, cells are (html, numeric) pairs already escaped."""
    return table_html(head, rows)


def coverage_curve(plan: PlanData, *, max_minutes: int = COVERAGE_MAX_MIN) -> pd.Series:
    """Share of residents (0-1) whose village is within each whole minute 0..max_minutes of its office.

    Unreachable villages count in the total but are never covered.
    """
    villages = plan.villages
    minutes = travel_minutes(villages).to_numpy()
    pop = pd.to_numeric(villages["population"], errors="coerce").fillna(0).to_numpy(dtype=float)
    total = pop.sum()
    grid = np.arange(max_minutes + 1)
    if total <= 0:
        return pd.Series(np.zeros(len(grid)), index=grid, name="share")
    reach = np.where(np.isnan(minutes), np.inf, minutes)
    share = np.array([pop[reach <= g].sum() / total for g in grid])
    return pd.Series(share, index=grid, name="share")


def compare_current(plan: PlanData) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Compare the proposed districts with the current ones, village by village.

    The matching and what counts as a move are those of the district stage
    (:func:`planner.districts.compare.match_districts` and :func:`~planner.districts.compare.village_moves`),
    here on the layers of a plan directory. Returns None when the plan has no current districts (or they carry
    no ``village_id``).

    Returns
    -------
    (current, moves)
        ``current``: one row per current district (district_id, n_villages, population, matched proposed
        district or None); ``moves``: one row per moving village (village_id, name, township, from_district,
        to_district).
    """
    cur = plan.current
    if cur is None or len(cur) == 0 or not {"village_id", "district_id"} <= set(cur.columns):
        return None
    vil = pd.DataFrame(plan.villages.drop(columns="geometry", errors="ignore"))
    vil["village_id"] = vil["village_id"].astype(str)
    now = pd.DataFrame(
        {
            "village_id": cur["village_id"].astype(str).to_numpy(),
            "from_district": cur["district_id"].astype(str).to_numpy(),
        }
    )
    # a village of only one of the two layers is kept, with no district in the other
    both = vil.merge(now, on="village_id", how="outer")
    both["to_district"] = both["district_id"].astype("string")
    matched = match_districts(both["from_district"], both["to_district"])
    moved = both[village_moves(both["from_district"], both["to_district"], matched)]
    moves = moved.reindex(columns=["village_id", "name", "township", "from_district", "to_district"])
    pop = pd.to_numeric(both.get("population"), errors="coerce").fillna(0)
    stats = (
        both.assign(population=pop)
        .dropna(subset=["from_district"])
        .groupby("from_district")
        .agg(n_villages=("village_id", "size"), population=("population", "sum"))
        .reset_index()
        .rename(columns={"from_district": "district_id"})
    )
    back = {c: p for p, c in matched.items()}
    stats["matched"] = stats["district_id"].map(back)
    return stats, moves.reset_index(drop=True)


# -- charts (inline SVG) ----------------------------------------------------------------------------------
#: The least room (px) between two axis labels' centres: a label closer to the one before it is left out.
LABEL_GAP = 30.0


def nice_step(span: float, most: int) -> float:
    """The smallest round step (1, 2 or 5 x 10^k) that covers ``span`` in at most ``most`` steps."""
    raw = max(float(span), 1e-9) / max(most, 1)
    k = 10 ** math.floor(math.log10(raw))
    return next(m * k for m in (1, 2, 5, 10) if m * k >= raw - 1e-12)


def axis_ticks(hi: float, most: int = 5, *, least_step: float = 0.0) -> list[float]:
    """Round ticks 0, step, 2 step, ... up to the first at or above ``hi`` (the axis' top), at most ``most``
    steps; the step at least ``least_step`` (e.g. 1 for counts, the bin width for a histogram)."""
    step = max(nice_step(hi, most), least_step)
    n = max(1, math.ceil(hi / step - 1e-9))
    return [round(i * step, 10) for i in range(n + 1)]


def _spaced(ticks: Sequence[tuple[float, str]]) -> list[tuple[float, str]]:
    """The (position, label) ticks with each label at least LABEL_GAP from the one kept before it."""
    kept: list[tuple[float, str]] = []
    for pos, label in ticks:
        if not kept or abs(pos - kept[-1][0]) >= LABEL_GAP:
            kept.append((pos, label))
    return kept


def _bar_chart(
    labels: list[str], values: list[float], *, title: str, target: float | None = None, target_label: str = ""
) -> str:
    """An SVG bar chart of one value per label, with a dashed target line when ``target`` is given."""
    width, height, left, bottom, top = 460, 260, 56, 40, 26
    plot_w, plot_h = width - left - 12, height - bottom - top
    ticks = axis_ticks(max([v for v in values if np.isfinite(v)] + [target or 0, 1.0]) * 1.05, 4)
    top_value = ticks[-1]
    step = plot_w / max(len(values), 1)
    parts = [
        f"<text x='{width / 2}' y='16' text-anchor='middle' font-size='13' font-weight='bold'>{escape(title)}</text>"
    ]
    for v in ticks:
        y = top + plot_h - plot_h * v / top_value
        parts.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e2e8f0'/>"
            f"<text x='{left - 4}' y='{y + 4:.1f}' text-anchor='end'>{number(v)}</text>"
        )
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * (v / top_value) if np.isfinite(v) else 0
        x = left + i * step + step * 0.15
        parts.append(
            f"<rect class='bar' x='{x:.1f}' y='{top + plot_h - h:.1f}' width='{step * 0.7:.1f}' "
            f"height='{h:.1f}' fill='{ACCENT}'><title>{escape(label)}: {number(v)}</title></rect>"
            f"<text x='{x + step * 0.35:.1f}' y='{top + plot_h + 14}' text-anchor='middle'>{escape(label)}</text>"
        )
    if target is not None:
        y = top + plot_h - plot_h * target / top_value
        parts.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' stroke='{ALERT}' "
            f"stroke-dasharray='5 4'/><text x='{left + plot_w}' y='{y - 4:.1f}' text-anchor='end' "
            f"fill='{ALERT}'>{escape(target_label)}</text>"
        )
    parts.append(
        f"<line x1='{left}' x2='{left}' y1='{top}' y2='{top + plot_h}' stroke='#4a5568'/>"
        f"<line x1='{left}' x2='{left + plot_w}' y1='{top + plot_h}' y2='{top + plot_h}' stroke='#4a5568'/>"
    )
    return svg_image(width, height, title=title, body="".join(parts), font_size=11)


def _histogram(minutes: np.ndarray, *, title: str, x_label: str, y_label: str, bin_width: float = 5.0) -> str:
    """An SVG histogram of the finite travel minutes in bins of ``bin_width`` minutes."""
    finite = minutes[np.isfinite(minutes)]
    hi = max(bin_width, math.ceil((finite.max() if len(finite) else 0) / bin_width + 1e-9) * bin_width)
    if len(finite) and finite.max() == hi:
        hi += bin_width
    edges = np.arange(0, hi + bin_width / 2, bin_width)
    counts, _ = np.histogram(finite, bins=edges)
    width, height, left, bottom, top = 460, 260, 44, 44, 26
    plot_w, plot_h = width - left - 12, height - bottom - top
    y_ticks = axis_ticks(max(int(counts.max()) if len(counts) else 0, 1), 5, least_step=1)
    top_count = y_ticks[-1]
    bar_w = plot_w / len(counts)
    parts = [
        f"<text x='{width / 2}' y='16' text-anchor='middle' font-size='13' font-weight='bold'>{escape(title)}</text>"
    ]
    for k in y_ticks:
        y = top + plot_h - plot_h * k / top_count
        parts.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e2e8f0'/>"
            f"<text x='{left - 4}' y='{y + 4:.1f}' text-anchor='end'>{k:g}</text>"
        )
    # the minutes at round steps (a multiple of the bin width), none closer than LABEL_GAP to the one before
    x_ticks = [v for v in axis_ticks(edges[-1], 8, least_step=bin_width) if v <= edges[-1] + 1e-9]
    for x, label in _spaced([(left + plot_w * v / edges[-1], f"{v:g}") for v in x_ticks]):
        parts.append(f"<text x='{x:.1f}' y='{top + plot_h + 14}' text-anchor='middle'>{label}</text>")
    for i, c in enumerate(counts):
        h = plot_h * c / top_count
        x = left + i * bar_w
        lo_e, hi_e = edges[i], edges[i + 1]
        parts.append(
            f"<rect class='bar' x='{x + 1:.1f}' y='{top + plot_h - h:.1f}' width='{bar_w - 2:.1f}' "
            f"height='{h:.1f}' fill='{ACCENT}'><title>{lo_e:g}–{hi_e:g}: {c}</title></rect>"
        )
    parts.append(
        f"<text x='{left + plot_w / 2:.1f}' y='{height - 6}' text-anchor='middle'>{escape(x_label)}</text>"
        f"<text x='12' y='{top + plot_h / 2:.1f}' text-anchor='middle' "
        f"transform='rotate(-90 12 {top + plot_h / 2:.1f})'>{escape(y_label)}</text>"
        f"<line x1='{left}' x2='{left}' y1='{top}' y2='{top + plot_h}' stroke='#4a5568'/>"
        f"<line x1='{left}' x2='{left + plot_w}' y1='{top + plot_h}' y2='{top + plot_h}' stroke='#4a5568'/>"
    )
    return svg_image(width, height, title=title, body="".join(parts), font_size=11)


def _curve(
    curve: pd.Series,
    *,
    title: str,
    x_label: str,
    y_label: str,
    marks: Sequence[int],
    figures: dict[int, float] | None = None,
) -> str:
    """An SVG line of the coverage curve (share of residents by minutes), with its share at each mark.

    A mark's figure is summary.json's ``coverage_pct`` when ``figures`` holds it (the figure the tiles and the
    terminal show, to its decimal), else the curve's own share."""
    figures = figures or {}
    width, height, left, bottom, top = 460, 260, 48, 44, 26
    plot_w, plot_h = width - left - 14, height - bottom - top
    x_max = float(curve.index.max()) or 1.0

    def xy(minute: float, share: float) -> tuple[float, float]:
        return left + plot_w * minute / x_max, top + plot_h * (1 - share)

    parts = [
        f"<text x='{width / 2}' y='16' text-anchor='middle' font-size='13' font-weight='bold'>{escape(title)}</text>"
    ]
    for pct in (0, 25, 50, 75, 100):
        _, y = xy(0, pct / 100)
        parts.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e2e8f0'/>"
            f"<text x='{left - 4}' y='{y + 4:.1f}' text-anchor='end'>{pct}%</text>"
        )
    for minute in range(0, int(x_max) + 1, 15):
        x, _ = xy(minute, 0)
        parts.append(f"<text x='{x:.1f}' y='{top + plot_h + 14}' text-anchor='middle'>{minute}</text>")
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(m, s) for m, s in curve.items()))
    parts.append(
        f"<polyline class='curve' points='{points}' fill='none' stroke='{ACCENT}' stroke-width='2.5'/>"
    )
    for mark in marks:
        if mark in curve.index:
            x, y = xy(mark, float(curve[mark]))
            parts.append(
                f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top}' y2='{top + plot_h}' stroke='#a0aec0' "
                f"stroke-dasharray='3 3'/><circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='{ALERT}'/>"
                f"<text class='mark' x='{x + 5:.1f}' y='{y + 14:.1f}' fill='{ALERT}'>"
                f"{number(figures.get(mark, float(curve[mark]) * 100), 1)}%</text>"
            )
    parts.append(
        f"<text x='{left + plot_w / 2:.1f}' y='{height - 6}' text-anchor='middle'>{escape(x_label)}</text>"
        f"<text x='12' y='{top + plot_h / 2:.1f}' text-anchor='middle' "
        f"transform='rotate(-90 12 {top + plot_h / 2:.1f})'>{escape(y_label)}</text>"
        f"<line x1='{left}' x2='{left}' y1='{top}' y2='{top + plot_h}' stroke='#4a5568'/>"
        f"<line x1='{left}' x2='{left + plot_w}' y1='{top + plot_h}' y2='{top + plot_h}' stroke='#4a5568'/>"
    )
    return svg_image(width, height, title=title, body="".join(parts), font_size=11)


# -- sections ------------------------------------------------------------------------------------------------
def _coverage_figures(summary: dict[str, Any]) -> list[tuple[float, Any]]:
    """(minutes, residents_pct) of summary.json's ``coverage_pct``, in its order: the coverage thresholds of the
    rules the plan was made with (not a copy of their defaults)."""
    out = []
    for key, value in (summary.get("coverage_pct") or {}).items():
        try:
            minutes = float(key)
        except (TypeError, ValueError):
            logger.warning("report: coverage_pct key %r is not a number of minutes; left out", key)
            continue
        if value is not None:
            out.append((minutes, value))
    return out


def _coverage_marks(summary: dict[str, Any]) -> tuple[int, ...]:
    """The whole minutes marked on the coverage curve: the plan's coverage thresholds, or DEFAULT_MARKS."""
    marks = tuple(int(m) for m, _ in _coverage_figures(summary) if m.is_integer())
    return marks or DEFAULT_MARKS


def _figures(summary: dict[str, Any], lang: str) -> str:
    """The key figures of summary.json as tiles; a figure the summary does not hold is left out.

    Coverage is summary.json's ``coverage_pct`` (each village's own office, like the coverage chart); the
    nearest-office-of-any-district figure, when the summary holds it, is a note under its own name.
    """
    items: list[tuple[str, str]] = []

    def add(key: str, value: Any, text: str | None = None) -> None:
        if value is not None:
            items.append((t(key, lang), text if text is not None else number(value)))

    for key in ("villages", "population", "districts", "officers"):
        add(f"report.fig.{key}", summary.get(key))
    for minutes, value in _coverage_figures(summary):
        items.append((t("report.fig.coverage", lang, minutes=f"{minutes:g}"), f"{number(value, 1)}%"))
    met = summary.get("visit_requirements_met_pct")
    add("report.fig.visits_met", met, f"{number(met, 1)}%")
    add(
        "report.fig.max_travel",
        summary.get("max_travel_min"),
        travel_minutes_text(summary.get("max_travel_min")),
    )
    dv = summary.get("district_villages") or {}
    if dv:
        add("report.fig.district_villages", dv, f"{number(dv.get('min'))}–{number(dv.get('max'))}")
    dp = summary.get("district_population") or {}
    if dp:
        add("report.fig.district_population", dp, f"{number(dp.get('min'))}–{number(dp.get('max'))}")
    unreachable = summary.get("unreachable_villages")
    if unreachable:
        add("report.fig.unreachable", len(unreachable))
    cells = "".join(
        f"<div class='figure'><div class='v'>{v}</div><div class='k'>{escape(k)}</div></div>"
        for k, v in items
    )
    any_office = summary.get("coverage_any_office_pct") or {}
    note = ""
    for key in ("30", "15"):
        if key in any_office:
            text = t("report.fig.coverage_any", lang, minutes=key, pct=number(any_office[key], 1))
            note = f"<p class='note'>{escape(text)}</p>"
            break
    return f"<div class='figures'>{cells}</div>{note}"


def _subject(subject: Any, names: dict[str, str]) -> str:
    """A violation's subject named: ``name (id)`` for a village, the subject as is otherwise."""
    s = str(subject)
    return f"{names[s]} ({s})" if s in names else s


def _district_table(plan: PlanData, names: dict[str, str], lang: str) -> str:
    """One row per proposed district: villages, residents, officers, residents per officer, office, travel."""
    office_village = office_villages(plan.offices)
    rows = []
    for _, d in plan.districts.sort_values("district_id").iterrows():
        pop = pd.to_numeric(d.get("population"), errors="coerce")
        officers = pd.to_numeric(d.get("officers"), errors="coerce")
        per = pop / officers if officers and not pd.isna(officers) and officers > 0 else float("nan")
        vid = office_village.get(str(d.get("office_id")), "")
        rows.append(
            [
                (escape(d["district_id"]), False),
                (number(d.get("n_villages")), True),
                (number(pop), True),
                (number(officers), True),
                (number(per), True),
                (escape(names.get(vid, vid)), False),
                (travel_minutes_text(d.get("max_travel_min")), True),
                (number(d.get("mean_travel_min"), 1), True),
            ]
        )
    head = [
        t(f"report.col.{k}", lang)
        for k in (
            "district",
            "villages",
            "population",
            "officers",
            "per_officer",
            "office",
            "max_travel",
            "mean_travel",
        )
    ]
    return _table(head, rows)


def _compare_sizes(current: pd.DataFrame, districts: pd.DataFrame, lang: str) -> str:
    """Both plans side by side: number of districts and the range of their villages and residents."""
    cur_n, cur_p = current["n_villages"], current["population"]
    new_n = pd.to_numeric(districts["n_villages"], errors="coerce")
    new_p = pd.to_numeric(districts["population"], errors="coerce")
    head = ["", t("report.compare.current", lang), t("report.compare.plan", lang)]
    rows = [
        [
            (escape(t("report.compare.count", lang)), False),
            (number(len(current)), True),
            (number(len(districts)), True),
        ],
        [
            (escape(t("report.compare.villages_range", lang)), False),
            (f"{number(cur_n.min())}–{number(cur_n.max())}", True),
            (f"{number(new_n.min())}–{number(new_n.max())}", True),
        ],
        [
            (escape(t("report.compare.population_range", lang)), False),
            (f"{number(cur_p.min())}–{number(cur_p.max())}", True),
            (f"{number(new_p.min())}–{number(new_p.max())}", True),
        ],
    ]
    return _table(head, rows)


def _current_table(current: pd.DataFrame, lang: str) -> str:
    """One row per current district: its villages, residents and the proposed district matched to it."""
    head = [
        t("report.col.from", lang),
        t("report.col.villages", lang),
        t("report.col.population", lang),
        t("report.col.to", lang),
    ]
    rows = [
        [
            (escape(r.district_id), False),
            (number(r.n_villages), True),
            (number(r.population), True),
            (escape(r.matched) if isinstance(r.matched, str) else "—", False),
        ]
        for r in current.itertuples()
    ]
    return _table(head, rows)


def _moves_table(moves: pd.DataFrame, lang: str) -> str:
    """One row per moving village: name (id), township, current and proposed district."""
    head = [
        t("report.col.village", lang),
        t("report.col.township", lang),
        t("report.col.from", lang),
        t("report.col.to", lang),
    ]
    rows = [
        [
            (escape(f"{m.name} ({m.village_id})" if isinstance(m.name, str) else m.village_id), False),
            (escape(m.township), False),
            (escape(m.from_district) or "—", False),
            (escape(m.to_district) or "—", False),
        ]
        for m in moves.itertuples()
    ]
    return _table(head, rows)


def _compare(plan: PlanData, lang: str) -> str:
    """The comparison with the current districts (:func:`compare_current`); empty without them."""
    result = compare_current(plan)
    if result is None:
        return ""
    current, moves = result
    parts = [
        _compare_sizes(current, plan.districts, lang),
        f"<h3>{escape(t('report.compare.current_table', lang))}</h3>",
        _current_table(current, lang),
        f"<p class='note'>{escape(t('report.compare.matching', lang))}</p>",
    ]
    if len(moves):
        parts.append(f"<h3>{escape(t('report.compare.moves', lang, n=len(moves)))}</h3>")
        parts.append(_moves_table(moves, lang))
    else:
        parts.append(f"<p class='ok'>{escape(t('report.compare.moves_none', lang))}</p>")
    return "".join(parts)


def _charts(plan: PlanData, lang: str) -> str:
    """The three charts: residents per officer, travel-time histogram, coverage curve."""
    dist = plan.districts.sort_values("district_id")
    pop = pd.to_numeric(dist["population"], errors="coerce").to_numpy(dtype=float)
    officers = pd.to_numeric(dist["officers"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(officers > 0, pop / officers, np.nan)
    rules = plan.summary.get("rules") or {}
    target = (rules.get("districts") or {}).get("residents_per_officer") if isinstance(rules, dict) else None
    charts = [
        _bar_chart(
            dist["district_id"].astype(str).tolist(),
            per.tolist(),
            title=t("report.chart.per_officer", lang),
            target=float(target) if target else None,
            target_label=t("report.chart.per_officer_target", lang, n=number(target)) if target else "",
        ),
    ]
    minutes = travel_minutes(plan.villages).to_numpy(dtype=float)
    charts.append(
        _histogram(
            minutes,
            title=t("report.chart.histogram", lang),
            x_label=t("report.chart.histogram_x", lang),
            y_label=t("report.chart.histogram_y", lang),
        )
    )
    charts.append(
        _curve(
            coverage_curve(plan),
            marks=_coverage_marks(plan.summary or {}),
            figures={int(m): float(v) for m, v in _coverage_figures(plan.summary or {}) if m.is_integer()},
            title=t("report.chart.coverage", lang),
            x_label=t("report.chart.coverage_x", lang),
            y_label=t("report.chart.coverage_y", lang),
        )
    )
    body = "".join(f"<div class='chart'>{c}</div>" for c in charts)
    n_unreachable = int(np.isnan(minutes).sum())
    note = (
        f"<p class='note'>{escape(t('report.chart.unreachable_note', lang, n=n_unreachable))}</p>"
        if n_unreachable
        else ""
    )
    return f"<div class='charts'>{body}</div>{note}"


def _explain(plan: PlanData, names: dict[str, str], lang: str) -> str:
    """Why each dropped visit (grouped by reason) and each unreachable village; a tick when there is none (the rule
    breaks are listed once, under the rule checks)."""
    summary = plan.summary
    parts = [dropped_html(summary, names, lang)]
    unreachable = [str(u) for u in summary.get("unreachable_villages") or []]
    if unreachable:
        v = plan.villages.set_index(plan.villages["village_id"].astype(str))
        items = []
        for vid in unreachable:
            reason = t("report.explain.unreachable_reason", lang)
            col = "reason_zh" if lang == "zh" else "reason"
            if vid in v.index and col in v.columns and isinstance(v.at[vid, col], str) and v.at[vid, col]:
                reason = v.at[vid, col]
            township = v.at[vid, "township"] if vid in v.index else ""
            items.append(
                escape(
                    t(
                        "report.explain.unreachable_item",
                        lang,
                        village=_subject(vid, names),
                        township=township,
                        reason=reason,
                    )
                )
            )
        parts.append(
            f"<h3>{escape(t('report.explain.unreachable', lang))}</h3><ul>"
            + "".join(f"<li>{i}</li>" for i in items)
            + "</ul>"
        )
    return "".join(p for p in parts if p) or f"<p class='ok'>{escape(t('report.explain.none', lang))}</p>"


def _routes(plan: PlanData, names: dict[str, str], lang: str) -> str:
    """One row per officer of the schedule: days, visits, night visits, office days, villages, travel."""
    sched = plan.schedule
    if sched is None or sched.empty:
        return f"<p class='note'>{escape(t('report.routes.none', lang))}</p>"
    routes = plan.routes if plan.routes is not None else pd.DataFrame()
    rows = []
    for officer, s in sched.groupby(sched["officer_id"].astype(str), sort=True):
        act = s["activity"].astype(str)
        field = s[act.isin(VISIT_ACTIVITIES)]
        visited = sorted({names.get(str(v), str(v)) for v in field["village_id"].dropna()})
        legs = routes[routes["officer_id"].astype(str) == officer] if len(routes) else routes
        if len(legs):
            travel = pd.to_numeric(legs["minutes"], errors="coerce").sum()
            km = pd.to_numeric(legs["km"], errors="coerce").sum()
        else:
            travel = pd.to_numeric(s.loc[act == "travel", "minutes"], errors="coerce").sum()
            km = float("nan")
        rows.append(
            [
                (escape(officer), False),
                (number(s["date"].nunique()), True),
                (number((act == "visit").sum()), True),
                (number((act == "night_visit").sum()), True),
                (number((act == "office").sum()), True),
                (escape("、".join(visited) if lang == "zh" else ", ".join(visited)), False),
                (number(travel), True),
                (number(km, 1), True),
            ]
        )
    head = [
        t(f"report.col.{k}", lang)
        for k in (
            "officer",
            "days",
            "visits",
            "night_visits",
            "office_days",
            "villages_visited",
            "travel_min",
            "km",
        )
    ]
    return _table(head, rows)


def _workload(summary: dict[str, Any], names: dict[str, str], lang: str) -> str:
    """Per office the spread of hours across its officers (summary.json ``workload``, C4), and the villages a
    neighbouring office helped with (``mutual_aid``)."""
    rows = [
        [
            (escape(str(w["office_id"])), False),
            (number(w["officers"]), True),
            (number(w["hours_min"], 1) + escape(f" ({w['officer_min']})"), True),
            (number(w["hours_mean"], 1), True),
            (number(w["hours_max"], 1) + escape(f" ({w['officer_max']})"), True),
            (number(float(w["hours_max"]) - float(w["hours_min"]), 1), True),
            *([(number(w["hours_spare"], 1), True)] if "hours_spare" in w else []),
        ]
        for w in summary.get("workload") or []
    ]
    if not rows:
        return ""
    keys: tuple[str, ...] = ("office_id", "officers", "hours_min", "hours_mean", "hours_max", "spread")
    if all("hours_spare" in w for w in summary.get("workload") or []):
        keys += ("hours_spare",)
    out = f"<p class='note'>{escape(t('report.workload.note', lang))}</p>"
    out += _table([t(f"report.col.{k}", lang) for k in keys], rows)
    aid = summary.get("mutual_aid") or []
    if aid:
        items = "".join(
            "<li>"
            + escape(
                t(
                    "report.workload.aid_item",
                    lang,
                    village=_subject(e["village_id"], names),
                    office=e["office_id"],
                    officer=e["officer_id"],
                    helper_office=e["helper_office"],
                )
            )
            + "</li>"
            for e in aid
        )
        out += f"<h3>{escape(t('report.workload.aid', lang))}</h3><ul>{items}</ul>"
    short = [r for r in summary.get("shortfall") or [] if r.get("detail")]
    if short:
        col = "detail_zh" if lang == "zh" else "detail"
        items = "".join(f"<li>{escape(str(r.get(col) or r['detail']))}</li>" for r in short)
        out += f"<h3>{escape(t('report.workload.shortfall', lang))}</h3><ul>{items}</ul>"
        out += _spare_and_short(summary, {str(r.get("office_id")) for r in short}, lang)
    return out


def _spare_and_short(summary: dict[str, Any], short: set[str], lang: str) -> str:
    """Why an office short of officer-hours still shows spare hours: what is left of its days after the visits
    is in pieces shorter than a visit (and its round trip), so the table's two figures do not contradict."""
    spare = [
        str(w["office_id"])
        for w in summary.get("workload") or []
        if str(w["office_id"]) in short and float(w.get("hours_spare") or 0) > 0
    ]
    if not spare:
        return ""
    hours = rules_of(summary).patrol.visit_hours
    text = t(
        "report.workload.spare_short", lang, offices=("、" if lang == "zh" else ", ").join(spare), h=hours
    )
    return f"<p class='note'>{escape(text)}</p>"


def _certificate(summary: dict[str, Any], lang: str) -> str:
    """The districts' objective, its lower bound and the gap (summary.json's ``district_objective``)."""
    cert = summary.get("district_objective")
    if not isinstance(cert, dict) or cert.get("objective") is None:
        return ""
    obj = number(cert["objective"], 0)
    if cert.get("bound_proven_optimal"):
        text = t("report.certificate.proven", lang, objective=obj)
    elif cert.get("lower_bound") is None:
        text = t("report.certificate.none", lang)
    else:
        method = t(f"report.certificate.{cert.get('bound_method')}", lang)
        text = t(
            "report.certificate.line",
            lang,
            objective=obj,
            bound=number(cert["lower_bound"], 0),
            method=method,
            gap=number(cert["gap_pct"], 2),
        )
    if cert.get("bound_stopped_by_time"):
        text += " " + t("report.certificate.stopped", lang)
    return f"<p>{escape(text)}</p>" + _travel_certificate(summary, cert, lang)


def _travel_certificate(summary: dict[str, Any], cert: dict[str, Any], lang: str) -> str:
    """The residents' travel alone against its bound, and what the balance and compactness terms cost."""
    if cert.get("resident_minutes") is None or cert.get("resident_minutes_bound") is None:
        return ""
    proven = bool(cert.get("resident_minutes_proven"))
    method = cert.get("resident_minutes_bound_method")
    text = t(
        "report.certificate.travel_proven" if proven else "report.certificate.travel",
        lang,
        rm=number(cert["resident_minutes"], 0),
        k=summary.get("districts", ""),
        gap=number(cert["resident_minutes_gap_pct"], 2),
        bound=number(cert["resident_minutes_bound"], 0),
        method=t("report.certificate.travel_mip" if method == "mip" else "report.certificate.lp", lang),
    )
    best = cert.get("resident_minutes_best_cv")
    trade = t(
        "report.certificate.trade",
        lang,
        bw=cert.get("balance_weight"),
        cw=cert.get("compactness_weight"),
        cv=number(cert.get("district_population_cv"), 3),
        best="" if best is None else t("report.certificate.trade_best", lang, cv=number(best, 3)),
        above=number(cert.get("resident_minutes_above_bound"), 0),
    )
    tol = cert.get("balance_tolerance")
    if tol is not None:
        trade += " " + t(
            "report.certificate.tolerance" if tol > 0 else "report.certificate.tolerance_none",
            lang,
            tol=number(100 * tol, 0 if float(100 * tol).is_integer() else 1),
            mean=number(cert.get("district_mean_residents"), 0),
            off=cert.get("districts_off_balance"),
            k=summary.get("districts", ""),
        )
    trade += _route_polish(cert.get("route_polish"), lang)
    return f"<p>{escape(text)} {escape(trade)}</p>"


def _route_polish(done: Any, lang: str) -> str:
    """The sentence on C5 after the search (planner.districts.route_polish): what it moved and what it cost."""
    if not isinstance(done, dict):
        return ""

    def pct(x: Any) -> str:
        return number(100 * float(x), 1)

    why = " " + t("report.certificate.relaxed", lang) if done.get("road_graph_relaxed") else ""
    return (
        why
        + " "
        + t(
            "report.certificate.route_polish"
            if done.get("villages_moved")
            else "report.certificate.route_polish_none",
            lang,
            n=done.get("villages_moved"),
            before=pct(done["route_outside_worst_before"]),
            after=pct(done["route_outside_worst"]),
            tb=pct(done["route_outside_total_before"]),
            ta=pct(done["route_outside_total"]),
            ob=number(done["objective_before"], 0),
            oa=number(done["objective"], 0),
            allow=number(
                100 * float(done["allowance"]), 0 if float(100 * done["allowance"]).is_integer() else 1
            ),
        )
    )


def _timing(summary: dict[str, Any], lang: str) -> str:
    """The seconds each stage took (the one part of the report that differs between two runs of a plan)."""
    seconds = summary.get("seconds")
    if not isinstance(seconds, dict) or not seconds:
        return ""
    # one line, not a table: a chief does not read it, a support engineer does
    parts = " · ".join(
        f"{escape(t(f'report.stage.{k}', lang) if has(f'report.stage.{k}') else k)} {number(v, 1)}"
        for k, v in seconds.items()
    )
    head = escape(t("report.section.timing", lang))
    unit = escape(t("report.col.seconds", lang))
    return f"<p class='note' id='timing'>{head} ({unit}): {parts}</p>\n"


def _static_map(plan: PlanData, lang: str) -> str:
    """The static map of districts and offices (:func:`planner.outputs.staticmap.districts_svg`)."""
    from planner.outputs.staticmap import districts_svg

    svg = districts_svg(plan, lang=lang)
    return f"<div class='map'>{svg}</div>" if svg else ""


def report_html(plan: PlanData, *, lang: str = "zh", generated: str | None = None) -> str:
    """The report of a plan as one self-contained HTML page.

    Parameters
    ----------
    plan
        The plan as a plan directory holds it; routes, schedule and current districts may be empty or None.
    lang
        "zh" or "en".
    generated
        The date of generation shown on the first page (ISO date); today when None.

    Returns
    -------
    str
        The page: inline CSS (with a print stylesheet) and inline SVG charts, no external resource.
    """
    check_lang(lang)
    plan = with_shown_names(plan)  # [names] short: 大寨村, not 大寨村民委员会
    names = village_names(plan.villages)
    summary = plan.summary or {}
    made = generated or dt.date.today().isoformat()
    front_sections = [
        ("conclusion", conclusion(plan, lang)),
        ("figures", _figures(summary, lang)),
        ("rules", rules_table(summary, lang)),
    ]
    sections = [
        ("map", _static_map(plan, lang)),
        ("checks", breaks_html(plan, names, lang)),
        ("completeness", completeness_html(summary, lang)),
        ("data", data_notes_html(summary, names, lang)),
        ("districts", _district_table(plan, names, lang)),
        ("stations", stations_html(plan, lang)),
        ("matches", matches_html(plan, names, lang)),
        ("certificate", _certificate(summary, lang)),
        ("charts", _charts(plan, lang)),
        ("explain", _explain(plan, names, lang)),
        ("routes", _routes(plan, names, lang)),
        ("workload", _workload(summary, names, lang)),
        ("compare", _compare(plan, lang)),
    ]

    def render(parts: list[tuple[str, str]]) -> str:
        return "".join(
            f"<section id='{key}'><h2>{escape(t(f'report.section.{key}', lang))}</h2>{content}</section>"
            for key, content in parts
            if content
        )

    # the first page a chief reads in a minute: region, month, date, conclusion, key figures, rules in force
    front = f"<div id='front'>{title_block(summary, lang, generated=made)}{render(front_sections)}</div>"
    body = render(sections)
    title = t("report.title", lang)
    logger.info(
        "report: %d villages, %d districts, %d violations",
        len(plan.villages),
        len(plan.districts),
        len(summary.get("violations") or []),
    )
    note = f"<p class='note'>{escape(t('report.lang_note', lang))}</p>"
    return html_page(title=title, lang=lang, css=_CSS, body=f"{front}{body}{_timing(summary, lang)}{note}")

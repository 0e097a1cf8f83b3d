"""Printable route sheets (route_sheets.html): one A4 section per officer, day by day.

:func:`route_sheets_html` turns a :class:`planner.model.PlanData` into one self-contained HTML page (inline CSS,
inline SVG, no script, no external resource) that prints with each officer on a new page. A sheet holds the
officer's office, district, kind (when the plan records it) and month, a small map of his month (the villages of
his district, his office and his routes coloured by day), then a table day by day: date and weekday, activity,
village and township, times, minutes, the km of each drive (from the ``routes`` layer, matched by officer, date
and seq), and a total per day (driving minutes, km, hours of work). A summary line closes the header.

How schedule rows and route legs are put together: the schedule's ``travel`` rows name only the destination,
the routes layer has ``from_id``/``to_id``/``km`` in ``seq`` order. Within an officer's day the travel rows (in
time order) are matched with the legs (in seq order) that end in the same village. A leg that no travel row
matches (plans written by hand may lack travel rows) is still listed, as its own row marked "not in the
schedule", so no drive and no km is left out; its minutes count as driving and as work.

Every text from the data (ids, names, townships) is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from planner.model import ROUTE_COLUMNS, PlanData
from planner.outputs.colours import ACCENT, ALERT, DAY_COLOURS
from planner.outputs.datanotes import estimated_sentence
from planner.outputs.html import (
    CSS_LIGHT,
    CSS_NOTE,
    CSS_PRINT_HEADERS,
    FONT,
    escape,
    html_page,
    number,
    svg_image,
)
from planner.outputs.lookups import VISIT_ACTIVITIES, officer_labels, village_places, with_shown_names
from planner.texts import check_lang, t

logger = logging.getLogger(__name__)

__all__ = ["DAY_COLOURS", "route_sheets_html"]

MAP_WIDTH = 330  # px: the largest side of a sheet's map; the other follows the district's shape
MAP_HEIGHT = 250

_CSS = f"""
{CSS_LIGHT}
body {{ font-family: {FONT}; margin: 0 auto; max-width: 820px; padding: 12px 20px; color: #1a202c;
       line-height: 1.35; font-size: 13px; }}
h1.doc {{ font-size: 1.3em; }}
section.officer {{ border-top: 3px solid {ACCENT}; padding-top: 6px; margin-top: 24px; }}
section.officer h2 {{ font-size: 1.2em; margin: 4px 0 6px; }}
.head {{ display: flex; gap: 14px; align-items: flex-start; justify-content: space-between; }}
.facts {{ flex: 1 1 auto; }}
.facts table td {{ border: none; padding: 1px 8px 1px 0; }}
.facts .k {{ color: #4a5568; white-space: nowrap; }}
.summary {{ font-weight: bold; margin: 6px 0; }}
.map {{ flex: 0 0 auto; border: 1px solid #cbd5e0; padding: 2px; }}
.days {{ font-size: 0.85em; margin-top: 2px; max-width: {MAP_WIDTH}px; }}
.days span.d {{ display: inline-block; min-width: 1.6em; text-align: center; color: #fff; border-radius: 3px;
               margin: 1px; padding: 0 2px; font-weight: bold; -webkit-print-color-adjust: exact;
               print-color-adjust: exact; }}
table.sheet {{ border-collapse: collapse; width: 100%; margin-top: 8px; }}
table.sheet th, table.sheet td {{ border: 1px solid #cbd5e0; padding: 2px 5px; text-align: left;
                                  vertical-align: top; }}
table.sheet th {{ background: #edf2f7; white-space: nowrap; }}
td.act {{ white-space: nowrap; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.date {{ white-space: nowrap; font-weight: bold; }}
tr.night td {{ background: #ebf4ff; }}
tr.night td.act {{ font-weight: bold; }}
tr.office td {{ background: #f7fafc; }}
tr.total td {{ background: #fefcbf; font-size: 0.92em; }}
tr.firstday td {{ border-top: 2px solid #4a5568; }}
.id {{ color: #718096; font-size: 0.85em; }}
{CSS_NOTE}
.sign {{ margin-top: 14px; }}
@page {{ size: A4 portrait; margin: 12mm; }}
@media print {{
  body {{ max-width: none; padding: 0; font-size: 9pt; }}
  h1.doc {{ display: none; }}
  section.officer {{ break-before: page; page-break-before: always; border-top: none; margin-top: 0; }}
  section.officer:first-of-type {{ break-before: auto; page-break-before: auto; }}
  .head, tr {{ break-inside: avoid; page-break-inside: avoid; }}
  {CSS_PRINT_HEADERS}
}}
"""


@dataclass
class _Entry:
    """One line of a day: a schedule row (``row`` is its index label) or a leg without a travel row."""

    activity: str
    village_id: str
    start: str = ""
    end: str = ""
    minutes: float = 0.0
    km: float = math.nan
    from_id: str | None = None
    row: Any = None  # the schedule row's index label; None for a leg without a schedule row
    walk_min: float = 0.0  # of a travel row's minutes, those on foot (a village beyond the road)
    note: str = ""  # the schedule's note (e.g. mutual aid)


@dataclass
class _Day:
    """One day of an officer's sheet: its lines and its totals (driving minutes, km, minutes of work)."""

    date: str
    entries: list[_Entry] = field(default_factory=list)
    drive_min: float = 0.0
    km: float = math.nan
    work_min: float = 0.0
    walk_min: float = 0.0  # of drive_min, on foot (villages beyond the road)


def _text_date(value: Any) -> str:
    """A date as ``YYYY-MM-DD`` text (plans read back hold text, fresh ones may hold dates)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)[:10]


def _clock(hhmm: Any) -> int:
    """Minutes since midnight of an ``HH:MM`` text (large for a missing or bad time, so it sorts last)."""
    try:
        h, m = str(hhmm).split(":")[:2]
        return int(h) * 60 + int(m)
    except ValueError:
        return 10**6


def _to_float(value: Any) -> float:
    """A number of the schedule or the routes as a float; NaN when missing or not a number."""
    x = pd.to_numeric(value, errors="coerce")
    return float(x) if x is not None and not pd.isna(x) else math.nan


def _weekday(date: str, lang: str) -> str:
    """The weekday of a ``YYYY-MM-DD`` date in ``lang``; empty for a text that is not a date."""
    try:
        return t(f"sheets.weekday.{dt.date.fromisoformat(date).weekday()}", lang)
    except ValueError:
        return ""


def _build_day(
    date: str,
    rows: list[tuple[Any, dict[str, Any]]],
    legs: list[tuple[float, dict[str, Any]]],
    *,
    has_walk: bool,
    has_note: bool,
) -> _Day:
    """The day's lines: schedule rows in time order, each travel row with its leg, unmatched legs listed too.

    ``rows``: (schedule index, row) in schedule order; ``legs``: (sequence number, leg) in routes order."""
    day = _Day(date)
    order = sorted(range(len(rows)), key=lambda i: (_clock(rows[i][1]["start"]), i))
    seqs = np.array([q for q, _g in legs], dtype=float)
    leg_list = [legs[i][1] for i in np.argsort(seqs, kind="stable")]
    next_leg = 0
    here: str | None = str(leg_list[0]["from_id"]) if leg_list else None

    def leg_entry(leg: dict[str, Any]) -> _Entry:
        return _Entry(
            activity="travel",
            village_id=str(leg["to_id"]),
            minutes=_to_float(leg["minutes"]),
            km=_to_float(leg["km"]),
            from_id=str(leg["from_id"]),
        )

    for i in order:
        r = rows[i][1]
        village, activity = str(r["village_id"]), str(r["activity"])
        entry = _Entry(
            activity=activity,
            village_id=village,
            start=str(r["start"]),
            end=str(r["end"]),
            minutes=_to_float(r["minutes"]),
            row=rows[i][0],
            walk_min=_to_float(r["walk_minutes"]) if has_walk else 0.0,
            note=str(r["note"]) if has_note and isinstance(r["note"], str) else "",
        )
        if activity == "travel":
            match = next(
                (j for j in range(next_leg, len(leg_list)) if str(leg_list[j]["to_id"]) == village), None
            )
            if match is not None:
                day.entries.extend(leg_entry(g) for g in leg_list[next_leg:match])
                entry.km = _to_float(leg_list[match]["km"])
                entry.from_id = str(leg_list[match]["from_id"])
                next_leg = match + 1
            else:
                entry.from_id = here
        elif (
            here is not None
            and here != village
            and next_leg < len(leg_list)
            and str(leg_list[next_leg]["to_id"]) == village
        ):
            # a stop reached by a leg that has no travel row: list the leg before the stop
            day.entries.append(leg_entry(leg_list[next_leg]))
            next_leg += 1
        day.entries.append(entry)
        here = village
    day.entries.extend(leg_entry(g) for g in leg_list[next_leg:])

    unscheduled = [e for e in day.entries if e.row is None]
    travel_rows = [e for e in day.entries if e.row is not None and e.activity == "travel"]
    day.drive_min = float(np.nansum([e.minutes for e in travel_rows + unscheduled]))
    day.walk_min = float(np.nansum([e.walk_min for e in travel_rows]))
    day.work_min = float(np.nansum([e.minutes for e in day.entries]))
    if leg_list:
        day.km = float(np.nansum([_to_float(g["km"]) for g in leg_list]))
    elif not travel_rows:
        day.km = 0.0  # no drive at all; with travel rows but no legs the distance is unknown
    return day


def _officer_days(sched: pd.DataFrame, routes: pd.DataFrame) -> list[_Day]:
    """An officer's days, in date order: every date of his schedule rows or of his route legs."""
    dates = sorted(set(sched["_date"]) | set(routes["_date"]))
    # plain records read once and grouped by date: a month's sheets read some 100,000 cells
    rows: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
    for idx, rec in zip(sched.index, sched.to_dict("records"), strict=True):
        rows.setdefault(rec["_date"], []).append((idx, rec))
    legs: dict[str, list[tuple[float, dict[str, Any]]]] = {}
    if len(routes):
        seqs = pd.to_numeric(routes["seq"]).to_numpy(dtype=float)
        for q, rec in zip(seqs, routes.to_dict("records"), strict=True):
            legs.setdefault(rec["_date"], []).append((q, rec))
    flags = {"has_walk": "walk_minutes" in sched.columns, "has_note": "note" in sched.columns}
    return [_build_day(d, rows.get(d, []), legs.get(d, []), **flags) for d in dates]


@dataclass(frozen=True)
class _Officer:
    """An officer of the sheets: his id, his office (None when not known) and his kind (resident, linked)."""

    officer_id: str
    office_id: str | None
    kind: str | None
    label: str = ""  # "苏英艳 (O01-1)" when the roster names him, else the id

    @property
    def shown(self) -> str:
        return self.label or self.officer_id


def _roster(plan: PlanData) -> dict[str, dict[str, Any]]:
    """officer_id -> {office, kind} from summary.json's ``roster`` or the schedule's own columns, when present."""
    out: dict[str, dict[str, Any]] = {}
    roster = plan.summary.get("roster") if isinstance(plan.summary, dict) else None
    if isinstance(roster, list):
        for r in roster:
            if isinstance(r, dict) and r.get("officer_id") is not None:
                out[str(r["officer_id"])] = {"office": r.get("office"), "kind": r.get("kind")}
    s = plan.schedule
    for col, key in (("office_id", "office"), ("office", "office"), ("kind", "kind")):
        if col in s.columns:
            for o, v in zip(s["officer_id"].astype(str), s[col], strict=True):
                if isinstance(v, str) and v and out.setdefault(o, {}).get(key) is None:
                    out[o][key] = v
    return out


def _office_of(
    officer: str, sched: pd.DataFrame, legs: pd.DataFrame, plan: PlanData, known: dict[str, Any]
) -> str | None:
    """The officer's office: the roster's, else the office in the village of his office days or where his drives
    start, else the office of most villages he visits, else the ``<office_id>-<n>`` id the planner generates."""
    offices = plan.offices
    office_ids = set(offices["office_id"].astype(str))
    if known.get("office") is not None and str(known["office"]) in office_ids:
        return str(known["office"])
    by_village: dict[str, list[str]] = {}
    for o, v in zip(offices["office_id"].astype(str), offices["village_id"].astype(str), strict=True):
        by_village.setdefault(v, []).append(o)
    homes = [*sched.loc[sched["activity"].astype(str) == "office", "village_id"].astype(str)]
    homes += [*legs["from_id"].astype(str)][:1] if len(legs) else []
    for v in homes:
        if len(by_village.get(v, [])) == 1:
            return by_village[v][0]
    village_office = dict(
        zip(plan.villages["village_id"].astype(str), plan.villages["office_id"].astype(str), strict=True)
    )
    visited = Counter(village_office[v] for v in sched["village_id"].astype(str) if v in village_office)
    if visited:
        return visited.most_common(1)[0][0]
    prefix = officer.rsplit("-", 1)[0]
    return prefix if prefix in office_ids else None


# -- map (inline SVG) ----------------------------------------------------------------------------------------
def _day_colours(legs: pd.DataFrame) -> dict[str, str]:
    """A colour per day that has a drive, in date order (cycling through DAY_COLOURS)."""
    dates = sorted(set(legs["_date"])) if len(legs) else []
    return {d: DAY_COLOURS[i % len(DAY_COLOURS)] for i, d in enumerate(dates)}


class _Projection:
    """Equirectangular lon/lat -> SVG pixels at the map's mean latitude, centred in MAP_WIDTH x MAP_HEIGHT
    (a fixed box leaves room for the labels of a narrow district)."""

    def __init__(self, bounds: tuple[float, float, float, float], pad: float = 8.0) -> None:
        x0, y0, x1, y1 = bounds
        self.k = math.cos(math.radians((y0 + y1) / 2))
        w, h = max((x1 - x0) * self.k, 1e-9), max(y1 - y0, 1e-9)
        self.scale = min((MAP_WIDTH - 2 * pad) / w, (MAP_HEIGHT - 2 * pad) / h)
        self.x0, self.y1 = x0, y1
        self.width, self.height = MAP_WIDTH, MAP_HEIGHT
        self.dx = (MAP_WIDTH - w * self.scale) / 2
        self.dy = (MAP_HEIGHT - h * self.scale) / 2

    def xy(self, coords: np.ndarray) -> np.ndarray:
        x = (coords[:, 0] - self.x0) * self.k * self.scale + self.dx
        y = (self.y1 - coords[:, 1]) * self.scale + self.dy
        return np.column_stack([x, y])

    def path(self, geom: BaseGeometry) -> str:
        """An SVG path of a (multi)polygon or (multi)line; '' for empty or point geometries."""
        parts: list[str] = []
        for g in getattr(geom, "geoms", [geom]):
            rings = [g.exterior, *g.interiors] if g.geom_type == "Polygon" else [g]
            for ring in rings:
                if ring.is_empty or ring.geom_type not in ("LinearRing", "LineString"):
                    continue
                pts = self.xy(np.asarray(ring.coords)[:, :2])
                d = "L".join(f"{x:.1f} {y:.1f}" for x, y in pts)
                parts.append(f"M{d}{'Z' if ring.geom_type == 'LinearRing' else ''}")
        return "".join(parts)


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` in WGS-84 lon/lat (as is when empty or without a CRS)."""
    if gdf.crs is None or len(gdf) == 0 or gdf.crs.equals("EPSG:4326"):
        return gdf
    return gdf.to_crs(4326)


def _map_svg(
    officer: str,
    office_id: str | None,
    days: list[_Day],
    legs: gpd.GeoDataFrame,
    plan: PlanData,
    names: dict[str, tuple[str, str]],
    lang: str,
) -> str:
    """An officer's month as a small SVG map: his district's villages, those he visits, his routes by day, his office."""
    villages = _wgs84(plan.villages)
    offices = _wgs84(plan.offices)
    vid = villages["village_id"].astype(str)
    office = offices[offices["office_id"].astype(str) == office_id] if office_id else offices.iloc[:0]
    district = str(office["district_id"].iloc[0]) if len(office) else None
    visited = {e.village_id for d in days for e in d.entries} | {e.from_id for d in days for e in d.entries}
    shown = villages[(villages["district_id"].astype(str) == district) | vid.isin(visited)]
    shown = shown[~shown.geometry.is_empty & shown.geometry.notna()]
    legs = _wgs84(legs)
    legs = legs[legs.geometry.notna() & ~legs.geometry.is_empty] if len(legs) else legs
    geoms = [*shown.geometry, *office.geometry, *legs.geometry]
    if not geoms:
        return ""
    bounds = tuple(shapely.total_bounds(np.asarray(geoms, dtype=object)))
    proj = _Projection(bounds)
    tolerance = 0.5 / proj.scale  # half a pixel, in degrees: a small SVG without visible change
    parts: list[str] = []
    visited_ids = {e.village_id for d in days for e in d.entries if e.activity in VISIT_ACTIVITIES}
    for v_id, geom in zip(shown["village_id"].astype(str), shown.geometry, strict=True):
        fill = "#fefcbf" if v_id in visited_ids else "#f7fafc"
        name, township = names.get(v_id, (v_id, ""))
        title = f"<title>{escape(name)} {escape(township)}</title>"
        if geom.geom_type in ("Point", "MultiPoint"):
            x, y = proj.xy(shapely.get_coordinates(geom))[0]
            parts.append(
                f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{fill}' stroke='#718096'>{title}</circle>"
            )
        else:
            d = proj.path(shapely.simplify(geom, tolerance))
            parts.append(
                f"<path d='{d}' fill='{fill}' stroke='#718096' stroke-width='0.7' fill-rule='evenodd'>{title}</path>"
            )
    colour = _day_colours(legs)
    for date, geom in zip(legs["_date"], legs.geometry, strict=True) if len(legs) else []:
        d = proj.path(shapely.simplify(geom, tolerance))
        if d:
            parts.append(
                f"<path class='route' d='{d}' fill='none' stroke='{colour.get(date, '#2d3748')}' "
                "stroke-width='1.8' stroke-opacity='0.85' stroke-linejoin='round' stroke-linecap='round'/>"
            )
    home = set(office["village_id"].astype(str))
    for v_id, geom in zip(shown["village_id"].astype(str), shown.geometry, strict=True):
        if v_id in visited_ids or v_id in home:
            x, y = proj.xy(shapely.get_coordinates(geom.representative_point()))[0]
            y -= 9 if v_id in home else 0  # above the office marker
            parts.append(
                f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='middle' font-size='9' fill='#2d3748' "
                f"stroke='#fff' stroke-width='2' paint-order='stroke'>{escape(names.get(v_id, (v_id, ''))[0])}</text>"
            )
    for geom in office.geometry:
        x, y = proj.xy(shapely.get_coordinates(geom.centroid))[0]
        parts.append(
            f"<rect class='office' x='{x - 5:.1f}' y='{y - 5:.1f}' width='10' height='10' fill='{ALERT}' "
            f"stroke='#fff' stroke-width='1.5'><title>{escape(t('sheets.office', lang))} {escape(office_id)}</title></rect>"
        )
    title = t("sheets.map.title", lang, officer=officer)
    return svg_image(proj.width, proj.height, title=title, body="".join(parts))


# -- tables --------------------------------------------------------------------------------------------------
def _place(village_id: str | None, names: dict[str, tuple[str, str]], lang: str) -> str:
    """A village as ``name (township) id``; its id alone when the villages layer does not hold it."""
    if village_id is None:
        return ""
    if village_id not in names:
        return escape(village_id)
    name, township = names[village_id]
    where = f"（{escape(township)}）" if lang == "zh" else f" ({escape(township)})"
    return f"{escape(name)}{where if township else ''} <span class='id'>{escape(village_id)}</span>"


def _day_rows(day: _Day, names: dict[str, tuple[str, str]], lang: str) -> str:
    """A day's table rows: date and weekday spanning its lines, one row per line, then the day's total."""
    out = []
    n = len(day.entries) + 1
    head = (
        f"<td class='date' rowspan='{n}'>{escape(day.date)}</td>"
        f"<td class='date' rowspan='{n}'>{escape(_weekday(day.date, lang))}</td>"
    )
    for k, e in enumerate(day.entries):
        cls = {"night_visit": "night", "office": "office"}.get(e.activity, e.activity)
        label = t(f"activity.{e.activity}", lang) if e.activity in _ACTIVITIES else e.activity
        if e.activity == "night_visit":
            label = f"☾ {label}"
        if e.activity == "travel" and e.from_id is not None and e.from_id != e.village_id:
            # a drive: the two names only (township and id are on the stops' own rows)
            src, dst = (escape(names.get(x, (x, ""))[0]) for x in (e.from_id, e.village_id))
            place = f"{src} → {dst}"
        else:
            place = _place(e.village_id, names, lang)
        if e.row is None:
            place += f" <span class='note'>{escape(t('sheets.leg_unscheduled', lang))}</span>"
        if e.walk_min and e.walk_min == e.walk_min:  # not NaN
            place += f" <span class='note walk'>{escape(t('sheets.walk', lang, n=number(e.walk_min)))}</span>"
        if e.note:
            place += f" <span class='note'>{escape(e.note)}</span>"
        times = f"{escape(e.start)}–{escape(e.end)}" if e.start or e.end else ""
        row_attr = f" data-row='{escape(e.row)}'" if e.row is not None else " data-leg='1'"
        km = number(e.km, 1) if not math.isnan(e.km) else ""
        out.append(
            f"<tr class='{escape(cls)}{' firstday' if k == 0 else ''}'{row_attr}>{head if k == 0 else ''}"
            f"<td class='act'>{escape(label)}</td><td>{place}</td><td class='n'>{times}</td>"
            f"<td class='n'>{number(e.minutes)}</td><td class='n'>{km}</td></tr>"
        )
    key = "sheets.day_total_walk" if day.walk_min > 0 else "sheets.day_total"
    if day.drive_min == 0:
        key = "sheets.day_total_office"  # no travel that day: "0 min driving, 0.0 km" says nothing
    total = t(
        key,
        lang,
        drive=number(day.drive_min),
        walk=number(day.walk_min),
        km=number(day.km, 1),
        work=number(day.work_min / 60, 1),
    )
    clock = [(e.start, e.end) for e in day.entries if e.start and e.end]
    if clock and any(e.activity == "night_visit" for e in day.entries):
        # a night-visit day is a late shift that ends with the night visit (DOMAIN.md, working time): say so,
        # or an office duty starting mid-afternoon reads as a mistake
        total += t("sheets.late_shift", lang, start=clock[0][0], end=clock[-1][1])
    km_attr = "" if math.isnan(day.km) else f"{day.km:.3f}"
    out.append(
        f"<tr class='total' data-date='{escape(day.date)}' data-drive-min='{day.drive_min:g}' "
        f"data-km='{km_attr}' data-work-min='{day.work_min:g}'><td colspan='5'>{escape(total)}</td></tr>"
    )
    return "".join(out)


_ACTIVITIES = ("visit", "night_visit", "office", "travel")


def _facts(
    officer: _Officer, plan: PlanData, names: dict[str, tuple[str, str]], month: str, lang: str
) -> str:
    """The rows of a sheet's header: officer, office (and the village it is in), district, kind, month."""
    facts: list[tuple[str, str]] = [(t("sheets.officer", lang), escape(officer.shown))]
    if officer.office_id is not None:
        offices = plan.offices[plan.offices["office_id"].astype(str) == officer.office_id]
        if len(offices):
            village = str(offices["village_id"].iloc[0])
            name = names.get(village, (village, ""))[0]
            text = escape(t("sheets.office_in", lang, office=officer.office_id, village=name))
            facts.append((t("sheets.office", lang), text))
            facts.append((t("sheets.district", lang), escape(offices["district_id"].iloc[0])))
        else:  # an office the offices layer does not hold: its id only
            facts.append((t("sheets.office", lang), escape(officer.office_id)))
    if officer.kind:
        key = f"sheets.kind.{officer.kind}"
        facts.append((t("sheets.kind", lang), escape(t(key, lang) if key in _KINDS else officer.kind)))
    facts.append((t("sheets.month", lang), escape(month)))
    return "".join(f"<tr><td class='k'>{escape(k)}</td><td>{v}</td></tr>" for k, v in facts)


def _day_legend(legs: pd.DataFrame, lang: str) -> str:
    """Under the map: a chip per day that has a drive, in its colour and showing its day of the month."""
    if not len(legs):
        return f"<div class='days note'>{escape(t('sheets.map.no_routes', lang))}</div>"
    chips = "".join(
        f"<span class='d' style='background:{c}' title='{escape(date)}'>"
        f"{int(date[8:10]) if date[8:10].isdigit() else escape(date)}</span>"
        for date, c in _day_colours(legs).items()
    )
    return f"<div class='days'>{escape(t('sheets.map.days', lang))}{chips}</div>"


def _officer_section(
    officer: _Officer,
    sched: pd.DataFrame,
    legs: gpd.GeoDataFrame,
    plan: PlanData,
    names: dict[str, tuple[str, str]],
    lang: str,
) -> str:
    """One officer's sheet: header (facts, month summary, map with its day legend) and the table day by day."""
    days = _officer_days(sched, legs)
    act = sched["activity"].astype(str)
    field_days = sched.loc[act == "visit", "_date"].nunique()
    office_days = sched.loc[act == "office", "_date"].nunique()
    nights = int((act == "night_visit").sum())
    km = [d.km for d in days if not math.isnan(d.km)]
    total_km = float(np.sum(km)) if km else math.nan
    drive_h = sum(d.drive_min for d in days) / 60
    month = plan.summary.get("month") if isinstance(plan.summary, dict) else None
    months = sorted({d.date[:7] for d in days})
    month_text = str(month) if month else "、".join(months) if lang == "zh" else ", ".join(months)
    summary = t(
        "sheets.summary",
        lang,
        field=field_days,
        office=office_days,
        night=nights,
        km=number(total_km, 1),
        drive=number(drive_h, 1),
    )
    svg = _map_svg(officer.shown, officer.office_id, days, legs, plan, names, lang)
    map_html = f"<div class='map'>{svg}{_day_legend(legs, lang)}</div>" if svg else ""
    head = [
        t(f"sheets.col.{k}", lang)
        for k in ("date", "weekday", "activity", "village", "time", "minutes", "km")
    ]
    thead = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(_day_rows(d, names, lang) for d in days)
    # issue 14: the officer is told which of his villages' travel times are estimates (no road to measure)
    visited = sched.loc[act.isin(VISIT_ACTIVITIES), "village_id"].dropna().astype(str)
    estimate = estimated_sentence(
        list(visited), {k: v[0] for k, v in names.items()}, plan.summary or {}, lang
    )
    note = f"<p class='note estimated'>{escape(estimate)}</p>" if estimate else ""
    return (
        f"<section class='officer' data-officer='{escape(officer.officer_id)}'>"
        f"<h2>{escape(t('sheets.heading', lang, officer=officer.shown))}</h2>"
        f"<div class='head'><div class='facts'><table>{_facts(officer, plan, names, month_text, lang)}</table>"
        f"<p class='summary' data-field-days='{field_days}' data-office-days='{office_days}' "
        f"data-night-visits='{nights}'>{escape(summary)}</p></div>{map_html}</div>"
        f"{note}<table class='sheet'><thead><tr>{thead}</tr></thead><tbody>{body}</tbody></table>"
        f"<p class='sign'>{escape(t('sheets.sign', lang))}</p></section>"
    )


_KINDS = ("sheets.kind.resident", "sheets.kind.linked")


def route_sheets_html(plan: PlanData, *, lang: str = "zh") -> str:
    """Printable route sheets: one self-contained HTML page, one A4 section per officer.

    Parameters
    ----------
    plan
        The plan as a plan directory holds it (any CRS; layers are shown in WGS-84). Routes may be empty: the
        sheets then list the schedule without distances. Not modified.
    lang
        "zh" or "en".

    Returns
    -------
    str
        The page: inline CSS with a print stylesheet (each officer starts a new page), an inline SVG map per
        officer, no script and no external resource. Officers are those of the schedule and of the routes.
    """
    check_lang(lang)
    plan = with_shown_names(plan)  # [names] short: 大寨村, not 大寨村民委员会
    # the layers in WGS-84 once, not once per officer's map
    plan = replace(plan, villages=_wgs84(plan.villages), offices=_wgs84(plan.offices))
    sched = plan.schedule.copy()
    sched["_date"] = [_text_date(d) for d in sched["date"]] if len(sched) else pd.Series(dtype=str)
    sched["officer_id"] = sched["officer_id"].astype(str)
    routes = plan.routes.copy() if plan.routes is not None else gpd.GeoDataFrame()
    if len(routes):
        routes["_date"] = [_text_date(d) for d in routes["date"]]
        routes["officer_id"] = routes["officer_id"].astype(str)
        routes = _wgs84(routes)
    else:
        routes = gpd.GeoDataFrame({c: [] for c in [*ROUTE_COLUMNS, "_date"]}, geometry=[], crs="EPSG:4326")
    names = village_places(plan.villages)
    officers = sorted(set(sched["officer_id"]) | set(routes["officer_id"]))
    known = _roster(plan)
    labels = officer_labels(plan.summary if isinstance(plan.summary, dict) else None)
    sections = []
    for o in officers:
        s = sched[sched["officer_id"] == o]
        legs = routes[routes["officer_id"] == o]
        info = known.get(o, {})
        officer = _Officer(o, _office_of(o, s, legs, plan, info), info.get("kind"), labels.get(o, ""))
        if officer.office_id is None:
            logger.warning(
                "route sheets: the office of officer %s is not known; the map shows his villages", o
            )
        sections.append(_officer_section(officer, s, legs, plan, names, lang))
    title = t("sheets.title", lang)
    body = _calendar_note(plan.summary, lang) + (
        "".join(sections) or f"<p class='note'>{escape(t('sheets.none', lang))}</p>"
    )
    logger.info(
        "route sheets: %d officers, %d schedule rows, %d legs", len(officers), len(sched), len(routes)
    )
    return html_page(title=title, lang=lang, css=_CSS, body=f"<h1 class='doc'>{escape(title)}</h1>{body}")


def _calendar_note(summary: Any, lang: str) -> str:
    """Above the sheets: the month's calendar (C1) when the year's official arrangement is not known yet, so
    the officers who get the sheets see that a holiday may still move, and the weeks R8 counts (C2)."""
    cal = summary.get("calendar") if isinstance(summary, dict) else None
    if not isinstance(cal, dict):
        return ""
    from planner.patrol.rulebook.calendar import describe, describe_weeks

    out = ""
    if not cal.get("official_known", True):
        out += f"<p class='note'>{escape(describe(cal, str(summary.get('month', '')), lang))}</p>"
    weeks = describe_weeks(cal, lang)
    return out + (f"<p class='note'>{escape(weeks)}</p>" if weeks else "")

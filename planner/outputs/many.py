"""Pages of many plans (planner.many gives their data): the province's index.html (a map and a table linking to every county's report) and a
sweep's sweep.html (the what-if question answered, the trade-off charts and the table of combinations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd

from planner.outputs.html import FONT, escape, html_page, number, travel_minutes_text
from planner.outputs.maps import map_html
from planner.texts import t

_STATUS_COLOURS = {"planned": "#1a9850", "resumed": "#66bd63", "breaks": "#fdae61", "failed": "#d73027"}
_CSS = f"""
body {{ font-family: {FONT}; margin: 24px; color: #222; }}
h1 {{ font-size: 22px; }}
table {{ border-collapse: collapse; margin: 12px 0; font-size: 13px; }}
th, td {{ border: 1px solid #bbb; padding: 3px 8px; text-align: right; }}
th {{ background: #eef2f7; }} td.l, th.l {{ text-align: left; }}
iframe {{ width: 100%; height: 520px; border: 1px solid #bbb; }}
.q {{ font-size: 16px; margin: 8px 0; }} svg {{ margin: 8px 16px 8px 0; }}
"""


def _page(title: str, body: str, lang: str) -> str:
    return html_page(title=title, lang=lang, css=_CSS, body=f"<h1>{escape(title)}</h1>{body}")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    th = "".join(f'<th class="{"l" if i < left else ""}">{escape(h)}</th>' for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"l" if i < left else ""}">{c}</td>' for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{th}</tr>{body}</table>"


def province_map(outlines: gpd.GeoDataFrame, counties: Sequence[Any], *, lang: str) -> folium.Map:
    """One outline per county (``outlines``: county, geometry in WGS-84), coloured by its status, with a popup
    that links to the county's report."""
    by_county = {c.county: c for c in counties}
    x0, y0, x1, y1 = outlines.total_bounds
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], tiles=None, zoom_start=8, control_scale=True)
    # only Leaflet itself, as the plan map: every asset is inlined for a meeting room without internet
    m.default_js = [js for js in m.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in m.default_css if css[0] == "leaflet_css"]
    m.fit_bounds([[y0, x0], [y1, x1]])
    features = []
    for row in outlines.itertuples():
        c = by_county.get(str(row.county))
        if c is None:
            continue
        popup = (
            f'<a href="{escape(c.folder)}/report.html" target="_blank">{escape(c.county)}</a><br>'
            f"{escape(t('many.status.' + c.status, lang))}<br>{escape(t('many.col.villages', lang))}: {c.villages}"
        )
        features.append(
            {
                "type": "Feature",
                "geometry": row.geometry.__geo_interface__,
                "properties": {
                    "tip": escape(c.county),
                    "popup": popup,
                    "colour": _STATUS_COLOURS.get(c.status, "#999999"),
                },
            }
        )
    # popups from feature properties (GeoJsonPopup): folium.Popup would need jQuery, which the page leaves out
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=lambda f: {"color": f["properties"]["colour"], "weight": 2, "fillOpacity": 0.35},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False),
    ).add_to(m)
    return m


def province_html(summary: dict[str, Any], counties: Sequence[Any], *, lang: str, map_file: str) -> str:
    """index.html: the totals in words, the province map (``map_file`` beside it) and one row per county."""
    cov = ("15", "30", "60")
    head = [
        t("many.col.county", lang),
        t("many.col.status", lang),
        t("many.col.villages", lang),
        t("many.col.districts", lang),
        t("many.col.officers", lang),
        *(t("many.col.coverage", lang, minutes=m) for m in cov),
        t("many.col.breaks", lang),
        t("many.col.met", lang),
        t("many.col.seconds", lang),
        t("many.col.reason", lang),
    ]
    rows = []
    for c in counties:
        link = (
            f'<a href="{escape(c.folder)}/report.html">{escape(c.county)}</a>'
            if c.status != "failed"
            else escape(c.county)
        )
        rows.append(
            [
                link,
                escape(t("many.status." + c.status, lang)),
                number(c.villages),
                number(c.districts),
                number(c.officers),
                *(number(c.coverage_pct.get(m), 1) for m in cov),
                number(c.hard_breaks),
                number(c.visit_requirements_met_pct, 1),
                number(c.seconds, 1),
                escape(c.reason_zh if lang == "zh" else c.reason),
            ]
        )
    lead = t(
        "many.province.lead",
        lang,
        counties=summary["counties"],
        villages=f"{summary['villages']:,}",
        planned=summary["planned"],
        failed=summary["failed"],
    )
    body = f'<p>{escape(lead)}</p><iframe src="{escape(map_file)}"></iframe>{_table(head, rows, left=2)}'
    return _page(t("many.province.title", lang), body, lang)


def province_map_html(outlines: gpd.GeoDataFrame, counties: Sequence[Any], *, lang: str) -> str:
    """The province map as a self-contained page (Leaflet inlined: it works without internet)."""
    return map_html(province_map(outlines, counties, lang=lang))


def _scatter(points: Sequence[tuple[float, float, str]], *, title: str, x_label: str, y_label: str) -> str:
    """A small SVG scatter chart; each point carries its label as a tooltip."""
    w, h, pad = 420, 280, 48
    pts = [(x, y, lab) for x, y, lab in points if x is not None and y is not None]
    if not pts:
        return ""
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)

    def xy(x: float, y: float) -> tuple[float, float]:
        return pad + (x - x0) / (x1 - x0) * (w - 2 * pad), h - pad - (y - y0) / (y1 - y0) * (h - 2 * pad)

    dots = "".join(
        f'<circle cx="{xy(x, y)[0]:.1f}" cy="{xy(x, y)[1]:.1f}" r="5" fill="#2b6cb0"><title>{escape(lab)}</title></circle>'
        for x, y, lab in pts
    )
    axes = (
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#555"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="#555"/>'
        f'<text x="{w / 2}" y="{h - 10}" text-anchor="middle" font-size="12">{escape(x_label)}</text>'
        f'<text x="14" y="{h / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 {h / 2})">'
        f"{escape(y_label)}</text>"
        f'<text x="{pad}" y="{h - pad + 16}" font-size="11">{number(x0, 1)}</text>'
        f'<text x="{w - pad}" y="{h - pad + 16}" font-size="11" text-anchor="end">{number(x1, 1)}</text>'
        f'<text x="{pad - 4}" y="{h - pad}" font-size="11" text-anchor="end">{number(y0, 1)}</text>'
        f'<text x="{pad - 4}" y="{pad + 4}" font-size="11" text-anchor="end">{number(y1, 1)}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">'
        f'<text x="{w / 2}" y="18" text-anchor="middle" font-size="13">{escape(title)}</text>{axes}{dots}</svg>'
    )


def sweep_html(rows: Sequence[Any], best: Any, *, lang: str, minutes: int = 30, share: float = 95.0) -> str:
    """sweep.html: the question in plain words and its answer (``best``: the row with the fewest officers that
    reaches ``share`` % within ``minutes``, or None), the trade-off charts, the table of every combination
    (``rows``: :class:`planner.many.SweepRow`)."""
    keys = list(rows[0].values) if rows else []

    def label(r: Any) -> str:
        return ", ".join(f"{k}={v}" for k, v in r.values.items())

    question = t("many.sweep.question", lang, share=f"{share:g}", minutes=minutes)
    if best is not None:
        answer = t(
            "many.sweep.answer",
            lang,
            officers=best.officers,
            values=label(best),
            minutes=minutes,
            coverage=getattr(best, f"coverage_{minutes}"),
        )
    else:
        answer = t("many.sweep.no_answer", lang)
    charts = _scatter(
        [(r.officers, getattr(r, f"coverage_{minutes}"), label(r)) for r in rows if r.status != "failed"],
        title=t("many.sweep.chart.officers", lang, minutes=minutes),
        x_label=t("many.sweep.axis.officers", lang),
        y_label=t("many.sweep.axis.coverage", lang),
    )
    numeric = [k for k in keys if all(isinstance(r.values[k], int | float) for r in rows)]
    if numeric:
        k = numeric[0]
        charts += _scatter(
            [(r.values[k], r.mean_travel_min, label(r)) for r in rows if r.status != "failed"],
            title=t("many.sweep.chart.travel", lang, name=k),
            x_label=k,
            y_label=t("many.sweep.axis.travel", lang),
        )
    head = [
        *keys,
        t("many.col.status", lang),
        t("many.col.districts", lang),
        t("many.col.officers", lang),
        *(t("many.col.coverage", lang, minutes=m) for m in (15, 30, 60)),
        t("report.fig.mean_travel", lang),
        t("report.fig.max_travel", lang),
        t("many.col.breaks", lang),
        t("many.col.met", lang),
    ]
    table_rows = [
        [
            *(escape(r.values[k]) for k in keys),
            escape(t("many.status." + r.status, lang)),
            number(r.districts),
            number(r.officers),
            number(r.coverage_15, 1),
            number(r.coverage_30, 1),
            number(r.coverage_60, 1),
            number(r.mean_travel_min, 1),
            travel_minutes_text(r.max_travel_min),
            number(r.hard_breaks),
            number(r.visit_requirements_met_pct, 1),
        ]
        for r in rows
    ]
    body = (
        f'<p class="q">{escape(question)}</p><p class="q"><b>{escape(answer)}</b></p><div>{charts}</div>'
        f"{_table(head, table_rows, left=len(keys))}"
    )
    return _page(t("many.sweep.title", lang), body, lang)

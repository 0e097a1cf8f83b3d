"""map.html and report.html of a plan, opened from disk in headless Chromium (Debian's chromium package).

No internet: the map uses tiles="none" and its Leaflet scripts are inlined. Screenshots (and the report as PDF)
are kept in tests/artifacts/. Without Chromium these tests fail and say how to install it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Chromium, chromium_path
from plan_fixture import EVIL_NAME, STATION_EVIL, TEMPLATE_NAME, make_plan, with_stations

from planner.outputs.maps import map_html, plan_map
from planner.outputs.report import report_html

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    try:
        chromium_path()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    with Chromium() as browser:
        yield browser


def _count(browser: Chromium, selector: str) -> int:
    return browser.evaluate(f"document.querySelectorAll({json.dumps(selector)}).length")


def _pdf_pages(path: Path) -> int:
    """Pages of a PDF printed by Chromium (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", path.read_bytes()))


def _pdf_text(path: Path, *, page: int | None = None) -> str:
    """The text of one page (every page when None) with poppler's pdftotext (Debian's poppler-utils, which
    scripts/browser.sh installs beside Chromium)."""
    tool = shutil.which("pdftotext")
    assert tool is not None, "pdftotext is not installed: run scripts/browser.sh (Debian's poppler-utils)"
    pages = [] if page is None else ["-f", str(page), "-l", str(page)]
    cmd = [tool, *pages, str(path), "-"]
    return subprocess.run(cmd, capture_output=True, check=True, text=True).stdout


def _click(browser: Chromium, selector: str, index: int) -> None:
    """Click the centre of the index-th element matching selector, as a user would."""
    browser.evaluate(
        f"(() => {{ const el = document.querySelectorAll({json.dumps(selector)})[{index}];"
        " const r = el.getBoundingClientRect();"
        " el.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.x + r.width / 2,"
        " clientY: r.y + r.height / 2})); })()"
    )
    browser.pump(0.3)


def test_map_opens_without_errors_and_shows_every_layer(chromium: Chromium, tmp_path: Path) -> None:
    plan = make_plan()
    path = tmp_path / "map.html"
    path.write_text(map_html(plan_map(plan, tiles="none")), encoding="utf-8")
    log = chromium.open(path.as_uri())
    assert log.errors == []
    assert _count(chromium, "path.planner-village") == len(plan.villages)
    assert _count(chromium, "path.planner-district") == len(plan.districts)
    assert _count(chromium, "path.planner-current") == plan.current["district_id"].nunique()
    assert _count(chromium, "path.planner-office") == len(plan.offices)
    assert _count(chromium, "path.planner-access") == int(
        plan.villages["access"].isin(["walk", "unreachable"]).sum()
    )
    # 8 overlays: villages, boundaries, coverage, access, offices, current, one per officer; no base layer
    assert _count(chromium, ".leaflet-control-layers-overlays label") == 8
    assert _count(chromium, ".leaflet-control-layers-base label") == 0
    for control in (
        ".leaflet-control-scale",
        ".leaflet-control-zoom-fullscreen",
        ".leaflet-control-measure",
        ".planner-legend",
    ):
        assert _count(chromium, control) == 1, control
    chromium.screenshot(ARTIFACTS / "map.png")

    # routes are off until their layer is switched on: P1 has 4 legs
    assert _count(chromium, "path.planner-route") == 0
    labels = chromium.evaluate(
        "[...document.querySelectorAll('.leaflet-control-layers-overlays label')]"
        ".map(l => l.textContent.trim())"
    )
    _click(chromium, ".leaflet-control-layers-overlays input", labels.index("巡逻路线：P1"))
    assert _count(chromium, "path.planner-route") == int((plan.routes["officer_id"] == "P1").sum())

    # a village named <script> and one with JS template syntax show as text, and nothing runs
    _click(chromium, "path.planner-village", 1)
    assert EVIL_NAME in chromium.evaluate("document.querySelector('.leaflet-popup-content').textContent")
    _click(chromium, "path.planner-village", 6)
    assert TEMPLATE_NAME in chromium.evaluate("document.querySelector('.leaflet-popup-content').textContent")
    assert chromium.evaluate("document.querySelectorAll('.leaflet-popup-content script').length") == 0
    chromium.pump(0.3)
    assert chromium.log.dialogs == []
    assert chromium.log.errors == []
    chromium.screenshot(ARTIFACTS / "map_popup.png")


def test_map_without_routes_or_current_opens_without_errors(chromium: Chromium, tmp_path: Path) -> None:
    path = tmp_path / "map.html"
    path.write_text(
        map_html(plan_map(make_plan(routes=False, current=False), lang="en", tiles="none")), encoding="utf-8"
    )
    log = chromium.open(path.as_uri())
    assert log.errors == []
    assert _count(chromium, ".leaflet-control-layers-overlays label") == 5


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_opens_without_errors_and_prints(chromium: Chromium, tmp_path: Path, lang: str) -> None:
    plan = make_plan()
    path = tmp_path / "report.html"
    path.write_text(report_html(plan, lang=lang), encoding="utf-8")
    log = chromium.open(path.as_uri(), settle=0.3)
    assert log.errors == [] and log.dialogs == []
    assert _count(chromium, "section") == path.read_text(encoding="utf-8").count("<section ") >= 9
    assert _count(chromium, "svg") == 4  # the static map and three charts
    assert _count(chromium, "script") == 0
    assert EVIL_NAME in chromium.evaluate("document.body.innerText")
    chromium.screenshot(ARTIFACTS / f"report_{lang}.png", full_page=True)
    pdf = chromium.pdf(ARTIFACTS / f"report_{lang}.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_demo_pages_open_without_errors_and_show_the_plan(chromium: Chromium, demo_plan) -> None:
    """On the real demo plan: map.html shows every district, village, office and officer layer; report.html
    and route_sheets.html open without errors, the sheets one section per officer."""
    import geopandas as gpd

    out, p = demo_plan
    assert p.returncode == 0, p.stderr[-2000:]
    districts = gpd.read_file(out / "plan.gpkg", layer="districts")
    villages = gpd.read_file(out / "plan.gpkg", layer="villages")
    offices = gpd.read_file(out / "plan.gpkg", layer="offices")
    routes = gpd.read_file(out / "plan.gpkg", layer="routes")
    log = chromium.open((out / "map.html").as_uri(), settle=1.0)
    assert log.errors == [] and log.dialogs == []
    assert _count(chromium, "path.planner-village") == len(villages)
    assert _count(chromium, "path.planner-district") == len(districts)
    assert _count(chromium, "path.planner-office") == len(offices)
    stations = gpd.read_file(out / "plan.gpkg", layer="stations")
    assert _count(chromium, ".planner-station") == len(stations) > 0
    # villages, boundaries, coverage, access, offices, stations and one layer per officer with routes
    assert _count(chromium, ".leaflet-control-layers-overlays label") == 6 + routes["officer_id"].nunique()
    chromium.screenshot(ARTIFACTS / "demo_map.png")
    log = chromium.open((out / "report.html").as_uri(), settle=0.5)
    assert log.errors == [] and log.dialogs == []
    assert _count(chromium, "svg") == 4
    chromium.screenshot(ARTIFACTS / "demo_report.png", full_page=True)
    # report.pdf, printed by the pipeline: at most 6 A4 pages (it was 5 before the R9 tables were split to be
    # readable and the dropped visits were told per officer), the first page the chief's summary
    pdf = out / "report.pdf"
    assert 1 <= _pdf_pages(pdf) <= 6
    first = _pdf_text(pdf, page=1)
    assert "警务区划分与巡逻计划报告" in first and "结论" in first and "执行的规则" in first
    log = chromium.open((out / "route_sheets.html").as_uri(), settle=0.5)
    assert log.errors == [] and log.dialogs == []
    officers = len(json.loads((out / "summary.json").read_text(encoding="utf-8"))["roster"])
    assert _count(chromium, "section") == officers


def test_map_labels_districts_always_and_villages_when_zoomed_in(chromium: Chromium, tmp_path: Path) -> None:
    """District ids are drawn at every zoom; village names only from VILLAGE_LABEL_ZOOM in; the title has the
    month."""
    from planner.model import PlanData
    from planner.outputs.maplabels import VILLAGE_LABEL_ZOOM

    base = make_plan()
    plan = PlanData(base.villages, base.districts, base.offices, {**base.summary, "month": "2027-01"})
    path = tmp_path / "map.html"
    path.write_text(map_html(plan_map(plan, lang="zh")), encoding="utf-8")
    log = chromium.open(path.as_uri(), settle=0.5)
    assert log.errors == []
    assert "2027年1月" in chromium.evaluate("document.querySelector('.planner-title').innerText")
    labels = chromium.evaluate(
        "[...document.querySelectorAll('.planner-label.district')].map(e => e.innerText)"
    )
    assert sorted(labels) == sorted(plan.districts["district_id"])
    for zoom, shown in ((VILLAGE_LABEL_ZOOM - 2, 0), (VILLAGE_LABEL_ZOOM + 1, len(plan.villages))):
        chromium.evaluate(
            f"window.plannerLabels && Object.values(window).find(v => v instanceof L.Map).setZoom({zoom}), 0"
        )
        chromium.pump(0.6)
        assert _count(chromium, ".planner-label.village") == shown
        assert _count(chromium, ".planner-label.district") == len(plan.districts)
    assert EVIL_NAME not in chromium.evaluate("document.body.innerHTML")


def test_report_pdf_prints_the_first_page_and_stays_short(tmp_path: Path) -> None:
    """planner.io.pdf prints the report to A4: the first page holds the title, conclusion and rules."""
    from planner.io.pdf import report_pdf

    result = report_pdf(report_html(make_plan(), lang="zh"))
    assert result.pdf is not None, result.reason
    path = tmp_path / "report.pdf"
    path.write_bytes(result.pdf)
    assert 1 <= _pdf_pages(path) < 6
    first = _pdf_text(path, page=1)
    assert "警务区划分与巡逻计划报告" in first and "结论" in first and "执行的规则" in first
    # the stages' seconds are on the screen (for support), not on the signed paper
    assert "各步骤用时" in report_html(make_plan(), lang="zh") and "各步骤用时" not in _pdf_text(path)


_BOXES = """JSON.stringify(Object.fromEntries([
  ['legend', '.planner-legend'], ['layers', '.leaflet-control-layers'], ['buttons', '.leaflet-top.leaflet-left'],
  ['scale', '.leaflet-control-scale'], ['title', '.planner-title']
].filter(([k, s]) => document.querySelector(s)).map(([k, s]) => {
  const r = document.querySelector(s).getBoundingClientRect();
  return [k, [r.left, r.top, r.right, r.bottom]];
})))"""


@pytest.mark.parametrize("size", [(1366, 768), (1024, 600)])
def test_demo_map_legend_covers_no_control(demo_plan, size: tuple[int, int]) -> None:
    """On a laptop screen the legend's box meets neither the layer control (open, one line per officer), nor
    the zoom / full-screen / measure buttons, nor the scale bar; it stays inside the window."""
    out, p = demo_plan
    assert p.returncode == 0, p.stderr[-2000:]
    width, height = size
    with Chromium(width=width, height=height) as browser:
        log = browser.open((out / "map.html").as_uri(), settle=1.0)
        assert log.errors == []
        boxes = json.loads(browser.evaluate(_BOXES))
        browser.screenshot(ARTIFACTS / f"demo_map_{width}x{height}.png")
    assert {"legend", "layers", "buttons", "scale"} <= set(boxes)
    x0, y0, x1, y1 = boxes["legend"]
    assert x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height
    for name, (a0, b0, a1, b1) in boxes.items():
        if name != "legend":
            assert a1 <= x0 or x1 <= a0 or b1 <= y0 or y1 <= b0, (name, boxes)


def test_a_map_of_village_points_draws_dots_and_district_outlines_not_pins(
    chromium: Chromium, tmp_path: Path
) -> None:
    """Villages given as committee points (the common Chinese layer): each village is a coloured dot with its
    popup, each district an outline around its points; no Leaflet pin, whose image an offline map lacks."""
    import dataclasses

    plan = make_plan()
    points = plan.villages.assign(geometry=plan.villages.geometry.representative_point())
    districts = plan.districts.assign(
        geometry=[
            points[points["district_id"] == d].geometry.union_all() for d in plan.districts["district_id"]
        ]
    )
    plan = dataclasses.replace(plan, villages=points, districts=districts, current=None)
    path = tmp_path / "map.html"
    path.write_text(map_html(plan_map(plan, tiles="none")), encoding="utf-8")
    log = chromium.open(path.as_uri())
    assert log.errors == []
    assert _count(chromium, "img.leaflet-marker-icon") == 0
    assert _count(chromium, "path.planner-village") == len(plan.villages)
    assert _count(chromium, "path.planner-district") == len(plan.districts)
    _click(chromium, "path.planner-village", 1)
    assert EVIL_NAME in chromium.evaluate("document.querySelector('.leaflet-popup-content').textContent")
    chromium.screenshot(ARTIFACTS / "map_points.png")


def test_map_stations_are_badges_that_toggle_and_open_their_r9_popup(
    chromium: Chromium, tmp_path: Path
) -> None:
    """The police stations are HTML badges (no pin image), listed in the layer control, switched off and on
    there, and a click opens the station's popup with its name as text and its R9 figures."""
    plan = with_stations(make_plan())
    path = tmp_path / "map.html"
    path.write_text(map_html(plan_map(plan, tiles="none")), encoding="utf-8")
    log = chromium.open(path.as_uri())
    assert log.errors == []
    assert _count(chromium, "div.planner-station") == len(plan.stations)
    assert _count(chromium, "img.leaflet-marker-icon") == 0
    labels = chromium.evaluate(
        "[...document.querySelectorAll('.leaflet-control-layers-overlays label')]"
        ".map(l => l.textContent.trim())"
    )
    box = labels.index("派出所")
    _click(chromium, ".leaflet-control-layers-overlays input", box)
    assert _count(chromium, "div.planner-station") == 0
    _click(chromium, ".leaflet-control-layers-overlays input", box)
    assert _count(chromium, "div.planner-station") == len(plan.stations)
    _click(chromium, "div.planner-station", 0)
    popup = chromium.evaluate("document.querySelector('.leaflet-popup-content').textContent")
    assert STATION_EVIL in popup and "还需社区民警2" in popup.replace(" ", "")
    assert chromium.log.dialogs == [] and chromium.log.errors == []
    chromium.screenshot(ARTIFACTS / "map_stations.png")

"""A Chinese county's own layer end to end (issues 14 and 16): 牟定县 from the NBS list, no road data, short
names, a Shapefile export; the plan directory, `planner check` and `check --write` on it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from cli_run import run_planner

Plan = tuple[Path, subprocess.CompletedProcess[str]]


@pytest.fixture
def plan(county_plan: Plan) -> Path:
    out, p = county_plan
    assert p.returncode in (0, 1), p.stderr[-3000:]
    return out


def _files(folder: Path) -> set[str]:
    return {str(f.relative_to(folder)) for f in folder.rglob("*") if f.is_file()}


def test_check_write_keeps_every_file_plan_wrote_shapefiles_included(plan: Path, tmp_path: Path) -> None:
    """check --write on a plan exported with --shapefile-encoding GBK writes the same set of files, shp/
    included and still GBK, the layers still in CGCS2000 with the bureau's own column."""
    copy = Path(shutil.copytree(plan, tmp_path / "plan"))
    before = _files(copy)
    assert "shp/villages.shp" in before and "shp/fields.csv" in before
    p = run_planner("check", str(copy), "--write", "--lang", "en")
    assert p.returncode in (0, 1), p.stderr
    assert _files(copy) == before
    assert (copy / "shp" / "villages.cpg").read_text().strip().upper() == "GBK"
    info = pyogrio.read_info(copy / "plan.gpkg", layer="villages")
    assert info["crs"] == "EPSG:4490" and "备注" in list(info["fields"])


def test_short_names_are_shown_and_the_layers_keep_the_official_ones(plan: Path) -> None:
    """[names] short = true: report, map, route sheets and schedule.xlsx say 华星村 and 茅阳社区; plan.gpkg and
    the Shapefiles keep 华星村民委员会 and 茅阳社区居民委员会."""
    for page in ("report.html", "map.html", "route_sheets.html"):
        text = (plan / page).read_text(encoding="utf-8")
        assert "村民委员会" not in text and "居民委员会" not in text, page
    names = set(gpd.read_file(plan / "plan.gpkg", layer="villages")["name"])
    assert {"华星村民委员会", "茅阳社区居民委员会"} <= names
    assert "华星村民委员会" in set(gpd.read_file(plan / "shp" / "villages.shp")["name"])
    ws = openpyxl.load_workbook(plan / "schedule.xlsx").worksheets[0]
    cells = {str(c.value) for row in ws.iter_rows(min_row=2) for c in row if c.value is not None}
    assert not any("委员会" in c for c in cells)
    assert any(c.endswith("村") for c in cells)


def test_plan_prints_and_reports_completeness_against_the_official_list(county_plan: Plan) -> None:
    """plan --county: the terminal and the report say, in the same words, the official count, the two units
    left out, the added one and the renamed one (old -> new), short names as the rules ask."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from county_fixture import EXTRA

    out, p = county_plan
    assert p.returncode in (0, 1), p.stderr[-3000:]
    report = (out / "report.html").read_text(encoding="utf-8")
    part = report.split("<section id='completeness'>")[1].split("</section>")[0]
    for text in (
        "兴和社区 (532323101002)",
        "丰乐村 (532323103212)",
        f"{EXTRA[1]} ({EXTRA[0]})",
        "旧名村 → 龙排村",
    ):
        assert text in part and text in p.stderr, text
    assert "有89个村级单位；图层中对上87个" in part and "有89个村级单位；图层中对上87个" in p.stderr


def test_plan_without_roads_says_so_on_the_report_and_every_sheet(plan: Path) -> None:
    """--roads none: the report's data notes say every travel time is an estimate; every officer's route sheet
    names his villages whose times are estimated."""
    report = (plan / "report.html").read_text(encoding="utf-8")
    assert "全部88个村的车程均为估算值" in report.split("<section id='data'>")[1]
    sheets = (plan / "route_sheets.html").read_text(encoding="utf-8")
    sections = sheets.split("<section class='officer'")[1:]
    assert sections and all("class='note estimated'>以下" in s for s in sections)


def test_check_county_prints_the_comparison_and_write_keeps_it(plan: Path, tmp_path: Path) -> None:
    """check --county 532323 compares the plan's villages with the official list and prints it on stdout;
    with --write summary.json's nbs is the comparison made."""
    import json

    copy = Path(shutil.copytree(plan, tmp_path / "plan"))
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    del summary["nbs"]
    (copy / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    p = run_planner("check", str(copy), "--county", "532323", "--write", "--lang", "en")
    assert p.returncode in (0, 1), p.stderr
    assert "has 89 village-level units; the layer matches 87 of them" in p.stdout
    assert "2 official units are missing from the layer: 兴和社区 (532323101002)" in p.stdout
    nbs = json.loads((copy / "summary.json").read_text(encoding="utf-8"))["nbs"]
    assert nbs["matched"] == 87 and [e["village_id"] for e in nbs["extra"]] == ["X-001"]
    assert "id='completeness'" in (copy / "report.html").read_text(encoding="utf-8")

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

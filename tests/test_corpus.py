"""The corpus of bad inputs through the real CLI: exit code 2, a message naming the file, the feature and the fix,
no traceback, nothing written; plus the inputs that are odd but not errors (repaired geometry, GBK without .cpg,
a village beyond the roads) and hostile text (HTML in names, code in the rules file)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from corpus.make_corpus import COLS, CRS, SIZE, X0, Y0, Case, county, make_corpus, points_csv
from shapely.geometry import LineString

from planner.io import read_villages, write_layer

PLANNER = [sys.executable, "-m", "planner"]
ROOT = Path(__file__).resolve().parent.parent

# Known bugs, each described in the hardening report; the lead removes the mark with the fix.


def _run(argv: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PLANNER_CACHE": str(cwd / ".planner-cache")}
    return subprocess.run([*PLANNER, *argv], capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Case]]:
    where = tmp_path_factory.mktemp("corpus")
    return where, {c.name: c for c in make_corpus(where)}


@pytest.fixture(scope="module")
def answers(corpus) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every corpus command run once, four at a time (each mostly waits on imports)."""
    where, cases = corpus
    with ThreadPoolExecutor(max_workers=4) as pool:
        # the known-bug cases run a whole plan (slow): each is run by its own test
        futures = {name: pool.submit(_run, c.argv, where) for name, c in cases.items()}
        return {name: f.result() for name, f in futures.items()}


def _case_names() -> list[str]:
    # the names only; the files are written by the fixture
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        return [c.name for c in make_corpus(Path(d))]


@pytest.mark.parametrize("name", _case_names())
def test_bad_input_exits_2_with_a_message_naming_file_feature_and_fix(name: str, corpus, answers) -> None:
    """Each bad input: exit 2, the message holds the file, the feature or key, no traceback, no --out."""
    where, cases = corpus
    case = cases[name]
    p = answers[name] if name in answers else _run(case.argv, where)
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    assert "internal error" not in p.stderr, p.stderr[-3000:]
    assert p.returncode == case.code, p.stderr[-3000:]
    message = p.stderr.strip().splitlines()[-1]
    assert message.startswith("planner: ")
    for part in case.expect:
        assert part in message, f"{part!r} not in {message!r}"
    assert case.out is not None and not case.out.exists()
    assert not list(case.out.parent.glob(f".{case.out.name}.tmp-*")) if case.out.parent.exists() else True


def test_rules_file_is_data_not_code(corpus, answers) -> None:
    """A rules value holding Python is rejected as a value; nothing it says is executed."""
    where, _ = corpus
    assert answers["rules_code_is_text"].returncode == 2
    assert not (where / "PWNED").exists() and not (ROOT / "PWNED").exists()


def test_self_intersecting_polygon_is_repaired_with_a_warning(corpus, caplog) -> None:
    """A bow-tie village boundary is repaired (valid, same id, area kept) and the warning names it."""
    where, _ = corpus
    with caplog.at_level(logging.WARNING, logger="planner.io.villages"):
        v = read_villages(where / "bowtie.geojson")
    assert len(v) == 12
    assert shapely.is_valid(v.geometry.to_numpy()).all()
    assert v.loc["V00"].geometry.area > 0
    assert any("repaired" in r.message and "V00" in r.message for r in caplog.records)


def test_gbk_shapefile_without_cpg_keeps_chinese_names(corpus) -> None:
    """A Shapefile written in GBK whose .cpg was lost reads back with its Chinese names intact."""
    where, _ = corpus
    assert not (where / "gbk_no_cpg.cpg").exists()
    assert "张家村".encode("gbk") in (where / "gbk_no_cpg.dbf").read_bytes()
    v = read_villages(where / "gbk_no_cpg.shp")
    assert v.loc["V00", "name"] == "张家村"
    assert v.loc["V23", "name"] == "者黑村"
    assert set(v["township"]) == {"东乡", "西乡"}


# --- one real run: a village beyond the roads, and hostile names ----------------------------------------------
XSS = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def odd_plan(tmp_path_factory: pytest.TempPathFactory):
    """A 12-village county plus a village 10 km beyond the last road (inside the road file's extent: an isolated
    road piece lies farther east), with HTML in names, planned through the CLI."""
    where = tmp_path_factory.mktemp("odd")
    names = [f"村{k}" for k in range(12)]
    names[0] = XSS
    names[5] = '"><img src=x onerror=alert(1)>'
    villages, roads = county(names=names)
    east = X0 + (COLS - 0.5) * SIZE
    far = villages.iloc[[0]].copy()
    far.index = pd.Index(["VFAR"], name="village_id")
    far["name"] = "远村"
    far.geometry = far.geometry.translate(east + 10_000 - far.geometry.centroid.x.iloc[0], SIZE)
    table = points_csv(pd.concat([villages, far]))
    table.to_csv(where / "villages.csv", index=False)
    isolated = gpd.GeoDataFrame(
        {"highway": ["track"]},
        geometry=[LineString([(east + 20_000, Y0), (east + 20_000, Y0 + 2 * SIZE)])],
        crs=CRS,
    )
    write_layer(pd.concat([roads, isolated], ignore_index=True), where / "roads.gpkg", layer="roads")
    out = where / "plan"
    before = set(where.iterdir())
    p = _run(
        (
            "plan",
            "--villages",
            str(where / "villages.csv"),
            "--roads",
            str(where / "roads.gpkg"),
            "--out",
            str(out),
            "--month",
            "2026-12",
            "--lang",
            "en",
            "--time-limit",
            "10",
        ),
        where,
    )
    return where, out, p, before


@pytest.mark.slow
def test_village_beyond_the_roads_is_reported_not_an_error(odd_plan) -> None:
    """A village beyond walking reach of the roads does not stop the plan: its travel is estimated (issue 14),
    it is listed in summary.json and kept in the layer, flagged."""
    _, out, p, _ = odd_plan
    assert "Traceback" not in p.stderr
    assert p.returncode in (0, 1), p.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["estimated_villages"] == ["VFAR"] and s["unreachable_villages"] == []
    assert s["villages"] == 13
    v = gpd.read_file(out / "plan.gpkg", layer="villages").set_index("village_id")
    assert v.loc["VFAR", "access"] == "estimated"


@pytest.mark.slow
def test_unreachable_village_carries_its_reason(odd_plan) -> None:
    """Why a village is off the roads reaches the plan files (summary.json and the villages layer), with the
    estimate that replaced its road travel."""
    _, out, _, _ = odd_plan
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    v = gpd.read_file(out / "plan.gpkg", layer="villages").set_index("village_id")
    assert "walking limit" in s["access_reasons"]["VFAR"]["reason"]
    assert s["access_reasons"]["VFAR"]["access"] == "estimated"
    assert "estimated" in s["access_reasons"]["VFAR"]["reason"]
    assert s["access_reasons"]["VFAR"]["reason_zh"]
    assert "walking limit" in str(v.loc["VFAR", "access_reason"])


@pytest.mark.slow
def test_names_with_html_are_escaped_in_map_and_report(odd_plan) -> None:
    """Village names holding <script> or an attribute break-out appear escaped in map.html and report.html."""
    _, out, p, _ = odd_plan
    assert p.returncode in (0, 1), p.stderr[-3000:]
    for page in ("map.html", "report.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "<script>alert('x')</script>" not in html, page
        assert "<img src=x onerror=alert(1)>" not in html, page
    assert "&lt;script&gt;" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_outputs_stay_inside_out(odd_plan) -> None:
    """The run adds exactly the plan directory beside its inputs: no temporary or stray files."""
    where, out, p, before = odd_plan
    assert p.returncode in (0, 1)
    assert set(where.iterdir()) - before == {out, where / ".planner-cache"}  # the cache is set by the test
    for f in out.rglob("*"):
        assert f.resolve().is_relative_to(out.resolve())


# --- one real run: ids a spreadsheet would run as formulas ------------------------------------------------------
FORMULAS = ["=1+1", '=HYPERLINK("http://x.example","x")', "+V02", "-V03", "@V10", "V11;=2+2"]


def test_ids_that_look_like_formulas_are_inert_in_the_schedule(tmp_path: Path) -> None:
    """Village and officer ids starting with = + - @ are written with a leading ' in schedule.csv and
    schedule.xlsx (no formula cell, no sheet named like a formula); the plan layers keep the ids as given."""
    import openpyxl

    villages, roads = county()
    ids = [*FORMULAS, *villages.index[len(FORMULAS) :]]
    villages.index = pd.Index(ids, name="village_id")
    points_csv(villages).to_csv(tmp_path / "villages.csv", index=False)
    write_layer(roads, tmp_path / "roads.gpkg", layer="roads")
    pd.DataFrame(
        {
            "officer_id": ["=1+1", "@P2", "-P3"],
            "office": [ids[0], ids[6], ids[11]],
            "kind": ["resident", "resident", "resident"],
            "village_id": [ids[0], ids[6], ids[11]],
        }
    ).to_csv(tmp_path / "officers.csv", index=False)
    out = tmp_path / "plan"
    argv = ("plan", "--villages", str(tmp_path / "villages.csv"), "--roads", str(tmp_path / "roads.gpkg"))
    more = ("--officers", str(tmp_path / "officers.csv"), "--month", "2026-12", "--time-limit", "5")
    p = _run((*argv, *more, "--out", str(out), "--lang", "en"), tmp_path)
    assert p.returncode in (0, 1), p.stderr[-3000:]
    danger = ("=", "+", "-", "@", "\t", "\r")
    rows = pd.read_csv(out / "schedule.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert {"'=1+1", "'@P2", "'-P3"} <= set(rows["officer_id"])
    for col in rows.columns:
        assert not rows[col].str.startswith(danger).any(), col
    book = openpyxl.load_workbook(out / "schedule.xlsx")
    assert not [ws.title for ws in book.worksheets if ws.title.startswith(danger)]
    for ws in book.worksheets:
        for row in ws.iter_rows():
            assert not [c.coordinate for c in row if c.data_type == "f"], ws.title
    layer = gpd.read_file(out / "plan.gpkg", layer="villages")
    assert set(FORMULAS) <= set(layer["village_id"])

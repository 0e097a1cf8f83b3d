"""planner.many: a province on a Dask LocalCluster, resumed runs, and what-if sweeps (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from cli_run import run_planner
from corpus.make_corpus import county

from planner.errors import ValidationError
from planner.many import SweepRow, combinations, county_folder, fewest_officers, parse_vary, split_counties
from planner.rules import Rules

ROOT = Path(__file__).resolve().parents[1]


def test_vary_reads_toml_values_and_keeps_lists_whole():
    """--vary values are TOML values (numbers, booleans, lists), split on commas outside brackets."""
    vary = parse_vary(
        ["districts.max_villages=6,8", 'patrol.night_window=["19:00","20:00"],["20:00","21:00"]']
    )
    assert vary == {
        "districts.max_villages": [6, 8],
        "patrol.night_window": [["19:00", "20:00"], ["20:00", "21:00"]],
    }


def test_every_combination_is_validated_and_a_bad_key_names_itself():
    """Two keys of two values give four rule sets; an unknown key is an input error naming it."""
    combos = combinations(
        Rules().to_dict(), parse_vary(["districts.max_villages=6,8", "districts.min_villages=3,4"])
    )
    assert [c for c, _ in combos] == [
        {"districts.max_villages": 6, "districts.min_villages": 3},
        {"districts.max_villages": 6, "districts.min_villages": 4},
        {"districts.max_villages": 8, "districts.min_villages": 3},
        {"districts.max_villages": 8, "districts.min_villages": 4},
    ]
    assert combos[2][1].districts.max_villages == 8
    with pytest.raises(ValidationError, match=r"districts\.max_village"):
        combinations(Rules().to_dict(), parse_vary(["districts.max_village=6"]))
    with pytest.raises(ValidationError, match=r"SECTION\.KEY"):
        parse_vary(["max_villages"])


def test_fewest_officers_answers_the_question_among_plans_without_hard_breaks():
    """The answer is the fewest officers reaching the share; a plan with hard breaks never answers."""
    rows = [
        SweepRow({"k": 1}, "planned", officers=10, coverage_30=96.0),
        SweepRow({"k": 2}, "planned", officers=8, coverage_30=95.0),
        SweepRow({"k": 3}, "breaks", officers=6, coverage_30=99.0),
        SweepRow({"k": 4}, "planned", officers=7, coverage_30=90.0),
    ]
    assert fewest_officers(rows, minutes=30, share=95.0).values == {"k": 2}
    assert fewest_officers(rows, minutes=30, share=97.0) is None


def test_counties_split_each_into_its_own_metric_crs_and_missing_counties_are_named():
    """A county's villages are projected to their own UTM zone; a village without a county is an input error."""
    villages, _ = county(cols=4, rows=2)
    wgs = villages.to_crs(4326)
    east = wgs.copy()
    east.geometry = wgs.geometry.translate(xoff=7.0)  # seven degrees east: another UTM zone
    east.index = [f"E{i}" for i in range(len(east))]
    both = gpd.GeoDataFrame(pd.concat([wgs, east]), crs=4326).to_crs(villages.crs)
    names = pd.Series(["west"] * len(wgs) + ["east"] * len(east), index=both.index)
    parts = split_counties(both, names)
    assert sorted(parts) == ["east", "west"]
    assert parts["west"].crs != parts["east"].crs
    assert len(parts["east"]) == len(east)
    names.iloc[0] = ""
    with pytest.raises(ValidationError, match="no county"):
        split_counties(both, names)
    assert county_folder('a/b:"c"') == "a_b__c_"


@pytest.mark.slow
def test_a_province_of_two_real_regions_plans_both_counties_and_a_rerun_resumes(tmp_path, shared):
    """CI's province: Andorra and Liechtenstein as two counties on a LocalCluster of 2 workers; both plans pass
    `planner check`, province.json and index.html list them, and a second run keeps both without planning."""
    raw = shared / "data" / "raw"
    li = tmp_path / "li.gpkg"
    p = run_planner(
        "prepare-osm",
        "--osm",
        str(raw / "osm-liechtenstein-2024" / "liechtenstein-latest.osm.pbf"),
        "--out",
        str(li),
    )
    assert p.returncode == 0, p.stderr
    a = gpd.read_file(ROOT / "data" / "demo" / "villages.gpkg").to_crs(4326).assign(county="安道尔")
    b = gpd.read_file(li).to_crs(4326).assign(county="Liechtenstein")
    layer = tmp_path / "province.gpkg"
    gpd.GeoDataFrame(pd.concat([a, b], ignore_index=True), crs=4326).to_file(layer, layer="villages")
    args = [
        "province",
        "--villages",
        str(layer),
        "--county-col",
        "county",
        "--roads",
        str(ROOT / "data" / "demo" / "roads.osm.bz2"),
        "--roads",
        str(raw / "osm-liechtenstein-2024" / "liechtenstein-drive.osm.bz2"),
        "--out",
        str(tmp_path / "out"),
        "--month",
        "2026-12",
        "--workers",
        "2",
        "--lang",
        "en",
    ]
    first = run_planner(*args)
    assert first.returncode == 1, first.stderr  # Andorra la Vella breaks R2 (24,678 residents in one village)
    province = json.loads((tmp_path / "out" / "province.json").read_text(encoding="utf-8"))
    status = {c["county"]: c for c in province["county_list"]}
    assert set(status) == {"安道尔", "Liechtenstein"}
    assert status["Liechtenstein"]["status"] == "planned" and status["安道尔"]["status"] == "breaks"
    assert status["Liechtenstein"]["villages"] == len(b) and status["安道尔"]["villages"] == len(a)
    assert province["workers"] == 2
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="Liechtenstein/report.html"' in index and 'href="安道尔/report.html"' in index
    from browser import Chromium

    with Chromium() as browser:  # the province map draws both outlines, with no script error
        log = browser.open((tmp_path / "out" / "province_map.html").as_uri())
        assert log.errors == []
        assert browser.evaluate("document.querySelectorAll('path.leaflet-interactive').length") == 2
    check = run_planner("check", str(tmp_path / "out" / "Liechtenstein"), "--lang", "en")
    assert check.returncode == 0, check.stdout + check.stderr
    check = run_planner("check", str(tmp_path / "out" / "安道尔"), "--lang", "en", "-v")
    assert check.returncode == 1 and "R2" in check.stdout  # the same break as the plan, and no other rule
    hard = {line.split("\t")[0] for line in check.stdout.splitlines() if "\thard\t" in line}
    assert hard <= {"R2", "R5"}  # soft notes (C5 routes through a neighbour) may come beside them
    stamp = (tmp_path / "out" / "Liechtenstein" / "summary.json").stat().st_mtime_ns
    second = run_planner(*args)
    assert second.returncode == 1, second.stderr
    assert second.stderr.count("kept from an earlier run") == 2
    again = json.loads((tmp_path / "out" / "province.json").read_text(encoding="utf-8"))
    assert [c["resumed"] for c in again["county_list"]] == [True, True]
    assert {c["county"]: c["status"] for c in again["county_list"]} == {
        "安道尔": "breaks",
        "Liechtenstein": "planned",
    }
    assert (tmp_path / "out" / "Liechtenstein" / "summary.json").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_a_sweep_plans_every_combination_and_answers_its_question(tmp_path):
    """Two values of max_villages on a small county: sweep.csv has one row each, sweep.html the question."""
    villages, lines = county(cols=5, rows=4)
    vpath, rpath = tmp_path / "villages.gpkg", tmp_path / "roads.gpkg"
    villages.reset_index().to_file(vpath, layer="villages")
    lines.to_file(rpath)
    p = run_planner(
        "sweep",
        "--villages",
        str(vpath),
        "--roads",
        str(rpath),
        "--out",
        str(tmp_path / "sweep"),
        "--vary",
        "districts.max_villages=6,8",
        "--month",
        "2026-12",
        "--workers",
        "2",
        "--lang",
        "en",
    )
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert table["districts.max_villages"].tolist() == [6, 8]
    assert (table["status"] != "failed").all()
    assert table.loc[0, "districts"] >= table.loc[1, "districts"]  # smaller districts: at least as many
    page = (tmp_path / "sweep" / "sweep.html").read_text(encoding="utf-8")
    assert "Question: how many officers" in page and "<svg" in page


def test_a_provinces_counties_keep_the_bureaus_columns_and_crs(tmp_path):
    """planner province reads the layer as plan does (keep="all"): each county's plan.gpkg carries 备注 and the
    county column and is written in the input's CGCS2000, though each county is planned in its own metric
    CRS."""
    import argparse

    import geopandas as gpd
    import pyogrio

    from planner.cli.many import _read
    from planner.io.files import DEMO_DIR
    from planner.many import plan_county, split_counties
    from planner.rules import Rules

    v = gpd.read_file(DEMO_DIR / "villages.gpkg").head(12)
    v["备注"] = [f"注{i}" for i in range(len(v))]
    v["县"] = ["甲县"] * 6 + ["乙县"] * 6
    path = tmp_path / "v.gpkg"
    v.to_crs(4490).to_file(path, layer="villages", driver="GPKG")
    options = dict.fromkeys(
        (
            "id_col",
            "name_col",
            "township_col",
            "population_col",
            "layer",
            "encoding",
            "lon_col",
            "lat_col",
            "crs",
        )
    )
    args = argparse.Namespace(villages=str(path), coords="wgs84", lang="en", **options)
    counties = split_counties(_read(args), _read(args)["县"])
    assert {c.attrs["detected"]["crs"] for c in counties.values()} == {"EPSG:4490"}
    out = tmp_path / "out" / "甲县"
    outcome = plan_county(
        "甲县",
        counties["甲县"],
        [str(DEMO_DIR / "roads.osm.bz2")],
        out,
        rules=Rules.from_dict({"districts": {"min_villages": 1, "max_villages": 6}}).to_dict(),
        month="2026-12",
        seed=0,
        time_limit=None,
        lang="en",
        overwrite=False,
        cache_dir=None,
    )
    assert outcome.status != "failed", outcome.reason
    info = pyogrio.read_info(out / "plan.gpkg", layer="villages")
    assert info["crs"] == "EPSG:4490" and {"备注", "县"} <= set(info["fields"])


def test_a_province_plans_its_largest_counties_first(tmp_path, monkeypatch):
    """Longest-processing-time first: on one worker thread the counties are planned from the most villages to
    the fewest (ties by name), whatever order the layer lists them in, so that with several workers none is left
    planning the largest county alone at the end. The result still lists the counties sorted by name."""
    from distributed import Client

    import planner.many as many

    log = tmp_path / "order.txt"  # the task is serialised to the worker: it reports through a file

    def fake_plan_county(county, villages, road_files, out, **_):
        with log.open("a") as f:
            f.write(county + "\n")
        return many.CountyOutcome(county, many.county_folder(county), "planned", len(villages))

    monkeypatch.setattr(many, "plan_county", fake_plan_county)
    sizes = {"a": 3, "b": 9, "c": 1, "d": 9, "e": 5}
    counties = {name: pd.DataFrame({"x": range(n)}) for name, n in sizes.items()}
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        result = many.plan_province(
            counties, [], tmp_path, client=client, rules=Rules(), month="2026-12", overwrite=True
        )
    assert log.read_text().split() == ["b", "d", "e", "a", "c"]
    assert [o.county for o in result.counties] == ["a", "b", "c", "d", "e"]

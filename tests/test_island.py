"""An island with its own roads and its own office (issue 12): its villages are patrolled, not unreachable."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
from cli_run import run_planner
from corpus.make_corpus import county


def test_an_island_with_its_own_roads_gets_its_own_district_and_patrols(tmp_path):
    """A mainland of 10 villages and, 40 km away, an island of 6 with roads of its own: no village is
    unreachable, the island is a district of its own and every island visit is planned by its officer."""
    main, main_roads = county(cols=5, rows=2)
    isle, isle_roads = county(cols=3, rows=2)
    isle = isle.set_geometry(isle.geometry.translate(40_000, 0))
    isle.index = [f"I{i}" for i in range(len(isle))]
    isle["township"] = "岛乡"
    isle_roads = isle_roads.set_geometry(isle_roads.geometry.translate(40_000, 0))
    villages = gpd.GeoDataFrame(pd.concat([main, isle]), crs=main.crs)
    villages.index.name = "village_id"
    roads = gpd.GeoDataFrame(pd.concat([main_roads, isle_roads], ignore_index=True), crs=main.crs)
    vpath, rpath = tmp_path / "villages.gpkg", tmp_path / "roads.gpkg"
    villages.reset_index().to_file(vpath, layer="villages")
    roads.to_file(rpath)
    out = tmp_path / "plan"
    p = run_planner(
        "plan",
        "--villages",
        str(vpath),
        "--roads",
        str(rpath),
        "--out",
        str(out),
        "--month",
        "2026-12",
        "--lang",
        "en",
        timeout=600,
    )
    assert p.returncode in (0, 1), p.stderr
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["unreachable_villages"] == [] and s["estimated_villages"] == []
    layer = gpd.read_file(out / "plan.gpkg", layer="villages").set_index("village_id")
    assert layer.loc[list(isle.index), "district_id"].nunique() == 1
    assert set(layer.loc[list(isle.index), "district_id"]).isdisjoint(
        set(layer.loc[list(main.index), "district_id"])
    )
    assert "own" in layer.loc["I0", "access_reason"]
    assert not [d for d in s["dropped_visits"] if d["village_id"].startswith("I")]
    schedule = pd.read_csv(out / "schedule.csv", dtype=str)
    assert set(isle.index) <= set(schedule.loc[schedule["activity"] == "visit", "village_id"])

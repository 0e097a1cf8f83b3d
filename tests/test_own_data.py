"""The bureau's own data kept: its columns, its CRS, readable Shapefile field names, and what was detected."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from planner.io import read_villages
from planner.io.files import DEMO_DIR
from planner.io.plan_files import write_plan_dir
from tests.test_plan_files import _plan


def _layer(tmp_path: Path, crs: int = 4490) -> Path:
    v = gpd.read_file(DEMO_DIR / "villages.gpkg").head(12)
    v["备注"] = [f"注{i}" for i in range(len(v))]
    v["district_id"] = "old"  # a planner column in the input is not kept as the user's own
    path = tmp_path / "v.gpkg"
    v.to_crs(crs).to_file(path, layer="villages", driver="GPKG")
    return path


def test_keep_all_keeps_the_users_columns_and_records_what_was_detected(tmp_path: Path) -> None:
    """keep='all': 备注 comes along, the planner's own names do not; attrs['detected'] names the id, name,
    township and population columns and the input CRS (CGCS2000)."""
    v = read_villages(_layer(tmp_path), keep="all")
    assert v["备注"].tolist()[:2] == ["注0", "注1"] and "district_id" not in v.columns
    found = v.attrs["detected"]
    assert (found["id"], found["name"], found["population"]) == ("village_id", "name", "population")
    assert found["crs"] == "EPSG:4490" and found["kept"] == ["备注"] and not found["gcj02"]


def test_gcj02_input_is_recorded_as_converted(tmp_path: Path) -> None:
    """A GCJ-02 layer read with coords='gcj02' is recorded as WGS-84 output, converted."""
    v = read_villages(_layer(tmp_path, 4326), coords="gcj02")
    assert v.attrs["detected"]["crs"] == "EPSG:4326" and v.attrs["detected"]["gcj02"]


def test_layers_written_in_the_input_crs_with_short_shapefile_fields(tmp_path: Path) -> None:
    """summary['layer_crs'] EPSG:4490: plan.gpkg's layers are CGCS2000; the Shapefiles use the documented short
    names, listed in shp/fields.csv, and keep a Chinese column."""
    plan = _plan()
    plan = dataclasses.replace(
        plan,
        summary={**plan.summary, "layer_crs": "EPSG:4490"},
        villages=plan.villages.assign(备注="x", a_very_long_column=1, a_very_long_column2=2),
    )
    out = write_plan_dir(plan, tmp_path / "plan", shapefile_encoding="GBK")
    for layer in ("villages", "districts", "offices", "routes"):
        assert pyogrio.read_info(out / "plan.gpkg", layer=layer)["crs"] == "EPSG:4490"
    fields = pd.read_csv(out / "shp" / "fields.csv", encoding="utf-8-sig")
    vil = dict(zip(fields.loc[fields["layer"] == "villages", "column"], fields["field"], strict=False))
    assert vil["district_id"] == "district" and vil["travel_min_to_office"] == "travel_min"
    assert vil["a_very_long_column"] == "a_very_lon" and vil["a_very_long_column2"] == "a_very_l_2"
    shp = gpd.read_file(out / "shp" / "villages.shp")
    assert {"district", "travel_min", "备注", "a_very_l_2"} <= set(shp.columns)

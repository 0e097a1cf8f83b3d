"""planner.io.current: the districts in force today and locked villages, read against the village layer."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from planner.errors import ValidationError
from planner.io import locked_villages, read_current, read_villages, write_layer
from tests.test_io import IDS, _source, _write_csv, _write_gpkg


@pytest.fixture
def villages(tmp_path: Path) -> gpd.GeoDataFrame:
    return read_villages(_write_gpkg(_source(), tmp_path / "villages.gpkg"))


def test_read_current_from_csv(tmp_path: Path, villages: gpd.GeoDataFrame) -> None:
    """A village_id,district_id table maps every village; missing villages are named."""
    districts = ["D1", "D1", "D2", "D2", "D3"]
    path = _write_csv(
        tmp_path / "cur.csv",
        [[i, d] for i, d in zip(IDS, districts, strict=True)],
        ["village_id", "district_id"],
    )
    cur = read_current(path, villages)
    assert list(cur.index) == IDS and list(cur) == districts
    path = _write_csv(
        tmp_path / "cur2.csv",
        [[i, d] for i, d in zip(IDS[:3], districts[:3], strict=True)],
        ["村代码", "警务区"],
    )
    with pytest.raises(ValidationError, match=r"no district for 2 villages: 532527100204, 532527100205"):
        read_current(path, villages)


def test_read_current_from_villages_layer(tmp_path: Path, villages: gpd.GeoDataFrame) -> None:
    """A villages layer that carries district_id is joined by id."""
    layer = villages.assign(district_id=["D1", "D2", "D1", "D2", "D2"])
    path = write_layer(layer, tmp_path / "cur.gpkg")
    assert list(read_current(path, villages)) == ["D1", "D2", "D1", "D2", "D2"]


def test_read_current_from_district_polygons(tmp_path: Path, villages: gpd.GeoDataFrame) -> None:
    """District polygons (in another CRS) are joined by the villages' representative points."""
    west = shapely.box(103.69, 24.49, 103.7199, 24.55)
    east = shapely.box(103.7199, 24.49, 103.77, 24.55)
    polys = gpd.GeoDataFrame({"id": [1, 2], "警务区": ["西区", "东区"]}, geometry=[west, east], crs=4490)
    path = _write_gpkg(polys, tmp_path / "districts.gpkg")
    assert list(read_current(path, villages)) == ["西区", "东区", "西区", "东区", "东区"]
    small = gpd.GeoDataFrame({"district_id": ["W"]}, geometry=[west], crs=4326)
    with pytest.raises(ValidationError, match=r"no district for 3 villages: 532527100202, 532527100204"):
        read_current(_write_gpkg(small, tmp_path / "small.gpkg"), villages)


def test_locked_villages_from_a_table_file(tmp_path: Path, villages: gpd.GeoDataFrame) -> None:
    """--lock FILE reads any table format (here a GBK CSV) through read_table: village and district ids."""
    current = pd.Series(["D1", "D1", "D2", "D2", "D3"], index=villages.index)
    path = tmp_path / "lock.csv"
    path.write_bytes(f"village_id,district_id\n{IDS[0]},\n,D2\n".encode("gb18030"))
    assert locked_villages(str(path), current) == [IDS[0], IDS[2], IDS[3]]
    with pytest.raises(ValidationError, match=r"--lock .*missing\.csv: file not found"):
        locked_villages(str(tmp_path / "missing.csv"), current)

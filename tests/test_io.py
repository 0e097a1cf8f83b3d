"""Tests of planner.io: village ingest (formats, encodings, CRS, GCJ-02), validation, atomic writes, roster."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

from planner.errors import ValidationError
from planner.geo import gcj02_to_wgs84, metric_crs, wgs84_to_gcj02
from planner.io import (
    atomic_output_dir,
    read_current,
    read_roster,
    read_villages,
    write_layer,
)

GEOD = pyproj.Geod(ellps="WGS84")

# Five villages near Luxi county, Yunnan (103.7E, 24.5N: UTM zone 48N), as 0.02-degree squares.
IDS = ["532527100201", "532527100202", "532527100203", "532527100204", "532527100205"]
NAMES = ["张家村", "李家寨", "王家营", "石洞村", "白水社区"]
TOWNS = ["中枢镇", "中枢镇", "金马镇", "金马镇", "白水镇"]
POPS = [1200, 2300, 0, 850, 4100]
ORIGINS = [(103.70, 24.50), (103.72, 24.50), (103.70, 24.52), (103.72, 24.52), (103.74, 24.50)]


def _source(crs: str = "EPSG:4326", *, pop_col: str = "实有人口") -> gpd.GeoDataFrame:
    """The villages with the Chinese column names county data usually has.

    A UTF-8 Shapefile field name holds at most 10 bytes (3 Chinese characters), so those tests use 人口.
    """
    polys = [shapely.box(x, y, x + 0.02, y + 0.02) for x, y in ORIGINS]
    gdf = gpd.GeoDataFrame(
        {"村代码": IDS, "村名": NAMES, "乡镇": TOWNS, pop_col: POPS}, geometry=polys, crs="EPSG:4326"
    )
    return gdf.to_crs(crs) if crs != "EPSG:4326" else gdf


def _write_csv(path: Path, rows: list[list[object]], header: list[str], *, encoding: str = "utf-8") -> Path:
    df = pd.DataFrame(rows, columns=header)
    df.to_csv(path, index=False, encoding=encoding)
    return path


def _check_villages(v: gpd.GeoDataFrame) -> None:
    assert sorted(v.index) == IDS  # FlatGeobuf's spatial index reorders features
    v = v.loc[IDS]
    assert v.index.name == "village_id"
    assert list(v["name"]) == NAMES
    assert list(v["township"]) == TOWNS
    assert list(v["population"]) == POPS
    assert v["population"].dtype == np.int64
    assert set(v["population_source"]) == {"given"}
    assert v.crs.to_epsg() == 32648


@pytest.mark.parametrize("ext", [".gpkg", ".geojson", ".fgb", ".shp"])
def test_each_layer_format_reads_into_the_village_model(tmp_path: Path, ext: str) -> None:
    """GeoPackage, GeoJSON, FlatGeobuf and Shapefile give the same villages, areas kept, in UTM 48N."""
    src = _source(pop_col="人口" if ext == ".shp" else "实有人口")
    path = tmp_path / f"villages{ext}"
    pyogrio.write_dataframe(src, path)
    v = read_villages(path)
    _check_villages(v)
    expected_area = src.to_crs(32648).area.to_numpy()
    np.testing.assert_allclose(v.loc[IDS].area.to_numpy(), expected_area, rtol=1e-6)
    assert (v.geom_type == "Polygon").all()


def test_csv_lon_lat_points_with_detected_columns(tmp_path: Path) -> None:
    """A CSV with 经度/纬度 becomes WGS-84 points projected to UTM; thousands separators are accepted."""
    rows = [
        [i, n, t, f"{p:,}", x, y] for i, n, t, p, (x, y) in zip(IDS, NAMES, TOWNS, POPS, ORIGINS, strict=True)
    ]
    path = _write_csv(tmp_path / "v.csv", rows, ["村代码", "村名", "乡镇", "实有人口", "经度", "纬度"])
    v = read_villages(path)
    _check_villages(v)
    back = v.to_crs(4326)
    np.testing.assert_allclose(back.geometry.x, [x for x, _ in ORIGINS], atol=1e-9)
    np.testing.assert_allclose(back.geometry.y, [y for _, y in ORIGINS], atol=1e-9)


def test_csv_in_gbk_and_english_columns(tmp_path: Path) -> None:
    """A GBK-encoded CSV (Excel on Chinese Windows) is read; lng/lat and English names detected."""
    rows = [[i, n, t, p, x, y] for i, n, t, p, (x, y) in zip(IDS, NAMES, TOWNS, POPS, ORIGINS, strict=True)]
    path = _write_csv(
        tmp_path / "v.csv", rows, ["code", "name", "town", "population", "lng", "lat"], encoding="gbk"
    )
    _check_villages(read_villages(path))


@pytest.mark.parametrize("ext", [".gpkg", ".geojson", ".fgb", ".shp"])
def test_write_layer_round_trip(tmp_path: Path, ext: str) -> None:
    """What write_layer writes, read_villages reads back unchanged (ids, names, population, geometry)."""
    pyogrio.write_dataframe(_source(), tmp_path / "src.gpkg")
    v = read_villages(tmp_path / "src.gpkg")
    out = write_layer(v, tmp_path / "out" / f"villages{ext}")
    assert out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary left behind
    w = read_villages(out)
    _check_villages(w)
    w = w.loc[v.index]
    # a Shapefile stores rings clockwise: compare normalised coordinates
    assert w.geometry.normalize().geom_equals_exact(v.geometry.normalize(), tolerance=1e-3).all()


def test_write_layer_shapefile_in_gbk_with_cpg(tmp_path: Path) -> None:
    """encoding='GBK' writes GBK bytes and a .cpg, which the reader honours."""
    pyogrio.write_dataframe(_source(), tmp_path / "src.gpkg")
    v = read_villages(tmp_path / "src.gpkg")
    path = write_layer(v, tmp_path / "v.shp", encoding="GBK")
    assert path.with_suffix(".cpg").read_text().strip().upper() == "GBK"
    assert "张家村".encode("gbk") in path.with_suffix(".dbf").read_bytes()
    assert list(read_villages(path)["name"]) == NAMES


def test_gbk_shapefile_without_cpg_is_detected(tmp_path: Path) -> None:
    """A GBK shapefile whose .cpg is lost is read as GB18030, not as mojibake."""
    path = tmp_path / "gbk.shp"
    pyogrio.write_dataframe(_source(), path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    _check_villages(read_villages(path))


def test_shapefile_cpg_is_honoured_and_encoding_overrides(tmp_path: Path) -> None:
    """With a .cpg the declared encoding is used; encoding= reads a file whose .cpg is missing."""
    path = tmp_path / "gbk.shp"
    pyogrio.write_dataframe(_source(), path, encoding="GBK")
    _check_villages(read_villages(path))
    path.with_suffix(".cpg").unlink()
    _check_villages(read_villages(path, encoding="GBK"))


def test_utf8_shapefile_without_cpg(tmp_path: Path) -> None:
    """A UTF-8 shapefile without .cpg stays UTF-8 (GDAL alone would read it as Latin-1)."""
    path = tmp_path / "utf8.shp"
    pyogrio.write_dataframe(_source(pop_col="人口"), path, encoding="UTF-8")
    path.with_suffix(".cpg").unlink()
    _check_villages(read_villages(path))


def test_cgcs2000_input(tmp_path: Path) -> None:
    """A layer in CGCS2000 (EPSG:4490) and one in a CGCS2000 Gauss-Kruger zone land where WGS-84 does."""
    ref = read_villages(_write_gpkg(_source(), tmp_path / "wgs.gpkg"))
    for crs in ("EPSG:4490", "EPSG:4543"):  # geographic, and the 3-degree GK zone CM 102E
        src = _source().set_crs(crs if crs == "EPSG:4490" else "EPSG:4490", allow_override=True)
        v = read_villages(_write_gpkg(src.to_crs(crs), tmp_path / f"{crs[5:]}.gpkg"))
        _check_villages(v)
        # CGCS2000 and WGS-84 agree to centimetres; pyproj treats the datum shift as null
        assert v.geometry.centroid.distance(ref.geometry.centroid).max() < 0.05


def _write_gpkg(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    pyogrio.write_dataframe(gdf, path)
    return path


def test_layer_without_crs_needs_crs_option(tmp_path: Path) -> None:
    """A shapefile without .prj is an error naming the file and --crs; with crs= it is read."""
    path = tmp_path / "noprj.shp"
    pyogrio.write_dataframe(_source(pop_col="人口"), path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(ValidationError, match=r"noprj\.shp has no coordinate reference system.*--crs"):
        read_villages(path)
    _check_villages(read_villages(path, crs="EPSG:4490"))


def test_metric_crs_north_south_and_projected() -> None:
    """UTM zone from the centre: Yunnan 48N, Sydney 56S, and the same answer from a projected input."""
    assert metric_crs(gpd.GeoSeries([shapely.Point(103.7, 24.5)], crs=4326)).to_epsg() == 32648
    assert metric_crs(gpd.GeoSeries([shapely.Point(151.2, -33.9)], crs=4326)).to_epsg() == 32756
    assert metric_crs(gpd.GeoSeries([shapely.Point(1.52, 42.5)], crs=4326)).to_epsg() == 32631
    projected = gpd.GeoSeries([shapely.Point(103.7, 24.5)], crs=4326).to_crs(3857)
    assert metric_crs(projected).to_epsg() == 32648


# --- GCJ-02 --------------------------------------------------------------------------------------------------
# Published WGS-84 / GCJ-02 pairs (lon, lat):
# - googollee/eviltransform, python/test.py (commit 3416646abc64972e899118271bd98030224d9d6c), TESTS:
#   Shanghai, Shenzhen, Beijing (given there as lat, lng; reordered here);
# - wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915) -> [116.41024449916938, 39.91640428150164].
PUBLISHED_PAIRS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
]


def _metres(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_wgs84_to_gcj02_matches_published_pairs() -> None:
    """The forward offset reproduces published pairs to centimetres (they differ by a few hundred metres)."""
    wgs = np.array([w for w, _ in PUBLISHED_PAIRS])
    gcj = np.array([g for _, g in PUBLISHED_PAIRS])
    lon, lat = wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    assert _metres(lon, lat, gcj[:, 0], gcj[:, 1]).max() < 0.05
    assert _metres(wgs[:, 0], wgs[:, 1], gcj[:, 0], gcj[:, 1]).min() > 100


def test_gcj02_to_wgs84_inverts_to_below_a_centimetre() -> None:
    """The iterated inverse recovers published WGS-84 points and random points to < 0.01 m."""
    gcj = np.array([g for _, g in PUBLISHED_PAIRS])
    wgs = np.array([w for w, _ in PUBLISHED_PAIRS])
    lon, lat = gcj02_to_wgs84(gcj[:, 0], gcj[:, 1])
    assert _metres(lon, lat, wgs[:, 0], wgs[:, 1]).max() < 0.05
    rng = np.random.default_rng(7)
    w_lon, w_lat = rng.uniform(75, 135, 2000), rng.uniform(18, 53, 2000)
    g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
    b_lon, b_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert _metres(b_lon, b_lat, w_lon, w_lat).max() < 0.01


def test_gcj02_outside_china_is_unchanged() -> None:
    """Outside China (Andorra) neither direction moves a point."""
    lon, lat = wgs84_to_gcj02(1.52, 42.51)
    assert (float(lon), float(lat)) == (1.52, 42.51)
    lon, lat = gcj02_to_wgs84(np.array([1.52]), np.array([42.51]))
    assert (lon[0], lat[0]) == (1.52, 42.51)


def test_gcj02_csv_converted_to_wgs84(tmp_path: Path) -> None:
    """A CSV of Amap (GCJ-02) points read with coords='gcj02' lands within a metre of the WGS-84 truth."""
    rows = [[f"P{k}", f"点{k}", "", 100, g[0], g[1]] for k, (_, g) in enumerate(PUBLISHED_PAIRS)]
    path = _write_csv(tmp_path / "amap.csv", rows, ["id", "name", "township", "population", "lon", "lat"])
    # the four points span China; project to one UTM zone anyway and compare on the ellipsoid
    v = read_villages(path, coords="gcj02").to_crs(4326)
    wgs = np.array([w for w, _ in PUBLISHED_PAIRS])
    assert _metres(v.geometry.x.to_numpy(), v.geometry.y.to_numpy(), wgs[:, 0], wgs[:, 1]).max() < 1.0
    raw = read_villages(path).to_crs(4326)  # without the option the offset stays
    assert _metres(raw.geometry.x.to_numpy(), raw.geometry.y.to_numpy(), wgs[:, 0], wgs[:, 1]).min() > 100


# --- column detection ----------------------------------------------------------------------------------------
def test_population_prefers_actual_population_and_logs_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With 户籍人口, 常住人口 and 实有人口 present, 实有人口 is used and the log says so."""
    rows = [[i, n, 9999, p, 8888, x, y] for i, n, p, (x, y) in zip(IDS, NAMES, POPS, ORIGINS, strict=True)]
    path = _write_csv(
        tmp_path / "v.csv", rows, ["代码", "名称", "户籍人口", "实有人口", "常住人口", "lon", "lat"]
    )
    with caplog.at_level(logging.INFO, logger="planner.io"):
        v = read_villages(path)
    assert list(v["population"]) == POPS
    assert "population from column '实有人口'" in caplog.text
    assert "户籍人口" in caplog.text


def test_no_id_and_no_township(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Without an id column ids are V0001.. in row order; without a township column it is '' with a warning."""
    rows = [[n, p, x, y] for n, p, (x, y) in zip(NAMES, POPS, ORIGINS, strict=True)]
    path = _write_csv(tmp_path / "v.csv", rows, ["村名", "人口", "x", "y"])
    with caplog.at_level(logging.INFO, logger="planner.io"):
        v = read_villages(path)
    assert list(v.index) == ["V0001", "V0002", "V0003", "V0004", "V0005"]
    assert list(v["name"]) == NAMES
    assert set(v["township"]) == {""}
    assert "no id column" in caplog.text
    assert any(r.levelno == logging.WARNING and "no township column" in r.message for r in caplog.records)


def test_explicit_column_options(tmp_path: Path) -> None:
    """--*-col options pick columns the detection would not find."""
    rows = [[i, n, t, p, x, y] for i, n, t, p, (x, y) in zip(IDS, NAMES, TOWNS, POPS, ORIGINS, strict=True)]
    path = _write_csv(tmp_path / "v.csv", rows, ["编号X", "村庄", "镇", "居民数", "E", "N"])
    v = read_villages(
        path,
        id_col="编号X",
        name_col="村庄",
        township_col="镇",
        population_col="居民数",
        lon_col="E",
        lat_col="N",
    )
    _check_villages(v)
    with pytest.raises(ValidationError, match=r"no column 'nope'.*--name-col"):
        read_villages(
            path, id_col="编号X", name_col="nope", population_col="居民数", lon_col="E", lat_col="N"
        )


def test_invalid_polygon_is_repaired_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A self-intersecting (bow-tie) polygon is made valid, stays polygonal, and the warning names it."""
    src = _source()
    bowtie = shapely.Polygon([(103.70, 24.50), (103.72, 24.52), (103.72, 24.50), (103.70, 24.52)])
    assert not bowtie.is_valid
    src.loc[1, "geometry"] = bowtie
    path = _write_gpkg(src, tmp_path / "v.gpkg")
    with caplog.at_level(logging.WARNING, logger="planner.io"):
        v = read_villages(path)
    assert v.is_valid.all()
    assert v.loc[IDS[1]].geometry.geom_type in ("Polygon", "MultiPolygon")
    assert v.loc[IDS[1]].geometry.area > 0
    assert "repaired 1 invalid" in caplog.text
    assert IDS[1] in caplog.text


# --- bad inputs: each one a ValidationError naming file, row and fix -----------------------------------------
def _csv(tmp_path: Path, rows: list[list[object]], header: list[str] | None = None) -> Path:
    return _write_csv(tmp_path / "bad.csv", rows, header or ["id", "name", "population", "lon", "lat"])


def test_missing_file(tmp_path: Path) -> None:
    """A path that does not exist is named."""
    with pytest.raises(ValidationError, match=r"nothere\.gpkg: file not found"):
        read_villages(tmp_path / "nothere.gpkg")


def test_unsupported_extension(tmp_path: Path) -> None:
    """A .txt file is refused with the list of formats."""
    (tmp_path / "v.txt").write_text("hello")
    with pytest.raises(ValidationError, match=r"unsupported file type '\.txt'.*\.gpkg"):
        read_villages(tmp_path / "v.txt")


def test_unreadable_file(tmp_path: Path) -> None:
    """A file that is not what its extension says is named, without a traceback from GDAL."""
    (tmp_path / "v.gpkg").write_text("not a geopackage")
    with pytest.raises(ValidationError, match=r"v\.gpkg cannot be read") as err:
        read_villages(tmp_path / "v.gpkg")
    assert "无法读取" in err.value.zh


def test_empty_layer(tmp_path: Path) -> None:
    """A layer with no features, and a CSV with only a header, are errors."""
    path = _write_gpkg(_source().iloc[:0], tmp_path / "empty.gpkg")
    with pytest.raises(ValidationError, match=r"empty\.gpkg is empty"):
        read_villages(path)
    with pytest.raises(ValidationError, match=r"bad\.csv is empty"):
        read_villages(_csv(tmp_path, []))


def test_duplicate_ids_are_listed(tmp_path: Path) -> None:
    """Duplicate ids are listed with their lines."""
    rows = [
        ["A1", "甲", 10, 103.7, 24.5],
        ["A2", "乙", 10, 103.7, 24.5],
        ["A1", "丙", 10, 103.7, 24.5],
        ["A3", "丁", 10, 103.7, 24.5],
        ["A3", "戊", 10, 103.7, 24.5],
    ]
    with pytest.raises(
        ValidationError, match=r"duplicate village ids.*A1 \(line 2, line 4\); A3 \(line 5, line 6\)"
    ):
        read_villages(_csv(tmp_path, rows))


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("", r"population \(column population\) is missing in line 3 \(id B\)"),
        ("-5", r"negative population .* in line 3 \(id B\): '-5'"),
        ("many", r"population .* is not a number in line 3 \(id B\): 'many'"),
    ],
)
def test_bad_population_names_the_row(tmp_path: Path, value: str, pattern: str) -> None:
    """Missing, negative and non-numeric populations name the CSV line and the village id."""
    rows = [["A", "甲", "10", 103.7, 24.5], ["B", "乙", value, 103.71, 24.5], ["C", "丙", "7", 103.72, 24.5]]
    with pytest.raises(ValidationError, match=pattern):
        read_villages(_csv(tmp_path, rows))


def test_no_population_column(tmp_path: Path) -> None:
    """Without any population column the error lists the columns and --population-col."""
    rows = [["A", "甲", 103.7, 24.5]]
    with pytest.raises(ValidationError, match=r"no population column.*--population-col"):
        read_villages(_csv(tmp_path, rows, ["id", "name", "lon", "lat"]))


def test_line_geometry_is_refused(tmp_path: Path) -> None:
    """Road-like lines are refused naming the feature, telling to give points or polygons."""
    src = _source()
    src.loc[2, "geometry"] = shapely.LineString([(103.7, 24.5), (103.8, 24.6)])
    path = _write_gpkg(src, tmp_path / "lines.gpkg")
    with pytest.raises(
        ValidationError, match=r"feature 3 \(id 532527100203\): 'LineString'.*points.*polygons"
    ):
        read_villages(path)


def test_null_geometry(tmp_path: Path) -> None:
    """A feature without geometry, and a CSV row without coordinates, are named."""
    src = _source()
    src.loc[4, "geometry"] = None
    path = _write_gpkg(src, tmp_path / "null.gpkg")
    with pytest.raises(ValidationError, match=r"null or empty geometry in feature 5 \(id 532527100205\)"):
        read_villages(path)
    rows = [["A", "甲", 10, 103.7, 24.5], ["B", "乙", 10, "", ""]]
    with pytest.raises(ValidationError, match=r"no coordinates \(null geometry\) in line 3 \(id B\)"):
        read_villages(_csv(tmp_path, rows))


def test_swapped_lon_lat_out_of_range(tmp_path: Path) -> None:
    """Latitude beyond 90 degrees (columns swapped or projected) is named with the fix."""
    rows = [["A", "甲", 10, 24.5, 103.7]]
    with pytest.raises(ValidationError, match=r"out of range.*line 2 \(id A\).*--crs"):
        read_villages(_csv(tmp_path, rows))


def test_errors_have_chinese_text(tmp_path: Path) -> None:
    """Every validation message also exists in Chinese (zh=), naming the same row."""
    rows = [["A", "甲", "-1", 103.7, 24.5]]
    with pytest.raises(ValidationError) as err:
        read_villages(_csv(tmp_path, rows))
    assert "第 2 行" in err.value.zh and "负数" in err.value.zh


# --- atomic_output_dir -----------------------------------------------------------------------------------------
def test_atomic_output_dir_success(tmp_path: Path) -> None:
    """Files written inside appear in out only after the block; nothing temporary is left."""
    out = tmp_path / "plan"
    with atomic_output_dir(out) as tmp:
        (tmp / "a.txt").write_text("x")
        assert not out.exists()
    assert (out / "a.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_atomic_output_dir_failure_leaves_nothing(tmp_path: Path, exc: type[BaseException]) -> None:
    """An exception or Ctrl-C inside removes the temporary directory and creates no out."""
    out = tmp_path / "plan"
    with pytest.raises(exc), atomic_output_dir(out) as tmp:
        (tmp / "half.txt").write_text("x")
        raise exc()
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_dir_refuses_to_clobber(tmp_path: Path) -> None:
    """A non-empty out without overwrite is an error naming it and --overwrite; its content stays."""
    out = tmp_path / "plan"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with (
        pytest.raises(ValidationError, match=r"plan exists and is not empty; pass --overwrite.*--out"),
        atomic_output_dir(out),
    ):
        pass
    assert (out / "old.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_atomic_output_dir_overwrite(tmp_path: Path) -> None:
    """With overwrite the old content goes only when the new one is complete; a failure keeps the old."""
    out = tmp_path / "plan"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_output_dir(out, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
        raise RuntimeError("solver failed")
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    with atomic_output_dir(out, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
        assert (out / "old.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_atomic_output_dir_sigterm(tmp_path: Path) -> None:
    """SIGTERM inside the block acts like Ctrl-C (cleanup, no out); the old handler is restored after."""
    before = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "plan"
    with pytest.raises(KeyboardInterrupt), atomic_output_dir(out) as tmp:
        (tmp / "half.txt").write_text("x")
        os.kill(os.getpid(), signal.SIGTERM)  # Python runs the handler before the next statement
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) == before


# --- roster and current districts ------------------------------------------------------------------------------
def test_read_roster(tmp_path: Path) -> None:
    """Kinds in Chinese are normalised; date lists and ranges are expanded; village_id optional."""
    path = _write_csv(
        tmp_path / "roster.csv",
        [
            ["P01", "O1", "驻村", "532527100201", "2026-12-01;2026-12-03..2026-12-05"],
            ["P02", "O1", "挂村", "", ""],
            ["P03", "532527100204", "linked", "", "2026-12-31"],
        ],
        ["officer_id", "office", "kind", "village_id", "unavailable"],
    )
    r = read_roster(path)
    assert list(r["officer_id"]) == ["P01", "P02", "P03"]
    assert list(r["kind"]) == ["resident", "linked", "linked"]
    assert list(r["village_id"]) == ["532527100201", "", ""]
    assert [d.isoformat() for d in r.loc[0, "unavailable"]] == [
        "2026-12-01",
        "2026-12-03",
        "2026-12-04",
        "2026-12-05",
    ]
    assert r.loc[1, "unavailable"] == ()


def test_read_roster_errors_name_lines(tmp_path: Path) -> None:
    """Unknown kinds, bad dates and duplicate officers are named by CSV line."""
    path = _write_csv(
        tmp_path / "roster.csv",
        [
            ["P01", "O1", "驻村", "2026-13-01"],
            ["P02", "O1", "boss", ""],
            ["P01", "O2", "挂村", "2026-12-05..2026-12-01"],
        ],
        ["officer_id", "office", "kind", "unavailable"],
    )
    with pytest.raises(ValidationError) as err:
        read_roster(path)
    msg = err.value.message
    assert "line 2: unavailable '2026-13-01'" in msg
    assert "line 3: kind 'boss'" in msg
    assert "line 4: unavailable" in msg and "ends before it starts" in msg
    assert "officer_id P01 appears more than once (lines 2, 4)" in msg
    with pytest.raises(ValidationError, match=r"missing column\(s\) kind"):
        read_roster(_write_csv(tmp_path / "r2.csv", [["P1", "O1"]], ["officer_id", "office"]))


def test_ids_differing_only_by_invisible_characters_are_one_village(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Zero-width spaces and byte order marks in ids are removed (warned); the current districts then match."""
    rows = [
        ["A1\u200b", "甲", 10, 103.7, 24.5],
        ["\ufeffA2", "乙", 10, 103.71, 24.5],
        ["A3", "丙\u200d", 10, 103.72, 24.5],
    ]
    with caplog.at_level(logging.WARNING, logger="planner.io.villages"):
        v = read_villages(_csv(tmp_path, rows))
    assert list(v.index) == ["A1", "A2", "A3"] and v.loc["A3", "name"] == "丙"
    assert "invisible characters" in caplog.text and "line 2" in caplog.text
    cur = _write_csv(
        tmp_path / "cur.csv", [["A1", "D1"], ["A2\u2060", "D1"], ["A3", "D2"]], ["village_id", "district_id"]
    )
    assert list(read_current(cur, v)) == ["D1", "D1", "D2"]
    rows.append(["A1", "丁", 10, 103.73, 24.5])
    with pytest.raises(ValidationError, match=r"duplicate village ids.*A1 \(line 2, line 5\)"):
        read_villages(_csv(tmp_path, rows))


def test_implausible_population_names_the_row(tmp_path: Path) -> None:
    """A population above any county (1e12, a typo or another column) is an input error naming the row."""
    rows = [["A1", "甲", 10, 103.7, 24.5], ["A2", "乙", "1e12", 103.71, 24.5]]
    with pytest.raises(ValidationError, match=r"implausible population.*line 3 \(id A2\)") as err:
        read_villages(_csv(tmp_path, rows))
    assert "不合理" in err.value.zh
    rows[1][2] = 4_999_999  # large but possible: read
    assert int(read_villages(_csv(tmp_path, rows)).loc["A2", "population"]) == 4_999_999


def test_shapefile_without_dbf_is_called_that(tmp_path: Path) -> None:
    """A .shp whose .dbf is missing is reported as such, not as 'no population column'."""
    path = write_layer(_source(), tmp_path / "v.shp")
    path.with_suffix(".dbf").unlink()
    with pytest.raises(ValidationError, match=r"v\.shp: the Shapefile's \.dbf file \(v\.dbf.*\) is missing"):
        read_villages(path)


def test_swapped_lon_lat_columns_are_named(tmp_path: Path) -> None:
    """Latitudes above 90 that would all be valid with the columns exchanged: the columns look swapped."""
    rows = [["A1", "甲", 10, 24.5, 103.7], ["A2", "乙", 10, 24.5, 103.71]]
    with pytest.raises(ValidationError, match=r"longitude and latitude columns look swapped"):
        read_villages(_csv(tmp_path, rows))


def test_multi_layer_geopackage(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Of several layers 'villages' is read by default (logged); layer= picks another; a wrong name lists them."""
    path = tmp_path / "county.gpkg"
    roads = gpd.GeoDataFrame(
        {"kind": ["县道"]}, geometry=[shapely.LineString([(103.7, 24.5), (103.8, 24.6)])], crs=4326
    )
    pyogrio.write_dataframe(roads, path, layer="roads")
    pyogrio.write_dataframe(_source(), path, layer="villages", append=True)
    pyogrio.write_dataframe(_source().iloc[:2], path, layer="村界", append=True)
    with caplog.at_level(logging.WARNING, logger="planner.io"):
        _check_villages(read_villages(path))
    assert "reading 'villages'" in caplog.text
    assert len(read_villages(path, layer="村界")) == 2
    with pytest.raises(ValidationError, match=r"no layer 'village'; its layers are: roads, villages, 村界"):
        read_villages(path, layer="village")


def test_polygon_layer_with_committee_points_gets_anchor(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Committee lon/lat columns on polygons become metric anchor_x/anchor_y; one outside is warned about."""
    src = _source()
    lon = [x + 0.01 for x, _ in ORIGINS]
    lat = [y + 0.01 for _, y in ORIGINS]
    lon[3] = 103.9  # 17 km east of its village
    src = src.assign(经度=lon, 纬度=lat)
    src.loc[4, ["经度", "纬度"]] = np.nan
    with caplog.at_level(logging.WARNING, logger="planner.io"):
        v = read_villages(_write_gpkg(src, tmp_path / "v.gpkg"))
    _check_villages(v)
    expected = gpd.GeoSeries(shapely.points(lon, lat), crs=4326).to_crs(32648)
    np.testing.assert_allclose(v["anchor_x"].to_numpy()[:4], expected.x.to_numpy()[:4], atol=1e-6)
    np.testing.assert_allclose(v["anchor_y"].to_numpy()[:4], expected.y.to_numpy()[:4], atol=1e-6)
    assert np.isnan(v["anchor_x"].iloc[4])
    assert "outside their village polygon: 532527100204" in caplog.text


def test_prepare_osm_population_source_is_kept_and_the_report_says_which_are_modelled(tmp_path: Path) -> None:
    """A layer from prepare-osm says per village whether its residents are a tag or a model; the villages keep
    it (an unknown word reads "given"), and the data note counts the modelled ones in both languages."""
    from planner.outputs.datanotes import modelled_note

    words = ["modelled", "tag", "modelled", "census?", "Modelled"]
    src = _source().assign(population_source=words)
    path = tmp_path / "v.gpkg"
    pyogrio.write_dataframe(src, path)
    v = read_villages(path).loc[IDS]
    expect = ["modelled", "tag", "modelled", "given", "modelled"]
    assert list(v["population_source"]) == expect
    n = expect.count("modelled")
    summary = {
        "villages": len(IDS),
        "modelled_population_villages": [i for i, e in zip(IDS, expect, strict=True) if e == "modelled"],
    }
    assert f"{len(IDS)} 个村中 {n} 个村的人口为" in modelled_note(summary, "zh")
    assert modelled_note(summary, "en").startswith(f"{n} of {len(IDS)} villages' residents")
    assert modelled_note({"villages": 3}, "zh") == ""

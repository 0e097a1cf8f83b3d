"""Village layers in any format and CRS, GCJ-02 coordinates, and the districts in force today.

:func:`read_villages` returns the **Villages** data model of docs/ARCHITECTURE.md: a GeoDataFrame indexed by
``village_id`` (str) with ``name``, ``township``, ``population`` (int64 >= 0), ``population_source`` ("given")
and a Point / Polygon / MultiPolygon geometry, in the metric CRS of :func:`metric_crs`. Anything wrong with the
input is a :class:`~planner.errors.ValidationError` naming the file, the rows and the fix; no village is ever
dropped silently.
"""

from __future__ import annotations

import logging
import math
import os
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pyproj.exceptions
import shapely

from planner.errors import ValidationError
from planner.geo import _gcj_geometries, gcj02_to_wgs84, metric_crs
from planner.io.files import check_input_path, read_layer_file
from planner.io.formats import is_table, read_table

log = logging.getLogger(__name__)


# Column names recognised without a --*-col option, compared case-insensitively, in order of preference.
ID_COLUMNS = (
    "village_id",
    "id",
    "code",
    "代码",
    "村代码",
    "行政区划代码",
    "统计用区划代码",
    "村编码",
    "编码",
)


NAME_COLUMNS = ("name", "村名", "名称", "村委会", "行政村", "村名称", "行政村名称", "村委会名称", "村庄名称")


TOWNSHIP_COLUMNS = (
    "township",
    "town",
    "乡镇",
    "乡镇街道",
    "街道",
    "乡镇名称",
    "乡镇(街道)",
    "乡镇（街道）",
    "所属乡镇",
)


# 实有人口 (actual population) first: it is the figure the rules are written for (DOMAIN.md).
POPULATION_COLUMNS = ("实有人口", "population", "pop", "人口", "常住人口", "户籍人口")


LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "经度")


LAT_COLUMNS = ("lat", "latitude", "y", "纬度")


ANCHOR_LON_COLUMNS = ("lon", "lng", "longitude", "经度", "村委会经度")


ANCHOR_LAT_COLUMNS = ("lat", "latitude", "纬度", "村委会纬度")


WKT_COLUMNS = ("wkt", "geometry", "geom")


_POLYGONAL = ("Polygon", "MultiPolygon")


# A village's population above this is a typo or a wrong column, not a village: the most populous county-level
# divisions of China hold about 2.5 million people (2020 census), so no village reaches 5 million.
MAX_VILLAGE_POPULATION = 5_000_000


_MAX_LISTED = 20


# ---------------------------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------------------------
class _Rows:
    """Names rows in messages the way the user sees them: table line numbers (header line 1) or feature numbers, plus the id."""

    def __init__(self, path: Path, *, table: bool) -> None:
        self.path = path
        self.table = table
        self.ids: Sequence[str] | None = None

    def one(self, i: int) -> tuple[str, str]:
        n = i + 2 if self.table else i + 1  # a table's first data row is line 2, below its header
        en = f"line {n}" if self.table else f"feature {n}"
        zh = f"第 {n} 行" if self.table else f"第 {n} 个要素"
        if self.ids is not None:
            en += f" (id {self.ids[i]})"
            zh += f"(编号 {self.ids[i]})"
        return en, zh

    def many(
        self, positions: Sequence[Any] | np.ndarray, values: Sequence[Any] | None = None
    ) -> tuple[str, str]:
        parts_en, parts_zh = [], []
        for k, i in enumerate(positions[:_MAX_LISTED]):
            en, zh = self.one(int(i))
            if values is not None:
                en += f": {values[k]!r}"
                zh += f":{values[k]!r}"
            parts_en.append(en)
            parts_zh.append(zh)
        more = len(positions) - _MAX_LISTED
        if more > 0:
            parts_en.append(f"and {more} more")
            parts_zh.append(f"等共 {len(positions)} 处")
        return "; ".join(parts_en), ";".join(parts_zh)


def _find_column(columns: Sequence[str], candidates: Sequence[str]) -> list[str]:
    """Every column whose name matches a candidate (case-insensitive), in the candidates' order."""
    lower: dict[str, str] = {}
    for c in columns:
        lower.setdefault(str(c).strip().lower(), c)
    return [lower[k] for k in (c.lower() for c in candidates) if k in lower]


def _pick_column(
    columns: Sequence[str],
    given: str | None,
    candidates: Sequence[str],
    *,
    path: Path,
    option: str,
    what: str,
    what_zh: str,
) -> str | None:
    if given is not None:
        if given in columns:
            return given
        found = _find_column(columns, [given])
        if found:
            return found[0]
        raise ValidationError(
            f"{path}: no column '{given}' (given by {option}); its columns are: {', '.join(map(str, columns))}",
            zh=f"{path}:没有字段“{given}”({option} 指定);现有字段:{'、'.join(map(str, columns))}",
        )
    found = _find_column(columns, candidates)
    if found:
        log.info("%s: %s from column '%s'", path.name, what, found[0])
        return found[0]
    return None


# ---------------------------------------------------------------------------------------------------------------
# Reading villages
# ---------------------------------------------------------------------------------------------------------------
def _parse_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numbers from a text or numeric column: (values as float64, missing mask, non-numeric mask)."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        num = values.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(num)
        return num, missing, ~missing & ~np.isfinite(num)
    text = values.astype(object).map(
        lambda v: (
            ""
            if v is None or (isinstance(v, float) and math.isnan(v))
            else str(v).strip().replace(",", "").replace("\uff0c", "")
        )
    )
    missing = (text == "").to_numpy()
    num = pd.to_numeric(text.where(~missing, None), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    bad = ~missing & ~np.isfinite(num)
    return num, missing, bad


def visible_text(text: str) -> str:
    """``text`` without invisible format characters (Unicode category Cf: U+200B zero-width space, U+FEFF byte
    order mark, U+200E direction marks, soft hyphens...) and surrounding spaces.

    Spreadsheets and copy-paste leave such characters in ids; "V01" and "V01\u200b" print the same and are the
    same village, so every id and name is read through this.
    """
    if text.isascii():
        return text.strip()
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


def _text_column(values: pd.Series) -> list[str]:
    """Text values without invisible characters (:func:`visible_text`); whole numbers print without '.0'."""
    out = []
    for v in values.astype(object):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            out.append("")
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        else:
            out.append(visible_text(str(v)))
    return out


def _table_geometries(
    df: pd.DataFrame, path: Path, rows: _Rows, *, lon_col: str | None, lat_col: str | None, crs: Any
) -> np.ndarray:
    cols = list(df.columns)
    lon_name = _pick_column(
        cols, lon_col, LON_COLUMNS, path=path, option="--lon-col", what="longitude", what_zh="经度"
    )
    lat_name = _pick_column(
        cols, lat_col, LAT_COLUMNS, path=path, option="--lat-col", what="latitude", what_zh="纬度"
    )
    if lon_name is None or lat_name is None:
        wkt = _find_column(cols, WKT_COLUMNS)
        if wkt:
            return _wkt_geometries(df[wkt[0]], path, rows)
        raise ValidationError(
            f"{path}: no longitude/latitude columns found (looked for {', '.join(LON_COLUMNS)} and "
            f"{', '.join(LAT_COLUMNS)}); its columns are: {', '.join(cols)}; name them with --lon-col and --lat-col",
            zh=f"{path}:未找到经纬度字段(经度:{'、'.join(LON_COLUMNS)};纬度:{'、'.join(LAT_COLUMNS)});"
            f"现有字段:{'、'.join(cols)};请用 --lon-col 和 --lat-col 指定",
        )
    lon, lon_missing, lon_bad = _parse_numbers(df[lon_name])
    lat, lat_missing, lat_bad = _parse_numbers(df[lat_name])
    missing = np.flatnonzero(lon_missing | lat_missing)
    if len(missing):
        en, zh = rows.many(missing)
        raise ValidationError(
            f"{path}: no coordinates (null geometry) in {en}; fill in {lon_name} and {lat_name} for every village",
            zh=f"{path}:{zh} 缺少坐标(空几何);请为每个村填写 {lon_name} 和 {lat_name}",
        )
    bad = np.flatnonzero(lon_bad | lat_bad)
    if len(bad):
        vals = [f"{df[lon_name].iloc[i]}, {df[lat_name].iloc[i]}" for i in bad]
        en, zh = rows.many(bad, vals)
        raise ValidationError(
            f"{path}: coordinates are not numbers in {en}; write decimal degrees such as 102.5, 24.3",
            zh=f"{path}:{zh} 的坐标不是数字;请写十进制度数,如 102.5, 24.3",
        )
    geographic = crs is None or pyproj.CRS.from_user_input(crs).is_geographic
    if geographic:
        out = np.flatnonzero((np.abs(lon) > 180) | (np.abs(lat) > 90))
        if len(out):
            en, zh = rows.many(out, [f"{lon[i]}, {lat[i]}" for i in out])
            if _valid_when_swapped(np.column_stack([lon, lat])):
                raise ValidationError(
                    f"{path}: latitude out of range in {en}, and every row would be valid with {lon_name} and "
                    f"{lat_name} exchanged: the longitude and latitude columns look swapped; exchange them (or "
                    "name them with --lon-col and --lat-col); if they are projected x/y, pass --crs instead",
                    zh=f"{path}:{zh} 的纬度超出范围, 而对调 {lon_name} 与 {lat_name} 后每行都有效:经度和纬度字段多半"
                    "写反了;请对调(或用 --lon-col、--lat-col 指定);如为投影坐标请用 --crs 指定坐标系",
                )
            raise ValidationError(
                f"{path}: coordinates out of range for longitude/latitude in {en}; check that {lon_name} is the "
                f"longitude and {lat_name} the latitude, or pass --crs for projected x/y",
                zh=f"{path}:{zh} 的坐标超出经纬度范围;请检查 {lon_name} 为经度、{lat_name} 为纬度,"
                "投影坐标请用 --crs 指定坐标系",
            )
    return shapely.points(lon, lat)


def _valid_when_swapped(lonlat: np.ndarray) -> bool:
    """Whether every (lon, lat) row is a valid longitude/latitude with the two exchanged (and some is not now)."""
    now = (np.abs(lonlat[:, 0]) <= 180) & (np.abs(lonlat[:, 1]) <= 90)
    swapped = (np.abs(lonlat[:, 1]) <= 180) & (np.abs(lonlat[:, 0]) <= 90)
    return bool(swapped.all() and not now.all())


def _anchor_lonlat(
    df: pd.DataFrame, path: Path, rows: _Rows, *, lon_col: str | None, lat_col: str | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Village committee lon/lat columns of a polygon layer (the anchor), NaN where a row leaves them empty."""
    cols = list(df.columns)
    # x / y in a polygon layer are as likely projected centroids as longitudes: only explicit names count
    lon_name = _pick_column(
        cols,
        lon_col,
        ANCHOR_LON_COLUMNS,
        path=path,
        option="--lon-col",
        what="village committee longitude",
        what_zh="村委会经度",
    )
    lat_name = _pick_column(
        cols,
        lat_col,
        ANCHOR_LAT_COLUMNS,
        path=path,
        option="--lat-col",
        what="village committee latitude",
        what_zh="村委会纬度",
    )
    if lon_name is None or lat_name is None:
        return None
    lon, lon_missing, lon_bad = _parse_numbers(df[lon_name])
    lat, lat_missing, lat_bad = _parse_numbers(df[lat_name])
    bad = np.flatnonzero(
        lon_bad | lat_bad | (~lon_missing & (np.abs(lon) > 180)) | (~lat_missing & (np.abs(lat) > 90))
    )
    if len(bad):
        vals = [f"{df[lon_name].iloc[i]}, {df[lat_name].iloc[i]}" for i in bad]
        en, zh = rows.many(bad, vals)
        raise ValidationError(
            f"{path}: the village committee location ({lon_name}, {lat_name}) is not a longitude/latitude in "
            f"{en}; write decimal degrees or leave both empty",
            zh=f"{path}:{zh} 的村委会位置({lon_name}、{lat_name})不是经纬度;请填写十进制度数或两者都留空",
        )
    missing = lon_missing | lat_missing
    return np.where(missing, np.nan, lon), np.where(missing, np.nan, lat)


def _wkt_geometries(values: pd.Series, path: Path, rows: _Rows) -> np.ndarray:
    text = pd.Series(_text_column(values))
    geoms = np.empty(len(text), dtype=object)
    bad = []
    for i, t in enumerate(text):
        if not t:
            geoms[i] = None
            continue
        try:
            geoms[i] = shapely.from_wkt(t)
        except shapely.errors.GEOSException:
            bad.append(i)
    if bad:
        en, zh = rows.many(bad)
        raise ValidationError(
            f"{path}: the geometry text (WKT) cannot be parsed in {en}; export the layer again or use lon/lat",
            zh=f"{path}:{zh} 的几何文本(WKT)无法解析;请重新导出或改用经纬度字段",
        )
    return geoms


def _check_geometries(geoms: np.ndarray, path: Path, rows: _Rows) -> np.ndarray:
    """Null, unsupported and invalid geometries: errors for the first two, repairs (logged) for the last."""
    geoms = np.asarray(geoms, dtype=object)
    null = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if len(null):
        en, zh = rows.many(null)
        raise ValidationError(
            f"{path}: null or empty geometry in {en}; give each village a point or a polygon",
            zh=f"{path}:{zh} 的几何为空;请为每个村提供点或面",
        )
    geoms = shapely.force_2d(geoms)
    types = shapely.get_type_id(geoms)
    single_multipoint = (types == 4) & (shapely.get_num_geometries(geoms) == 1)
    if single_multipoint.any():
        geoms = geoms.copy()
        geoms[single_multipoint] = shapely.get_geometry(geoms[single_multipoint], 0)
        types = shapely.get_type_id(geoms)
    ok = np.isin(types, [0, 3, 6])  # Point, Polygon, MultiPolygon
    bad = np.flatnonzero(~ok)
    if len(bad):
        names = [shapely.get_type_id(geoms[i]) for i in bad]
        kinds = [str(geoms[i].geom_type) for i in bad]
        en, zh = rows.many(bad, kinds)
        lines = any(t in (1, 2, 5) for t in names)
        hint_en = " (lines cannot be villages)" if lines else ""
        hint_zh = "(线不能作为村)" if lines else ""
        raise ValidationError(
            f"{path}: unsupported geometry in {en}{hint_en}; give points (village committee locations) or "
            "polygons (village boundaries)",
            zh=f"{path}:{zh} 的几何类型不支持{hint_zh};请提供点(村委会位置)或面(村界)",
        )
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    if len(invalid):
        geoms = geoms.copy()
        collapsed = []
        for i in invalid:
            fixed = shapely.make_valid(geoms[i])
            if fixed.geom_type not in _POLYGONAL:
                parts = [g for g in shapely.get_parts(fixed) if g.geom_type in _POLYGONAL]
                fixed = shapely.union_all(parts) if parts else None
            if fixed is None or fixed.is_empty or fixed.area == 0:
                collapsed.append(i)
            else:
                geoms[i] = fixed
        if collapsed:
            en, zh = rows.many(collapsed)
            raise ValidationError(
                f"{path}: invalid polygon with no area left after repair in {en}; redraw the boundary or give "
                "the village as a point",
                zh=f"{path}:{zh} 的面无效且修复后面积为零;请重新绘制村界或改用点",
            )
        en, _ = rows.many(invalid)
        log.warning(
            "%s: repaired %d invalid geometries (kept their polygonal part): %s", path.name, len(invalid), en
        )
    return geoms


def _check_coordinates(geoms: np.ndarray, crs: pyproj.CRS, path: Path, rows: _Rows, *, given: bool) -> None:
    """Coordinates that cannot be in the declared CRS: degrees in a projected (metre) CRS, or metres in a
    geographic (degree) one. Both put the villages in the wrong place on Earth, so they are input errors."""
    xy = shapely.get_coordinates(geoms)
    if not len(xy):
        return
    source = "given by --crs" if given else "declared by the file"
    if crs.is_projected and bool(np.all((np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90))):
        x0, y0 = xy.min(axis=0)
        x1, y1 = xy.max(axis=0)
        raise ValidationError(
            f"{path}: every coordinate lies within x {x0:g} to {x1:g}, y {y0:g} to {y1:g}, which looks like "
            f"longitude/latitude in degrees, but the CRS {source} ({crs.name}) is projected, in metres, so the "
            "villages would land near the CRS origin; pass --crs EPSG:4326 (WGS-84) or EPSG:4490 (CGCS2000), or "
            "export the layer again with its true CRS",
            zh=f"{path}:所有坐标都在 x {x0:g}~{x1:g}、y {y0:g}~{y1:g} 内,像是以度为单位的经纬度,但"
            f"{'--crs 指定的' if given else '文件声明的'}坐标系({crs.name})是以米为单位的投影坐标系,村庄会落在坐标原点"
            "附近;请用 --crs EPSG:4326(WGS-84)或 EPSG:4490(CGCS2000)指定,或按真实坐标系重新导出",
        )
    if crs.is_geographic:
        per_geom = shapely.get_coordinates(geoms, return_index=True)[1]
        bad_pt = (np.abs(xy[:, 0]) > 360) | (np.abs(xy[:, 1]) > 90)
        if bad_pt.any():
            bad = np.unique(per_geom[bad_pt])
            en, zh = rows.many(bad)
            if _valid_when_swapped(xy):
                raise ValidationError(
                    f"{path}: latitude out of range in {en}, and every point would be valid with longitude and "
                    "latitude swapped: the longitude and latitude columns look swapped; exchange them (or name "
                    "them with --lon-col and --lat-col)",
                    zh=f"{path}:{zh} 的纬度超出范围, 而把经纬度对调后所有点都有效:经度和纬度字段多半写反了;"
                    "请对调(或用 --lon-col、--lat-col 指定)",
                )
            raise ValidationError(
                f"{path}: coordinates out of the longitude/latitude range in {en}, but the CRS {source} "
                f"({crs.name}) is in degrees: the coordinates are probably projected metres; pass the projected "
                "CRS with --crs (e.g. EPSG:4547, CGCS2000 3-degree Gauss-Kruger) or export the layer again with "
                "its true CRS",
                zh=f"{path}:{zh} 的坐标超出经纬度范围,但{'--crs 指定的' if given else '文件声明的'}坐标系"
                f"({crs.name})以度为单位:坐标多半是投影坐标(米);请用 --crs 指定投影坐标系(如 EPSG:4547,"
                "CGCS2000 3 度带)或按真实坐标系重新导出",
            )


def _village_ids(df: pd.DataFrame, col: str | None, path: Path, rows: _Rows) -> list[str]:
    if col is None:
        width = max(4, len(str(len(df))))
        log.info(
            "%s: no id column found (looked for %s); ids V%0*d.. given in row order",
            path.name,
            ", ".join(ID_COLUMNS),
            width,
            1,
        )
        return [f"V{i + 1:0{width}d}" for i in range(len(df))]
    ids = _text_column(df[col])
    cleaned = [
        i for i, v in enumerate(df[col].astype(object)) if isinstance(v, str) and visible_text(v) != v.strip()
    ]
    if cleaned:
        en, _ = rows.many(cleaned)
        log.warning(
            "%s: invisible characters (zero-width space, byte order mark...) removed from %d village ids (column "
            "%s) in %s; ids that differ only by them are the same village",
            path.name,
            len(cleaned),
            col,
            en,
        )
    empty = [i for i, v in enumerate(ids) if not v]
    if empty:
        en, zh = rows.many(empty)
        raise ValidationError(
            f"{path}: empty village id (column {col}) in {en}; give every village a unique id",
            zh=f"{path}:{zh} 的村编号(字段 {col})为空;请为每个村填写唯一编号",
        )
    s = pd.Series(ids)
    dup = s[s.duplicated(keep=False)]
    if len(dup):
        groups = dup.groupby(dup, sort=True).groups
        listed = [
            f"{k} ({', '.join(rows.one(int(i))[0].split(' (')[0] for i in v)})"
            for k, v in list(groups.items())[:_MAX_LISTED]
        ]
        listed_zh = [
            f"{k}({'、'.join(rows.one(int(i))[1].split('(')[0] for i in v)})"
            for k, v in list(groups.items())[:_MAX_LISTED]
        ]
        more = f" and {len(groups) - _MAX_LISTED} more" if len(groups) > _MAX_LISTED else ""
        more_zh = f" 等共 {len(groups)} 组" if len(groups) > _MAX_LISTED else ""
        raise ValidationError(
            f"{path}: duplicate village ids (column {col}): {'; '.join(listed)}{more}; make each id unique",
            zh=f"{path}:村编号重复(字段 {col}):{';'.join(listed_zh)}{more_zh};请保证编号唯一",
        )
    return ids


def _population(df: pd.DataFrame, col: str, path: Path, rows: _Rows) -> np.ndarray:
    num, missing, bad = _parse_numbers(df[col])
    if missing.any():
        en, zh = rows.many(np.flatnonzero(missing))
        raise ValidationError(
            f"{path}: population (column {col}) is missing in {en}; fill it in (0 is allowed)",
            zh=f"{path}:{zh} 的人口(字段 {col})为空;请填写(可为 0)",
        )
    if bad.any():
        pos = np.flatnonzero(bad)
        en, zh = rows.many(pos, [df[col].iloc[i] for i in pos])
        raise ValidationError(
            f"{path}: population (column {col}) is not a number in {en}; write whole numbers such as 1250",
            zh=f"{path}:{zh} 的人口(字段 {col})不是数字;请填写整数,如 1250",
        )
    negative = np.flatnonzero(num < 0)
    if len(negative):
        en, zh = rows.many(negative, [df[col].iloc[i] for i in negative])
        raise ValidationError(
            f"{path}: negative population (column {col}) in {en}; population must be 0 or more",
            zh=f"{path}:{zh} 的人口(字段 {col})为负数;人口须大于等于 0",
        )
    implausible = np.flatnonzero(num > MAX_VILLAGE_POPULATION)
    if len(implausible):
        en, zh = rows.many(implausible, [df[col].iloc[i] for i in implausible])
        raise ValidationError(
            f"{path}: implausible population (column {col}) in {en}: more than {MAX_VILLAGE_POPULATION:,} "
            "people, more than any county of China has; correct the figure (a typo, a unit or another column?)",
            zh=f"{path}:{zh} 的人口(字段 {col})不合理:超过 {MAX_VILLAGE_POPULATION:,} 人, 比任何一个县的人口都多;"
            "请改正(笔误、单位或字段错误?)",
        )
    fractional = np.flatnonzero(num != np.round(num))
    if len(fractional):
        en, _ = rows.many(fractional)
        log.warning("%s: population rounded to whole persons in %s", path.name, en)
    return np.round(num).astype(np.int64)


def _to_crs(crs: Any, path: Path) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise ValidationError(
            f"{path}: unknown CRS '{crs}'; give e.g. EPSG:4490 (CGCS2000) or EPSG:4326 (WGS-84)",
            zh=f"{path}:无法识别坐标系“{crs}”;请写如 EPSG:4490(CGCS2000)或 EPSG:4326(WGS-84)",
        ) from exc


#: what ``population_source`` may say: "given" (the layer's own figure), "tag" (an OSM population tag, by
#: prepare-osm) and "modelled" (prepare-osm's estimate from the residential area around a settlement)
POPULATION_SOURCES = ("given", "tag", "modelled")


def _population_sources(df: pd.DataFrame, n: int) -> list[str]:
    """Each village's population source: the layer's own ``population_source`` where it says one of
    :data:`POPULATION_SOURCES` (a layer from ``planner prepare-osm``), else "given"."""
    if "population_source" not in df.columns:
        return ["given"] * n
    col = df["population_source"].astype(str).str.strip().str.lower()
    return [x if x in POPULATION_SOURCES else "given" for x in col]


# columns the planner reads or writes itself: a column of the user's layer with such a name is not kept
_PLANNER_COLUMNS = {
    "village_id",
    "name",
    "township",
    "population",
    "population_source",
    "district_id",
    "office_id",
    "office_village_id",
    "travel_min_to_office",
    "access",
    "access_reason",
    "anchor_x",
    "anchor_y",
    "officers",
    "lon",
    "lat",
    "fid",
}


def _own_columns(columns: list[str], keep: Sequence[str] | str, *, used: set[str | None]) -> Sequence[str]:
    """The columns ``keep`` names; for ``"all"`` every column the planner neither read nor writes itself."""
    if not isinstance(keep, str):
        return keep
    if keep != "all":
        raise ValueError(f"keep must be 'all' or a list of column names, not {keep!r}")
    return [c for c in columns if c not in used and c.lower() not in _PLANNER_COLUMNS and c != "geometry"]


def _encoding_read(p: Path, encoding: str | None) -> str:
    """The text encoding the layer was read with: the given one, a Shapefile's detected one, UTF-8 for the
    formats that are always UTF-8; "" when not known (a CSV's is detected by the table reader)."""
    from planner.io.files import shapefile_encoding

    if encoding:
        return encoding
    suffix = p.suffix.lower()
    if suffix == ".shp":
        cpg = p.with_suffix(".cpg")
        declared = cpg.read_text(encoding="ascii", errors="replace").strip() if cpg.is_file() else ""
        return shapefile_encoding(p) or declared
    return "UTF-8" if suffix in (".gpkg", ".geojson", ".json", ".fgb") else ""


def _detected(
    p: Path,
    cols: dict[str, str | None],
    *,
    encoding: str | None,
    coords: str,
    crs: pyproj.CRS,
    kept: Sequence[str],
) -> dict[str, Any]:
    """What read_villages found, for the CLI to say: the columns used, encoding, CRS, GCJ-02, own columns."""
    return {
        "file": str(p),
        **cols,
        "encoding": _encoding_read(p, encoding),
        "crs": "EPSG:4326" if coords == "gcj02" else crs.to_string(),
        "crs_name": crs.name,
        "gcj02": coords == "gcj02",
        "kept": list(kept),
    }


def read_villages(
    path: str | os.PathLike[str],
    *,
    id_col: str | None = None,
    name_col: str | None = None,
    township_col: str | None = None,
    population_col: str | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    coords: str = "wgs84",
    lon_col: str | None = None,
    lat_col: str | None = None,
    crs: Any = None,
    keep: Sequence[str] | str = (),
) -> gpd.GeoDataFrame:
    """Read a village layer and return it in the Villages data model, in a metric CRS.

    ``keep`` names columns of the layer that come along as text columns (e.g. the county of a province);
    ``keep="all"`` keeps every column the planner does not read or write itself (a bureau's own ``备注``).
    ``.attrs["detected"]`` records what was read: the id, name, township and population columns, the CRS
    and whether GCJ-02 was converted (for the CLI to say in the user's language).

    Parameters
    ----------
    path
        GeoPackage, Shapefile, GeoJSON, FlatGeobuf, or CSV with longitude/latitude columns (or a WKT column).
        Points (village committee locations) or polygons (village boundaries).
    id_col, name_col, township_col, population_col
        Column names; detected from common Chinese and English names when omitted (see ``ID_COLUMNS`` etc.).
        Without an id column, ids ``V0001``... are given in row order; without a township column, township is
        "" (logged as a warning); when several population columns exist 实有人口 is preferred.
    layer
        Layer of a multi-layer file (default ``villages`` when present, else the first).
    encoding
        Text encoding of a Shapefile or CSV; detected when omitted (.cpg honoured; else UTF-8, then GB18030).
    coords
        ``"wgs84"`` or ``"gcj02"``: the coordinates carry the GCJ-02 offset (Amap, Tencent) and are converted
        to WGS-84 before projecting.
    lon_col, lat_col
        CSV coordinate columns; detected (lon, lng, longitude, x, 经度 / lat, latitude, y, 纬度) when omitted.
        In a polygon layer: the village committee location (the anchor).
    crs
        CRS of the data (anything pyproj accepts). Required for a layer that declares none; overrides a
        declared one (logged). A CSV is WGS-84 lon/lat unless given.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``village_id`` (str); columns ``name``, ``township``, ``population`` (int64),
        ``population_source`` ("given"), ``geometry``; CRS :func:`metric_crs` of the data. A polygon layer
        with village committee longitude/latitude columns (lon/lng/longitude/经度, lat/latitude/纬度, or
        ``lon_col``/``lat_col``; WGS-84, GCJ-02 with ``coords="gcj02"``) also gets ``anchor_x``, ``anchor_y``
        (metric, NaN where not given).

    Raises
    ------
    ValidationError
        Missing or unreadable file, unsupported extension, empty layer, duplicate or empty ids, missing /
        negative / non-numeric population, null or unsupported geometry, no CRS. The message names the file,
        the rows and the fix.
    """
    p = check_input_path(path, what="village layer", what_zh="村庄图层")
    if coords not in ("wgs84", "gcj02"):
        raise ValidationError(
            f"coords must be 'wgs84' or 'gcj02', not {coords!r}",
            zh=f"坐标类型须为 wgs84 或 gcj02,而不是 {coords!r}",
        )
    table = is_table(p)
    rows = _Rows(p, table=table)
    user_crs = _to_crs(crs, p) if crs is not None else None
    df, layer_geoms, src_crs = _read_source(p, layer=layer, encoding=encoding, user_crs=user_crs)
    columns = [str(c) for c in df.columns]

    def pick(
        given: str | None, candidates: Sequence[str], option: str, what: str, what_zh: str
    ) -> str | None:
        return _pick_column(columns, given, candidates, path=p, option=option, what=what, what_zh=what_zh)

    id_name = pick(id_col, ID_COLUMNS, "--id-col", "village id", "村编号")
    ids = _village_ids(df, id_name, p, rows)
    rows.ids = ids
    pop_name = _population_column(columns, population_col, p, pick)
    population = _population(df, pop_name, p, rows)

    if layer_geoms is None:
        geoms = _table_geometries(df, p, rows, lon_col=lon_col, lat_col=lat_col, crs=user_crs)
    else:
        geoms = layer_geoms
    geoms = _check_geometries(geoms, p, rows)
    anchors = None
    if layer_geoms is not None and bool(np.isin(shapely.get_type_id(geoms), [3, 6]).any()):
        anchors = _anchor_lonlat(df, p, rows, lon_col=lon_col, lat_col=lat_col)
    name_name = pick(name_col, NAME_COLUMNS, "--name-col", "village name", "村名")
    town_name = pick(township_col, TOWNSHIP_COLUMNS, "--township-col", "township", "乡镇")
    names = _names(df, name_name, ids, p)
    towns = _townships(df, town_name, ids, p)

    out = gpd.GeoDataFrame(
        {
            "name": pd.array(names, dtype="str"),
            "township": pd.array(towns, dtype="str"),
            "population": population,
            "population_source": pd.array(_population_sources(df, len(ids)), dtype="str"),
        },
        geometry=gpd.GeoSeries(geoms, crs=src_crs).values,
        index=pd.Index(ids, name="village_id", dtype="str"),
        crs=src_crs,
    )
    keep = _own_columns(columns, keep, used={id_name, pop_name, lon_col, lat_col, name_name, town_name})
    for col in keep:
        if col not in df.columns:
            raise ValidationError(
                f"{p}: no column '{col}'; its columns are: {', '.join(columns)}",
                zh=f"{p}:没有字段 '{col}';现有字段:{'、'.join(columns)}",
            )
        out[col] = pd.array(_text_column(df[col]), dtype="str")
    _check_coordinates(geoms, pyproj.CRS.from_user_input(src_crs), p, rows, given=user_crs is not None)
    if coords == "gcj02":
        wgs = out.to_crs(4326)
        _warn_outside_china(wgs, p)
        out = wgs.set_geometry(
            gpd.GeoSeries(
                _gcj_geometries(np.asarray(wgs.geometry.array, dtype=object)), index=wgs.index, crs=4326
            )
        )
        log.info("%s: GCJ-02 coordinates converted to WGS-84", p.name)
    target = metric_crs(out)
    source_crs = pyproj.CRS.from_user_input(src_crs)
    out = out.to_crs(target)
    _warn_same_point(out, p)
    if anchors is not None:
        out = _with_anchors(out, anchors, coords=coords, path=p)
    cols = {"id": id_name, "name": name_name, "township": town_name, "population": pop_name}
    out.attrs["detected"] = _detected(p, cols, encoding=encoding, coords=coords, crs=source_crs, kept=keep)
    log.info(
        "read %d villages from %s (population %d) in %s",
        len(out),
        p,
        int(out["population"].sum()),
        target.name,
    )
    return out


def _read_source(
    p: Path, *, layer: str | None, encoding: str | None, user_crs: pyproj.CRS | None
) -> tuple[pd.DataFrame, np.ndarray | None, Any]:
    """The attribute table, the layer's geometries (None for a table) and the CRS the coordinates are in.

    A table's coordinates are WGS-84 lon/lat unless ``user_crs`` says otherwise; a layer's CRS is the one it
    declares, overridden (with a warning) by ``user_crs``. Empty input and a missing CRS are input errors.
    """
    geoms: np.ndarray | None = None
    if is_table(p):
        df: pd.DataFrame = read_table(p, encoding=encoding, what="village layer", what_zh="村庄图层")
        src_crs = user_crs or pyproj.CRS.from_epsg(4326)
    else:
        gdf = read_layer_file(
            p,
            layer=layer,
            encoding=encoding,
            what="village layer",
            what_zh="村庄图层",
            prefer_layer="villages",
        )
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        geoms = np.asarray(gdf.geometry.array, dtype=object)
        src_crs = gdf.crs
        if user_crs is not None:
            if src_crs is not None and not pyproj.CRS.from_user_input(src_crs).equals(user_crs):
                log.warning(
                    "%s declares %s; using the given --crs %s instead",
                    p.name,
                    src_crs.to_string(),
                    user_crs.to_string(),
                )
            src_crs = user_crs
    if len(df) == 0:
        raise ValidationError(
            f"village layer {p} is empty (no features); give a layer with one feature per village",
            zh=f"村庄图层 {p} 为空(没有要素);请提供每村一个要素的图层",
        )
    if src_crs is None:
        raise ValidationError(
            f"village layer {p} has no coordinate reference system (for a Shapefile: the .prj file is missing); "
            "pass --crs, e.g. EPSG:4490 (CGCS2000) or EPSG:4326 (WGS-84)",
            zh=f"村庄图层 {p} 没有坐标参考系(Shapefile 缺少 .prj 文件);请用 --crs 指定,如 EPSG:4490(CGCS2000)"
            "或 EPSG:4326(WGS-84)",
        )
    return df, geoms, src_crs


def _population_column(
    columns: list[str], given: str | None, p: Path, pick: Callable[..., str | None]
) -> str:
    """The population column: the given one, else the first of POPULATION_COLUMNS (实有人口 preferred)."""
    if given is not None:
        name = pick(given, POPULATION_COLUMNS, "--population-col", "population", "人口")
        assert name is not None  # pick raises when a given column is absent
        return name
    found = _find_column(columns, POPULATION_COLUMNS)
    if not found:
        raise ValidationError(
            f"{p}: no population column found (looked for {', '.join(POPULATION_COLUMNS)}); its columns are: "
            f"{', '.join(columns)}; name it with --population-col",
            zh=f"{p}:未找到人口字段(查找了 {'、'.join(POPULATION_COLUMNS)});现有字段:{'、'.join(columns)};"
            "请用 --population-col 指定",
        )
    others = f" (also present: {', '.join(found[1:])})" if len(found) > 1 else ""
    log.info("%s: population from column '%s'%s", p.name, found[0], others)
    return found[0]


def _names(df: pd.DataFrame, col: str | None, ids: list[str], p: Path) -> list[str]:
    """Village names; a village without one is named by its id (warned)."""
    if col is None:
        log.warning(
            "%s: no name column found (looked for %s); the village id is used as the name",
            p.name,
            ", ".join(NAME_COLUMNS),
        )
        return list(ids)
    names = _text_column(df[col])
    unnamed = [i for i, v in enumerate(names) if not v]
    if unnamed:
        log.warning(
            "%s: %d villages without a name use their id: %s",
            p.name,
            len(unnamed),
            ", ".join(ids[i] for i in unnamed[:_MAX_LISTED]),
        )
        names = [v or ids[i] for i, v in enumerate(names)]
    return names


def _townships(df: pd.DataFrame, col: str | None, ids: list[str], p: Path) -> list[str]:
    """Townships; without a township column every township is "" (warned: within-township rules cannot apply)."""
    if col is None:
        log.warning(
            "%s: no township column found (looked for %s); township left empty, so rules that keep "
            "districts within a township cannot apply",
            p.name,
            ", ".join(TOWNSHIP_COLUMNS),
        )
        return [""] * len(ids)
    return _text_column(df[col])


def _with_anchors(
    villages: gpd.GeoDataFrame, lonlat: tuple[np.ndarray, np.ndarray], *, coords: str, path: Path
) -> gpd.GeoDataFrame:
    """Add anchor_x, anchor_y (metric) from committee lon/lat; warn about anchors outside their polygon."""
    lon, lat = lonlat
    if coords == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    x, y = pyproj.Transformer.from_crs("EPSG:4326", villages.crs, always_xy=True).transform(lon, lat)
    out = villages.assign(anchor_x=np.asarray(x, dtype=np.float64), anchor_y=np.asarray(y, dtype=np.float64))
    given = ~np.isnan(out["anchor_x"].to_numpy())
    polygonal = out.geom_type.isin(list(_POLYGONAL)).to_numpy()
    check = given & polygonal
    pts = shapely.points(out["anchor_x"].to_numpy()[check], out["anchor_y"].to_numpy()[check])
    far = shapely.distance(np.asarray(out.geometry.array, dtype=object)[check], pts) > 0
    if far.any():
        ids = list(out.index[check][far])
        log.warning(
            "%s: %d village committee points lie outside their village polygon: %s",
            path.name,
            len(ids),
            ", ".join(ids[:_MAX_LISTED]),
        )
    log.info(
        "%s: village committee points (anchor) given for %d of %d villages",
        path.name,
        int(given.sum()),
        len(out),
    )
    return out


def _warn_outside_china(wgs: gpd.GeoDataFrame, path: Path) -> None:
    """--coords gcj02 for villages outside China, where GCJ-02 has no offset: say so (they are kept as given)."""
    from planner.geo import outside_china

    pts = wgs.geometry.representative_point()
    out = outside_china(pts.x.to_numpy(), pts.y.to_numpy())
    if out.any():
        ids = ", ".join(wgs.index[out][:_MAX_LISTED].astype(str))
        log.warning(
            "%s: --coords gcj02 was given, but %d of %d villages lie outside China, where GCJ-02 applies no offset "
            "(%s); they are kept as given: check that the coordinates really come from Amap or Tencent",
            path.name,
            int(out.sum()),
            len(wgs),
            ids,
        )


def _warn_same_point(villages: gpd.GeoDataFrame, path: Path) -> None:
    """Two villages at the same point (common in geocoded lists, where an unknown address falls back to the
    township's centre) are reported: their travel times are then equal, and one may be misplaced."""
    pts = villages.geometry[villages.geom_type == "Point"]
    if len(pts) < 2:
        return
    key = pd.Series(list(zip(pts.x.round(1), pts.y.round(1), strict=True)), index=pts.index)
    dup = key[key.duplicated(keep=False)]
    if len(dup):
        groups = dup.groupby(dup).groups
        listed = "; ".join(" = ".join(map(str, ids)) for ids in list(groups.values())[:_MAX_LISTED])
        log.warning(
            "%s: %d villages share a point with another village (%s); a geocoded list often puts an unknown "
            "address at the township's centre: check these points",
            path.name,
            len(dup),
            listed,
        )

"""Reading the police stations (派出所) a county really has: ``--stations FILE``.

Points or polygons (any layer format, or a CSV with lon/lat), one station a row, with a name and optionally
the township(s) it serves, its non-community officers (R9's whole force) and whether it is rural.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from planner.errors import ValidationError
from planner.io.files import check_input_path, read_layer_file
from planner.io.formats import is_table, read_table

#: Station file columns -> the names they may carry (the first found wins; case is ignored).
STATION_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "station", "派出所", "名称", "所名"),
    "townships": ("townships", "township", "乡镇", "辖区乡镇", "serves"),
    "other_officers": ("other_officers", "non_community", "其他民警", "非社区民警"),
    "rural": ("rural", "农村", "是否农村"),
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
}
_TRUE = {"1", "true", "yes", "y", "是", "农村"}
_FALSE = {"0", "false", "no", "n", "否", "城区", "城市"}


def read_stations(path: str | os.PathLike[str], *, crs: object) -> gpd.GeoDataFrame:
    """The stations of ``path`` in ``crs`` (the village layer's metric CRS).

    Returns
    -------
    geopandas.GeoDataFrame
        ``name`` (str), ``townships`` (tuple of str, empty when not given), ``other_officers`` (float, NaN when
        not given), ``rural`` (bool or None when not given), ``geometry`` (point or polygon), in file order.

    Raises
    ------
    ValidationError
        A missing name column, an empty or repeated name, an officer count that is not a whole number 0 or more,
        a rural value that is not yes/no, a row without a geometry; each names the file and its row.
    """
    what, what_zh = "station file", "派出所文件"
    p = check_input_path(path, what=what, what_zh=what_zh)
    if is_table(p):
        df = read_table(p, what=what, what_zh=what_zh)
        gdf = _points_of(df, p)
    else:
        gdf = read_layer_file(p, what=what, what_zh=what_zh)
    if len(gdf) == 0:
        raise ValidationError(f"{what} {p} has no stations", zh=f"{what_zh} {p} 中没有派出所")
    cols = _columns(gdf)
    if cols["name"] is None:
        raise ValidationError(
            f"{what} {p}: no name column (name, 派出所); its columns are: {', '.join(map(str, gdf.columns))}",
            zh=f"{what_zh} {p}:缺少名称字段(name、派出所);现有字段:{'、'.join(map(str, gdf.columns))}",
        )
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    out = []
    seen: dict[str, int] = {}
    row_word, row_zh = ("line", "第 {} 行") if is_table(p) else ("feature", "第 {} 个要素")
    for i, (_, r) in enumerate(gdf.iterrows()):
        n = i + 2 if is_table(p) else i + 1
        where, where_zh = f"{what} {p}: {row_word} {n}", f"{what_zh} {p}:" + row_zh.format(n)
        name = str(r[cols["name"]]).strip() if not pd.isna(r[cols["name"]]) else ""
        if not name:
            raise ValidationError(f"{where}: empty station name", zh=f"{where_zh}:派出所名称为空")
        if name in seen:
            raise ValidationError(
                f"{where}: station {name} appears twice (also {row_word} {seen[name]}); give each once",
                zh=f"{where_zh}:派出所 {name} 重复(另见第 {seen[name]} 处);每所只写一次",
            )
        seen[name] = n
        if r.geometry is None or r.geometry.is_empty:
            raise ValidationError(
                f"{where}: station {name} has no location; give a point, a polygon or lon/lat",
                zh=f"{where_zh}:派出所 {name} 没有位置;请给出点、面或经纬度",
            )
        out.append(
            {
                "name": name,
                "townships": _townships(r, cols["townships"]),
                "other_officers": _officers(r, cols["other_officers"], where, where_zh),
                "rural": _rural(r, cols["rural"], where, where_zh),
                "geometry": r.geometry,
            }
        )
    return gpd.GeoDataFrame(out, geometry="geometry", crs=gdf.crs).to_crs(crs)


def _columns(df: pd.DataFrame) -> dict[str, str | None]:
    lower = {str(c).lower(): c for c in df.columns}
    return {
        k: next((lower[a.lower()] for a in al if a.lower() in lower), None)
        for k, al in STATION_ALIASES.items()
    }


def _points_of(df: pd.DataFrame, p: Path) -> gpd.GeoDataFrame:
    """A CSV's rows as points from its lon/lat columns (WGS-84)."""
    cols = _columns(df)
    if cols["lon"] is None or cols["lat"] is None:
        raise ValidationError(
            f"station file {p}: a table needs lon and lat columns (经度, 纬度); its columns are: "
            f"{', '.join(map(str, df.columns))}",
            zh=f"派出所文件 {p}:表格须有经度、纬度字段(lon、lat);现有字段:{'、'.join(map(str, df.columns))}",
        )
    geoms = []
    for i, (x, y) in enumerate(zip(df[cols["lon"]], df[cols["lat"]], strict=True)):
        try:
            lon, lat = float(x), float(y)
        except (TypeError, ValueError):
            raise ValidationError(
                f"station file {p}: line {i + 2}: lon/lat {x!r}, {y!r} are not numbers",
                zh=f"派出所文件 {p}:第 {i + 2} 行:经纬度 {x!r}、{y!r} 不是数字",
            ) from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValidationError(
                f"station file {p}: line {i + 2}: lon/lat {lon}, {lat} out of range (WGS-84 degrees)",
                zh=f"派出所文件 {p}:第 {i + 2} 行:经纬度 {lon}、{lat} 超出范围(WGS-84 度)",
            )
        geoms.append(Point(lon, lat))
    return gpd.GeoDataFrame(df, geometry=geoms, crs=4326)


def _townships(r: pd.Series, col: str | None) -> tuple[str, ...]:
    if col is None or pd.isna(r[col]):
        return ()
    text = str(r[col]).replace("；", ";").replace("、", ";").replace(",", ";").replace("，", ";")
    return tuple(x.strip() for x in text.split(";") if x.strip())


def _officers(r: pd.Series, col: str | None, where: str, where_zh: str) -> float:
    if col is None or pd.isna(r[col]) or not str(r[col]).strip():
        return float("nan")
    try:
        n = float(str(r[col]).strip())
    except ValueError:
        n = -1.0
    if n < 0 or not n.is_integer():
        raise ValidationError(
            f"{where}: other_officers {r[col]!r} is not a whole number 0 or more (the station's officers who "
            "are not community officers)",
            zh=f"{where_zh}:其他民警 {r[col]!r} 不是不小于 0 的整数(本所非社区民警人数)",
        )
    return n


def _rural(r: pd.Series, col: str | None, where: str, where_zh: str) -> bool | None:
    if col is None or pd.isna(r[col]) or not str(r[col]).strip():
        return None
    v = str(r[col]).strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValidationError(
        f"{where}: rural {r[col]!r} is not yes or no (true/false, 1/0, 是/否)",
        zh=f"{where_zh}:是否农村 {r[col]!r} 不是 是/否(true/false、1/0)",
    )

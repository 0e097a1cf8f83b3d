"""The districts in force today, office sites and locked villages: what a bureau has now, read against its villages.

Each reader takes a table (:mod:`planner.io.formats`) or a GIS layer and the Villages GeoDataFrame of
:func:`planner.io.read_villages`; ids that match no village, villages without a district and conflicting rows are
input errors that name them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors

from planner.errors import ValidationError
from planner.io.files import check_input_path, read_layer_file
from planner.io.formats import is_table, read_table
from planner.io.villages import _MAX_LISTED, _POLYGONAL, ID_COLUMNS, _find_column, _text_column

log = logging.getLogger(__name__)

DISTRICT_COLUMNS = ("district_id", "district", "警务区", "警区", "警务区编号", "警务区代码", "警务区名称")


def _read_table_or_layer(
    path: str | os.PathLike[str], *, what: str, what_zh: str, prefer_layer: str, layer: str | None = None
) -> tuple[Path, pd.DataFrame, gpd.GeoDataFrame | None]:
    """A CSV (no geometry) or a GIS layer, with its attribute table; an empty one is an input error."""
    p = check_input_path(path, what=what, what_zh=what_zh)
    gdf: gpd.GeoDataFrame | None = None
    if is_table(p):
        table: pd.DataFrame = read_table(p, what=what, what_zh=what_zh)
    else:
        gdf = read_layer_file(p, layer=layer, what=what, what_zh=what_zh, prefer_layer=prefer_layer)
        table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    if len(table) == 0:
        raise ValidationError(f"{what} {p} is empty", zh=f"{what_zh} {p} 为空")
    return p, table, gdf


def _plan_villages(path: str | os.PathLike[str]) -> str | os.PathLike[str]:
    """A plan directory stands for its plan.gpkg."""
    p = Path(path)
    return p / "plan.gpkg" if p.is_dir() and (p / "plan.gpkg").is_file() else path


def _is_plan_gpkg(path: str | os.PathLike[str]) -> bool:
    p = Path(path)
    if p.suffix.lower() != ".gpkg" or not p.is_file():
        return False
    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(p)}
    except (pyogrio.errors.DataSourceError, OSError):
        return False
    return {"villages", "districts", "offices"} <= layers


def read_current(path: str | os.PathLike[str], villages: gpd.GeoDataFrame) -> pd.Series:
    """The district in force today of every village, from a table, a village layer or district polygons.

    Parameters
    ----------
    path
        One of: a CSV with a village id and a district column (``village_id``, ``district_id``; Chinese names
        such as 村代码, 警务区 are recognised); a layer with both columns (e.g. a villages layer that carries
        ``district_id``); or a layer of district polygons with a district column, joined by the villages'
        representative points.
    villages
        The Villages GeoDataFrame (indexed by village_id, with a CRS).

    Returns
    -------
    pandas.Series
        ``district_id`` (str) indexed like ``villages``.

    Raises
    ------
    ValidationError
        Unreadable file, no district column, conflicting rows, or villages not covered (named).
    """
    what, what_zh = "current districts file", "现行警务区文件"
    path = _plan_villages(path)
    # a plan (directory or plan.gpkg): its villages layer holds the districts as edited (QGIS), not the
    # districts layer (stale after an edit) nor the plan's own `current` layer (the districts before it)
    plan = _is_plan_gpkg(path)
    prefer = "villages" if plan else "current"
    # a plan's layer is known, not guessed: no "holds 5 layers" warning
    p, table, gdf = _read_table_or_layer(
        path, what=what, what_zh=what_zh, prefer_layer=prefer, layer="villages" if plan else None
    )
    columns = [str(c) for c in table.columns]
    district_cols = _find_column(columns, DISTRICT_COLUMNS)
    if not district_cols:
        raise ValidationError(
            f"{what} {p}: no district column (looked for {', '.join(DISTRICT_COLUMNS)}); its columns are: "
            f"{', '.join(columns)}; add a district_id column",
            zh=f"{what_zh} {p}:没有警务区字段(查找了 {'、'.join(DISTRICT_COLUMNS)});现有字段:{'、'.join(columns)};"
            "请添加 district_id 字段",
        )
    dcol = district_cols[0]
    id_cols = _find_column(columns, ID_COLUMNS)
    index = pd.Index(villages.index.astype(str))
    # district polygons often carry an "id" or "code" of their own: a column counts as village ids only
    # when its values are village ids
    id_col = next((c for c in id_cols if set(_text_column(table[c])) & set(index)), None)
    if id_col is None and id_cols and gdf is None:
        id_col = id_cols[0]
    if id_col is not None:
        vids = _text_column(table[id_col])
        dids = _text_column(table[dcol])
        pairs = pd.DataFrame({"village_id": vids, "district_id": dids})
        pairs = pairs[(pairs["village_id"] != "") & (pairs["district_id"] != "")]
        conflict = pairs.groupby("village_id")["district_id"].nunique()
        conflict = conflict[conflict > 1]
        if len(conflict):
            listed = ", ".join(conflict.index[:_MAX_LISTED])
            raise ValidationError(
                f"{what} {p}: villages given more than one district: {listed}; keep one row per village",
                zh=f"{what_zh} {p}:以下村被分到多个警务区:{listed};每村只保留一行",
            )
        mapping = pairs.drop_duplicates("village_id").set_index("village_id")["district_id"]
        unknown = sorted(set(mapping.index) - set(index))
        if unknown:
            log.warning(
                "%s: %d village ids not in the village layer are ignored: %s",
                p.name,
                len(unknown),
                ", ".join(unknown[:_MAX_LISTED]),
            )
        result = mapping.reindex(index)
        if unknown and result.isna().any():
            # ids that match no village while villages lack a district: most likely typos or another id scheme
            listed = ", ".join(unknown[:_MAX_LISTED])
            missing_ids = ", ".join(result.index[result.isna()][:_MAX_LISTED])
            raise ValidationError(
                f"{what} {p} gives no district for villages {missing_ids} and names village ids that are not "
                f"in the village layer: {listed} (column {id_col}); correct the ids (a typo, or another id "
                "scheme?) so that every village has one row",
                zh=f"{what_zh} {p} 未给出村 {missing_ids} 的警务区, 且含有村庄图层中没有的村编号:{listed}"
                f"(字段 {id_col});请改正编号(笔误或编号体系不同?), 使每个村都有一行",
            )
    elif gdf is not None and gdf.geom_type.isin(list(_POLYGONAL)).any():
        if gdf.crs is None:
            raise ValidationError(
                f"{what} {p} has no coordinate reference system; save it with one (e.g. EPSG:4490)",
                zh=f"{what_zh} {p} 没有坐标参考系;请保存时带上坐标系(如 EPSG:4490)",
            )
        polys = gdf[gdf.geom_type.isin(list(_POLYGONAL))].to_crs(villages.crs)
        polys = gpd.GeoDataFrame(
            {"district_id": _text_column(polys[dcol])}, geometry=polys.geometry.values, crs=villages.crs
        )
        points = gpd.GeoDataFrame(
            {"village_id": index}, geometry=villages.representative_point().values, crs=villages.crs
        )
        joined = gpd.sjoin(points, polys, how="left", predicate="within")
        several = joined.groupby("village_id")["district_id"].nunique()
        several = several[several > 1]
        if len(several):
            log.warning(
                "%s: %d villages lie in overlapping district polygons; the first is used: %s",
                p.name,
                len(several),
                ", ".join(several.index[:_MAX_LISTED]),
            )
        first = joined.dropna(subset=["district_id"]).drop_duplicates("village_id").set_index("village_id")
        result = first["district_id"].reindex(index)
    else:
        raise ValidationError(
            f"{what} {p}: neither a village id column ({', '.join(ID_COLUMNS)}) nor district polygons; give a "
            "table village_id,district_id or a layer of district polygons",
            zh=f"{what_zh} {p}:既无村编号字段也无警务区面;请提供 village_id,district_id 表或警务区面图层",
        )
    result = result.where(result.notna() & (result != ""), None)
    missing = result.index[result.isna()]
    if len(missing):
        listed = ", ".join(missing[:_MAX_LISTED]) + (
            f" and {len(missing) - _MAX_LISTED} more" if len(missing) > _MAX_LISTED else ""
        )
        raise ValidationError(
            f"{what} {p} gives no district for {len(missing)} villages: {listed}; add them",
            zh=f"{what_zh} {p} 未给出 {len(missing)} 个村的警务区:{listed};请补充",
        )
    out = pd.Series(result.to_numpy(dtype=object), index=villages.index, name="district_id").astype("str")
    log.info("%s: %d villages in %d current districts", p.name, len(out), out.nunique())
    return out


def read_office_sites(path: str | os.PathLike[str], villages: gpd.GeoDataFrame) -> list[str]:
    """Candidate (or existing) office sites as village ids: an office stands in a village's service centre.

    Parameters
    ----------
    path
        A CSV or layer with a village id column (``village_id``, 村代码, ...), or a point layer (office
        locations), each point taken as the village it lies in.
    villages
        The Villages GeoDataFrame (indexed by village_id, with a CRS).

    Raises
    ------
    ValidationError
        Unreadable file, ids that are not villages, or points outside every village (named).
    """
    what, what_zh = "office sites file", "警务室候选点文件"
    p, table, gdf = _read_table_or_layer(path, what=what, what_zh=what_zh, prefer_layer="offices")
    index = pd.Index(villages.index.astype(str))
    columns = [str(c) for c in table.columns]
    id_col = next(
        (c for c in _find_column(columns, ID_COLUMNS) if set(_text_column(table[c])) & set(index)), None
    )
    if id_col is not None:
        ids = [i for i in _text_column(table[id_col]) if i != ""]
        unknown = [i for i in ids if i not in set(index)]
        if unknown:
            raise ValidationError(
                f"{what} {p}: column {id_col} names villages that are not in the village layer: "
                f"{', '.join(unknown[:_MAX_LISTED])}; correct the ids",
                zh=f"{what_zh} {p}:字段 {id_col} 中的村编号不在村庄图层中:{', '.join(unknown[:_MAX_LISTED])};请改正",
            )
        return list(dict.fromkeys(ids))
    if gdf is None or not gdf.geom_type.isin(["Point", "MultiPoint"]).all():
        raise ValidationError(
            f"{what} {p}: no column of village ids (looked for {', '.join(ID_COLUMNS)}) and no point geometry; "
            "give the offices' village ids or their locations as points",
            zh=f"{what_zh} {p}:没有村编号字段(查找了 {'、'.join(ID_COLUMNS)}), 也不是点图层;"
            "请给出警务室所在村的编号或其位置点",
        )
    if gdf.crs is None:
        raise ValidationError(
            f"{what} {p} has no coordinate reference system; save it with one (e.g. EPSG:4490)",
            zh=f"{what_zh} {p} 没有坐标参考系;请保存时带上坐标系(如 EPSG:4490)",
        )
    pts = gdf.to_crs(villages.crs).reset_index(drop=True)
    owners = gpd.GeoDataFrame({"village_id": index}, geometry=villages.geometry.values, crs=villages.crs)
    polygonal = owners.geom_type.isin(list(_POLYGONAL)).all()
    if polygonal:
        joined = gpd.sjoin(pts, owners, how="left", predicate="within")
    else:  # point villages: the nearest village committee point
        joined = gpd.sjoin_nearest(pts, owners, how="left", max_distance=2000.0)
    outside = joined.index[joined["village_id"].isna()].unique()
    if len(outside):
        listed = ", ".join(str(i + 1) for i in outside[:_MAX_LISTED])
        raise ValidationError(
            f"{what} {p}: office points {listed} (feature numbers) lie in no village; move them into their "
            "village or give village ids instead",
            zh=f"{what_zh} {p}:第 {listed} 个警务室点不在任何村内;请移入所在村或改填村编号",
        )
    return list(dict.fromkeys(joined.sort_index()["village_id"].astype(str)))


def locked_villages(spec: str, current: pd.Series | None) -> list[str]:
    """The villages that keep their current district: ``spec`` lists village ids and/or current district ids
    (comma-separated, or a table file, e.g. CSV, with a village_id or district_id column), or is ``all``: every
    village keeps its district (the month re-planned on districts a bureau edited)."""
    if current is None:
        raise ValidationError(
            "--lock keeps villages in the districts in force today: give those districts with --current.",
            zh="--lock 使村保持在现行警务区: 请用 --current 给出现行警务区。",
        )
    if spec.strip().lower() == "all":
        return sorted(current.index.astype(str))
    path = Path(spec)
    if is_table(path):
        if not path.is_file():
            raise ValidationError(f"--lock {spec}: file not found.", zh=f"--lock {spec}: 找不到文件。")
        table = read_table(path, what="--lock", what_zh="--lock")
        cols = [c for c in ("village_id", "district_id") if c in table.columns]
        if not cols:
            raise ValidationError(
                f"--lock {spec}: needs a village_id or district_id column; it has {list(table.columns)}.",
                zh=f"--lock {spec}: 需要 village_id 或 district_id 列; 现有 {list(table.columns)}。",
            )
        tokens = [t for c in cols for t in table[c].str.strip() if t]
    else:
        tokens = [t.strip() for t in spec.split(",") if t.strip()]
    cur = current.astype(str)
    cur.index = cur.index.astype(str)
    out: list[str] = []
    for tok in tokens:
        if tok in cur.index:
            out.append(tok)
        elif (cur == tok).any():
            out += cur.index[cur == tok].tolist()
        else:
            raise ValidationError(
                f"--lock: '{tok}' is neither a village id nor a district of --current; check the id.",
                zh=f"--lock: '{tok}' 既不是村代码, 也不是 --current 中的警务区; 请检查编号。",
            )
    return list(dict.fromkeys(out))

"""Read the parts of an OpenStreetMap extract that `planner prepare-osm` needs.

One pass of pyosmium over a ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file (locations cached, areas assembled
from closed ways and multipolygon / boundary relations) collects:

- settlements: nodes tagged ``place=*`` (any value; the caller picks the types) and ``place=*`` areas, kept as
  their representative point;
- administrative boundaries (``boundary=administrative`` with an ``admin_level``) as (multi)polygons;
- buildings (``building=*`` areas) as points, with their ``building`` value;
- residential land (``landuse=residential`` areas) as polygons.

Everything is returned in EPSG:4326. This module only reads; the computation lives in :mod:`planner.osm`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import osmium
import pandas as pd
import shapely

from planner.errors import ValidationError
from planner.io.formats import osm_reader

log = logging.getLogger(__name__)


_KEYS = ("place", "boundary", "building", "landuse")


@dataclass(frozen=True)
class OsmExtract:
    """What :func:`read_osm_extract` found in an OSM file (all geometries in EPSG:4326).

    Attributes
    ----------
    path : Path
        The file read.
    settlements : pandas.DataFrame
        One row per ``place=*`` node or area: ``osm_id`` ("n123", "w45", "r6"), ``place``, ``name``
        (``name:zh-Hans``, then ``name:zh``, then ``name``; may be empty), ``population_tag`` (raw tag text or empty),
        ``lon``, ``lat`` (the node, or the area's representative point), ``area`` (bool: mapped as an area).
    settlement_areas : geopandas.GeoSeries
        The polygons of the settlements mapped as areas, indexed by ``osm_id``.
    boundaries : geopandas.GeoDataFrame
        ``boundary=administrative`` areas: ``osm_id``, ``admin_level`` (int), ``name`` (may be empty),
        ``population_tag``, ``geometry`` ((multi)polygon).
    buildings : geopandas.GeoDataFrame
        ``building=*`` areas: ``osm_id``, ``building`` (tag value), ``geometry`` (representative point).
    residential : geopandas.GeoSeries
        ``landuse=residential`` polygons.
    place_counts : collections.Counter
        Count of every ``place=*`` value among the settlements (nodes and areas).
    bad_geometries : int
        Areas osmium could not turn into a valid geometry (left out, logged).
    """

    path: Path
    settlements: pd.DataFrame
    settlement_areas: gpd.GeoSeries
    boundaries: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    residential: gpd.GeoSeries
    place_counts: Counter = field(default_factory=Counter)
    bad_geometries: int = 0


def display_name(tags: osmium.osm.TagList) -> str:
    """The name shown to users: ``name:zh-Hans`` (simplified characters, as PRC documents write them) when
    tagged, else ``name:zh`` (which OSM's mappers fill in either script), else ``name``, else ""."""
    return (tags.get("name:zh-Hans") or tags.get("name:zh") or tags.get("name") or "").strip()


def parse_admin_level(text: str | None) -> int | None:
    """``admin_level`` as an int, or None when missing or not a whole number (e.g. "4;6")."""
    if text is None:
        return None
    text = text.strip()
    return int(text) if re.fullmatch(r"\d{1,2}", text) else None


def check_osm_path(path: str | Path) -> Path:
    """Check that ``path`` exists and is named like an OSM file; return it as a Path.

    Raises
    ------
    ValidationError
        The file is missing or its name does not end like an OSM extract.
    """
    p = Path(path)
    if not p.is_file():
        raise ValidationError(
            f"OSM file {p} does not exist (or is not a file); give the path of a .osm.pbf, .osm or .osm.bz2 "
            "extract, e.g. from download.geofabrik.de.",
            zh=f"OSM 文件 {p} 不存在(或不是文件); 请给出 .osm.pbf、.osm 或 .osm.bz2 数据的路径(可从 "
            "download.geofabrik.de 下载)。",
        )
    if p.stat().st_size == 0:
        raise ValidationError(
            f"OSM file {p} is empty (0 bytes), an interrupted download or copy; download the extract again.",
            zh=f"OSM 文件 {p} 为空 (0 字节), 多半是下载或复制中断; 请重新下载。",
        )
    if osm_reader(p) is None:
        raise ValidationError(
            f"{p} is not an OSM extract: the name must end in .osm.pbf, .osm or .osm.bz2 (the reader picks the "
            "format from it). Rename the file if it is one, or download the extract again.",
            zh=f"{p} 不是 OSM 数据文件: 文件名须以 .osm.pbf、.osm 或 .osm.bz2 结尾(按扩展名识别格式)。"
            "如确为 OSM 数据请改名, 否则请重新下载。",
        )
    return p


def read_osm_extract(path: str | Path) -> OsmExtract:
    """Read settlements, admin boundaries, buildings and residential land from an OSM file.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` extract.

    Returns
    -------
    OsmExtract

    Raises
    ------
    ValidationError
        The file is missing, not an OSM file, or cannot be read to the end (truncated download).
    """
    p = check_osm_path(path)
    wkb = osmium.geom.WKBFactory()
    settlements: list[dict[str, object]] = []
    # the factory gives hex WKB text, which shapely.from_wkb reads in one vectorised call
    area_wkb: dict[str, str] = {}
    boundaries: list[dict[str, object]] = []
    boundary_wkb: list[str] = []
    buildings: list[tuple[str, str]] = []
    building_wkb: list[str] = []
    residential_wkb: list[str] = []
    bad = 0
    try:
        processor = osmium.FileProcessor(str(p)).with_areas().with_filter(osmium.filter.KeyFilter(*_KEYS))
        for obj in processor:
            tags = obj.tags
            if isinstance(obj, osmium.osm.Node):
                if "place" in tags and obj.location.valid():
                    settlements.append(_settlement(f"n{obj.id}", tags, obj.location.lon, obj.location.lat))
                continue
            if not isinstance(obj, osmium.osm.Area):
                continue
            try:
                geom = wkb.create_multipolygon(obj)
            except RuntimeError:  # osmium cannot build this area (broken ring, missing node)
                bad += 1
                continue
            osm_id = f"{'w' if obj.from_way() else 'r'}{obj.orig_id()}"
            if "place" in tags:
                settlements.append(_settlement(osm_id, tags, None, None))
                area_wkb[osm_id] = geom
            if tags.get("boundary") == "administrative":
                level = parse_admin_level(tags.get("admin_level"))
                if level is not None:
                    boundaries.append(
                        {
                            "osm_id": osm_id,
                            "admin_level": level,
                            "name": display_name(tags),
                            "population_tag": tags.get("population", ""),
                        }
                    )
                    boundary_wkb.append(geom)
            if "building" in tags:
                buildings.append((osm_id, tags["building"]))
                building_wkb.append(geom)
            if tags.get("landuse") == "residential":
                residential_wkb.append(geom)
    except RuntimeError as exc:
        raise ValidationError(
            f"cannot read the OSM file {p}: {exc}. The file is damaged or truncated (an interrupted download?) "
            "or not OSM data: download the extract again.",
            zh=f"无法读取 OSM 文件 {p}: {exc}。文件已损坏或不完整(下载中断?), 或不是 OSM 数据: 请重新下载。",
        ) from exc
    if bad:
        log.warning("%s: %d areas had a broken geometry and were left out", p.name, bad)

    area_geoms = gpd.GeoSeries(
        shapely.from_wkb(list(area_wkb.values())), index=pd.Index(list(area_wkb), name="osm_id"), crs=4326
    )
    settle = pd.DataFrame(
        settlements, columns=["osm_id", "place", "name", "population_tag", "lon", "lat", "area"]
    )
    if len(area_geoms):
        # a place area stands for its settlement at the area's representative point
        points = area_geoms.representative_point()
        is_area = settle["area"].to_numpy(dtype=bool)
        ids = settle.loc[is_area, "osm_id"]
        settle.loc[is_area, "lon"] = points.loc[ids].x.to_numpy()
        settle.loc[is_area, "lat"] = points.loc[ids].y.to_numpy()
    settle["lon"] = settle["lon"].astype("float64")
    settle["lat"] = settle["lat"].astype("float64")

    bounds = gpd.GeoDataFrame(
        pd.DataFrame(boundaries, columns=["osm_id", "admin_level", "name", "population_tag"]),
        geometry=shapely.from_wkb(boundary_wkb) if boundary_wkb else [],
        crs=4326,
    )
    bounds["admin_level"] = bounds["admin_level"].astype("int64")
    build = gpd.GeoDataFrame(
        pd.DataFrame(buildings, columns=["osm_id", "building"]),
        geometry=shapely.point_on_surface(shapely.from_wkb(building_wkb)) if building_wkb else [],
        crs=4326,
    )
    resid = gpd.GeoSeries(shapely.from_wkb(residential_wkb) if residential_wkb else [], crs=4326)
    counts = Counter(settle["place"].astype(str))
    log.info(
        "%s: %d place nodes/areas, %d admin boundaries, %d buildings, %d residential areas",
        p.name,
        len(settle),
        len(bounds),
        len(build),
        len(resid),
    )
    return OsmExtract(
        path=p,
        settlements=settle,
        settlement_areas=area_geoms,
        boundaries=bounds,
        buildings=build,
        residential=resid,
        place_counts=counts,
        bad_geometries=bad,
    )


def _settlement(
    osm_id: str, tags: osmium.osm.TagList, lon: float | None, lat: float | None
) -> dict[str, object]:
    return {
        "osm_id": osm_id,
        "place": tags.get("place", ""),
        "name": display_name(tags),
        "population_tag": tags.get("population", ""),
        "lon": lon,
        "lat": lat,
        "area": lon is None,
    }

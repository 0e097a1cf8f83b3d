"""Village cells from an OpenStreetMap extract (``planner prepare-osm``).

Many counties have no digital village boundaries. From an OSM extract this module derives a village layer the
planner can use: one cell per settlement, with a name, a township and a population.

Method
------
1. **Settlements.** Every ``place=*`` node (or ``place=*`` area, at its representative point) whose value is in
   ``place_types`` (default town, village, hamlet) is a village. Its id is ``osm-n<node id>`` (``osm-w`` /
   ``osm-r`` for areas), stable across runs. Its name is ``name:zh-Hans`` or ``name:zh`` when tagged, else
   ``name``; an unnamed settlement is named after the nearest named one ("Steg附近无名小村", "unnamed hamlet
   near Steg", in ``lang``). A place area that holds a settlement node of the same name is the same settlement
   and is not counted twice.
2. **Region.** The region is one ``boundary=administrative`` (multi)polygon: the one at ``admin_level`` when
   given, else the boundary at the lowest admin level that alone contains more than half of the settlements
   (2 for a country extract, 6 for a Chinese county extract that carries its county boundary). Settlements
   outside it are outside the region, not villages: their count and names are logged.
3. **Cells.** Voronoi polygons of the settlement points, computed in the UTM zone of the region's centre and
   clipped to the region: the cells tile the region without gaps or overlaps.
4. **Township.** The named admin unit at ``township_level`` that contains the settlement point. When not given,
   the level is the deepest admin level below the region whose named units (at least 2, and at most half as
   many as the villages, so that a level of village boundaries is not taken for townships) cover at least 95 %
   of the region. A settlement in no unit gets the nearest unit's name, with a warning.
5. **Population.** The node's ``population`` tag when it is a whole number ("1234", "1,234", "1 234",
   "1'234"): ``population_source = "tag"``. Otherwise it is modelled (``"modelled"``) from the residential
   buildings in the cell: buildings tagged ``building`` = house, detached, semidetached_house, terraced,
   bungalow, farm, residential or apartments anywhere, plus ``building=yes`` inside ``landuse=residential``.
   Each counts ``persons_per_building`` residents, default :data:`PERSONS_PER_BUILDING` = 2.62: the mean
   household size of China's 7th population census (2020; NBS, Communiqué No. 2, 11 May 2021: "平均每个家庭户的
   人口为2.62人") times one dwelling per building, the rural norm of "一户一宅" (one homestead per household,
   Land Administration Law of the PRC, art. 62). Every modelled village has at least
   :data:`MIN_VILLAGE_POPULATION` = 50 residents: a mapped settlement is inhabited, and OSM maps a hamlet as a
   settlement of fewer than about 100-200 people (OSM wiki, Tag:place=hamlet), so 50 is a conservative floor
   (a planning assumption, not a measured figure). With ``total_population`` the modelled populations are
   scaled (keeping the floor) so that the region totals it; tagged populations are kept as they are.

The result is in EPSG:4326, indexed by ``village_id``, with columns ``name``, ``township``, ``population``
(int64 > 0), ``population_source``, ``lon``, ``lat`` (the settlement point) and ``geometry`` (the cell).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner.errors import ValidationError
from planner.geo import metric_crs
from planner.io.osm import OsmExtract, read_osm_extract

log = logging.getLogger(__name__)


PLACE_TYPES: tuple[str, ...] = ("town", "village", "hamlet")


"""Default ``place=*`` values that become villages."""


PERSONS_PER_BUILDING = 2.62


"""Residents per residential building: mean household size, China 2020 census, times one dwelling per building."""


MIN_VILLAGE_POPULATION = 50


"""Floor of every modelled village population (planning assumption, see the module docstring)."""


RESIDENTIAL_BUILDINGS = frozenset(
    {"house", "detached", "semidetached_house", "terraced", "bungalow", "farm", "residential", "apartments"}
)


"""``building=*`` values that count as dwellings wherever they stand."""


TOWNSHIP_COVERAGE = 0.95


"""Share of the region the named units of a level must cover to be taken as its townships."""


def prepare_osm(
    osm_path: str | Path,
    *,
    place_types: Sequence[str] = PLACE_TYPES,
    admin_level: int | None = None,
    township_level: int | None = None,
    total_population: int | None = None,
    persons_per_building: float | None = None,
    lang: str = "zh",
) -> gpd.GeoDataFrame:
    """Derive village cells with name, township and population from an OSM extract.

    Parameters
    ----------
    osm_path : str or Path
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` extract.
    place_types : sequence of str
        ``place=*`` values that become villages.
    admin_level : int, optional
        Admin level of the region boundary that clips the cells; detected when None (module docstring).
    township_level : int, optional
        Admin level whose units name each village's township; detected when None.
    total_population : int, optional
        Known total of the region: modelled populations are scaled to reach it.
    persons_per_building : float, optional
        Residents per residential building; default :data:`PERSONS_PER_BUILDING`.
    lang : {"zh", "en"}
        Language of the names given to unnamed settlements.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, index ``village_id``; columns ``name``, ``township``, ``population`` (int64),
        ``population_source`` ("tag" / "modelled"), ``lon``, ``lat``, ``geometry`` (cell polygon);
        ``attrs`` as described in the module docstring.

    Raises
    ------
    ValidationError
        Unreadable file, no settlement of the given types, no boundary, bad options.
    """
    types = _check_options(place_types, total_population, persons_per_building)
    ppb = PERSONS_PER_BUILDING if persons_per_building is None else float(persons_per_building)
    extract = read_osm_extract(osm_path)
    name = extract.path.name

    settlements = _select_settlements(extract, types, lang)
    region_row = _choose_region(extract, settlements, admin_level=admin_level)
    region = region_row.geometry
    inside = shapely.contains_xy(region, settlements["lon"].to_numpy(), settlements["lat"].to_numpy())
    out = settlements.loc[~inside]
    if len(out):
        log.info(
            "%s: %d settlements lie outside the region %s (admin_level %d) and are not part of it: %s",
            name,
            len(out),
            region_row["name"],
            region_row["admin_level"],
            ", ".join(_label(out)),
        )
    villages, same_point = _drop_same_point(settlements.loc[inside].copy(), name)

    region_4326 = gpd.GeoSeries([region], crs=4326)
    crs = metric_crs(region_4326)
    region_m = region_4326.to_crs(crs).make_valid().iloc[0]
    points_m = gpd.GeoSeries(gpd.points_from_xy(villages["lon"], villages["lat"]), crs=4326).to_crs(crs)
    cells_m = voronoi_cells(points_m.to_numpy(), region_m)

    units = _choose_townships(
        extract, region_row, region_m, crs, len(villages), township_level=township_level
    )
    townships = _assign_townships(units, points_m, villages, name)

    counts = _count_buildings(extract, cells_m, crs)
    tagged = villages["population_tag"].map(parse_population)
    populations, sources = model_population(
        tagged.to_numpy(dtype="float64"),
        counts,
        persons_per_building=ppb,
        total_population=total_population,
    )

    index = pd.Index(["osm-" + i for i in villages["osm_id"]], name="village_id", dtype="str")
    result = gpd.GeoDataFrame(
        {
            "name": pd.array(villages["name"].to_numpy(), dtype="str"),
            "township": pd.array(townships, dtype="str"),
            "population": pd.array(populations, dtype="int64"),
            "population_source": pd.array(sources, dtype="str"),
            "lon": villages["lon"].to_numpy(dtype="float64"),
            "lat": villages["lat"].to_numpy(dtype="float64"),
        },
        geometry=gpd.GeoSeries(cells_m, crs=crs).to_crs(4326).to_numpy(),
        index=index,
        crs=4326,
    )
    result.attrs.update(
        {
            "region": str(region_row["name"]),
            "admin_level": int(region_row["admin_level"]),
            "township_level": int(units["admin_level"].iloc[0]),
            "outside_region": list(_label(out)),
            "same_point": list(_label(same_point)),
        }
    )
    log.info(
        "%s: %d villages in %s, %d townships, population %d (%d tagged, %d modelled)",
        name,
        len(result),
        region_row["name"],
        result["township"].nunique(),
        int(result["population"].sum()),
        int((result["population_source"] == "tag").sum()),
        int((result["population_source"] == "modelled").sum()),
    )
    return result


def voronoi_cells(points: np.ndarray, region: shapely.Geometry) -> np.ndarray:
    """Voronoi cells of ``points`` clipped to ``region``, in the order of the points.

    Parameters
    ----------
    points : array of shapely Point
        Distinct points inside ``region`` (metric CRS).
    region : shapely Polygon or MultiPolygon

    Returns
    -------
    numpy.ndarray of shapely geometries
        One (multi)polygon per point; together they tile ``region``.
    """
    if len(points) == 1:
        return np.array([region], dtype=object)
    xmin, ymin, xmax, ymax = region.bounds
    pad = max(xmax - xmin, ymax - ymin)
    extent = shapely.box(xmin - pad, ymin - pad, xmax + pad, ymax + pad)
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=extent, ordered=True)
    raw = np.asarray(shapely.get_parts(diagram))
    if len(raw) != len(points):  # cannot happen for distinct points; guard the order assumption
        raise AssertionError(f"{len(raw)} Voronoi cells for {len(points)} points")
    cells = shapely.intersection(raw, region)
    cells = np.array([_polygonal(c) for c in cells], dtype=object)
    return cells


def model_population(
    tagged: np.ndarray,
    buildings: np.ndarray,
    *,
    persons_per_building: float = PERSONS_PER_BUILDING,
    total_population: int | None = None,
    floor: int = MIN_VILLAGE_POPULATION,
) -> tuple[np.ndarray, np.ndarray]:
    """Village populations: tagged where known, else modelled from building counts.

    Parameters
    ----------
    tagged : (n,) float array
        Tagged population, NaN where the village has none.
    buildings : (n,) int array
        Residential buildings in each village's cell.
    persons_per_building : float
        Residents per building.
    total_population : int, optional
        Region total to reach by scaling the modelled villages (floor kept, tagged kept).
    floor : int
        Least population of a modelled village.

    Returns
    -------
    population : (n,) int64 array
    source : (n,) object array of "tag" / "modelled"

    Raises
    ------
    ValidationError
        ``total_population`` is below what the tagged villages plus the floors already hold.
    """
    tagged = np.asarray(tagged, dtype="float64")
    has_tag = ~np.isnan(tagged)
    raw = np.asarray(buildings, dtype="float64") * persons_per_building
    population = np.zeros(len(tagged), dtype="int64")
    population[has_tag] = np.round(tagged[has_tag]).astype("int64")
    modelled = ~has_tag
    n_model = int(modelled.sum())
    if total_population is None or n_model == 0:
        population[modelled] = np.maximum(floor, np.round(raw[modelled])).astype("int64")
        if total_population is not None:
            log.warning(
                "every village has a tagged population; total_population %d is not used (tagged total %d)",
                total_population,
                int(population.sum()),
            )
    else:
        rest = total_population - int(population[has_tag].sum())
        if rest < floor * n_model:
            raise ValidationError(
                f"total population {total_population} is too small: the {int(has_tag.sum())} villages with a "
                f"population tag hold {int(population[has_tag].sum())} and the {n_model} modelled villages "
                f"need at least {floor} each ({floor * n_model}). Check --total-population.",
                zh=f"总人口 {total_population} 过小: 带人口标签的 {int(has_tag.sum())} 个村共 "
                f"{int(population[has_tag].sum())} 人, 其余 {n_model} 个村每村至少 {floor} 人(共 "
                f"{floor * n_model} 人)。请检查 --total-population。",
            )
        population[modelled] = _scale_with_floor(raw[modelled], rest, floor)
    source = np.where(has_tag, "tag", "modelled").astype(object)
    return population, source


def parse_population(text: object) -> float:
    """A ``population`` tag as a number, NaN when it is not a positive whole number.

    Accepts thousands separators (``1,234``, ``1 234``, ``1'234``, ``1.234`` with three digits after the dot).
    """
    if not isinstance(text, str):
        return math.nan
    s = text.strip()
    if re.fullmatch(r"\d{1,3}([ ,'.\u00a0\u202f]\d{3})+|\d+", s):
        value = int(re.sub(r"\D", "", s))
        return float(value) if value > 0 else math.nan
    return math.nan


def _check_options(
    place_types: Sequence[str] | str, total_population: int | None, persons_per_building: float | None
) -> tuple[str, ...]:
    if isinstance(place_types, str):
        place_types = [place_types]
    types = tuple(dict.fromkeys(t.strip() for t in place_types if t and t.strip()))
    if not types:
        raise ValidationError(
            "no place types given: pass e.g. --place-types town,village,hamlet",
            zh="未给出地点类型: 请传入例如 --place-types town,village,hamlet",
        )
    if total_population is not None and total_population <= 0:
        raise ValidationError(
            f"--total-population must be a positive whole number, got {total_population}",
            zh=f"--total-population 须为正整数, 实际为 {total_population}",
        )
    if persons_per_building is not None and not (
        math.isfinite(persons_per_building) and persons_per_building > 0
    ):
        raise ValidationError(
            f"--persons-per-building must be a positive number, got {persons_per_building}",
            zh=f"--persons-per-building 须为正数, 实际为 {persons_per_building}",
        )
    return types


def _select_settlements(extract: OsmExtract, types: tuple[str, ...], lang: str) -> pd.DataFrame:
    s = extract.settlements
    chosen = s.loc[s["place"].isin(types)].copy()
    if chosen.empty:
        found = ", ".join(f"{k} ({v})" for k, v in extract.place_counts.most_common()) or "none"
        raise ValidationError(
            f"{extract.path}: no settlement tagged place={'/'.join(types)}. place values in the file: {found}. "
            "Pass --place-types with some of them, or use an extract of a region with settlements.",
            zh=f"{extract.path}: 没有 place={'/'.join(types)} 的居民点。文件中的 place 值: {found}。"
            "请用 --place-types 选择其中的类型, 或换用含有居民点的数据。",
        )
    # a place area that holds a same-named place node is that settlement mapped twice
    areas = chosen.loc[chosen["area"]]
    nodes = chosen.loc[~chosen["area"]]
    dupes = []
    for idx, row in areas.iterrows():
        poly = extract.settlement_areas.loc[row["osm_id"]]
        same = nodes.loc[nodes["name"] == row["name"]] if row["name"] else nodes.iloc[0:0]
        if len(same) and shapely.contains_xy(poly, same["lon"].to_numpy(), same["lat"].to_numpy()).any():
            dupes.append(idx)
    if dupes:
        log.info(
            "%s: %d place areas are the same settlement as a place node inside them and are not counted "
            "twice: %s",
            extract.path.name,
            len(dupes),
            ", ".join(_label(chosen.loc[dupes])),
        )
        chosen = chosen.drop(index=dupes)
    unnamed = chosen["name"] == ""
    if unnamed.any():
        log.warning(
            "%s: %d settlements have no name; each is named after the nearest named settlement",
            extract.path.name,
            int(unnamed.sum()),
        )
        chosen.loc[unnamed, "name"] = _unnamed_names(chosen, unnamed.to_numpy(), lang)
    # a stable order: by OSM id, so that a re-run on the same file gives the same layer
    return chosen.sort_values("osm_id", kind="stable").reset_index(drop=True)


#: Words for a settlement's place type in the names of unnamed settlements (zh, en).
_PLACE_WORDS = {
    "town": ("镇", "town"),
    "village": ("村", "village"),
    "hamlet": ("小村", "hamlet"),
    "isolated_dwelling": ("独立住户", "isolated dwelling"),
}


def _unnamed_names(chosen: pd.DataFrame, unnamed: np.ndarray, lang: str) -> list[str]:
    """A name for each unnamed settlement: "<nearest named>附近无名<type>" / "unnamed <type> near <nearest named>".

    The nearest is by straight-line distance on the settlement points (a local equirectangular projection is
    exact enough to pick a neighbour). With no named settlement at all, the OSM id stands in for the neighbour.
    """
    named = ~unnamed
    lat0 = math.radians(float(chosen["lat"].mean()))
    x = chosen["lon"].to_numpy(float) * math.cos(lat0)
    y = chosen["lat"].to_numpy(float)
    out = []
    for i in np.flatnonzero(unnamed):
        if named.any():
            d = np.hypot(x[named] - x[i], y[named] - y[i])
            near = str(chosen["name"].to_numpy()[named][int(np.argmin(d))])
        else:
            near = "osm-" + str(chosen["osm_id"].iloc[i])
        place = str(chosen["place"].iloc[i])
        zh, en = _PLACE_WORDS.get(place, ("居民点", place.replace("_", " ")))
        out.append(f"{near}附近无名{zh}" if lang == "zh" else f"unnamed {en} near {near}")
    return out


def _choose_region(extract: OsmExtract, settlements: pd.DataFrame, *, admin_level: int | None) -> pd.Series:
    b = extract.boundaries
    if admin_level is not None:
        b = b.loc[b["admin_level"] == admin_level]
        if b.empty:
            levels = sorted(set(extract.boundaries["admin_level"]))
            raise ValidationError(
                f"{extract.path}: no complete administrative boundary at admin_level {admin_level}; levels "
                f"found: {levels or 'none'}. Pass one of them to --admin-level, or use an extract that holds "
                "the whole region's boundary.",
                zh=f"{extract.path}: 没有 admin_level {admin_level} 的完整行政边界; 文件中的级别: "
                f"{levels or '无'}。请改用其中之一作为 --admin-level, 或使用包含完整区域边界的数据。",
            )
    if b.empty:
        raise ValidationError(
            f"{extract.path}: no complete administrative boundary (boundary=administrative) in the file, so "
            "the region cannot be clipped. Use an extract that contains the whole region with its boundary "
            "(e.g. a Geofabrik country or province extract).",
            zh=f"{extract.path}: 文件中没有完整的行政边界(boundary=administrative), 无法确定区域范围。"
            "请使用包含完整区域及其边界的数据(例如 Geofabrik 的国家或省级数据)。",
        )
    lon = settlements["lon"].to_numpy()
    lat = settlements["lat"].to_numpy()
    held = np.array([int(shapely.contains_xy(g, lon, lat).sum()) for g in b.geometry])
    if held.max() == 0:
        raise ValidationError(
            f"{extract.path}: none of the {len(settlements)} settlements lies inside an administrative boundary "
            f"{'at admin_level ' + str(admin_level) if admin_level is not None else ''}. Use an extract that "
            "contains the region's boundary, or another --admin-level.",
            zh=f"{extract.path}: {len(settlements)} 个居民点都不在任何行政边界之内。请使用包含区域边界的数据, "
            "或更换 --admin-level。",
        )
    order = pd.DataFrame({"level": b["admin_level"].to_numpy(), "held": held, "pos": np.arange(len(b))})
    if admin_level is None:
        most = order.loc[order["held"] * 2 > len(settlements)]
        if most.empty:
            pick = order.sort_values(["held", "level"], ascending=[False, True], kind="stable").iloc[0]
            log.warning(
                "%s: no single boundary holds most of the %d settlements; using the one that holds the most (%d)",
                extract.path.name,
                len(settlements),
                int(pick["held"]),
            )
        else:
            pick = most.sort_values(["level", "held"], ascending=[True, False], kind="stable").iloc[0]
    else:
        pick = order.sort_values("held", ascending=False, kind="stable").iloc[0]
    row = b.iloc[int(pick["pos"])].copy()
    if not row.geometry.is_valid:
        row["geometry"] = shapely.make_valid(row.geometry)
    if not row["name"]:
        row["name"] = f"osm-{row['osm_id']}"
    log.info(
        "%s: region %s (admin_level %d) holds %d of %d settlements",
        extract.path.name,
        row["name"],
        row["admin_level"],
        int(pick["held"]),
        len(settlements),
    )
    return row


def _choose_townships(
    extract: OsmExtract,
    region_row: pd.Series,
    region_m: shapely.Geometry,
    crs: CRS,
    n_villages: int,
    *,
    township_level: int | None,
) -> gpd.GeoDataFrame:
    """Named admin units inside the region at the township level (given or detected), metric CRS."""
    b = extract.boundaries
    named = b.loc[(b["name"] != "") & (b["osm_id"] != region_row["osm_id"])]
    if len(named) < (b["osm_id"] != region_row["osm_id"]).sum():
        log.info(
            "%s: %d admin boundaries without a name are not used as townships",
            extract.path.name,
            int(((b["name"] == "") & (b["osm_id"] != region_row["osm_id"])).sum()),
        )
    units = named.to_crs(crs)
    units = units.assign(geometry=units.geometry.make_valid())
    region_area = region_m.area
    share = np.asarray(shapely.area(shapely.intersection(units.geometry.to_numpy(), region_m))) / np.maximum(
        units.geometry.area.to_numpy(), 1e-9
    )
    units = units.loc[share > 0.5]  # units mostly inside the region (neighbours only touch it)

    def coverage(level: int) -> float:
        g = units.loc[units["admin_level"] == level].geometry
        return float(shapely.intersection(shapely.union_all(g.to_numpy()), region_m).area / region_area)

    if township_level is not None:
        chosen = units.loc[units["admin_level"] == township_level]
        if chosen.empty:
            levels = sorted(set(units["admin_level"]))
            raise ValidationError(
                f"{extract.path}: no named administrative unit at admin_level {township_level} inside the region "
                f"{region_row['name']}; levels inside it: {levels or 'none'}. Pass one of them to "
                "--township-level.",
                zh=f"{extract.path}: 区域 {region_row['name']} 内没有 admin_level {township_level} 的有名称行政单元;"
                f" 区域内的级别: {levels or '无'}。请改用其中之一作为 --township-level。",
            )
        cov = coverage(township_level)
        if cov < TOWNSHIP_COVERAGE:
            log.warning(
                "%s: the admin_level %d units cover %.1f%% of the region; villages outside them get the "
                "nearest unit",
                extract.path.name,
                township_level,
                100 * cov,
            )
        return chosen

    candidates = []
    for level in sorted(set(units["admin_level"]), reverse=True):
        if level <= region_row["admin_level"]:
            continue
        n = int((units["admin_level"] == level).sum())
        if n < 2 or 2 * n > n_villages:
            continue
        cov = coverage(level)
        candidates.append((level, n, cov))
        if cov >= TOWNSHIP_COVERAGE:
            log.info(
                "%s: townships are the %d admin_level %d units (%.1f%% of the region)",
                extract.path.name,
                n,
                level,
                100 * cov,
            )
            return units.loc[units["admin_level"] == level]
    if candidates:
        level, n, cov = max(candidates, key=lambda c: (c[2], c[0]))
        log.warning(
            "%s: no admin level below the region covers %.0f%% of it; townships are the %d admin_level %d units "
            "(%.1f%%), villages outside them get the nearest unit. Pass --township-level to choose.",
            extract.path.name,
            100 * TOWNSHIP_COVERAGE,
            n,
            level,
            100 * cov,
        )
        return units.loc[units["admin_level"] == level]
    log.warning(
        "%s: no administrative units below the region %s; every village gets the region's name as its township",
        extract.path.name,
        region_row["name"],
    )
    return gpd.GeoDataFrame(
        {
            "osm_id": [region_row["osm_id"]],
            "admin_level": [region_row["admin_level"]],
            "name": [region_row["name"]],
        },
        geometry=[region_m],
        crs=crs,
    )


def _assign_townships(
    units: gpd.GeoDataFrame, points_m: gpd.GeoSeries, villages: pd.DataFrame, file_name: str
) -> list[str]:
    geoms = units.geometry.to_numpy()
    names = units["name"].to_numpy()
    areas = shapely.area(geoms)
    result: list[str] = []
    nearest: list[str] = []
    for i, pt in enumerate(points_m.to_numpy()):
        inside = np.flatnonzero(shapely.covers(geoms, pt))
        if len(inside):
            # nested or overlapping units at one level: the smallest is the most specific
            result.append(str(names[inside[np.argmin(areas[inside])]]))
        else:
            d = shapely.distance(geoms, pt)
            j = int(np.argmin(d))
            result.append(str(names[j]))
            nearest.append(f"{villages['name'].iloc[i]} -> {names[j]} ({d[j]:.0f} m)")
    if nearest:
        log.warning(
            "%s: %d settlements lie in no township unit and got the nearest one: %s",
            file_name,
            len(nearest),
            "; ".join(nearest),
        )
    return result


def _count_buildings(extract: OsmExtract, cells_m: np.ndarray, crs: CRS) -> np.ndarray:
    """Residential buildings per cell (see the module docstring for which buildings count)."""
    b = extract.buildings
    if b.empty:
        log.warning(
            "%s: no buildings in the extract; modelled villages get the floor population", extract.path.name
        )
        return np.zeros(len(cells_m), dtype="int64")
    typed = b["building"].isin(RESIDENTIAL_BUILDINGS).to_numpy()
    generic = (b["building"] == "yes").to_numpy()
    if generic.any() and len(extract.residential):
        landuse = shapely.union_all(extract.residential.make_valid().to_numpy())
        shapely.prepare(landuse)
        pts = b.geometry.to_numpy()
        in_res = np.zeros(len(b), dtype=bool)
        in_res[generic] = shapely.covers(landuse, pts[generic])
    else:
        in_res = np.zeros(len(b), dtype=bool)
    homes = b.loc[typed | in_res].to_crs(crs)
    tree = shapely.STRtree(cells_m)
    pairs = tree.query(homes.geometry.to_numpy(), predicate="within")
    # a point on a shared edge is within no cell and intersects two: count it once, in the first
    hit = np.full(len(homes), -1, dtype="int64")
    hit[pairs[0][::-1]] = pairs[1][::-1]
    counts = np.bincount(hit[hit >= 0], minlength=len(cells_m)).astype("int64")
    log.info(
        "%s: %d residential buildings (%d typed, %d building=yes in landuse=residential), %d inside the cells",
        extract.path.name,
        len(homes),
        int(typed.sum()),
        int(in_res.sum()),
        int(counts.sum()),
    )
    return counts


def _scale_with_floor(raw: np.ndarray, total: int, floor: int) -> np.ndarray:
    """Integers >= floor summing to ``total``, proportional to ``raw`` where above the floor."""
    n = len(raw)
    if raw.sum() <= 0:
        values = np.full(n, total / n)
    else:
        fixed = np.zeros(n, dtype=bool)
        while True:
            free = ~fixed
            scale = (total - floor * fixed.sum()) / raw[free].sum()
            low = free & (raw * scale < floor)
            if not low.any():
                break
            fixed |= low
        values = np.where(fixed, float(floor), raw * scale)
    # largest remainders: the integers sum exactly to the total
    base = np.floor(values).astype("int64")
    short = int(total - base.sum())
    if short > 0:
        order = np.argsort(-(values - base), kind="stable")
        base[order[:short]] += 1
    return base


def _drop_same_point(villages: pd.DataFrame, file_name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Villages with distinct points, and those left out for sharing the point of an earlier one."""
    dup = villages.duplicated(subset=["lon", "lat"], keep="first")
    if dup.any():
        log.warning(
            "%s: %d settlements share the exact location of another one and are left out (one cell per "
            "point): %s",
            file_name,
            int(dup.sum()),
            ", ".join(_label(villages.loc[dup])),
        )
    return villages.loc[~dup], villages.loc[dup]


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep only the polygon parts of an intersection (drops stray lines and points on the boundary)."""
    if isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
        return geom
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon | shapely.MultiPolygon)]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]


def _label(rows: pd.DataFrame) -> Iterable[str]:
    return (f"{r['name'] or '?'} (osm-{r['osm_id']}, {r['place']})" for _, r in rows.iterrows())

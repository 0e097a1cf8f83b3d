"""Reading road files: OSM XML (.osm, .osm.bz2), OSM PBF (.osm.pbf) and road-line layers (GeoPackage, Shapefile...).

Every reader returns the same shape, a GeoDataFrame of road lines that :func:`planner.network.build_network`
turns into a directed graph:

==============  ==================================================================================
column          meaning
==============  ==================================================================================
geometry        LineString, in the file's CRS (EPSG:4326 for OSM)
highway         road class (OSM ``highway``; for line layers the ``highway``, ``fclass`` or ``class``
                column, else ``"road"``)
maxspeed_kmh    posted speed limit in km/h, NaN when not tagged
unpaved         True on unpaved surfaces (``surface`` = unpaved, gravel, dirt, ground, ...) and on
                ``highway=track`` unless its surface is paved
speed_kmh       a speed given by the file (line layers with ``speed_col``), NaN otherwise
oneway          1 one-way along the line, -1 one-way against it, 0 both ways
road_name       the road's OSM ``name``, else its ``ref`` (a line layer's ``name`` / ``ref`` columns), ``""``
                when it has neither; names of ways joined into one edge sorted and joined by " / "
u, v            (OSM only) node ids: the rows are already directed edges u -> v with the geometry
                drawn from u to v, so ``oneway`` is 1 on every row
==============  ==================================================================================

``gdf.attrs["source"]`` holds the file name and ``gdf.attrs["kind"]`` is ``"osm"`` or ``"lines"``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.sax import SAXException

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import ValidationError
from planner.io.formats import osm_reader

log = logging.getLogger(__name__)

# Ways a car can use; the same filter that made the shipped *-drive.osm.bz2 extracts, plus track (rural China's
# village roads are often tagged track) and the _link ramps.
DRIVABLE = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "road",
        "service",
        "track",
    }
)
_EXCLUDED_SERVICE = frozenset(
    {"parking_aisle", "driveway", "private", "emergency_access", "drive-through", "parking"}
)
UNPAVED_SURFACES = frozenset(
    {
        "unpaved",
        "gravel",
        "fine_gravel",
        "dirt",
        "ground",
        "earth",
        "grass",
        "sand",
        "mud",
        "compacted",
        "pebblestone",
        "rock",
        "rocks",
        "stone",
        "grass_paver",
        "woodchips",
        "soil",
        "clay",
        "salt",
        "snow",
        "ice",
    }
)
PAVED_SURFACES = frozenset(
    {
        "paved",
        "asphalt",
        "concrete",
        "concrete:plates",
        "concrete:lanes",
        "paving_stones",
        "sett",
        "chipseal",
        "metal",
    }
)
_NO_CARS = frozenset(
    {"no", "private", "agricultural", "forestry", "agricultural;forestry", "forestry;agricultural"}
)
_TRUE = frozenset({"yes", "true", "1", "y", "t", "forward", "f", "on"})
_REVERSE = frozenset({"-1", "reverse", "backward", "r"})


#: The way tags the road model reads (drivability, class speed, limit, surface): simplification never joins ways
#: that differ in one of them, so that every edge has a single value of each, whatever the hash seed.
TAGS_READ = (
    "highway",
    "access",
    "area",
    "service",
    "motor_vehicle",
    "motorcar",
    "vehicle",
    "maxspeed",
    "surface",
    "tracktype",
)


def read_roads(
    path: str | Path, *, speed_col: str | None = None, oneway_col: str | None = None
) -> gpd.GeoDataFrame:
    """Read a road file into a table of road lines (see the module docstring for the columns).

    Parameters
    ----------
    path
        An OSM file (:data:`planner.io.formats.OSM_SUFFIXES`): ``.osm`` / ``.osm.bz2`` (OSM XML, read by osmnx
        ``graph_from_xml`` with ``retain_all=True`` so that no road piece is dropped), ``.osm.pbf`` and the other
        formats pyosmium reads (drivable ways extracted with pyosmium, then read the same way); or any line layer
        pyogrio reads (GeoPackage, Shapefile, GeoJSON, FlatGeobuf).
    speed_col
        Line layers only: a column of speeds in km/h used instead of the class speeds (empty or non-positive
        values fall back to the class speed).
    oneway_col
        Line layers only: a column saying which way traffic flows: yes/true/1/forward/F = along the line,
        -1/reverse/backward = against it (the Geofabrik convention B/F/T is recognised when the column holds
        only those letters), anything else both ways. Defaults to a column named ``oneway`` when present.

    Raises
    ------
    ValidationError
        The file is missing, unreadable, holds no lines, or a named column is absent or not numeric.
    """
    p = Path(path)
    if not p.exists():
        raise ValidationError(
            f"{p}: road file not found. Give an OSM file (.osm, .osm.bz2, .osm.pbf) or a road-line "
            "layer (GeoPackage, Shapefile, GeoJSON).",
            zh=f"{p}: 找不到道路文件。请给出 OSM 文件 (.osm, .osm.bz2, .osm.pbf) 或道路线图层 "
            "(GeoPackage, Shapefile, GeoJSON)。",
        )
    reader = osm_reader(p)
    if reader is not None and (speed_col or oneway_col):
        log.warning("%s: speed_col/oneway_col apply to line layers only; OSM tags are used", p)
    if reader is not None and p.is_file() and p.stat().st_size == 0:
        raise ValidationError(
            f"{p}: the OSM file is empty (0 bytes), an interrupted download or copy; download the extract again.",
            zh=f"{p}: OSM 文件为空 (0 字节), 多半是下载或复制中断; 请重新下载。",
        )
    if reader == "osmium":
        # the converted XML is a temporary file: SIGTERM (a killed job) must remove it as Ctrl-C does
        with terminate_as_interrupt(), tempfile.TemporaryDirectory(prefix="planner-pbf-") as tmp:
            xml = Path(tmp) / "drive.osm"
            n_ways = pbf_to_drive_xml(p, xml)
            if n_ways == 0:
                raise _no_roads(p)
            out = _read_osm_xml(xml, source=p)
    elif reader == "xml":
        out = _read_osm_xml(p, source=p)
    else:
        out = _read_lines(p, speed_col=speed_col, oneway_col=oneway_col)
    log.info("%s: %d road lines (%s)", p, len(out), out.attrs["kind"])
    return out


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises KeyboardInterrupt like SIGINT, so that ``finally`` and ``with`` clean up.

    Only in the main thread (Python delivers signals there); the previous handler is restored afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _no_roads(p: Path) -> ValidationError:
    return ValidationError(
        f"{p}: the file holds no drivable roads. Give a road file that covers the villages.",
        zh=f"{p}: 文件中没有可通车的道路。请给出覆盖各村的道路文件。",
    )


def pbf_to_drive_xml(pbf: Path, out: Path) -> int:
    """Write the drivable ways of an OSM PBF file (and the nodes they use) as OSM XML; return the number of ways."""
    import osmium

    ways: list[tuple[int, list[int], dict[str, str]]] = []
    needed: set[int] = set()
    try:
        for w in osmium.FileProcessor(str(pbf), osmium.osm.WAY):
            tags = {t.k: t.v for t in w.tags}
            if not _drivable(tags):
                continue
            refs = [n.ref for n in w.nodes]  # type: ignore[union-attr]
            if len(refs) < 2:
                continue
            ways.append((w.id, refs, tags))
            needed.update(refs)
        with osmium.SimpleWriter(str(out)) as writer:
            for n in osmium.FileProcessor(str(pbf), osmium.osm.NODE):
                if n.id in needed and n.location.valid():  # type: ignore[union-attr]
                    writer.add_node(
                        osmium.osm.mutable.Node(
                            id=n.id,
                            location=(n.location.lon, n.location.lat),  # type: ignore[union-attr]
                            version=1,
                            tags={},
                        )
                    )
            for wid, refs, tags in ways:
                writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags, version=1))
    except RuntimeError as exc:  # pyosmium reports unreadable files as RuntimeError
        raise ValidationError(
            f"{pbf}: cannot read the OSM PBF file ({exc}).", zh=f"{pbf}: 无法读取 OSM PBF 文件 ({exc})。"
        ) from None
    log.info("%s: %d drivable ways, %d nodes written to %s", pbf, len(ways), len(needed), out)
    return len(ways)


def _drivable(tags: dict[str, str]) -> bool:
    hw = tags.get("highway")
    if hw not in DRIVABLE:
        return False
    if tags.get("area") == "yes" or tags.get("access") in ("private", "no"):
        return False
    # motor traffic forbidden, or allowed only to farm and forestry vehicles (common on tracks)
    if any(tags.get(k) in _NO_CARS for k in ("motor_vehicle", "motorcar", "vehicle")):
        return False
    return not (hw == "service" and tags.get("service") in _EXCLUDED_SERVICE)


def _read_osm_xml(path: Path, *, source: Path) -> gpd.GeoDataFrame:
    import osmnx as ox

    extra = ["surface", "tracktype", "motor_vehicle", "motorcar", "vehicle"]
    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys(saved + extra))
    try:
        # retain_all=True: osmnx otherwise keeps only the largest connected piece and drops villages' roads.
        G = ox.graph_from_xml(path, bidirectional=False, simplify=False, retain_all=True)
        # osmnx merges the differing tags of the ways it joins through list(set(...)), whose order follows string
        # hashing: a joined edge's first road class (its drivability, its speed) then changed with PYTHONHASHSEED.
        # Ways are joined only where every tag the planner reads agrees, so each edge has one value of each.
        G = ox.simplify_graph(G, edge_attrs_differ=TAGS_READ)
    except (ValueError, OSError, KeyError, EOFError, SAXException, ParseError) as exc:
        # an empty graph (osmnx raises ValueError), a broken .bz2 (OSError/EOFError), malformed XML
        raise ValidationError(
            f"{source}: cannot read the OSM file ({exc}).", zh=f"{source}: 无法读取 OSM 文件 ({exc})。"
        ) from None
    finally:
        ox.settings.useful_tags_way = saved
    if G.number_of_edges() == 0:
        raise _no_roads(source)
    edges = ox.convert.graph_to_gdfs(G, nodes=False, fill_edge_geometry=True).reset_index()
    # graph_from_xml keeps every way with a highway tag: drop footways, cycleways, private roads and the like.
    cols = [
        c
        for c in ("highway", "access", "area", "service", "motor_vehicle", "motorcar", "vehicle")
        if c in edges
    ]
    drivable = np.array(
        [
            _drivable({c: _first_class(r[c]) if c == "highway" else _scalar(r[c]) for c in cols})
            for r in edges[cols].to_dict("records")
        ],
        dtype=bool,
    )
    if not drivable.all():
        log.info(
            "%s: %d of %d edges are not drivable (footway, private...) and left out",
            source,
            int((~drivable).sum()),
            len(edges),
        )
        edges = edges[drivable].reset_index(drop=True)
    if len(edges) == 0:
        raise _no_roads(source)
    hw = edges["highway"].map(_first_class)
    surface = edges["surface"] if "surface" in edges else pd.Series([None] * len(edges))
    tracktype = edges["tracktype"] if "tracktype" in edges else pd.Series([None] * len(edges))
    unpaved = np.array(
        [_is_unpaved(h, s, t) for h, s, t in zip(edges["highway"], surface, tracktype, strict=True)],
        dtype=bool,
    )
    maxspeed = edges["maxspeed"] if "maxspeed" in edges else pd.Series([None] * len(edges))
    out = gpd.GeoDataFrame(
        {
            "u": edges["u"].to_numpy(np.int64),
            "v": edges["v"].to_numpy(np.int64),
            "highway": hw.astype(object).to_numpy(),
            "maxspeed_kmh": np.array([parse_maxspeed(m) for m in maxspeed], dtype=float),
            "unpaved": unpaved,
            "speed_kmh": np.full(len(edges), np.nan),
            "oneway": np.ones(len(edges), np.int8),
            "class_speed_key": [_classes(h) for h in edges["highway"]],
            "road_name": road_names(edges.get("name"), edges.get("ref"), len(edges)),
        },
        geometry=edges.geometry.to_numpy(),
        crs=edges.crs,
    )
    out.attrs = {"source": str(source), "kind": "osm"}
    return out


def road_names(names: Any, refs: Any, n: int) -> np.ndarray:
    """Each road's name, else its ref, else "" (C5's notes name the road a route passes another district on).

    osmnx lists the differing values of the ways it joins into one edge in hash order: they are sorted here, so
    the name is the same whatever the hash seed.
    """

    def words(value: Any) -> list[str]:
        vals = value if isinstance(value, list | tuple) else [value]
        return sorted({str(v).strip() for v in vals if isinstance(v, str) and str(v).strip()})

    out = np.full(n, "", dtype=object)
    for k in range(n):
        got = words(names.iloc[k]) if names is not None else []
        if not got and refs is not None:
            got = words(refs.iloc[k])
        out[k] = " / ".join(got)
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value if isinstance(value, str) else None


def _classes(value: Any) -> tuple[str, ...]:
    """All road classes of an edge (osmnx lists them when simplification merged ways of several classes)."""
    vals = value if isinstance(value, list | tuple) else [value]
    out = []
    for v in vals:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        s = str(v).removesuffix("_link")
        out.append(s)
    return tuple(out) or ("road",)


def _first_class(value: Any) -> str:
    return _classes(value)[0]


def _is_unpaved(highway: Any, surface: Any, tracktype: Any) -> bool:
    surf = surface if isinstance(surface, list) else [surface]
    surf = [str(s).lower() for s in surf if isinstance(s, str)]
    if any(s in UNPAVED_SURFACES for s in surf):
        return True
    if any(s in PAVED_SURFACES for s in surf):
        return False
    tt = tracktype if isinstance(tracktype, list) else [tracktype]
    if any(isinstance(t, str) and t in ("grade2", "grade3", "grade4", "grade5") for t in tt):
        return True
    return "track" in _classes(highway)


_NUM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)


def parse_maxspeed(value: Any) -> float:
    """An OSM maxspeed tag in km/h (NaN when absent or not a number: "none", "signals", "RO:rural" ...).

    A list (ways of several limits merged into one edge) gives its lowest number; "30 mph" is converted.
    """
    if isinstance(value, list | tuple):
        nums = [parse_maxspeed(v) for v in value]
        nums = [x for x in nums if not math.isnan(x)]
        return min(nums) if nums else math.nan
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, int | float):
        return float(value) if value > 0 else math.nan
    best = math.nan
    for part in str(value).split(";"):
        m = _NUM.match(part)
        if not m:
            continue
        x = float(m.group(1)) * (1.609344 if (m.group(2) or "").lower() == "mph" else 1.0)
        if x > 0 and (math.isnan(best) or x < best):
            best = x
    return best


def _read_lines(p: Path, *, speed_col: str | None, oneway_col: str | None) -> gpd.GeoDataFrame:
    import pyogrio

    try:
        gdf = pyogrio.read_dataframe(p)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise ValidationError(
            f"{p}: cannot read the road layer ({exc}). Give a GeoPackage, Shapefile, GeoJSON or an OSM file.",
            zh=f"{p}: 无法读取道路图层 ({exc})。请给出 GeoPackage、Shapefile、GeoJSON 或 OSM 文件。",
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise ValidationError(
            f"{p}: the layer has no geometry; give a layer of road lines.",
            zh=f"{p}: 图层没有几何; 请给出道路线图层。",
        )
    if gdf.crs is None:
        raise ValidationError(
            f"{p}: the road layer has no CRS (missing .prj?); give the file with its CRS.",
            zh=f"{p}: 道路图层没有坐标系 (缺少 .prj?); 请提供带坐标系的文件。",
        )
    return lines_to_roads(gdf, speed_col=speed_col, oneway_col=oneway_col, source=str(p))


def lines_to_roads(
    gdf: gpd.GeoDataFrame,
    *,
    speed_col: str | None = None,
    oneway_col: str | None = None,
    source: str = "<roads>",
) -> gpd.GeoDataFrame:
    """The road-line table from a GeoDataFrame of lines (what :func:`read_roads` does after reading the layer)."""
    geom_types = set(gdf.geom_type.dropna().unique())
    bad = geom_types - {"LineString", "MultiLineString"}
    if bad or not geom_types:
        raise ValidationError(
            f"{source}: road layer geometries must be lines, found {sorted(bad) or 'none'}.",
            zh=f"{source}: 道路图层的几何必须是线, 实际为 {sorted(bad) or '无'}。",
        )
    cols = {c.lower(): c for c in gdf.columns}
    for label, col in (("speed_col", speed_col), ("oneway_col", oneway_col)):
        if col is not None and col not in gdf.columns:
            raise ValidationError(
                f"{source}: {label} '{col}' is not a column of the road layer; it has "
                f"{[c for c in gdf.columns if c != gdf.geometry.name]}.",
                zh=f"{source}: {label} '{col}' 不是道路图层的列; 现有列为 "
                f"{[c for c in gdf.columns if c != gdf.geometry.name]}。",
            )
    if oneway_col is None and "oneway" in cols:
        oneway_col = cols["oneway"]
    g = gdf[~gdf.geometry.isna() & ~gdf.geometry.is_empty]
    n_empty = len(gdf) - len(g)
    if n_empty:
        log.warning("%s: %d features without geometry skipped", source, n_empty)
    g = g.explode(index_parts=False, ignore_index=True)
    hw_col = next((cols[c] for c in ("highway", "fclass", "class") if c in cols), None)
    highway = (
        g[hw_col].astype(object).where(g[hw_col].notna(), "road").map(lambda s: str(s).removesuffix("_link"))
        if hw_col
        else pd.Series(["road"] * len(g))
    )
    if speed_col is not None:
        sp = pd.to_numeric(g[speed_col], errors="coerce")
        if sp.notna().sum() == 0 and len(g):
            raise ValidationError(
                f"{source}: speed column '{speed_col}' holds no numbers (km/h expected).",
                zh=f"{source}: 速度列 '{speed_col}' 中没有数值 (应为 km/h)。",
            )
        speed = sp.where(sp > 0).to_numpy(float)
    else:
        speed = np.full(len(g), np.nan)
    oneway = _oneway_codes(g[oneway_col]) if oneway_col else np.zeros(len(g), np.int8)
    maxspeed = (
        np.array([parse_maxspeed(v) for v in g[cols["maxspeed"]]], float)
        if "maxspeed" in cols
        else np.full(len(g), np.nan)
    )
    surface = g[cols["surface"]] if "surface" in cols else pd.Series([None] * len(g))
    unpaved = np.array([_is_unpaved(h, s, None) for h, s in zip(highway, surface, strict=True)], bool)
    data: dict[str, Any] = {
        "road_name": road_names(
            g[cols["name"]] if "name" in cols else None, g[cols["ref"]] if "ref" in cols else None, len(g)
        ),
        "highway": highway.to_numpy(object),
        "maxspeed_kmh": maxspeed,
        "unpaved": unpaved,
        "speed_kmh": speed,
        "oneway": oneway,
    }
    if "layer" in cols:
        data["layer"] = pd.to_numeric(g[cols["layer"]], errors="coerce").fillna(0).to_numpy(int)
    out = gpd.GeoDataFrame(data, geometry=g.geometry.to_numpy(), crs=gdf.crs)
    out.attrs = {"source": source, "kind": "lines"}
    return out


def _oneway_codes(col: pd.Series) -> np.ndarray:
    s = col.astype(object).map(
        lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    )
    s = s.str.strip().str.lower()
    vals = set(s.unique()) - {""}
    if vals and vals <= {"b", "f", "t"}:  # Geofabrik: B both, F forward, T backward ("to")
        return np.where(s == "f", 1, np.where(s == "t", -1, 0)).astype(np.int8)
    return np.where(s.isin(_TRUE), 1, np.where(s.isin(_REVERSE), -1, 0)).astype(np.int8)

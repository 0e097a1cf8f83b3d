"""Roads from OpenStreetMap when online: the drivable network of a village layer's extent, by osmnx from Overpass.

``planner fetch-roads`` downloads with :func:`osmnx.graph_from_bbox` (``network_type="drive"``, every road piece
kept, unsimplified so that each OSM way survives whole) and writes OSM XML, the format ``planner plan --roads``
reads like any extract. Overpass answers are cached by osmnx under the planner's cache directory, so a second
run for the same extent does not download again. The server is osmnx's ``settings.overpass_url`` (the public
Overpass API by default; a bureau's own mirror, or a local test server, with ``--overpass-url``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd

from planner.errors import ValidationError

log = logging.getLogger(__name__)

# OSM way tags the road reader uses (planner.io.roads): written into the XML so that speeds and access survive
WAY_TAGS = (
    "highway",
    "name",
    "ref",
    "oneway",
    "lanes",
    "maxspeed",
    "surface",
    "tracktype",
    "access",
    "service",
    "area",
    "motor_vehicle",
    "motorcar",
    "vehicle",
    "bridge",
    "tunnel",
    "junction",
)


def fetch_roads(
    villages: gpd.GeoDataFrame,
    out: Path,
    *,
    buffer_km: float = 5.0,
    cache_dir: Path | None = None,
    overpass_url: str | None = None,
    timeout_s: int = 180,
) -> dict[str, Any]:
    """Download the drivable roads within ``buffer_km`` of the villages and write them to ``out`` (OSM XML).

    Returns what was fetched (bbox, nodes, ways, source) for the command's message.

    Raises
    ------
    ValidationError
        The extent is empty, the server cannot be reached or answers with nothing drivable (the message says
        which and what to do: check the connection, or give a road file with --roads).
    """
    import osmnx as ox
    import requests

    if buffer_km < 0:
        raise ValidationError(
            f"--buffer-km {buffer_km}: give 0 or more kilometres.",
            zh=f"--buffer-km {buffer_km}: 请给出不小于 0 的公里数。",
        )
    if not out.name.lower().endswith((".osm", ".osm.xml")):
        raise ValidationError(
            f"--out {out}: roads are written as OSM XML; name the file *.osm.",
            zh=f"--out {out}: 道路以 OSM XML 格式写出; 请将文件命名为 *.osm。",
        )
    area = villages.union_all().envelope.buffer(buffer_km * 1000.0)
    west, south, east, north = gpd.GeoSeries([area], crs=villages.crs).to_crs(4326).total_bounds
    saved = {
        k: getattr(ox.settings, k)
        for k in (
            "useful_tags_way",
            "all_oneway",
            "use_cache",
            "cache_folder",
            "overpass_url",
            "requests_timeout",
            "log_console",
        )
    }
    try:
        ox.settings.useful_tags_way = list(dict.fromkeys([*ox.settings.useful_tags_way, *WAY_TAGS]))
        ox.settings.all_oneway = True  # one edge per way direction as drawn: what save_graph_xml needs
        ox.settings.use_cache = cache_dir is not None
        if cache_dir is not None:
            ox.settings.cache_folder = str(cache_dir)
        if overpass_url:
            ox.settings.overpass_url = overpass_url
        ox.settings.requests_timeout = timeout_s
        ox.settings.log_console = False
        try:
            graph = ox.graph_from_bbox(
                (west, south, east, north), network_type="drive", simplify=False, retain_all=True
            )
        except requests.RequestException as exc:
            raise ValidationError(
                f"cannot reach the Overpass server {ox.settings.overpass_url} ({type(exc).__name__}); check the "
                "internet connection, or give a road file with --roads (an OSM extract or a road-line layer).",
                zh=f"无法连接 Overpass 服务器 {ox.settings.overpass_url} ({type(exc).__name__}); 请检查网络, "
                "或用 --roads 给出道路文件 (OSM 数据或道路线图层)。",
            ) from None
        except (ValueError, ox._errors.InsufficientResponseError) as exc:
            raise ValidationError(
                f"the Overpass server found no drivable road in lon {west:.4f}..{east:.4f}, lat "
                f"{south:.4f}..{north:.4f} ({exc}); check that the villages are where they should be, or widen "
                "--buffer-km.",
                zh=f"Overpass 服务器在经度 {west:.4f}..{east:.4f}、纬度 {south:.4f}..{north:.4f} 内未找到可通车道路 ({exc}); "
                "请检查村的位置, 或加大 --buffer-km。",
            ) from None
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.part")
        try:
            ox.io.save_graph_xml(graph, tmp)
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        ways = {d.get("osmid") for _, _, d in graph.edges(data=True)}
        info = {
            "bbox": [round(float(x), 5) for x in (west, south, east, north)],
            "nodes": graph.number_of_nodes(),
            "ways": len(ways),
            "source": ox.settings.overpass_url,
        }
    finally:
        for k, v in saved.items():
            setattr(ox.settings, k, v)
    log.info("fetched %s roads: %s", out, info)
    return info

"""Where each village meets the road graph: access points, snapping to the main piece, walk legs, reasons."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from planner.errors import ValidationError
from planner.model import clock_minutes
from planner.network.graph import RoadNetwork
from planner.rules import NetworkRules

log = logging.getLogger(__name__)

# Villages this far from every road of the file are not a clipped extract's edge but a wrong CRS (or place).
FAR_FROM_ROADS_M = 100_000.0


def _km(m: float) -> str:
    return f"{m / 1000:.1f} km" if m >= 1000 else f"{m:.0f} m"


def access_points(villages: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) access point per village: ``anchor_x``/``anchor_y`` when given, else a point inside the geometry."""
    rep = shapely.get_coordinates(shapely.point_on_surface(villages.geometry.to_numpy()))
    if rep.shape[0] != len(villages):
        bad = list(villages.index[villages.geometry.isna() | villages.geometry.is_empty][:20])
        raise ValidationError(
            f"villages {bad} have no geometry; give each village a polygon or a point.",
            zh=f"村 {bad} 没有几何; 请给每个村一个面或点。",
        )
    if "anchor_x" in villages and "anchor_y" in villages:
        ax = pd.to_numeric(villages["anchor_x"], errors="coerce").to_numpy(float)
        ay = pd.to_numeric(villages["anchor_y"], errors="coerce").to_numpy(float)
        given = np.isfinite(ax) & np.isfinite(ay)
        rep[given, 0] = ax[given]
        rep[given, 1] = ay[given]
    return rep


def locate_villages(network: RoadNetwork, villages: gpd.GeoDataFrame, *, rules: NetworkRules) -> pd.DataFrame:
    """Where each village meets the road graph, or why it cannot.

    The main piece is the strongly connected piece of the graph nearest to most villages (ties: the largest);
    every road village can reach every other one through it. Each village's access point is snapped to the
    nearest point of a main-piece road (an STRtree nearest query on the edge lines) and joined to the nearer end
    node of that edge. A gap up to ``max_snap_m`` counts as on the road; up to ``max_walk_m`` it is walked at
    ``walk_kmh`` (access "walk"); beyond, the village is "unreachable", with the reason, in English and Chinese.

    Returns
    -------
    DataFrame indexed like ``villages``: node (-1 if none), access, snap_m (metres to the road), walk_s,
    drive_s (seconds along the snapped edge to its node), reason, reason_zh, x, y (access point), snap_x, snap_y,
    edge (-1 if none), edge_frac (position of the snap point along the edge, 0 at u).

    Raises
    ------
    ValidationError
        Villages lie outside the road data's coverage. The criterion: a village whose access point is outside
        the bounding box of the road nodes grown by ``max_walk_m`` is farther than ``max_walk_m`` from every
        road and outside the area the road file covers, so the road file does not cover it (a clipped or wrong
        extract, or a CRS mix-up) rather than the village lacking roads; the message lists those villages.
    """
    if villages.crs is None:
        raise ValidationError(
            "the villages have no CRS; give the village file with its coordinate system.",
            zh="村图层没有坐标系; 请提供带坐标系的村文件。",
        )
    xy = access_points(villages)  # anchors are in the villages' own CRS: transform the points, not the layer
    if villages.crs != network.crs:
        from pyproj import Transformer

        tr = Transformer.from_crs(villages.crs, network.crs, always_xy=True)
        xy = np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
    if network.n_edges == 0:
        raise ValidationError(
            f"{network.source}: the road network is empty; give a road file that covers the villages.",
            zh=f"{network.source}: 道路网为空; 请给出覆盖各村的道路文件。",
        )
    _check_coverage(network, xy, villages.index, rules=rules)
    snap = _snap(network, xy, rules=rules)
    reason, reason_zh = _reasons(snap, rules=rules)
    ok = snap["ok"]
    out = pd.DataFrame(
        {
            "node": snap["node"],
            "access": pd.Series(snap["access"], dtype=object).to_numpy(),
            "snap_m": np.where(np.isfinite(snap["d_main"]) & ok, snap["d_main"], snap["d_any"]),
            "walk_s": snap["walk_s"],
            "drive_s": snap["drive_s"],
            "reason": reason,
            "reason_zh": reason_zh,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "snap_x": snap["snap"][:, 0],
            "snap_y": snap["snap"][:, 1],
            "edge": np.where(ok, snap["edge"], -1),
            "edge_frac": snap["frac"],
        },
        index=villages.index.copy(),
    )
    log.info("village access: %s", out["access"].value_counts().to_dict())
    return out


def _check_coverage(network: RoadNetwork, xy: np.ndarray, index: pd.Index, *, rules: NetworkRules) -> None:
    """Raise when access points lie outside the road nodes' bounding box grown by the walking limit.

    The message names the likely cause: longitude and latitude swapped (most of the outside villages would be
    covered with the two exchanged), a wrong CRS (the villages lie far from the roads, farther than a clipped
    extract would leave them), or else a road file that does not cover them.
    """
    n = len(xy)
    lo = network.node_xy.min(axis=0) - rules.max_walk_m
    hi = network.node_xy.max(axis=0) + rules.max_walk_m
    outside = ~np.all((xy >= lo) & (xy <= hi), axis=1)
    if not outside.any():
        return
    ids = [str(x) for x in index[outside]]
    shown = ", ".join(ids[:20]) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
    cover = _coverage_text(network)
    fix, fix_zh = _coverage_cause(network, xy, outside, lo, hi)
    raise ValidationError(
        f"{network.source}: {len(ids)} of {n} villages lie outside the road file's coverage ({cover}, "
        f"grown by the {_km(rules.max_walk_m)} walking limit): {shown}. {fix}",
        zh=f"{network.source}: {n} 个村中有 {len(ids)} 个位于道路文件的覆盖范围 ({cover}, 外扩步行上限 "
        f"{_km(rules.max_walk_m)}) 之外: {shown}。{fix_zh}",
    )


def _coverage_cause(
    network: RoadNetwork, xy: np.ndarray, outside: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[str, str]:
    """What to tell the user about villages outside the roads: the likely cause and its fix (English, Chinese)."""
    swapped = _swapped_points(network, xy[outside])
    if swapped is not None:
        back = int(np.all((swapped >= lo) & (swapped <= hi), axis=1).sum())
        if back >= max(1, outside.sum() // 2):
            return (
                f"Their longitude and latitude look swapped: with the two exchanged, {back} of them fall inside "
                "the road coverage; exchange the longitude and latitude of the village file (or name the columns "
                "with --lon-col and --lat-col).",
                f"这些村的经度和纬度多半写反了: 对调后其中 {back} 个落在道路覆盖范围内; 请对调村文件的经纬度 "
                "(或用 --lon-col、--lat-col 指定字段)。",
            )
    # the gap between the villages' box and the roads' box: a clipped extract leaves villages near its edge
    gap = np.maximum(np.maximum(lo - xy[outside].max(axis=0), xy[outside].min(axis=0) - hi), 0.0)
    gap_m = float(np.hypot(*gap))
    if outside.all() and gap_m > FAR_FROM_ROADS_M:
        return (
            f"No village is near the roads: the villages lie {_km(gap_m)} from the road coverage, farther than a "
            "clipped extract leaves them, so the CRS of the village file (its .prj, or --crs) or of the road "
            "file looks wrong; check both, or give a road file that covers the villages if they are of another "
            "place.",
            f"没有一个村靠近道路: 各村距道路覆盖范围 {_km(gap_m)}, 远超裁剪数据的误差, 多半是村文件 (其 .prj 或 "
            "--crs) 或道路文件的坐标系有误; 请检查两者, 如两者确为不同地区, 请给出覆盖各村的道路文件。",
        )
    return (
        "Give a road file that covers the villages (or check the villages' coordinates).",
        "请给出覆盖这些村的道路文件 (或检查村的坐标)。",
    )


def _swapped_points(network: RoadNetwork, xy: np.ndarray) -> np.ndarray | None:
    """The points with their longitude and latitude exchanged, in the network's CRS (None when not possible)."""
    from pyproj import Transformer
    from pyproj.exceptions import ProjError

    try:
        to_lonlat = Transformer.from_crs(network.crs, "EPSG:4326", always_xy=True)
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 90)
        if not ok.any():
            return None
        x, y = to_lonlat.transform(np.asarray(lat)[ok], np.asarray(lon)[ok], direction="INVERSE")
    except (ProjError, ValueError):
        return None
    out = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    return out[np.all(np.isfinite(out), axis=1)]


# a road piece of its own serves its villages when it has at least this many nodes (a node alone is a one-way
# fragment's dead end, not a road network)
_MIN_ISLAND_NODES = 3


def _main_piece(network: RoadNetwork, xy: np.ndarray, *, rules: NetworkRules) -> int:
    """The strongly connected piece nearest to most villages (ties: the largest)."""
    pieces = network.strong_pieces
    d_node, near_node = cKDTree(network.node_xy).query(xy)
    counts = np.bincount(pieces[near_node[d_node <= rules.max_walk_m]], minlength=pieces.max() + 1)
    sizes = np.bincount(pieces)
    return int(np.lexsort((sizes, counts))[-1])


def _snap(network: RoadNetwork, xy: np.ndarray, *, rules: NetworkRules) -> dict[str, np.ndarray]:
    """Snap every access point to the nearest main-piece road: node, access kind, legs, distances, edge."""
    n = len(xy)
    pieces = network.strong_pieces
    main = _main_piece(network, xy, rules=rules)
    in_main = (
        (pieces[network.edge_u] == main)
        & (pieces[network.edge_v] == main)
        & (network.edge_u != network.edge_v)
    )
    main_edges = np.flatnonzero(in_main)
    pts = shapely.points(xy)
    tree_main = shapely.STRtree(network.edge_geometry[main_edges])
    (qi, ei), dist_main = tree_main.query_nearest(pts, return_distance=True, all_matches=False)
    d_main = np.full(n, np.inf)
    edge = np.full(n, -1, np.int64)
    d_main[qi] = dist_main
    edge[qi] = main_edges[ei]
    tree_all = shapely.STRtree(network.edge_geometry)
    (qa, _ea), dist_all = tree_all.query_nearest(pts, return_distance=True, all_matches=False)
    d_any = np.full(n, np.inf)
    d_any[qa] = dist_all
    walk_ms = rules.walk_kmh / 3.6
    node = np.full(n, -1, np.int64)
    access = np.full(n, "unreachable", dtype=object)
    walk_s = np.full(n, np.nan)
    drive_s = np.full(n, np.nan)
    frac = np.full(n, np.nan)
    snap = np.full((n, 2), np.nan)
    ok = d_main <= rules.max_walk_m
    # issue 12: an island (a road piece of its own, beyond walking reach of the main network) is not
    # unreachable: its villages snap to their own piece, whose office serves them; travel between the pieces
    # stays infinite, so only a village that no office of its district can reach loses its visits
    island = ~ok & (d_any <= rules.max_walk_m)
    if island.any():
        usable = np.flatnonzero(
            (pieces[network.edge_u] == pieces[network.edge_v])
            & (network.edge_u != network.edge_v)
            & (np.bincount(pieces)[pieces[network.edge_u]] >= _MIN_ISLAND_NODES)
        )
        tree_own = shapely.STRtree(network.edge_geometry[usable])
        (qo, eo), dist_own = tree_own.query_nearest(pts[island], return_distance=True, all_matches=False)
        idx = np.flatnonzero(island)[qo]
        near = dist_own <= rules.max_walk_m
        d_main[idx[near]] = dist_own[near]
        edge[idx[near]] = usable[eo[near]]
        ok = d_main <= rules.max_walk_m
        island[idx[~near]] = False
        island &= ok
    if ok.any():
        g = network.edge_geometry[edge[ok]]
        t = shapely.line_locate_point(g, pts[ok], normalized=True)
        snap[ok] = shapely.get_coordinates(shapely.line_interpolate_point(g, t, normalized=True))
        at_u = t <= 0.5
        node[ok] = np.where(at_u, network.edge_u[edge[ok]], network.edge_v[edge[ok]])
        drive_s[ok] = np.where(at_u, t, 1.0 - t) * network.edge_seconds[edge[ok]]
        frac[ok] = t
        walk_s[ok] = np.where(d_main[ok] > rules.max_snap_m, d_main[ok] / walk_ms, 0.0)
        access[ok] = np.where(d_main[ok] > rules.max_snap_m, "walk", "road")
    return {
        "ok": ok,
        "island": island,
        "node": node,
        "access": access,
        "walk_s": walk_s,
        "drive_s": drive_s,
        "frac": frac,
        "snap": snap,
        "d_main": d_main,
        "d_any": d_any,
        "edge": edge,
    }


def _reasons(snap: dict[str, np.ndarray], *, rules: NetworkRules) -> tuple[list[str], list[str]]:
    """Why each walk or unreachable village is so, in English and Chinese (empty for road villages)."""
    access, walk_s, d_main, d_any = snap["access"], snap["walk_s"], snap["d_main"], snap["d_any"]
    n = len(access)
    reason = [""] * n
    reason_zh = [""] * n
    for k in range(n):
        if snap["island"][k]:
            reason[k] = (
                "on a road piece of its own, not connected to the main network: only an office on the same "
                "piece reaches it"
            )
            reason_zh[k] = "位于与主路网不连通的独立路网上: 只有同一路网上的警务室能到达"
        elif access[k] == "walk":
            mins = walk_s[k] / 60
            reason[k] = (
                f"nearest connected road {_km(d_main[k])} away, beyond the {_km(rules.max_snap_m)} snapping "
                f"distance: walked at {rules.walk_kmh:g} km/h ({clock_minutes(mins):.0f} min)"
            )
            reason_zh[k] = (
                f"最近的连通道路在 {_km(d_main[k])} 外, 超过 {_km(rules.max_snap_m)} 的接入距离: 按步行 "
                f"{rules.walk_kmh:g} km/h 计 ({clock_minutes(mins):.0f} 分钟)"
            )
        elif access[k] == "unreachable":
            if d_any[k] <= rules.max_walk_m and d_any[k] < d_main[k]:
                far = "none" if not np.isfinite(d_main[k]) else _km(d_main[k])
                reason[k] = (
                    f"the nearest road ({_km(d_any[k])} away) is on a road piece that does not connect to "
                    f"the main network; the connected network is {far} away, beyond the "
                    f"{_km(rules.max_walk_m)} walking limit"
                )
                reason_zh[k] = (
                    f"最近的道路 ({_km(d_any[k])} 外) 属于与主路网不连通的路段; 连通的路网在 {far} 外, "
                    f"超过 {_km(rules.max_walk_m)} 的步行上限"
                )
            else:
                reason[k] = (
                    f"nearest road {_km(d_any[k])} away, beyond the {_km(rules.max_walk_m)} walking limit"
                )
                reason_zh[k] = f"最近的道路在 {_km(d_any[k])} 外, 超过 {_km(rules.max_walk_m)} 的步行上限"
    return reason, reason_zh


def _coverage_text(network: RoadNetwork) -> str:
    lo = network.node_xy.min(axis=0)
    hi = network.node_xy.max(axis=0)
    try:
        from pyproj import Transformer

        tr = Transformer.from_crs(network.crs, "EPSG:4326", always_xy=True)
        (x0, x1), (y0, y1) = tr.transform([lo[0], hi[0]], [lo[1], hi[1]])
        return f"lon {x0:.4f} to {x1:.4f}, lat {y0:.4f} to {y1:.4f}"
    except Exception:  # noqa: BLE001 - a CRS pyproj cannot invert: fall back to metric coordinates
        return f"x {lo[0]:.0f} to {hi[0]:.0f}, y {lo[1]:.0f} to {hi[1]:.0f} m"

"""planner.network and planner.io.roads: speeds, topology, village access, matrices, routes, service areas."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

from planner.errors import ValidationError
from planner.io.cache import TravelTimeCache
from planner.io.roads import lines_to_roads, parse_maxspeed, read_roads
from planner.model import TravelTimes
from planner.network import (
    build_network,
    edge_speeds_kmh,
    locate_villages,
    route,
    routes,
    travel_times,
)
from planner.offices import service_area
from planner.rules import NetworkRules

CRS = "EPSG:32650"  # UTM 50N, metres
# Round speeds so that hand-computed times are exact: primary 60 km/h, residential 30, track 15 (x 0.6 unpaved).
RULES = NetworkRules(
    speeds_kmh={"primary": 60.0, "secondary": 45.0, "residential": 30.0, "track": 15.0}, sinuosity_penalty=0.0
)


def roads(rows: list[dict], **kw) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        pd.DataFrame([{k: v for k, v in r.items() if k != "geometry"} for r in rows]),
        geometry=[r["geometry"] for r in rows],
        crs=CRS,
    )
    return lines_to_roads(gdf, **kw)


def villages(points: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    ids = list(points)
    return gpd.GeoDataFrame(
        {"name": ids, "township": "t", "population": [100] * len(ids)},
        geometry=[Point(*points[i]) for i in ids],
        crs=CRS,
        index=pd.Index(ids, name="village_id"),
    )


def triangle() -> gpd.GeoDataFrame:
    # A(0,0) -> B(6000,0) primary: 6000 m at 60 km/h = 360 s; B -> C(6000,3000) residential: 3000 m at 30 = 360 s;
    # A -> C track (unpaved): 6708 m at 15*0.6 = 9 km/h = 2683 s.
    return roads(
        [
            {"highway": "primary", "geometry": LineString([(0, 0), (6000, 0)])},
            {"highway": "residential", "geometry": LineString([(6000, 0), (6000, 3000)])},
            {"highway": "track", "geometry": LineString([(0, 0), (6000, 3000)])},
        ]
    )


def test_hand_network_shortest_times_follow_lengths_and_speeds():
    """Travel times are length / class speed summed along the fastest path, with the edge leg to the node."""
    net = build_network(triangle(), rules=RULES, crs=CRS)
    vil = villages({"A": (0, 0), "C": (6000, 3000), "M": (3000, 100)})
    acc = locate_villages(net, vil, rules=RULES)
    assert list(acc["access"]) == ["road", "road", "road"]
    assert acc.loc["M", "snap_m"] == pytest.approx(100.0)
    tt = travel_times(net, acc)
    s = tt.frame() * 60
    assert s.loc["A", "C"] == pytest.approx(720.0)
    assert s.loc["C", "A"] == pytest.approx(720.0)
    # M sits half-way along A-B: 3000 m of primary to A (180 s) then the 720 s to C.
    assert s.loc["M", "C"] == pytest.approx(900.0)
    assert np.all(np.diag(tt.seconds) == 0)


def test_track_is_slowed_by_the_unpaved_factor_and_maxspeed_caps():
    """Unpaved/track speeds are scaled by unpaved_factor; a lower maxspeed caps the class speed."""
    r = roads(
        [
            {"highway": "track", "geometry": LineString([(0, 0), (1000, 0)])},
            {"highway": "primary", "maxspeed": "40", "geometry": LineString([(0, 10), (1000, 10)])},
            {"highway": "primary", "maxspeed": "100", "geometry": LineString([(0, 20), (1000, 20)])},
            {"highway": "primary", "surface": "gravel", "geometry": LineString([(0, 30), (1000, 30)])},
        ]
    )
    geoms = r.geometry.to_numpy()
    speed, _ = edge_speeds_kmh(r, shapely.length(geoms), geoms, rules=RULES)
    assert speed == pytest.approx([15 * 0.6, 40.0, 60.0, 60 * 0.6])


def test_winding_roads_are_slower_by_their_sinuosity():
    """A zigzag road of twice its chord (sinuosity 2) runs at speed / (1 + penalty)."""
    zig = LineString([(0, 0), (250, 433.0127), (500, 0)])  # two 500 m legs over a 500 m chord
    r = roads([{"highway": "primary", "geometry": zig}])
    geoms = r.geometry.to_numpy()
    rules = NetworkRules(speeds_kmh={"primary": 60.0}, sinuosity_penalty=0.5)
    speed, sinuosity = edge_speeds_kmh(r, shapely.length(geoms), geoms, rules=rules)
    assert sinuosity[0] == pytest.approx(2.0, rel=1e-4)
    assert speed[0] == pytest.approx(60.0 / 1.5, rel=1e-4)


def test_oneway_is_honoured():
    """A one-way road is only driven forwards; the way back takes the two-way detour."""
    r = roads(
        [
            {"highway": "primary", "oneway": "yes", "geometry": LineString([(0, 0), (6000, 0)])},
            {
                "highway": "residential",
                "oneway": "no",
                "geometry": LineString([(6000, 0), (3000, 3000), (0, 0)]),
            },
        ]
    )
    net = build_network(r, rules=RULES, crs=CRS)
    acc = locate_villages(net, villages({"A": (0, 0), "B": (6000, 0)}), rules=RULES)
    s = travel_times(net, acc).frame() * 60
    detour = 2 * math.hypot(3000, 3000) / (30 / 3.6)
    assert s.loc["A", "B"] == pytest.approx(360.0)
    assert s.loc["B", "A"] == pytest.approx(detour)


def test_reverse_oneway_and_crossing_lines_are_noded():
    """Lines that cross without sharing a vertex are joined at the crossing; oneway=-1 runs against the line."""
    # W(0,0)-E(2000,0) two-way crosses N(1000,1000)-S(1000,-1000) one-way against the line (S -> N) at
    # X(1000,0); slow tracks N-W and S-E close the loops so that every node can reach every other.
    r = roads(
        [
            {"highway": "residential", "geometry": LineString([(0, 0), (2000, 0)])},
            {"highway": "residential", "oneway": "-1", "geometry": LineString([(1000, 1000), (1000, -1000)])},
            {"highway": "track", "geometry": LineString([(1000, 1000), (0, 0)])},
            {"highway": "track", "geometry": LineString([(1000, -1000), (2000, 0)])},
        ]
    )
    net = build_network(r, rules=RULES, crs=CRS)
    assert net.summary()["pieces"] == 1
    assert net.n_nodes == 5  # W, E, N, S and the crossing X
    acc = locate_villages(net, villages({"W": (0, 0), "N": (1000, 1000), "S": (1000, -1000)}), rules=RULES)
    assert list(acc["access"]) == ["road"] * 3
    s = travel_times(net, acc).frame() * 60
    leg = 1000 / (30 / 3.6)
    track = math.hypot(1000, 1000) / (15 * 0.6 / 3.6)
    assert s.loc["W", "N"] == pytest.approx(2 * leg)  # W -> X -> N runs against the line: allowed
    assert s.loc["W", "S"] == pytest.approx(2 * leg + track)  # X -> S is forbidden: round by E and the track
    assert s.loc["S", "W"] == pytest.approx(2 * leg)


def test_bridge_over_a_road_is_not_a_junction():
    """Lines on different layers (a bridge) cross without a node: two pieces, reported as such."""
    r = roads(
        [
            {"highway": "residential", "layer": 0, "geometry": LineString([(0, 0), (2000, 0)])},
            {"highway": "residential", "layer": 1, "geometry": LineString([(1000, 1000), (1000, -1000)])},
        ]
    )
    net = build_network(r, rules=RULES, crs=CRS)
    assert net.summary()["pieces"] == 2


def test_village_on_a_disconnected_piece_is_unreachable_with_the_reason():
    """A village whose only nearby road does not connect to the main network is unreachable, in both languages."""
    r = roads(
        [
            {"highway": "primary", "geometry": LineString([(0, 0), (6000, 0)])},
            {"highway": "primary", "geometry": LineString([(6000, 0), (6000, 6000)])},
            {"highway": "residential", "geometry": LineString([(20000, 0), (21000, 0)])},  # isolated piece
        ]
    )
    net = build_network(r, rules=RULES, crs=CRS)
    assert net.summary()["pieces"] == 2
    acc = locate_villages(net, villages({"A": (0, 0), "B": (6000, 6000), "X": (20500, 50)}), rules=RULES)
    assert acc.loc["X", "access"] == "unreachable"
    assert acc.loc["X", "node"] == -1
    assert "does not connect" in acc.loc["X", "reason"]
    assert "不连通" in acc.loc["X", "reason_zh"]
    tt = travel_times(net, acc)
    s = tt.frame()
    assert np.isinf(s.loc["X", "A"]) and np.isinf(s.loc["A", "X"]) and s.loc["X", "X"] == 0
    assert np.isfinite(s.loc["A", "B"])


def test_village_1km_from_the_road_walks_the_gap():
    """A 1 km gap (beyond max_snap_m, within max_walk_m) is walked: walk_s = 1000 m / walking speed."""
    net = build_network(triangle(), rules=RULES, crs=CRS)
    acc = locate_villages(net, villages({"A": (0, 0), "F": (3000, -1000)}), rules=RULES)
    assert acc.loc["F", "access"] == "walk"
    assert acc.loc["F", "snap_m"] == pytest.approx(1000.0)
    assert acc.loc["F", "walk_s"] == pytest.approx(1000.0 / (RULES.walk_kmh / 3.6))
    assert "walked" in acc.loc["F", "reason"]
    s = travel_times(net, acc).frame() * 60
    assert s.loc["F", "A"] == pytest.approx(900.0 + 180.0)  # walk 900 s, then 3000 m of primary


def test_village_20km_from_any_road_is_unreachable():
    """A village 20 km from the nearest road (inside the road data's extent) is unreachable, with the distance."""
    r = roads(
        [
            {"highway": "primary", "geometry": LineString([(0, 0), (50000, 0)])},
            {"highway": "primary", "geometry": LineString([(0, 0), (0, 50000)])},
        ]
    )
    net = build_network(r, rules=RULES, crs=CRS)
    acc = locate_villages(net, villages({"A": (0, 0), "Far": (20000, 20000)}), rules=RULES)
    assert acc.loc["Far", "access"] == "unreachable"
    assert "20.0 km" in acc.loc["Far", "reason"] and "5.0 km walking limit" in acc.loc["Far", "reason"]
    assert "20.0 km" in acc.loc["Far", "reason_zh"]


def test_villages_outside_the_road_extent_raise():
    """Villages beyond the road file's coverage are an input error that names them and the fix."""
    net = build_network(triangle(), rules=RULES, crs=CRS)
    with pytest.raises(
        ValidationError, match=r"outside the road file's coverage.*Far.*road file that covers"
    ):
        locate_villages(net, villages({"A": (0, 0), "Far": (200000, 200000)}), rules=RULES)


def test_cache_hit_returns_the_stored_matrix(tmp_path):
    """A second identical call reads the .npz (a doctored cache file proves it is read, not recomputed)."""
    net = build_network(triangle(), rules=RULES, crs=CRS)
    acc = locate_villages(net, villages({"A": (0, 0), "C": (6000, 3000)}), rules=RULES)
    cache = TravelTimeCache(tmp_path)
    first = travel_times(net, acc, cache=cache)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    np.savez(files[0], seconds=first.seconds * 2)
    second = travel_times(net, acc, cache=cache)
    np.testing.assert_array_equal(second.seconds, first.seconds * 2)
    other = travel_times(net, acc, cache=cache, cutoff_s=100.0)  # different arguments: a new entry
    assert len(list(tmp_path.glob("*.npz"))) == 2
    assert np.isinf(other.frame().loc["A", "C"])


def test_matrix_equals_networkx_on_a_random_grid():
    """The contracted many-to-many matrix equals networkx Dijkstra on the same graph (dead ends, chains, one-ways)."""
    rng = np.random.default_rng(3)
    lines = []
    for i in range(8):
        for j in range(8):
            x, y = i * 1000.0, j * 1000.0
            if i < 7 and rng.random() < 0.85:
                mid = (x + 500, y + rng.uniform(-150, 150))
                lines.append(
                    {
                        "highway": "secondary",
                        "oneway": "yes" if rng.random() < 0.2 else "no",
                        "geometry": LineString([(x, y), mid, (x + 1000, y)]),
                    }
                )
            if j < 7 and rng.random() < 0.85:
                lines.append(
                    {
                        "highway": "residential",
                        "oneway": "no",
                        "geometry": LineString([(x, y), (x, y + 1000)]),
                    }
                )
    net = build_network(roads(lines), rules=RULES, crs=CRS)
    pts = {f"v{k}": tuple(rng.uniform(0, 7000, 2)) for k in range(25)}
    acc = locate_villages(net, villages(pts), rules=RULES)
    tt = travel_times(net, acc, workers=1)
    G = nx.from_scipy_sparse_array(net.graph(), create_using=nx.DiGraph)
    ok = acc["access"] != "unreachable"
    extra = (acc["walk_s"].fillna(0) + acc["drive_s"].fillna(0)).to_numpy()
    for i, _a in enumerate(acc.index):
        if not ok.iloc[i]:
            continue
        d = nx.single_source_dijkstra_path_length(G, int(acc["node"].iloc[i]))
        for j, _b in enumerate(acc.index):
            if i == j or not ok.iloc[j]:
                continue
            want = extra[i] + d.get(int(acc["node"].iloc[j]), math.inf) + extra[j]
            assert tt.seconds[i, j] == pytest.approx(want, rel=1e-9)


def test_route_follows_the_roads_and_matches_the_matrix():
    """A route's seconds equal the matrix entry; its line starts and ends at the villages and passes B."""
    net = build_network(triangle(), rules=RULES, crs=CRS)
    acc = locate_villages(net, villages({"A": (0, 0), "C": (6000, 3000), "F": (3000, -1000)}), rules=RULES)
    tt = travel_times(net, acc).frame() * 60
    line, seconds, meters = route(net, acc, "F", "C")
    assert seconds == pytest.approx(tt.loc["F", "C"])
    assert meters == pytest.approx(1000 + 3000 + 6000 + 3000)
    assert line.length == pytest.approx(meters)
    assert Point(line.coords[0]).distance(Point(3000, -1000)) < 1e-6
    assert Point(line.coords[-1]).distance(Point(6000, 3000)) < 1e-6
    assert line.distance(Point(6000, 0)) < 1e-6
    many = routes(net, acc, [("F", "C"), ("A", "C"), ("C", "C")])
    assert many[0][1] == pytest.approx(seconds)
    assert many[1][1] == pytest.approx(720.0)
    assert many[2][1] == 0.0


def test_service_area_counts_villages_and_residents():
    """Villages and residents within T minutes of the nearest site, with shares."""
    ids = pd.Index(["a", "b", "c", "d"])
    sec = np.array([[0, 600, 2400, np.inf], [600, 0, 1200, np.inf]], float)
    tt = TravelTimes(pd.Index(["a", "b"]), ids, sec)
    pop = pd.Series([100, 200, 300, 400], index=ids)
    out = service_area(tt, ["a", "b"], pop, thresholds_min=(15, 30, 60))
    assert list(out["villages"]) == [2, 3, 3]
    assert list(out["residents"]) == [300, 600, 600]
    assert out.loc[30.0, "residents_pct"] == pytest.approx(60.0)


def test_parse_maxspeed():
    """OSM maxspeed tags: numbers, mph, lists; words are not limits."""
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed(["70", "50"]) == 50
    assert math.isnan(parse_maxspeed("none")) and math.isnan(parse_maxspeed(None))


def test_read_road_layer_with_speed_and_oneway_columns(tmp_path):
    """A GeoPackage road layer: the speed column replaces class speeds, the oneway column is honoured."""
    # A(0,0) -> (1000,0) one-way at a given 20 km/h; (1000,0) - B(1000,1000) two-way primary (60 km/h, no given
    # speed); B - (0,1000) - A a two-way track (9 km/h) closes the loop.
    gdf = gpd.GeoDataFrame(
        {"kmh": [20.0, None, None], "dir": ["F", "B", "B"], "fclass": ["primary", "primary", "track"]},
        geometry=[
            LineString([(0, 0), (1000, 0)]),
            LineString([(1000, 0), (1000, 1000)]),
            LineString([(1000, 1000), (0, 1000), (0, 0)]),
        ],
        crs=CRS,
    )
    path = tmp_path / "roads.gpkg"
    gdf.to_file(path)
    r = read_roads(path, speed_col="kmh", oneway_col="dir")
    assert list(r["oneway"]) == [1, 0, 0]
    net = build_network(r, rules=RULES, crs=CRS)
    assert net.n_edges == 5
    acc = locate_villages(net, villages({"A": (0, 0), "B": (1000, 1000)}), rules=RULES)
    s = travel_times(net, acc).frame() * 60
    assert s.loc["A", "B"] == pytest.approx(1000 / (20 / 3.6) + 1000 / (60 / 3.6))
    assert s.loc["B", "A"] == pytest.approx(2000 / (15 * 0.6 / 3.6))
    with pytest.raises(ValidationError, match="speed_col 'nope'"):
        read_roads(path, speed_col="nope")


@pytest.mark.slow
def test_matrix_equals_networkx_on_the_andorra_drive_network():
    """On the real Andorra drive network, with its place nodes as villages, the matrix equals networkx's."""
    from planner.bench.matrix import ANDORRA_PBF, ANDORRA_ROADS, compare, place_villages

    row = compare("andorra", ANDORRA_ROADS, place_villages(ANDORRA_PBF), rules=NetworkRules())
    assert row.extra["inf_mismatches"] == 0
    assert row.extra["max_rel_diff"] <= 1e-6
    assert row.extra["reachable_pairs"] > 0.9 * row.extra["villages"] ** 2


@pytest.mark.slow
def test_read_pbf_keeps_every_piece():
    """An .osm.pbf is read through pyosmium with every road piece kept (more than one weak piece in Andorra)."""
    from planner.bench.matrix import ANDORRA_PBF
    from planner.network import build_network as build

    r = read_roads(ANDORRA_PBF)
    net = build(r, rules=NetworkRules(), crs="EPSG:32631")
    s = net.summary()
    assert s["nodes"] > 2000 and s["pieces"] > 1
    assert r["unpaved"].any()


def test_access_point_is_the_anchor_when_given_else_a_point_inside_the_polygon():
    """anchor_x/anchor_y (the village committee) win over the polygon; without them a point inside is used."""
    net = build_network(triangle(), rules=RULES, crs=CRS)
    poly = shapely.box(2000, -3000, 4000, -1500)  # its inside lies 1.5-3 km south of A-B
    vil = gpd.GeoDataFrame(
        {
            "name": ["P", "Q"],
            "township": "t",
            "population": [1, 1],
            "anchor_x": [3000.0, np.nan],
            "anchor_y": [-200.0, np.nan],
        },
        geometry=[poly, poly],
        crs=CRS,
        index=pd.Index(["P", "Q"], name="village_id"),
    )
    acc = locate_villages(net, vil, rules=RULES)
    assert acc.loc["P", "snap_m"] == pytest.approx(200.0)
    assert acc.loc["P", "access"] == "road"
    assert poly.contains(Point(acc.loc["Q", "x"], acc.loc["Q", "y"]))
    assert acc.loc["Q", "access"] == "walk" and acc.loc["Q", "snap_m"] >= 1500.0


def test_broken_or_empty_osm_files_are_input_errors(tmp_path):
    """A malformed or empty OSM file is a ValidationError naming the file, not a traceback."""
    bad = tmp_path / "bad.osm"
    bad.write_text('<osm><way id="1"><nd ref="1"/></osm', encoding="utf-8")
    empty = tmp_path / "empty.osm"
    empty.write_text('<osm version="0.6"></osm>', encoding="utf-8")
    for path in (bad, empty, tmp_path / "missing.osm"):
        with pytest.raises(ValidationError, match=path.name):
            read_roads(path)


def _roads_near(lon: float, lat: float, crs: str) -> gpd.GeoDataFrame:
    """A 6 km road square around (lon, lat), in ``crs``."""
    x, y = gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(crs).iloc[0].coords[0]
    sq = [(x, y), (x + 6000, y), (x + 6000, y + 6000), (x, y + 6000), (x, y)]
    rows = [{"highway": "primary", "geometry": LineString([a, b])} for a, b in itertools.pairwise(sq)]
    gdf = gpd.GeoDataFrame(
        pd.DataFrame([{"highway": "primary"}] * 4), geometry=[r["geometry"] for r in rows], crs=crs
    )
    return lines_to_roads(gdf)


def test_villages_with_swapped_lon_lat_are_told_so():
    """Villages outside the roads that the roads would cover with lon/lat exchanged: the message says swapped."""
    crs = "EPSG:32632"  # Liechtenstein, 9.5 E 47.1 N: both orders are valid longitude/latitude
    net = build_network(_roads_near(9.5, 47.1, crs), rules=RULES, crs=crs)
    lonlat = [(47.1 + 0.02 * i, 9.5 + 0.02) for i in range(2)]  # lat, lon written as lon, lat
    v = gpd.GeoDataFrame(
        {"name": ["a", "b"], "township": "t", "population": 1},
        geometry=[Point(p) for p in lonlat],
        crs=4326,
        index=pd.Index(["a", "b"], name="village_id"),
    ).to_crs(crs)
    with pytest.raises(
        ValidationError, match=r"outside the road file's coverage.*longitude and latitude look swapped"
    ):
        locate_villages(net, v, rules=RULES)


def test_villages_far_from_every_road_blame_the_crs():
    """No village within 100 km of the roads is a wrong CRS (.prj), not a clipped road file: the message says so."""
    net = build_network(triangle(), rules=RULES, crs=CRS)
    with pytest.raises(
        ValidationError, match=r"outside the road file's coverage.*CRS of the village file \(its \.prj"
    ):
        locate_villages(net, villages({"A": (600000, 0), "B": (601000, 0)}), rules=RULES)


def test_empty_pbf_is_called_empty(tmp_path):
    """A 0-byte .osm.pbf (an interrupted download) is an input error that says empty, not a pyosmium error."""
    (tmp_path / "roads.osm.pbf").write_bytes(b"")
    with pytest.raises(ValidationError, match=r"roads\.osm\.pbf: the OSM file is empty \(0 bytes\)"):
        read_roads(tmp_path / "roads.osm.pbf")


def test_sigterm_during_pbf_conversion_removes_the_temporary_file(tmp_path, shared):
    """SIGTERM while a .osm.pbf is converted removes the converted temporary XML, as Ctrl-C (SIGINT) does."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    pbf = shared / "data" / "raw" / "osm-liechtenstein-2024" / "liechtenstein-latest.osm.pbf"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(root)}
    code = f"from planner.io.roads import read_roads; read_roads({str(pbf)!r})"
    for sig in (signal.SIGTERM, signal.SIGINT):
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not list(tmp.glob("planner-pbf-*/drive.osm")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.01)
        assert list(tmp.glob("planner-pbf-*/drive.osm")), "the conversion never started"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert "KeyboardInterrupt" in err, err[-2000:]
        assert list(tmp.iterdir()) == [], f"{sig.name} left {list(tmp.iterdir())}"


def test_osm_roads_do_not_depend_on_the_hash_seed(tmp_path):
    """read_roads on an OSM file gives the same road lines in processes with different PYTHONHASHSEED."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = (
        "import hashlib, sys, shapely\n"
        "from planner.io.roads import read_roads\n"
        f"r = read_roads({str(root / 'data' / 'demo' / 'roads.osm.bz2')!r})\n"
        "h = hashlib.sha256()\n"
        "for c in ('u', 'v', 'highway', 'maxspeed_kmh', 'unpaved', 'oneway', 'class_speed_key'):\n"
        "    h.update(repr(list(r[c])).encode())\n"
        "h.update(b''.join(shapely.to_wkb(r.geometry.to_numpy())))\n"
        "print(len(r), h.hexdigest())\n"
    )
    out = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr[-2000:]
        out.append(p.stdout.strip())
    assert out[0] == out[1]

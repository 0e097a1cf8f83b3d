"""Write the corpus of bad inputs that `planner plan` and `planner prepare-osm` must answer without a traceback.

Every file is derived from one small synthetic county (the grid of tests/test_pipeline.py: 12 square villages
in two townships with a road along every row and column of centres), then broken in one way. The corpus is made
in a fixture (tests/test_corpus.py) so that the repository ships the recipe, not the files; run
``python tests/corpus/make_corpus.py DIR`` to look at them.

Each :class:`Case` is one command line with the exit code and the message parts it must produce.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
from shapely.geometry import LineString, box

CRS = "EPSG:32648"  # UTM 48N (Yunnan)
X0, Y0, SIZE = 500_000.0, 2_700_000.0, 2000.0
COLS, ROWS = 4, 3


@dataclass(frozen=True)
class Case:
    """One bad input: the command's arguments, the exit code and the texts the English message must hold."""

    name: str
    argv: tuple[str, ...]
    code: int = 2
    expect: tuple[str, ...] = ()
    out: Path | None = None  # the --out that must not be created
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def county(
    *, names: list[str] | None = None, cols: int = COLS, rows: int = ROWS
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The grid county (12 villages by default; metric CRS, indexed by village_id) in two townships, and its
    road lines (highway, geometry) through every row and column of village centres."""
    recs = []
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            recs.append(
                {
                    "village_id": f"V{r}{c}",
                    "name": names[k] if names else f"村{r}{c}",
                    "township": "东乡" if c < cols // 2 else "西乡",
                    "population": 600 + 150 * (k % 5),
                    "geometry": box(X0 + c * SIZE, Y0 + r * SIZE, X0 + (c + 1) * SIZE, Y0 + (r + 1) * SIZE),
                }
            )
    villages = gpd.GeoDataFrame(recs, crs=CRS).set_index("village_id")
    lines = []
    for r in range(rows):
        y = Y0 + (r + 0.5) * SIZE
        lines.append(
            {
                "highway": "tertiary",
                "geometry": LineString([(X0 + SIZE / 2, y), (X0 + (cols - 0.5) * SIZE, y)]),
            }
        )
    for c in range(cols):
        x = X0 + (c + 0.5) * SIZE
        lines.append(
            {
                "highway": "unclassified",
                "geometry": LineString([(x, Y0 + SIZE / 2), (x, Y0 + (rows - 0.5) * SIZE)]),
            }
        )
    return villages, gpd.GeoDataFrame(lines, crs=CRS)


def points_csv(villages: gpd.GeoDataFrame) -> pd.DataFrame:
    """The villages as a CSV table of committee points in WGS-84 lon/lat."""
    pts = villages.geometry.centroid.to_crs(4326)
    return pd.DataFrame(
        {
            "village_id": villages.index,
            "name": villages["name"].to_numpy(),
            "township": villages["township"].to_numpy(),
            "population": villages["population"].to_numpy(),
            "lon": pts.x.round(7).to_numpy(),
            "lat": pts.y.round(7).to_numpy(),
        }
    )


def write_pbf(roads: gpd.GeoDataFrame, path: Path) -> None:
    """The road lines as an OSM PBF file (nodes and highway ways), as pyosmium writes it."""
    wgs = roads.to_crs(4326)
    node_ids: dict[tuple[float, float], int] = {}
    ways = []
    for k, (geom, hw) in enumerate(zip(wgs.geometry, wgs["highway"], strict=True)):
        refs = []
        for x, y in geom.coords:
            key = (round(x, 7), round(y, 7))
            refs.append(node_ids.setdefault(key, len(node_ids) + 1))
        ways.append((k + 1, refs, {"highway": str(hw)}))
    if path.exists():
        path.unlink()
    with osmium.SimpleWriter(str(path)) as w:
        for (x, y), nid in sorted(node_ids.items(), key=lambda t: t[1]):
            w.add_node(osmium.osm.mutable.Node(id=nid, location=(x, y), version=1, tags={}))
        for wid, refs, tags in ways:
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags, version=1))


def _geojson(path: Path, features: list[dict], *, crs: str | None = None) -> None:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _feature(vid: str, name: str, pop: int, geometry: dict | None) -> dict:
    return {
        "type": "Feature",
        "properties": {"village_id": vid, "name": name, "township": "东乡", "population": pop},
        "geometry": geometry,
    }


def make_corpus(dest: Path) -> list[Case]:
    """Write every bad input under ``dest`` and return the cases (good roads and villages are there too)."""
    from planner.io import write_layer

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    villages, roads = county()
    good_roads = dest / "roads.gpkg"
    write_layer(roads, good_roads, layer="roads")
    table = points_csv(villages)
    good_csv = dest / "villages.csv"
    table.to_csv(good_csv, index=False)
    outs = dest / "out"
    cases: list[Case] = []

    def plan(name: str, villages_path: Path, *more: str, roads_path: Path = good_roads, **kw) -> Case:
        out = outs / name
        argv = ("plan", "--villages", str(villages_path), "--roads", str(roads_path), "--out", str(out))
        return Case(name, (*argv, "--month", "2026-12", "--lang", "en", *more), out=out, **kw)

    # --- geometry -------------------------------------------------------------------------------------------
    wgs = villages.to_crs(4326)
    ring = [list(map(float, xy)) for xy in wgs.geometry.iloc[0].exterior.coords]
    feats = [
        _feature(vid, n, int(p), json.loads(gpd.GeoSeries([g]).to_json())["features"][0]["geometry"])
        for vid, n, p, g in zip(wgs.index, wgs["name"], wgs["population"], wgs.geometry, strict=True)
    ]
    few = [dict(f) for f in feats]
    few[4] = _feature("V10", "村10", 750, {"type": "Polygon", "coordinates": [[ring[0], ring[1], ring[0]]]})
    _geojson(dest / "few_points.geojson", few)
    cases.append(plan("few_points", dest / "few_points.geojson", expect=("few_points.geojson", "V10")))

    null = [dict(f) for f in feats]
    null[2] = _feature("V02", "村02", 900, None)
    _geojson(dest / "null_geometry.geojson", null)
    cases.append(
        plan("null_geometry", dest / "null_geometry.geojson", expect=("null_geometry.geojson", "V02", "null"))
    )

    bow = [dict(f) for f in feats]
    a, b, c, d = ring[0], ring[1], ring[2], ring[3]
    bow[0] = _feature("V00", "村00", 600, {"type": "Polygon", "coordinates": [[a, c, b, d, a]]})
    _geojson(dest / "bowtie.geojson", bow)  # read in-process: repaired with a warning

    # --- coordinate systems ---------------------------------------------------------------------------------
    lonlat_as_utm = gpd.GeoDataFrame(
        table.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(table["lon"], table["lat"]),
        crs=CRS,
    )
    write_layer(lonlat_as_utm, dest / "lonlat_in_utm.gpkg")
    cases.append(
        plan("wrong_crs", dest / "lonlat_in_utm.gpkg", expect=("lonlat_in_utm.gpkg", "EPSG:4326", "--crs"))
    )

    utm_as_lonlat = gpd.GeoDataFrame(
        table.drop(columns=["lon", "lat"]), geometry=villages.geometry.centroid.to_numpy(), crs=4326
    )
    write_layer(utm_as_lonlat, dest / "utm_in_lonlat.gpkg")
    cases.append(
        plan("metres_as_degrees", dest / "utm_in_lonlat.gpkg", expect=("utm_in_lonlat.gpkg", "--crs"))
    )

    write_layer(villages, dest / "no_prj.shp")
    dest.joinpath("no_prj.prj").unlink()
    cases.append(plan("missing_crs", dest / "no_prj.shp", expect=("no_prj.shp", "--crs")))

    gbk = villages.copy()
    gbk["name"] = [
        "张家村",
        "李家寨",
        "王家营",
        "石洞村",
        "白水社区",
        "龙潭村",
        "新街村",
        "黑泥哨",
        "小河村",
        "大坡村",
        "马街",
        "者黑村",
    ]
    write_layer(gbk, dest / "gbk_no_cpg.shp", encoding="GBK")
    dest.joinpath("gbk_no_cpg.cpg").unlink()  # read in-process: names must come back intact

    # --- ids and empty files --------------------------------------------------------------------------------
    dup = table.copy()
    dup.loc[5, "village_id"] = "V00"
    dup.to_csv(dest / "duplicate_ids.csv", index=False)
    cases.append(
        plan("duplicate_ids", dest / "duplicate_ids.csv", expect=("duplicate_ids.csv", "V00", "line 7"))
    )

    invisible = table.copy()
    invisible.loc[5, "village_id"] = (
        "V00\u200b"  # prints as V00: the same village after normalising, a duplicate
    )
    invisible.to_csv(dest / "invisible_duplicate.csv", index=False)
    cases.append(
        plan(
            "invisible_duplicate_ids",
            dest / "invisible_duplicate.csv",
            expect=("invisible_duplicate.csv", "duplicate village ids", "V00", "line 7"),
        )
    )
    write_layer(villages, dest / "no_dbf.shp")
    dest.joinpath("no_dbf.dbf").unlink()
    cases.append(plan("missing_dbf", dest / "no_dbf.shp", expect=("no_dbf.shp", ".dbf", "missing")))
    huge = table.copy()
    huge["population"] = huge["population"].astype(object)
    huge.loc[2, "population"] = "1e12"
    huge.to_csv(dest / "huge_population.csv", index=False)
    cases.append(
        plan(
            "implausible_population",
            dest / "huge_population.csv",
            expect=("huge_population.csv", "implausible population", "line 4", "V02"),
        )
    )
    swapped = table.rename(columns={"lon": "lat", "lat": "lon"})
    swapped.to_csv(dest / "swapped_lonlat.csv", index=False)
    cases.append(
        plan(
            "swapped_lonlat",
            dest / "swapped_lonlat.csv",
            expect=("swapped_lonlat.csv", "look swapped", "line 2"),
        )
    )
    other_zone = villages.set_crs(
        "EPSG:32647", allow_override=True
    )  # UTM 48N metres declared as 47N: 600 km off
    write_layer(other_zone, dest / "other_zone.gpkg")
    cases.append(
        plan(
            "prj_other_zone",
            dest / "other_zone.gpkg",
            expect=("roads.gpkg", "outside the road file", "CRS", ".prj"),
        )
    )

    (dest / "empty.gpkg").write_bytes(b"")
    cases.append(plan("empty_gpkg", dest / "empty.gpkg", expect=("empty.gpkg",)))
    table.iloc[:0].to_csv(dest / "header_only.csv", index=False)
    cases.append(plan("header_only_csv", dest / "header_only.csv", expect=("header_only.csv", "empty")))

    # --- roads ----------------------------------------------------------------------------------------------
    write_pbf(roads, dest / "roads.osm.pbf")
    raw = (dest / "roads.osm.pbf").read_bytes()
    (dest / "truncated.osm.pbf").write_bytes(raw[: len(raw) * 2 // 3])
    cases.append(
        plan(
            "truncated_pbf_roads",
            good_csv,
            roads_path=dest / "truncated.osm.pbf",
            expect=("truncated.osm.pbf",),
        )
    )
    out = outs / "prepare_osm.gpkg"
    cases.append(
        Case(
            "truncated_pbf_prepare_osm",
            ("prepare-osm", "--osm", str(dest / "truncated.osm.pbf"), "--out", str(out), "--lang", "en"),
            expect=("truncated.osm.pbf", "download"),
            out=out,
        )
    )
    (dest / "empty.osm.pbf").write_bytes(b"")
    cases.append(
        plan(
            "empty_pbf_roads", good_csv, roads_path=dest / "empty.osm.pbf", expect=("empty.osm.pbf", "empty")
        )
    )
    out = outs / "prepare_empty.gpkg"
    cases.append(
        Case(
            "empty_pbf_prepare_osm",
            ("prepare-osm", "--osm", str(dest / "empty.osm.pbf"), "--out", str(out), "--lang", "en"),
            expect=("empty.osm.pbf", "empty"),
            out=out,
        )
    )
    far_table = table.copy()
    far_villages = villages.copy()
    far_villages.geometry = far_villages.geometry.translate(60_000.0, 0.0)
    far_table[["lon", "lat"]] = np.column_stack(
        [far_villages.centroid.to_crs(4326).x.round(7), far_villages.centroid.to_crs(4326).y.round(7)]
    )
    far_table.to_csv(dest / "villages_east.csv", index=False)
    cases.append(
        plan(
            "roads_do_not_cover",
            dest / "villages_east.csv",
            expect=("roads.gpkg", "outside the road file", "V00"),
        )
    )

    # --- rules ----------------------------------------------------------------------------------------------
    rules = {
        "rules_max_below_min": (
            "[districts]\nmin_villages = 6\nmax_villages = 4\n",
            "districts.max_villages",
        ),
        "rules_shift_too_long": ("[patrol]\nshift_hours = 30\n", "patrol.shift_hours"),
        "rules_drive_over_shift": ("[patrol]\nmax_drive_hours = 9\n", "patrol.max_drive_hours"),
        "rules_negative_speed": ("[network.speeds_kmh]\ntrack = -5\n", "network.speeds_kmh.track"),
        "rules_unknown_key": ("[patrol]\nvisit_dayz = 2\n", "patrol.visit_dayz"),
        "rules_wrong_type": ('[districts]\nmin_villages = "five"\n', "districts.min_villages"),
        "rules_code_is_text": (
            "[districts]\nmode = \"__import__('os').system('touch PWNED')\"\n",
            "districts.mode",
        ),
        "rules_not_toml": ("[districts\nmin_villages = 5\n", "not valid TOML"),
        "rules_bad_night_window": ('[patrol]\nnight_window = ["21:00", "20:00"]\n', "patrol.night_window"),
        "rules_zero_walk": ("[network]\nwalk_kmh = 0\n", "network.walk_kmh"),
    }
    for name, (text, key) in rules.items():
        path = dest / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        cases.append(plan(name, good_csv, "--config", str(path), expect=(f"{name}.toml", key)))

    # --- roster and current districts -----------------------------------------------------------------------
    roster = pd.DataFrame(
        {"officer_id": ["P1", "P2"], "office": ["V00", "NOPE"], "kind": ["resident", "linked"]}
    )
    roster.to_csv(dest / "roster_unknown_office.csv", index=False)
    cases.append(
        plan(
            "roster_unknown_office",
            good_csv,
            "--officers",
            str(dest / "roster_unknown_office.csv"),
            expect=("roster_unknown_office.csv", "NOPE", "line 3"),
            notes="checked before any solving: an office is a village id or a planner office id",
        )
    )
    bad_kind = roster.assign(office=["V00", "V01"], kind=["resident", "boss"])
    bad_kind.to_csv(dest / "roster_bad_kind.csv", index=False)
    cases.append(
        plan(
            "roster_bad_kind",
            good_csv,
            "--officers",
            str(dest / "roster_bad_kind.csv"),
            expect=("roster_bad_kind.csv", "line 3", "boss"),
        )
    )
    current = pd.DataFrame({"village_id": list(villages.index), "district_id": ["A"] * 6 + ["B"] * 6})
    current.loc[3, "village_id"] = "V99"  # a typo: V03 is missing, V99 is unknown
    current.to_csv(dest / "current_unknown.csv", index=False)
    cases.append(
        plan(
            "current_unknown_village",
            good_csv,
            "--current",
            str(dest / "current_unknown.csv"),
            expect=("current_unknown.csv", "V03", "V99"),
        )
    )
    cases.append(plan("bad_month", good_csv, "--month", "2026-13", expect=("2026-13", "YYYY-MM")))
    cases.extend(option_cases(dest, plan, good_csv))
    return cases


def option_cases(dest: Path, plan, good_csv: Path) -> list[Case]:
    """Options that must be refused before any solving (issue 12), and a rules file saved by Notepad."""
    cases = [
        plan("seed_too_large", good_csv, "--seed", str(2**63), expect=("--seed", "2147483647")),
        plan("seed_negative", good_csv, "--seed", "-1", expect=("--seed",)),
        plan("time_limit_nan", good_csv, "--time-limit", "nan", expect=("--time-limit", "positive")),
        plan("time_limit_negative", good_csv, "--time-limit", "-5", expect=("--time-limit", "positive")),
        plan("time_limit_zero", good_csv, "--time-limit", "0", expect=("--time-limit",)),
        plan("time_limit_infinite", good_csv, "--time-limit", "inf", expect=("--time-limit",)),
        plan(
            "bad_shapefile_encoding",
            good_csv,
            "--shapefile-encoding",
            "klingon-8",
            expect=("--shapefile-encoding", "klingon-8", "GBK"),
        ),
        plan("tianditu_without_key", good_csv, "--basemap", "tianditu", expect=("--tile-key",)),
    ]
    # a BOM no longer hides the file from the TOML reader: the value error behind it is found and named
    (dest / "rules_bom.toml").write_bytes("\ufeff[districts]\nmin_villages = 0\n".encode())
    cases.append(
        plan(
            "rules_with_bom",
            good_csv,
            "--config",
            str(dest / "rules_bom.toml"),
            expect=("rules_bom.toml", "districts.min_villages"),
        )
    )
    inputs = ("plan", "--villages", str(good_csv), "--roads", str(dest / "roads.gpkg"))
    out = Path("/proc/planner-corpus/plan")  # not writable, even by root
    cases.append(
        Case(
            "out_not_writable",
            (*inputs, "--out", str(out), "--lang", "en"),
            expect=("--out", "/proc", "cannot be written"),
            out=out,
        )
    )
    out = good_csv / "plan"
    cases.append(
        Case(
            "out_below_a_file",
            (*inputs, "--out", str(out), "--lang", "en"),
            expect=("--out", "villages.csv", "is a file"),
            out=out,
        )
    )
    return cases


if __name__ == "__main__":
    where = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus-files")
    for case in make_corpus(where):
        print(case.name, " ".join(case.argv))

"""Compare two plan directories: are they the same plan? (issue 10: a refactor must not change the outputs)

Usage: python benchmarks/compare_plans.py BEFORE AFTER [BEFORE AFTER ...]

Byte-compared: schedule.csv, map.html, route_sheets.html. Compared by content: the attributes of the
villages, districts, offices and routes layers of plan.gpkg (geometry as WKB), and summary.json apart from the
stage timings (``seconds``). Prints one line per file and exits 1 when anything differs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

BYTES = ("schedule.csv", "map.html", "route_sheets.html")
LAYERS = ("villages", "districts", "offices", "routes")


def _summary(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("seconds", None)
    return data


def _layer(path: Path, layer: str) -> pd.DataFrame:
    gdf = gpd.read_file(path, layer=layer)
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["geometry_sha"] = [hashlib.sha256(g.wkb).hexdigest() if g is not None else "" for g in gdf.geometry]
    return df


def compare(before: Path, after: Path) -> list[str]:
    """The names of what differs between two plan directories (empty when they are the same plan)."""
    diffs = []
    for name in BYTES:
        a, b = before / name, after / name
        same = a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()
        print(f"  {name:20s} {'identical' if same else 'DIFFERS'}")
        if not same:
            diffs.append(name)
    for layer in LAYERS:
        a, b = _layer(before / "plan.gpkg", layer), _layer(after / "plan.gpkg", layer)
        same = list(a.columns) == list(b.columns) and a.equals(b)
        print(f"  plan.gpkg:{layer:10s} {'identical' if same else 'DIFFERS'} ({len(a)} rows)")
        if not same:
            diffs.append(f"plan.gpkg:{layer}")
    same = _summary(before / "summary.json") == _summary(after / "summary.json")
    print(f"  {'summary.json':20s} {'identical' if same else 'DIFFERS'} (apart from seconds)")
    if not same:
        diffs.append("summary.json")
    return diffs


def main(argv: list[str]) -> int:
    if len(argv) < 2 or len(argv) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    bad = 0
    for before, after in zip(argv[::2], argv[1::2], strict=True):
        print(f"{before} -> {after}")
        bad += len(compare(Path(before), Path(after)))
    print("same plans" if not bad else f"{bad} difference(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

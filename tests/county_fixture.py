"""A Chinese county's own layer for the end-to-end tests: 牟定县 (532323) from the shipped NBS 2023 list.

Villages are points placed by a seeded generator around their township's centre, in CGCS2000 (EPSG:4490), with
the official 12-digit codes as ids, the full committee names (村民委员会, 社区居民委员会), no township column
(filled from the codes by ``--county``) and a column of the bureau's own (备注). Two official units are left
out, one is renamed, and one natural village without a code is added, so that the completeness section has
one of each to name.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

from planner.io.nbs import find_county

COUNTY = "532323"
LEFT_OUT = ("532323101002", "532323103212")  # two official units the layer misses
RENAMED = ("532323103201", "旧名村民委员会")  # a unit the layer keeps under an old name
EXTRA = ("X-001", "新增自然村")  # a natural village the official list does not have
RULES_TOML = "[names]\nshort = true\n"


def county_layer(path: Path, *, seed: int = 16) -> Path:
    """Write the layer to ``path`` (a GeoPackage) and return it."""
    county = find_county(COUNTY)
    rng = np.random.default_rng(seed)
    towns = list(county.townships["code"])
    centre = {c: (101.45 + 0.09 * (i % 4), 25.25 + 0.1 * (i // 4)) for i, c in enumerate(towns)}
    rows = []
    for code, name, town in zip(
        county.villages["code"], county.villages["name"], county.villages["township_code"], strict=True
    ):
        if code in LEFT_OUT:
            continue
        x, y = centre[town]
        rows.append(
            {
                "code": code,
                "name": RENAMED[1] if code == RENAMED[0] else name,
                "实有人口": int(rng.integers(600, 2600)),
                "备注": f"备注{code[-3:]}",
                "geometry": Point(x + rng.uniform(-0.04, 0.04), y + rng.uniform(-0.04, 0.04)),
            }
        )
    x, y = centre[towns[0]]
    rows.append(
        {"code": EXTRA[0], "name": EXTRA[1], "实有人口": 120, "备注": "自然村", "geometry": Point(x, y)}
    )
    gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4490").to_file(
        path, layer="villages", driver="GPKG"
    )
    return path

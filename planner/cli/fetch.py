"""``planner fetch-roads``: the drivable OSM roads of a village layer's extent, downloaded once and cached."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_fetch_command(sub: Any, add_common: Any, add_village_options: Any) -> None:
    """The parser of ``fetch-roads`` (called by planner.cli.parser)."""
    p = sub.add_parser(
        "fetch-roads",
        help="download the drivable OSM roads around the villages (online) / 下载村庄范围内的道路",
    )
    p.add_argument("--villages", required=True, help="village layer whose extent the roads cover")
    p.add_argument(
        "--out", required=True, help="road file to write (OSM XML, *.osm), for planner plan --roads"
    )
    p.add_argument(
        "--buffer-km", type=float, default=5.0, help="roads this far beyond the villages (default 5)"
    )
    p.add_argument("--overpass-url", help="Overpass API to ask (default: osmnx's, the public server)")
    add_village_options(p)
    add_common(p)


def run_fetch_roads(args: argparse.Namespace) -> int:
    """``planner fetch-roads``: exit 0 with the file written, 2 when the server cannot give roads."""
    from planner.cli.commands import cache_dir
    from planner.cli.many import _read
    from planner.io.overpass import fetch_roads

    villages = _read(args)
    out = Path(args.out)
    info = fetch_roads(
        villages,
        out,
        buffer_km=args.buffer_km,
        cache_dir=cache_dir(args, "overpass"),
        overpass_url=args.overpass_url,
    )
    if args.lang == "zh":
        print(f"已写出 {out}: {info['ways']} 条道路, {info['nodes']} 个节点, 来自 {info['source']}")
    else:
        print(f"wrote {out}: {info['ways']} roads, {info['nodes']} nodes, from {info['source']}")
    return 0

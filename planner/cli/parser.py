"""The argument parser of every subcommand (the only place that knows the options)."""

from __future__ import annotations

import argparse
import os
from typing import Any

DEFAULT_LANG = os.environ.get("PLANNER_LANG", "zh")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lang",
        choices=("zh", "en"),
        default=DEFAULT_LANG,
        help="language of messages, reports and map labels / 消息、报告和地图的语言 (default: %(default)s)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details / 输出详细日志")
    p.add_argument(
        "--debug", action="store_true", help="show the traceback of unexpected errors / 显示内部错误的调用栈"
    )
    p.add_argument(
        "--cache-dir",
        help="where travel times and downloaded roads are cached (default: $PLANNER_CACHE, else "
        "$XDG_CACHE_HOME/planner, else ~/.cache/planner) / 缓存目录",
    )


def _add_village_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("village columns / 村庄图层字段 (detected when not given)")
    g.add_argument("--id-col", help="village id column (e.g. code, 村代码)")
    g.add_argument("--name-col", help="village name column (e.g. name, 村名)")
    g.add_argument("--township-col", help="township column (e.g. township, 乡镇)")
    g.add_argument("--population-col", help="population column (e.g. population, 实有人口)")
    g.add_argument("--layer", help="layer name inside a GeoPackage")
    g.add_argument(
        "--encoding",
        help="text encoding of a Shapefile or CSV (e.g. GBK); overrides .cpg; detected when omitted",
    )
    g.add_argument(
        "--coords",
        choices=("wgs84", "gcj02"),
        default="wgs84",
        help="coordinates are GCJ-02 (Amap/Tencent) offset ones: convert to WGS-84 / 坐标为火星坐标时选 gcj02",
    )
    g.add_argument("--lon-col", help="CSV longitude column (detected: lon, lng, longitude, x, 经度)")
    g.add_argument("--lat-col", help="CSV latitude column (detected: lat, latitude, y, 纬度)")
    g.add_argument("--crs", help="CRS of a layer that declares none, e.g. EPSG:4490 (CGCS2000)")


def _add_output_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("outputs / 输出")
    g.add_argument(
        "--basemap",
        choices=("osm", "none", "amap", "amap_satellite", "tianditu"),
        default="none",
        help="base map of map.html: none (default: works offline, on a police intranet), osm, amap / amap_satellite (GCJ-02, the "
        "plan is shifted to match), tianditu (needs --tile-key) / 底图",
    )
    g.add_argument("--tile-key", help="key of the tile provider (tianditu) / 天地图密钥")
    g.add_argument(
        "--shapefile-encoding",
        help="also export every layer as a Shapefile in this encoding (e.g. GBK for older desktop GIS) under shp/",
    )


def _add_people_options(p: argparse.ArgumentParser) -> None:
    """The roster and the stations (R9, R10) of ``planner plan``."""
    p.add_argument(
        "--officers",
        help="officer roster CSV (officer_id, office, kind, unavailable; optional name, station, home_village, "
        "skills e.g. traffic;investigation) / 警员名册",
    )
    p.add_argument(
        "--stations",
        help="the county's police stations: points or polygons (or a CSV with lon/lat) with name, optional "
        "townships and other_officers (non-community officers, for R9); default: one per township at its "
        "most populous village / 派出所图层",
    )


def _add_check_command(sub: Any) -> None:
    """``planner check PLAN [--config] [--write] [--county]``."""
    p = sub.add_parser("check", help="re-check a plan against the rules / 按规则复核方案")
    p.add_argument("plan", help="plan directory (or its plan.gpkg)")
    p.add_argument("--config", help="rules file (TOML)")
    p.add_argument(
        "--officers",
        help="an edited roster (e.g. the plan's officers.csv) to check R9 and R10 with / 用编辑后的名册复核 R9、R10",
    )
    p.add_argument(
        "--write",
        action="store_true",
        help="regenerate the edited plan in place: districts and offices layers from the villages layer, "
        "summary.json, report, map and sheets / 按编辑后的村图层重新生成方案",
    )
    p.add_argument(
        "--county",
        help="code (e.g. 532527) or name (泸西县) of the county: the plan's villages are compared with the official "
        "NBS 2023 village list and the result printed (and, with --write, put in summary.json and the report) / "
        "与统计用区划代码比对",
    )
    _add_common(p)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="planner",
        description="Police districts, offices and monthly patrol plans for rural counties (一村一警 警务区规划).",
    )
    from planner import __version__

    parser.add_argument("--version", action="version", version=f"planner {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "demo", help="the whole pipeline on the embedded demo region / 用内置示例区域运行全流程"
    )
    p.add_argument(
        "--out", default="maps/demo", help="output directory, replaced on each run (default: %(default)s)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="safety cap in seconds on the district search (default 600), and the monthly plan's work budget (default 120)",
    )
    _add_output_options(p)
    _add_common(p)

    p = sub.add_parser(
        "prepare-osm", help="derive a village layer from an OSM extract / 由 OSM 数据生成村庄图层"
    )
    p.add_argument("--osm", required=True, help=".osm.pbf, .osm or .osm.bz2 extract")
    p.add_argument("--out", required=True, help="output village layer (.gpkg, .geojson, .fgb or .shp)")
    p.add_argument(
        "--place-types",
        default="town,village,hamlet",
        help="OSM place=* values that become villages (default: %(default)s)",
    )
    p.add_argument(
        "--admin-level",
        type=int,
        default=None,
        help="admin_level of the region boundary that clips the cells (default: the lowest level "
        "whose boundary holds most settlements, usually 2 for a country)",
    )
    p.add_argument(
        "--township-level",
        type=int,
        default=None,
        help="admin_level whose units give each village its township (default: detected)",
    )
    p.add_argument(
        "--total-population",
        type=int,
        default=None,
        help="scale modelled populations so that the region totals this / 按已知总人口缩放",
    )
    p.add_argument(
        "--persons-per-building",
        type=float,
        default=None,
        help="modelled residents per residential building (default: see docs)",
    )
    _add_common(p)

    p = sub.add_parser(
        "plan", help="districts, offices and the monthly patrol plan / 警务区、警务室与月度巡逻计划"
    )
    p.add_argument(
        "--villages", required=True, help="village layer (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, CSV)"
    )
    p.add_argument(
        "--roads",
        required=True,
        help="OSM extract (.osm.pbf/.osm/.osm.bz2) or a road-line layer; 'none' when there is no road data "
        "(travel times are then estimated from straight lines by terrain and flagged) / 无道路数据时写 none",
    )
    p.add_argument("--out", required=True, help="plan directory to write")
    p.add_argument("--config", help="rules file (TOML) / 规则文件")
    p.add_argument("--offices", help="existing or candidate office sites (village ids or points)")
    _add_people_options(p)
    p.add_argument("--current", help="the districts in force today, to compare / 现行警务区")
    p.add_argument(
        "--lock",
        help="keep these as they are today (needs --current): comma-separated village or current district ids, "
        "or a CSV with a village_id or district_id column, or all (every district as --current has it, e.g. after an "
        "edit in QGIS: only the offices and the month are planned) / 保持不变的村或警务区 (all: 全部保持)",
    )
    p.add_argument("--month", help="YYYY-MM of the patrol plan (default: next month)")
    p.add_argument(
        "--county",
        help="code (e.g. 532527) or name (泸西县) of the county: the layer is compared with the official NBS 2023 "
        "village list (summary.json nbs; empty townships filled from 12-digit codes) / 与统计用区划代码比对",
    )
    p.add_argument(
        "--districts",
        type=int,
        default=None,
        help="number of districts (default: the fewest the rules allow)",
    )
    p.add_argument("--speed-col", help="speed column (km/h) of a road-line layer")
    p.add_argument("--oneway-col", help="one-way column of a road-line layer")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="safety cap in seconds on the district search (default 600), and the monthly plan's work budget (default 120)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="a local Dask cluster of N processes for a big county: the district stage's final solves and the "
        "month's offices side by side, the same plan as with 1 / 大县用 N 个进程并行求解警务区终解与各警务室月计划 (方案不变)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing plan in --out / 覆盖已有方案"
    )
    _add_village_options(p)
    _add_output_options(p)
    _add_common(p)

    _add_check_command(sub)

    from planner.cli.fetch import add_fetch_command
    from planner.cli.many import add_many_commands

    add_many_commands(sub, _add_common, _add_village_options)
    add_fetch_command(sub, _add_common, _add_village_options)

    p = sub.add_parser("bench", help="run the engine on published instances / 基准测试")
    p.add_argument(
        "family", choices=("pmedian", "cpmp", "districting", "cvrp", "pvrp", "matrix", "districts")
    )
    p.add_argument("--instances", help="directory searched recursively for instances (not for matrix)")
    p.add_argument("--time-limit", type=float, default=None, help="seconds per instance")
    p.add_argument("--only", help="comma-separated instance names")
    p.add_argument("--json", help="write one JSON object per line to this file")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--peers",
        action="store_true",
        help="also run the peer solvers in the same run (spopt, plain OR-Tools, GerryChain)",
    )
    p.add_argument("--exact", action="store_true", help="districts: the exact mode (MIP, contiguity cuts)")
    _add_common(p)
    return parser

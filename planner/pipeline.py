"""The whole job: villages and roads in, a plan directory out (``planner plan`` and ``planner demo``).

Each stage is timed; the stages' results become one :class:`planner.plan.PlanData`, which is written to the
plan directory atomically (nothing half-written is left when a stage fails or the run is interrupted).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import ValidationError
from planner.plan import PlanData
from planner.rules import Rules, load_rules

log = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
OUTPUT_CRS = "EPSG:4326"
# Above this many villages the matrix (n^2 float32) is not shipped in the plan directory; `planner check` then
# uses the travel times recorded in the villages layer.
MAX_SHIPPED_MATRIX = 3000
# The district search stops on counts; its time limit is only a safety cap (marked in summary.json when hit).
DISTRICTS_TIME_CAP = 600.0
# The monthly plan's CP-SAT work budget in deterministic seconds, shared by the offices (not wall time).
PATROL_WORK_BUDGET = 60.0


@dataclass
class StageClock:
    """Seconds per stage, and a hook that tells the CLI which stage runs (for its progress display)."""

    on_stage: Callable[[str], None] | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.on_stage:
            self.on_stage(name)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - t0, 3)
            log.info("stage %s: %.2f s", name, self.seconds[name])


def default_month(today: dt.date | None = None) -> str:
    """Next month as YYYY-MM: a plan is made ahead of the month it covers."""
    d = today or dt.date.today()
    return f"{d.year + (d.month == 12)}-{d.month % 12 + 1:02d}"


def check_month(month: str) -> str:
    """Validate a YYYY-MM month."""
    try:
        dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValidationError(
            f"--month '{month}' is not a month; write it as YYYY-MM, e.g. 2026-12.",
            zh=f"--month '{month}' 不是月份; 请写成 YYYY-MM, 例如 2026-12。",
        ) from None
    return month


@dataclass(frozen=True, eq=False)
class PlanResult:
    """A finished plan and what the command should say about it."""

    plan: PlanData
    hard_breaks: int
    times: Any = None  # the village travel-time matrix, shipped in the plan directory for `planner check`

    @property
    def exit_code(self) -> int:
        return 1 if self.hard_breaks else 0


def make_plan(
    villages: gpd.GeoDataFrame,
    roads: Any,
    *,
    rules: Rules,
    month: str,
    current: pd.Series | None = None,
    roster: pd.DataFrame | None = None,
    roster_source: str = "officer roster",
    candidates: list[str] | None = None,
    locked: list[str] | None = None,
    n_districts: int | None = None,
    seed: int = 0,
    time_limit: float | None = None,
    cache_dir: Path | None = None,
    clock: StageClock | None = None,
) -> PlanResult:
    """Run every stage on villages (metric CRS, indexed by village_id) and roads read by planner.io.roads.

    Returns the plan in WGS-84 with its summary; raises the planner's errors when a stage cannot go on.
    """
    from planner.districts import plan_districts
    from planner.network import build_network, locate_villages, travel_times
    from planner.patrol import plan_month

    clock = clock or StageClock()
    with clock.stage("network"):
        network = build_network(roads, rules=rules.network, crs=villages.crs)
        access = locate_villages(network, villages, rules=rules.network)
    with clock.stage("travel_times"):
        times = travel_times(network, access, cache_dir=cache_dir)
    with clock.stage("districts"):
        dplan = plan_districts(
            villages,
            times,
            access,
            rules=rules,
            current=current,
            candidates=candidates,
            locked=locked,
            n_districts=n_districts,
            seed=seed,
            time_limit=time_limit or DISTRICTS_TIME_CAP,
        )
    with clock.stage("patrol"):
        assignment = patrol_assignment(dplan.villages, dplan.offices, dplan.districts)
        if roster is not None:
            roster = resolve_roster_offices(roster, assignment, source=roster_source)
        patrol = plan_month(
            assignment,
            times,
            rules=rules.patrol,
            month=month,
            roster=roster,
            seed=seed,
            time_limit=time_limit or PATROL_WORK_BUDGET,
        )
    with clock.stage("routes"):
        routes = _route_lines(network, access, patrol.legs)
    summary = build_summary(
        dplan,
        patrol,
        times,
        access,
        rules=rules,
        month=month,
        seconds=clock.seconds,
        network_summary=network.summary(),
    )
    # why a village is walk-only or unreachable travels with it into the layer a planner opens in QGIS
    villages_out = dplan.villages.assign(
        access_reason=access["reason"].reindex(dplan.villages.index)
    ).reset_index()
    plan = PlanData(
        villages=villages_out.to_crs(OUTPUT_CRS),
        districts=dplan.districts.to_crs(OUTPUT_CRS),
        offices=dplan.offices.to_crs(OUTPUT_CRS),
        routes=routes.to_crs(OUTPUT_CRS),
        schedule=patrol.schedule,
        summary=summary,
        current=_current_layer(villages, current),
    )
    hard = [v for v in summary["violations"] if v["hard"]]
    return PlanResult(plan=plan, hard_breaks=len(hard), times=times)


def patrol_assignment(villages: pd.DataFrame, offices: pd.DataFrame, districts: pd.DataFrame) -> pd.DataFrame:
    """What the patrol stage needs of a district plan: per village its district, office, office village and
    the district's officers (villages indexed by village_id; offices and districts with their id columns)."""
    offices = offices.set_index("office_id")
    districts = districts.set_index("district_id")
    out = pd.DataFrame(index=villages.index)
    out["district_id"] = villages["district_id"]
    out["office_id"] = villages["office_id"]
    out["office_village_id"] = villages["office_id"].map(offices["village_id"])
    out["officers"] = villages["district_id"].map(districts["officers"]).astype(int)
    out["population"] = villages["population"]
    out["access"] = villages["access"]
    return out


def locked_villages(spec: str, current: pd.Series | None) -> list[str]:
    """The villages that keep their current district: ``spec`` lists village ids and/or current district ids
    (comma-separated, or a CSV file with a village_id or district_id column)."""
    if current is None:
        raise ValidationError(
            "--lock keeps villages in the districts in force today: give those districts with --current.",
            zh="--lock 使村保持在现行警务区: 请用 --current 给出现行警务区。",
        )
    path = Path(spec)
    if spec.lower().endswith(".csv"):
        if not path.is_file():
            raise ValidationError(f"--lock {spec}: file not found.", zh=f"--lock {spec}: 找不到文件。")
        table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        cols = [c for c in ("village_id", "district_id") if c in table.columns]
        if not cols:
            raise ValidationError(
                f"--lock {spec}: needs a village_id or district_id column; it has {list(table.columns)}.",
                zh=f"--lock {spec}: 需要 village_id 或 district_id 列; 现有 {list(table.columns)}。",
            )
        tokens = [t for c in cols for t in table[c].dropna().str.strip() if t]
    else:
        tokens = [t.strip() for t in spec.split(",") if t.strip()]
    cur = current.astype(str)
    cur.index = cur.index.astype(str)
    out: list[str] = []
    for tok in tokens:
        if tok in cur.index:
            out.append(tok)
        elif (cur == tok).any():
            out += cur.index[cur == tok].tolist()
        else:
            raise ValidationError(
                f"--lock: '{tok}' is neither a village id nor a district of --current; check the id.",
                zh=f"--lock: '{tok}' 既不是村代码, 也不是 --current 中的警务区; 请检查编号。",
            )
    return list(dict.fromkeys(out))


def check_roster_offices(roster: pd.DataFrame, villages: pd.Index, *, source: str) -> None:
    """Before any solving: each roster office must be a village id (the office's village) or an office id the
    planner gives (O01, O02, ...); anything else is an input error naming the CSV line."""
    known = set(villages.astype(str))
    for i, office in enumerate(roster["office"].astype(str)):
        if office not in known and not re.fullmatch(r"O\d+", office):
            raise _roster_error(
                source,
                i,
                office,
                "it is neither a village id nor an office id (O01, O02, ...)",
                "既不是村代码也不是警务室编号 (O01、O02……)",
            )


def resolve_roster_offices(roster: pd.DataFrame, assignment: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Roster offices given as village ids become the office of the district that holds that village (a
    bureau knows where its officers sit, not the ids of offices the planner has yet to place)."""
    office_of_village = assignment["office_id"].astype(str)
    office_of_village.index = office_of_village.index.astype(str)
    offices = set(office_of_village)
    resolved = []
    for i, office in enumerate(roster["office"].astype(str)):
        if office in offices:
            resolved.append(office)
        elif office in office_of_village.index:
            resolved.append(office_of_village[office])
        else:
            raise _roster_error(
                source,
                i,
                office,
                f"the plan has no such office (it has {sorted(offices)[:10]})",
                f"方案中没有该警务室 (现有 {sorted(offices)[:10]})",
            )
    return roster.assign(office=resolved)


def _roster_error(source: str, i: int, office: str, why: str, why_zh: str) -> ValidationError:
    line = i + 2  # the header is line 1
    return ValidationError(
        f"{source}: line {line}: office '{office}': {why}. Give the village id of the officer's office.",
        zh=f"{source}: 第 {line} 行: 警务室 '{office}' {why_zh}。请填写该民警所在警务室的村代码。",
    )


def _route_lines(network: Any, access: pd.DataFrame, legs: pd.DataFrame) -> gpd.GeoDataFrame:
    """Each leg of the monthly plan as a line along the roads; each distinct pair is routed once."""
    from planner.network import routes

    pairs = list(dict.fromkeys(zip(legs["from_id"].astype(str), legs["to_id"].astype(str), strict=True)))
    found = dict(zip(pairs, routes(network, access, pairs), strict=True))
    keys = list(zip(legs["from_id"].astype(str), legs["to_id"].astype(str), strict=True))
    out = legs.copy()
    out["km"] = [round(found[k][2] / 1000.0, 3) for k in keys]
    return gpd.GeoDataFrame(out, geometry=[found[k][0] for k in keys], crs=network.crs)


def _current_layer(villages: gpd.GeoDataFrame, current: pd.Series | None) -> gpd.GeoDataFrame | None:
    if current is None:
        return None
    cur = villages[["name", "township", "population", "geometry"]].copy()
    cur["district_id"] = current.reindex(villages.index).astype(str)
    cur = cur.reset_index()
    return cur.to_crs(OUTPUT_CRS)


def _cv(values: np.ndarray) -> float:
    return float(values.std() / values.mean()) if len(values) and values.mean() > 0 else 0.0


def build_summary(
    dplan: Any,
    patrol: Any,
    times: Any,
    access: pd.DataFrame,
    *,
    rules: Rules,
    month: str,
    seconds: dict[str, float],
    network_summary: dict[str, Any],
) -> dict[str, Any]:
    """The key figures and every rule check (INTERFACE.md summary.json)."""
    from planner.network import service_area

    v = dplan.villages
    d = dplan.districts
    pop = v["population"].to_numpy(dtype=float)
    travel = v["travel_min_to_office"].to_numpy(dtype=float)
    finite = np.isfinite(travel)
    office_villages = dplan.offices["village_id"].tolist()
    sa = service_area(
        times, office_villages, v["population"], thresholds_min=rules.offices.coverage_thresholds_min
    )
    coverage = {
        str(int(t)) if float(t).is_integer() else str(t): round(float(row["residents_pct"]), 2)
        for t, row in sa.iterrows()
    }
    violations = [_violation_dict(x) for x in dplan.violations] + [
        _violation_dict(x) for x in patrol.violations
    ]
    return {
        "month": month,
        "villages": len(v),
        "population": int(pop.sum()),
        "districts": len(d),
        "offices": len(dplan.offices),
        "officers": int(d["officers"].sum()),
        "coverage_pct": coverage,
        "max_travel_min": round(float(travel[finite].max()), 2) if finite.any() else None,
        "mean_travel_min": round(float(np.average(travel[finite], weights=pop[finite])), 2)
        if finite.any() and pop[finite].sum() > 0
        else None,
        "district_villages": {"min": int(d["n_villages"].min()), "max": int(d["n_villages"].max())},
        "district_population": {
            "min": int(d["population"].min()),
            "max": int(d["population"].max()),
            "cv": round(_cv(d["population"].to_numpy(dtype=float)), 4),
        },
        "visit_requirements_met_pct": round(float(patrol.summary()["visit_requirements_met_pct"]), 2),
        "unreachable_villages": sorted(access.index[access["access"] == "unreachable"].astype(str).tolist()),
        "walk_villages": sorted(access.index[access["access"] == "walk"].astype(str).tolist()),
        "access_reasons": {
            str(i): {"access": str(r.access), "reason": str(r.reason), "reason_zh": str(r.reason_zh)}
            for i, r in access[access["access"] != "road"].sort_index().iterrows()
        },
        "violations": violations,
        "dropped_visits": [
            {
                "officer_id": str(x[0]),
                "village_id": str(x[1]),
                "reason": str(x[2]),
                **({"reason_zh": str(x[3])} if len(x) > 3 else {}),
            }
            for x in patrol.dropped_visits
        ],
        "roster": [
            {
                "officer_id": str(r.officer_id),
                "office": str(r.office),
                "kind": str(r.kind),
                "village_id": "" if pd.isna(r.village_id) else str(r.village_id),
                "unavailable": sorted(str(d) for d in (r.unavailable or ())),
            }
            for r in patrol.roster.itertuples()
        ],
        "solver": {
            "districts": {
                "proven_optimal": bool(dplan.proven_optimal),
                "stopped_by_time": bool(dplan.stopped_by_time),
            },
            "patrol": {"offices_not_proven": list(patrol.offices_not_proven)},
        },
        "network": network_summary,
        "rules": rules.to_dict(),
        "seconds": seconds,
    }


def _violation_dict(v: Any) -> dict[str, Any]:
    out = {"rule": v.rule, "subject": str(v.subject), "detail": v.detail, "hard": bool(v.hard)}
    if v.detail_zh:
        out["detail_zh"] = v.detail_zh
    return out


# --- commands -----------------------------------------------------------------------------------------------


def _progress(lang: str) -> tuple[Callable[[str], None], Callable[[], None]]:
    """A spinner naming the running stage on a terminal; nothing when output is not a terminal."""
    if not sys.stderr.isatty():
        return (lambda name: log.info("stage %s", name)), (lambda: None)
    from rich.console import Console
    from rich.status import Status

    status = Status("", console=Console(stderr=True))
    status.start()
    names = {
        "network": ("路网与可达性", "road network and access"),
        "travel_times": ("行车时间矩阵", "travel times"),
        "districts": ("警务区与警务室", "districts and offices"),
        "patrol": ("月度巡访计划", "monthly patrol plan"),
        "routes": ("沿路线路", "routes along roads"),
        "write": ("写出结果", "writing the plan"),
    }

    def on_stage(name: str) -> None:
        zh, en = names.get(name, (name, name))
        status.update(zh if lang == "zh" else en)

    return on_stage, status.stop


def write_outputs(
    result: PlanResult,
    out: Path,
    *,
    lang: str,
    overwrite: bool,
    basemap: str = "osm",
    tile_key: str | None = None,
    shapefile_encoding: str | None = None,
) -> None:
    """plan.gpkg, summary.json, schedule, map.html and report.html (and Shapefiles on request), atomically."""
    from planner.check import TIMES_FILE, times_to_npz
    from planner.io.plan_files import write_plan_dir
    from planner.maps import map_html, plan_map
    from planner.report import report_html
    from planner.sheets import route_sheets_html

    extra: dict[str, str | bytes] = {
        # map_html inlines Leaflet and its plugins: the map works in a meeting room without internet
        "map.html": map_html(plan_map(result.plan, lang=lang, tiles=basemap, tile_key=tile_key)),
        "report.html": report_html(result.plan, lang=lang),
        "route_sheets.html": route_sheets_html(result.plan, lang=lang),
    }
    if result.times is not None and len(result.times.origins) <= MAX_SHIPPED_MATRIX:
        extra[TIMES_FILE] = times_to_npz(result.times)
    write_plan_dir(
        result.plan, out, overwrite=overwrite, extra_files=extra, shapefile_encoding=shapefile_encoding
    )


def _say_result(result: PlanResult, out: Path, lang: str) -> None:
    s = result.plan.summary
    if lang == "zh":
        print(
            f"已写出 {out}: {s['villages']} 个行政村, {s['districts']} 个警务区, {s['officers']} 名民警, "
            f"30 分钟覆盖 {s['coverage_pct'].get('30', '-')}% 居民, 巡访要求满足 {s['visit_requirements_met_pct']}%"
        )
    else:
        print(
            f"wrote {out}: {s['villages']} villages, {s['districts']} districts, {s['officers']} officers, "
            f"{s['coverage_pct'].get('30', '-')}% of residents within 30 min, "
            f"{s['visit_requirements_met_pct']}% of visit requirements met"
        )
    if s["solver"]["districts"]["stopped_by_time"]:
        print(
            "  区划搜索被时间上限截断: 方案有效, 但不一定最优; 可加大 --time-limit"
            if lang == "zh"
            else "  the time limit cut the district search: the plan is valid but may not be the best; "
            "raise --time-limit",
            file=sys.stderr,
        )
    names = dict(
        zip(
            result.plan.villages["village_id"].astype(str),
            result.plan.villages["name"].astype(str),
            strict=True,
        )
    )
    for v in s["violations"]:
        detail = v.get("detail_zh", v["detail"]) if lang == "zh" else v["detail"]
        name = (
            f" ({names[v['subject']]})" if v["subject"] in names else ""
        )  # ids alone mean little to a bureau
        soft = ("[软] " if lang == "zh" else "[soft] ") if not v["hard"] else ""
        print(f"  {soft}{v['rule']} {v['subject']}{name}: {detail}", file=sys.stderr)
    if s["dropped_visits"]:
        n = len(s["dropped_visits"])
        print(
            f"  {'未能安排的走访' if lang == 'zh' else 'visits that could not be planned'}: {n} "
            f"({'见' if lang == 'zh' else 'see'} report.html)",
            file=sys.stderr,
        )


def run_plan_command(args: argparse.Namespace) -> int:
    """``planner plan``."""
    from planner.io import read_current, read_office_sites, read_roster, read_villages
    from planner.io.roads import read_roads

    rules = load_rules(args.config)
    month = check_month(args.month or default_month())
    villages = read_villages(
        args.villages,
        id_col=args.id_col,
        name_col=args.name_col,
        township_col=args.township_col,
        population_col=args.population_col,
        layer=args.layer,
        encoding=args.encoding,
        coords=args.coords,
        lon_col=args.lon_col,
        lat_col=args.lat_col,
        crs=args.crs,
    )
    current = read_current(args.current, villages) if args.current else None
    roster = read_roster(args.officers) if args.officers else None
    if roster is not None:
        check_roster_offices(roster, villages.index, source=f"officer roster {args.officers}")
    candidates = read_office_sites(args.offices, villages) if args.offices else None
    locked = locked_villages(args.lock, current) if args.lock else None
    roads = read_roads(args.roads, speed_col=args.speed_col, oneway_col=args.oneway_col)
    return _plan_and_write(
        villages,
        roads,
        args=args,
        rules=rules,
        month=month,
        current=current,
        roster=roster,
        roster_source=f"officer roster {args.officers}",
        candidates=candidates,
        locked=locked,
        n_districts=args.districts,
    )


def cache_dir() -> Path:
    """Where travel-time matrices are cached: $PLANNER_CACHE, else the user's cache directory."""
    root = (
        os.environ.get("PLANNER_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "planner"
    )
    return Path(root) / "travel_times"


def _plan_and_write(
    villages: gpd.GeoDataFrame, roads: Any, *, args: argparse.Namespace, **kwargs: Any
) -> int:
    on_stage, stop = _progress(args.lang)
    clock = StageClock(on_stage=on_stage)
    out = Path(args.out)
    try:
        result = make_plan(
            villages,
            roads,
            clock=clock,
            cache_dir=cache_dir(),
            seed=args.seed,
            time_limit=args.time_limit,
            **kwargs,
        )
        with clock.stage("write"):
            write_outputs(
                result,
                out,
                lang=args.lang,
                overwrite=args.overwrite,
                basemap=args.basemap,
                tile_key=args.tile_key,
                shapefile_encoding=args.shapefile_encoding,
            )
    finally:
        stop()
    _say_result(result, out, args.lang)
    return result.exit_code


def run_demo(args: argparse.Namespace) -> int:
    """``planner demo``: the whole pipeline on the embedded demo region (data/demo)."""
    from planner.io import read_villages
    from planner.io.roads import read_roads

    villages_path, roads_path = DEMO_DIR / "villages.gpkg", DEMO_DIR / "roads.osm.bz2"
    for p in (villages_path, roads_path):
        if not p.is_file():
            raise ValidationError(
                f"{p}: the demo data is missing; restore data/demo/ from the repository.",
                zh=f"{p}: 缺少示例数据; 请从代码仓库恢复 data/demo/。",
            )
    villages = read_villages(villages_path)
    roads = read_roads(roads_path)
    # The demo overwrites its own output directory: it is a sample, re-run at will.
    demo_args = argparse.Namespace(**{**vars(args), "overwrite": True})
    code = _plan_and_write(
        villages,
        roads,
        args=demo_args,
        rules=load_rules(None),
        month=default_month(),
        current=None,
        roster=None,
        n_districts=None,
    )
    # The demo's job is to show the planner at work: rule breaks are reported above, not a failure of the demo.
    return 0 if code == 1 else code

"""The subcommands' handlers: read the arguments, call the library, print what it did."""

from __future__ import annotations

import argparse
import codecs
import dataclasses
import logging
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd

from planner.check import check_plan, rules_of
from planner.errors import ValidationError
from planner.io import locked_villages
from planner.io.files import DEMO_DIR
from planner.io.plan_files import TIMES_FILE, shapefile_encoding_of, times_from_npz
from planner.outputs.front import TERMINAL_NAMES
from planner.patrol.roster import check_roster_offices, name_roster_homes, name_roster_offices
from planner.pipeline import PlanResult, StageClock, check_month, default_month, make_plan, write_outputs
from planner.prepare_osm import prepare_osm
from planner.rules import load_rules
from planner.texts import t

log = logging.getLogger(__name__)


def _progress(lang: str) -> tuple[Callable[[str], None], Callable[[], None]]:
    """A spinner naming the running stage on a terminal; nothing when output is not a terminal."""
    if not sys.stderr.isatty():
        return (lambda name: log.info("stage %s", name)), (lambda: None)
    from rich.console import Console
    from rich.status import Status

    status = Status("", console=Console(stderr=True))
    status.start()
    from planner.texts import has

    def on_stage(name: str) -> None:  # the stage's name as the report's timing line has it
        status.update(t(f"report.stage.{name}", lang) if has(f"report.stage.{name}") else name)

    return on_stage, status.stop


def written_line(out: Path, s: dict[str, Any], lang: str) -> str:
    """`planner plan`'s first line: what was written, with the figures the report leads with, in its terms
    (texts.py's ``term.visits_met`` for visit_requirements_met_pct)."""
    met = t("term.visits_met", lang)
    if lang == "zh":
        return (
            f"已写出 {out}: {s['villages']} 个行政村, {s['districts']} 个警务区, {s['officers']} 名民警, "
            f"30 分钟覆盖 {s['coverage_pct'].get('30', '-')}% 居民, {met} {s['visit_requirements_met_pct']}%"
        )
    return (
        f"wrote {out}: {s['villages']} villages, {s['districts']} districts, {s['officers']} officers, "
        f"{s['coverage_pct'].get('30', '-')}% of residents within 30 min, "
        f"{s['visit_requirements_met_pct']}% of {met}"
    )


def _say_result(result: PlanResult, out: Path, lang: str, *, verbose: bool = False) -> None:
    s = result.plan.summary
    print(written_line(out, s, lang))
    if s["solver"]["districts"]["stopped_by_time"]:
        print(
            "  区划搜索被时间上限截断: 方案有效, 但不一定最优; 可加大 --time-limit"
            if lang == "zh"
            else "  the time limit cut the district search: the plan is valid but may not be the best; "
            "raise --time-limit",
            file=sys.stderr,
        )
    cal = s.get("calendar") or {}
    if not cal.get("official_known", True):  # the year's 调休 not in the holidays package yet: say so, once
        from planner.patrol.rulebook.calendar import describe

        print(f"  C1 {describe(cal, str(s.get('month', '')), lang)}", file=sys.stderr)
    say_breaks(s["violations"], result.plan, lang=lang, verbose=verbose)
    say_data_notes(s, lang=lang, verbose=verbose)
    if s["dropped_visits"]:
        from planner.outputs.front import dropped_groups

        n = len(s["dropped_visits"])
        print(
            f"  {'未能安排的走访' if lang == 'zh' else 'visits that could not be planned'}: {n} "
            f"({'见' if lang == 'zh' else 'see'} report.html)",
            file=sys.stderr,
        )
        for g in dropped_groups(s, lang):  # one line per reason, as the report lists them
            officers = ", ".join(g.officers)
            reason = g.first if len(g.subjects) == 1 else g.cause
            print(
                f"    {t('report.dropped.n', lang, n=len(g.subjects))} ({officers}): {reason}",
                file=sys.stderr,
            )


def say_breaks(
    violations: list[dict[str, Any]], plan: Any, *, lang: str, verbose: bool, file: Any = None
) -> None:
    """The rule breaks grouped by cause as the report groups them (planner.outputs.front.breaks_lines), hard
    apart from goals, the villages named; ``verbose`` names every subject of a group."""
    from planner.check import named
    from planner.outputs.front import breaks_lines
    from planner.outputs.lookups import village_names, with_shown_names

    districts = set(plan.districts["district_id"].astype(str)) if "district_id" in plan.districts else set()
    names = village_names(with_shown_names(plan).villages)
    lines = breaks_lines(
        violations,
        names,
        lang,
        districts=districts,
        limit=None if verbose else TERMINAL_NAMES,
    )
    for line in lines:
        print(named(line, names), file=file or sys.stderr)  # ids inside a cause get their names too


def say_data_notes(
    summary: dict[str, Any], *, lang: str, verbose: bool, file: Any = None, rules: Any = None
) -> None:
    """The completeness against the official list (with --county) and the coordinates note (a GCJ-02 input is
    written back in WGS-84), in the words of the report (planner.outputs.datanotes); names shown as the rules
    (``rules``, else the summary's) want them."""
    from planner.outputs.datanotes import completeness_lines, crs_note, modelled_note

    shown = (rules or rules_of(summary)).names.shown
    limit = None if verbose else TERMINAL_NAMES
    lines = completeness_lines(summary.get("nbs") or {}, lang, limit=limit, shown=shown)
    notes = [n for n in (modelled_note(summary, lang), crs_note(summary, lang)) if n]
    for line in [*lines, *notes]:
        print(line, file=file or sys.stderr)


MAX_SEED = 2**31 - 1  # the solvers take a 32-bit signed seed


def check_options(args: argparse.Namespace) -> None:
    """Refuse, before any solving, the options of ``planner plan`` / ``planner demo`` that would fail later.

    Raises
    ------
    ValidationError
        Naming the option and the fix.
    """
    check_seed_and_time_limit(args)
    if getattr(args, "workers", 1) < 1:
        raise ValidationError(
            f"--workers {args.workers}: give at least 1 worker.",
            zh=f"--workers {args.workers}: 至少需要 1 个工作进程。",
        )
    if getattr(args, "shapefile_encoding", None):
        try:
            codecs.lookup(args.shapefile_encoding)
        except LookupError:
            raise ValidationError(
                f"--shapefile-encoding {args.shapefile_encoding!r} is not a text encoding; use e.g. GBK, "
                "GB18030 or UTF-8",
                zh=f"--shapefile-encoding “{args.shapefile_encoding}”不是文字编码;请使用 GBK、GB18030 或 UTF-8 等",
            ) from None
    if getattr(args, "basemap", None) == "tianditu" and not getattr(args, "tile_key", None):
        raise ValidationError(
            "--basemap tianditu needs the key of your Tianditu account: pass --tile-key KEY "
            "(free at console.tianditu.gov.cn), or choose another --basemap (osm, none, amap)",
            zh="--basemap tianditu 需要天地图密钥:请加 --tile-key 密钥(可在 console.tianditu.gov.cn 免费申请),"
            "或换用其他底图(osm、none、amap)",
        )


def check_seed_and_time_limit(args: argparse.Namespace) -> None:
    """--seed within the solvers' range, --time-limit a finite positive number of seconds."""
    seed = getattr(args, "seed", None)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ValidationError(
            f"--seed {seed} is out of range; give a whole number from 0 to {MAX_SEED}",
            zh=f"--seed {seed} 超出范围;请给出 0 到 {MAX_SEED} 之间的整数",
        )
    limit = getattr(args, "time_limit", None)
    if limit is not None and not (math.isfinite(limit) and limit > 0):
        raise ValidationError(
            f"--time-limit {limit} is not a positive number of seconds; give e.g. --time-limit 60, "
            "or leave it out for the defaults",
            zh=f"--time-limit {limit} 不是正的秒数;请给出如 --time-limit 60,或不加此项以用默认值",
        )


def warn_leave_outside_month(roster: Any, month: str, *, lang: str, source: str) -> None:
    """Print a warning naming each officer whose leave dates in the roster fall outside the planned month:
    such dates change nothing, and usually mean a typo in the roster or the wrong --month."""
    for officer, dates in zip(roster["officer_id"], roster["unavailable"], strict=True):
        outside = [d.isoformat() for d in dates if d.strftime("%Y-%m") != month]
        if not outside:
            continue
        shown = ", ".join(outside[:10]) + (f" (+{len(outside) - 10})" if len(outside) > 10 else "")
        if lang == "zh":
            text = f"警告: {source} 中警员 {officer} 的不可用日期 {shown} 不在规划月份 {month} 内, 未起作用; 请核对名册或 --month"
        else:
            text = (
                f"warning: {source}: officer {officer} is unavailable on {shown}, outside the planned month "
                f"{month}: those dates change nothing; check the roster or --month"
            )
        print(f"planner: {text}", file=sys.stderr)


def check_bench_data(args: argparse.Namespace) -> None:
    """Refuse ``planner bench`` at once, saying where it looks, when the data it reads is not there."""
    from planner.bench.common import shared_dir

    check_seed_and_time_limit(args)
    shared = shared_dir()
    if args.family == "districts":
        return
    if args.family == "matrix":
        raw = shared / "data" / "raw"
        needed = [raw / "osm-andorra-2021", raw / "osm-liechtenstein-2024"]
        if not all(d.is_dir() for d in needed):
            raise ValidationError(
                f"bench matrix reads the real road networks in {raw} (osm-andorra-2021, osm-liechtenstein-2024), "
                "which are not there: set "
                "PLANNER_SHARED to the project's shared folder (the one holding data/raw/osm-andorra-2021), "
                "or run it from a source checkout that has shared/ beside it",
                zh=f"bench matrix 读取 {raw} 中的真实路网(osm-andorra-2021、osm-liechtenstein-2024), 但其不存在: 请把 PLANNER_SHARED 设为项目的"
                "共享数据目录(含 data/raw/osm-andorra-2021), 或在旁边有 shared/ 的源码目录中运行",
            )
    elif args.instances is None:
        raise ValidationError(
            f"bench {args.family} needs --instances DIR: the folder searched recursively for the "
            f"instances, e.g. {shared / 'benchmarks' / args.family} (PLANNER_SHARED names the shared folder)",
            zh=f"bench {args.family} 需要 --instances 目录: 递归查找算例的文件夹, 例如 "
            f"{shared / 'benchmarks' / args.family}(PLANNER_SHARED 指定共享数据目录)",
        )


def demo_inputs() -> tuple[str, ...]:
    """The demo's input files."""
    return (str(DEMO_DIR / "villages.gpkg"), str(DEMO_DIR / "roads.osm.bz2"))


def read_village_layer(args: argparse.Namespace, *, keep: Any = ()) -> gpd.GeoDataFrame:
    """The village layer named by a command's village options (``--villages``, ``--id-col``, ... ``--crs``)."""
    from planner.io import read_villages

    return read_villages(
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
        keep=keep,
    )


def run_plan_command(args: argparse.Namespace) -> int:
    """``planner plan``."""
    from planner.io import read_current, read_office_sites, read_roster
    from planner.io.roads import read_roads

    rules = load_rules(args.config)
    month = check_month(args.month or default_month())
    villages = read_village_layer(args, keep="all")
    say_detected(villages.attrs.get("detected", {}), args.lang)
    current = read_current(args.current, villages) if args.current else None
    roster = read_roster(args.officers) if args.officers else None
    if roster is not None:
        warn_leave_outside_month(roster, month, lang=args.lang, source=f"officer roster {args.officers}")
        roster = name_roster_homes(name_roster_offices(roster, villages), villages)
        check_roster_offices(roster, villages.index, source=f"officer roster {args.officers}")
    candidates = read_office_sites(args.offices, villages) if args.offices else None
    stations = None
    if getattr(args, "stations", None):
        from planner.io.stations import read_stations
        from planner.stations import check_townships

        stations = read_stations(args.stations, crs=villages.crs)
        check_townships(stations, villages, source=str(args.stations))  # before any solving
    locked = locked_villages(args.lock, current) if args.lock else None
    official = _official_county(args)
    if official is not None:
        from planner.nbs import fill_townships

        villages = fill_townships(villages, official)
    # "--roads none": no road data; every travel time is estimated (planner.network.estimate) and flagged
    roads = (
        None
        if str(args.roads).strip().lower() == "none"
        else read_roads(args.roads, speed_col=args.speed_col, oneway_col=args.oneway_col)
    )
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
        county=official,
        stations=stations,
        stations_source=str(args.stations) if stations is not None else "townships",
    )


def _official_county(args: argparse.Namespace) -> Any:
    """The official list of ``--county`` (NBS 2023), or None when not given; an unknown county is an input error."""
    if not getattr(args, "county", None):
        return None
    from planner.io.nbs import find_county

    return find_county(args.county)


def say_detected(found: dict[str, Any], lang: str) -> None:
    """What read_villages found (columns, encoding, CRS, the user's own columns kept), in the user's language;
    a GCJ-02 input's note is said once, after the plan, from summary.json (:func:`say_data_notes`)."""
    if not found:
        return
    none = "无" if lang == "zh" else "none"
    col = {k: found.get(k) or none for k in ("id", "name", "township", "population")}
    kept = found.get("kept") or []
    enc = found.get("encoding") or ("自动识别" if lang == "zh" else "detected")
    if lang == "zh":
        text = (
            f"读取 {found.get('file')}: 村代码字段 {col['id']}, 村名 {col['name']}, 乡镇 {col['township']}, "
            f"人口 {col['population']}; 编码 {enc}; 坐标系 {found.get('crs')} ({found.get('crs_name')})"
            + (f"; 保留用户字段 {'、'.join(kept)}" if kept else "")
        )
    else:
        text = (
            f"read {found.get('file')}: village id column {col['id']}, name {col['name']}, township "
            f"{col['township']}, population {col['population']}; encoding {enc}; CRS {found.get('crs')} "
            f"({found.get('crs_name')})" + (f"; own columns kept: {', '.join(kept)}" if kept else "")
        )
    print(text, file=sys.stderr)


def cache_dir(args: argparse.Namespace, what: str = "travel_times") -> Path:
    """Where ``what`` is cached for this command: ``--cache-dir``, else planner.io.cache's default location."""
    from planner.io.cache import cache_root

    return cache_root(getattr(args, "cache_dir", None)) / what


@contextmanager
def _plan_executor(workers: int) -> Iterator[Any]:
    """``--workers N``: a local Dask cluster's executor for the district and month solves; None for 1 (no cluster)."""
    if workers <= 1:
        yield None
        return
    from planner.many import dask_client

    with dask_client(workers=workers) as client:
        yield client.get_executor()


def _plan_and_write(
    villages: gpd.GeoDataFrame, roads: Any, *, args: argparse.Namespace, **kwargs: Any
) -> int:
    on_stage, stop = _progress(args.lang)
    clock = StageClock(on_stage=on_stage)
    out = Path(args.out)
    try:
        with _plan_executor(getattr(args, "workers", 1)) as executor:
            result = make_plan(
                villages,
                roads,
                clock=clock,
                cache_dir=cache_dir(args),
                seed=args.seed,
                time_limit=args.time_limit,
                executor=executor,
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
    _say_result(result, out, args.lang, verbose=bool(getattr(args, "verbose", False)))
    return result.exit_code


def run_demo(args: argparse.Namespace) -> int:
    """``planner demo``: the whole pipeline on the demo region shipped with the package (planner/demo)."""
    from planner.io import read_villages
    from planner.io.roads import read_roads

    villages_path, roads_path = DEMO_DIR / "villages.gpkg", DEMO_DIR / "roads.osm.bz2"
    for p in (villages_path, roads_path):
        if not p.is_file():
            raise ValidationError(
                f"{p}: the demo data is missing from the installed package; reinstall planner "
                "(pip install --force-reinstall planner) or restore planner/demo/ from the repository.",
                zh=f"{p}: 安装包中缺少示例数据; 请重新安装 planner, 或从代码仓库恢复 planner/demo/。",
            )
    # read as `planner plan` reads a layer: the own columns and the CRS are kept
    villages = read_villages(villages_path, keep="all")
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


def run_check(args: argparse.Namespace) -> int:
    """``planner check``: prints every violation (village names beside ids); exit 1 when any hard rule is
    broken. With ``--write`` the edited plan is regenerated in place (layers, summary, report, map, sheets)."""
    from planner.check import edited_plan, named
    from planner.io.plan_files import read_plan_dir
    from planner.outputs.lookups import village_names

    path = Path(args.plan)
    plan_dir = path.parent if path.suffix == ".gpkg" else path
    plan = read_plan_dir(plan_dir)
    zh = args.lang == "zh"
    source = plan.schedule.attrs.get("source", "")
    if source:
        print(f"排班表读自 {source}" if zh else f"schedule read from {source}", file=sys.stderr)
    rules = load_rules(args.config) if args.config else rules_of(plan.summary)
    times = times_from_npz(plan_dir / TIMES_FILE) if (plan_dir / TIMES_FILE).is_file() else None
    if times is None:
        log.warning(
            "%s has no %s: travel-time rules are checked with the layer's travel_min_to_office",
            plan_dir,
            TIMES_FILE,
        )
    roster = None
    if getattr(args, "officers", None):
        from planner.io import read_roster

        roster = read_roster(args.officers)
    violations = check_plan(
        plan, rules=rules, times=times, roster=roster, roster_source=f"officer roster {args.officers}"
    )
    # grouped by cause, as the report shows them; -v adds every break, one tab-separated line each, for scripts
    say_breaks([v.to_dict() for v in violations], plan, lang=args.lang, verbose=args.verbose, file=sys.stdout)
    if args.verbose:
        names = village_names(plan.villages)
        for v in violations:
            kind = ("硬" if v.hard else "软") if zh else ("hard" if v.hard else "soft")
            subject = named(str(v.subject), names)
            print(
                f"{v.rule}\t{kind}\t{subject}\t{named((v.detail_zh if zh else v.detail) or v.detail, names)}"
            )
    hard = [v for v in violations if v.hard]
    nbs = _check_county(plan, args, rules=rules)
    if getattr(args, "write", False):
        edited = edited_plan(plan, rules=rules, times=times, violations=violations)
        if nbs is not None:
            edited = dataclasses.replace(edited, summary={**edited.summary, "nbs": nbs})
        # the same files as `plan` wrote: the Shapefile export and the base map as recorded in summary.json
        exports = plan.summary.get("exports") or {}
        basemap = exports.get("basemap") or "none"
        write_outputs(
            PlanResult(plan=edited, hard_breaks=len(hard), times=times),
            plan_dir,
            lang=args.lang,
            overwrite=True,
            basemap="none" if basemap == "tianditu" else basemap,  # the tile key is not kept
            shapefile_encoding=exports.get("shapefile_encoding") or shapefile_encoding_of(plan_dir),
        )
        print(f"已重新生成 {plan_dir}" if zh else f"regenerated {plan_dir}", file=sys.stderr)
    print(check_verdict(len(hard), len(violations) - len(hard), args.lang), file=sys.stderr)
    return 1 if hard else 0


def check_verdict(n_hard: int, n_soft: int, lang: str) -> str:
    """``planner check``'s last line: the hard breaks, else that every hard rule is met when goals are missed
    (a plan with goals unmet does not meet "every rule"), else that every rule is met."""
    if n_hard:
        return t("check.verdict.hard", lang, n=n_hard)
    return t("check.verdict.hard_met" if n_soft else "check.verdict.all_met", lang, n=n_soft)


def _check_county(plan: Any, args: argparse.Namespace, *, rules: Any) -> dict[str, Any] | None:
    """``check --county``: the plan's villages against the county's official list, printed as the report words
    it; summary.json's ``nbs`` (None without --county)."""
    official = _official_county(args)
    if official is None:
        return None
    from planner.nbs import compare_official

    villages = plan.villages.set_index(plan.villages["village_id"].astype(str))
    nbs = compare_official(villages, official).summary()
    say_data_notes(
        {"nbs": nbs}, lang=args.lang, verbose=args.verbose, file=sys.stdout, rules=rules_of(plan.summary)
    )
    return nbs


def run_prepare_osm(args: argparse.Namespace) -> int:
    """CLI handler of ``planner prepare-osm``: build the village layer and write it to ``args.out``.

    Returns
    -------
    int
        0 on success (errors are raised as :class:`planner.errors.PlannerError`).
    """
    from planner.io.files import write_layer

    types = tuple(t.strip() for t in str(args.place_types).split(",") if t.strip())
    villages = prepare_osm(
        args.osm,
        place_types=types,
        admin_level=args.admin_level,
        township_level=args.township_level,
        total_population=args.total_population,
        persons_per_building=args.persons_per_building,
        lang=args.lang,
    )
    write_layer(villages, args.out, layer="villages")
    n_tag = int((villages["population_source"] == "tag").sum())
    n_model = len(villages) - n_tag
    total = int(villages["population"].sum())
    towns = villages["township"].nunique()
    n_out = len(villages.attrs.get("outside_region", []))
    region = villages.attrs.get("region", "?")
    zh = (
        f"已写出 {args.out}: {region} 内 {len(villages)} 个村, {towns} 个乡镇, 总人口 {total:,}"
        f"(标签 {n_tag} 个, 估算 {n_model} 个); 区域外居民点 {n_out} 个未计入"
    )
    en = (
        f"wrote {args.out}: {len(villages)} villages in {region}, {towns} townships, population {total:,} "
        f"({n_tag} tagged, {n_model} modelled); {n_out} settlements outside the region not included"
    )
    print(f"{zh} / {en}" if getattr(args, "lang", "zh") == "zh" else f"{en} / {zh}")
    return 0

"""``planner province`` and ``planner sweep``: many plans at once on Dask distributed (planner.many)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from planner.errors import ValidationError
from planner.io.files import atomic_output_dir
from planner.many import (
    PROVINCE_JSON,
    SWEEP_CSV,
    CountyOutcome,
    SweepRow,
    combinations,
    dask_client,
    fewest_officers,
    parse_vary,
    plan_province,
    run_sweep,
    split_counties,
    sweep_table,
)
from planner.pipeline import check_month, default_month
from planner.rules import load_rules
from planner.texts import t


def add_many_commands(sub: Any, add_common: Any, add_village_options: Any) -> None:
    """The parsers of ``province`` and ``sweep`` (called by planner.cli.parser)."""
    p = sub.add_parser(
        "province",
        help="every county of a province, each a task on Dask distributed / 全省(市)各县并行规划",
    )
    p.add_argument(
        "--villages", required=True, help="village layer of the whole province, with a county column"
    )
    p.add_argument("--county-col", required=True, help="column naming each village's county (code or name)")
    p.add_argument(
        "--roads",
        required=True,
        action="append",
        help="road file (repeat for several); each county takes what reaches it",
    )
    p.add_argument(
        "--out", required=True, help="province directory: DIR/<county>/, province.json, index.html"
    )
    _add_run_options(p)
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="plan every county again, even those finished by an earlier run",
    )
    add_village_options(p)
    add_common(p)

    p = sub.add_parser("sweep", help="plan every combination of rule values / 规则取值组合比较")
    p.add_argument("--villages", required=True, help="village layer")
    p.add_argument("--roads", required=True, help="road file")
    p.add_argument("--out", required=True, help="sweep directory: sweep.csv, sweep.html")
    p.add_argument(
        "--vary",
        required=True,
        action="append",
        metavar="KEY=V1,V2,...",
        help="a rules key and its values, e.g. districts.max_villages=6,7,8 (repeat for more keys)",
    )
    p.add_argument(
        "--coverage-min", type=int, default=30, help="the question's minutes (default %(default)s)"
    )
    p.add_argument(
        "--coverage-share", type=float, default=95.0, help="the question's share %% (default %(default)s)"
    )
    _add_run_options(p)
    p.add_argument("--overwrite", action="store_true", help="replace an existing sweep in --out")
    add_village_options(p)
    add_common(p)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="rules file (TOML) / 规则文件")
    p.add_argument("--month", help="YYYY-MM of the patrol plans (default: next month)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-limit", type=float, default=None, help="as for planner plan")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--workers", type=int, default=None, help="local Dask workers (default: the number of cores)"
    )
    g.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")


def _workers(args: argparse.Namespace) -> int | None:
    if args.scheduler:
        return None
    import os

    return args.workers or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def _read(args: argparse.Namespace) -> Any:
    """The village layer with every column of the bureau's own (keep="all", as `planner plan` reads it)."""
    from planner.cli.commands import read_village_layer, say_detected

    villages = read_village_layer(args, keep="all")
    say_detected(villages.attrs.get("detected", {}), args.lang)
    return villages


def _say_county(c: CountyOutcome, lang: str) -> None:
    status = t("many.status." + c.status, lang) + (
        f" ({t('many.status.resumed', lang)})" if c.resumed else ""
    )
    if c.status == "failed":
        print(f"  {c.county}: {status}: {c.reason_zh if lang == 'zh' else c.reason}", file=sys.stderr)
        return
    cov = c.coverage_pct.get("30", "-")
    if lang == "zh":
        print(
            f"  {c.county}: {status}, {c.villages} 个村, {c.districts} 个警务区, {c.officers} 名民警, "
            f"30 分钟覆盖 {cov}%, {c.seconds:.0f} 秒",
            file=sys.stderr,
        )
    else:
        print(
            f"  {c.county}: {status}, {c.villages} villages, {c.districts} districts, {c.officers} officers, "
            f"{cov}% within 30 min, {c.seconds:.0f} s",
            file=sys.stderr,
        )


def run_province(args: argparse.Namespace) -> int:
    """``planner province``: exit 0 when every county is planned within the rules, 1 when a county failed or
    breaks a hard rule (each listed), 2 on bad input."""
    from planner.io.textfiles import write_text_files
    from planner.outputs.many import province_html, province_map_html

    rules = load_rules(args.config)
    month = check_month(args.month or default_month())
    for road in args.roads:
        if not Path(road).is_file():
            raise ValidationError(
                f"--roads {road}: file not found; give the road files that cover the province.",
                zh=f"--roads {road}: 找不到文件; 请给出覆盖全省的道路文件。",
            )
    # every column of the bureau's own comes along, the county's included, and each county's layers are written
    # in the input's CRS, as `planner plan` writes them
    villages = _read(args)
    if args.county_col not in villages.columns:
        raise ValidationError(
            f"{args.villages}: no column '{args.county_col}' (--county-col); its own columns are: "
            f"{', '.join(villages.attrs.get('detected', {}).get('kept') or []) or 'none'}",
            zh=f"{args.villages}:没有字段 '{args.county_col}'(--county-col);其余字段:"
            f"{'、'.join(villages.attrs.get('detected', {}).get('kept') or []) or '无'}",
        )
    counties = split_counties(villages, villages[args.county_col])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from planner.cli.commands import cache_dir

    print(
        f"{len(counties)} 个县, {len(villages)} 个村"
        if args.lang == "zh"
        else f"{len(counties)} counties, {len(villages)} villages",
        file=sys.stderr,
    )
    with dask_client(workers=_workers(args), scheduler=args.scheduler) as client:
        result = plan_province(
            counties,
            [str(r) for r in args.roads],
            out,
            client=client,
            rules=rules,
            month=month,
            seed=args.seed,
            time_limit=args.time_limit,
            lang=args.lang,
            overwrite=args.overwrite,
            cache_dir=cache_dir(args),
            on_county=lambda c: _say_county(c, args.lang),
        )
    summary = result.summary()
    outlines = _outlines(counties)
    write_text_files(
        out,
        {
            PROVINCE_JSON: json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
            "index.html": province_html(
                summary, result.counties, lang=args.lang, map_file="province_map.html"
            ),
            "province_map.html": province_map_html(outlines, result.counties, lang=args.lang),
        },
    )
    print(
        f"已写出 {out}: {summary['planned']}/{summary['counties']} 个县已规划, {summary['failed']} 个失败, "
        f"{summary['officers']} 名民警, {summary['seconds']:.0f} 秒"
        if args.lang == "zh"
        else f"wrote {out}: {summary['planned']} of {summary['counties']} counties planned, {summary['failed']} "
        f"failed, {summary['officers']} officers, {summary['seconds']:.0f} s"
    )
    bad = result.failed or [c for c in result.counties if c.hard_breaks]
    return 1 if bad else 0


def _outlines(counties: dict[str, Any]) -> Any:
    """Each county's outline for the province map: the union of its villages, simplified, in WGS-84."""
    import geopandas as gpd

    rows = []
    for name, v in counties.items():
        shape = v.union_all()
        shape = shape.convex_hull if shape.geom_type in ("Point", "MultiPoint") else shape
        rows.append({"county": name, "geometry": shape.simplify(200.0)})
        rows[-1]["geometry"] = gpd.GeoSeries([rows[-1]["geometry"]], crs=v.crs).to_crs(4326).iloc[0]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def run_sweep_command(args: argparse.Namespace) -> int:
    """``planner sweep``: every combination planned; exit 1 when any combination failed."""
    from planner.cli.commands import cache_dir
    from planner.io.roads import read_roads
    from planner.io.textfiles import write_text_files
    from planner.outputs.many import sweep_html

    rules = load_rules(args.config)
    month = check_month(args.month or default_month())
    vary = parse_vary(args.vary)
    combos = combinations(rules.to_dict(), vary)
    if not 0 < args.coverage_share <= 100:
        raise ValidationError(
            f"--coverage-share {args.coverage_share}: give a share between 0 and 100.",
            zh=f"--coverage-share {args.coverage_share}: 请给出 0 到 100 之间的比例。",
        )
    villages = _read(args)
    roads = read_roads(args.roads)
    out = Path(args.out)
    with atomic_output_dir(out, overwrite=args.overwrite) as tmp:
        print(
            f"{len(combos)} 种组合" if args.lang == "zh" else f"{len(combos)} combinations", file=sys.stderr
        )

        def say(row: SweepRow) -> None:
            what = ", ".join(f"{k}={v}" for k, v in row.values.items())
            print(
                f"  {what}: {t('many.status.' + row.status, args.lang)}, {row.officers} "
                f"{'名民警' if args.lang == 'zh' else 'officers'}, {row.coverage_30}%",
                file=sys.stderr,
            )

        with dask_client(workers=_workers(args), scheduler=args.scheduler) as client:
            rows = run_sweep(
                villages,
                roads,
                combos,
                client=client,
                month=month,
                seed=args.seed,
                time_limit=args.time_limit,
                cache_dir=cache_dir(args),
                on_row=say,
            )
        best = fewest_officers(rows, minutes=args.coverage_min, share=args.coverage_share)
        write_text_files(
            tmp,
            {
                SWEEP_CSV: "\ufeff" + sweep_table(rows).to_csv(index=False),  # a BOM: Excel reads it as UTF-8
                "sweep.html": sweep_html(
                    rows, best, lang=args.lang, minutes=args.coverage_min, share=args.coverage_share
                ),
            },
        )
    question = t(
        "many.sweep.question", args.lang, share=f"{args.coverage_share:g}", minutes=args.coverage_min
    )
    if best is not None:
        what = ", ".join(f"{k}={v}" for k, v in best.values.items())
        answer = t(
            "many.sweep.answer",
            args.lang,
            officers=best.officers,
            values=what,
            minutes=args.coverage_min,
            coverage=getattr(best, f"coverage_{args.coverage_min}", "-"),
        )
    else:
        answer = t("many.sweep.no_answer", args.lang)
    print(f"{'已写出' if args.lang == 'zh' else 'wrote'} {out}: {question} {answer}")
    return 1 if any(r.status == "failed" for r in rows) else 0

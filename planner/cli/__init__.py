"""The `planner` command: subcommands, progress, exit codes (INTERFACE.md).

Exit codes: 0 done; 1 a hard rule is broken or the rules cannot all be met; 2 the input is wrong; 3 a solver failed.
The library raises :mod:`planner.errors`; only this module turns them into messages and exit codes.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from planner.cli.parser import build_parser
from planner.errors import PlannerError

log = logging.getLogger("planner")


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in ("demo", "plan"):
        from planner.cli.commands import check_options, demo_inputs, run_demo, run_plan_command
        from planner.io.files import PLAN_MARKER, check_output_dir, output_lock

        check_options(args)
        # refuse at once, not after the solvers ran: the plan would be thrown away at the end. The demo
        # replaces its own output directory (a sample, re-run at will), but only a plan directory.
        demo = args.command == "demo"
        overwrite = True if demo else args.overwrite
        inputs = demo_inputs() if demo else _input_paths(args)
        check_output_dir(args.out, overwrite=overwrite, marker=PLAN_MARKER, inputs=inputs, writable=True)
        with output_lock(args.out):
            return run_demo(args) if demo else run_plan_command(args)
    if args.command == "prepare-osm":
        from planner.cli.commands import run_prepare_osm

        return run_prepare_osm(args)
    if args.command == "check":
        from planner.cli.commands import run_check

        return run_check(args)
    if args.command == "province":
        from planner.cli.many import run_province

        return run_province(args)
    if args.command == "fetch-roads":
        from planner.cli.fetch import run_fetch_roads

        return run_fetch_roads(args)
    if args.command == "sweep":
        from planner.cli.many import run_sweep_command

        return run_sweep_command(args)
    if args.command == "bench":
        from planner.bench import run_bench
        from planner.cli.commands import check_bench_data

        check_bench_data(args)
        return run_bench(args)
    raise AssertionError(args.command)


def _input_paths(args: argparse.Namespace) -> tuple[str, ...]:
    """Every file ``planner plan`` reads: --out must neither be one nor hold one."""
    names = ("villages", "roads", "config", "offices", "officers", "current", "lock")
    return tuple(str(v) for v in (getattr(args, n, None) for n in names) if v)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return _dispatch(args)
    except PlannerError as exc:
        print(f"planner: {exc.text(args.lang)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("planner: interrupted; nothing was written / 已中断, 未写入任何结果", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last guard: users never see a traceback unless they ask
        if args.debug:
            traceback.print_exc()
        where = Path(traceback.extract_tb(exc.__traceback__)[-1].filename).name if exc.__traceback__ else "?"
        print(
            f"planner: internal error {type(exc).__name__}: {exc} (in {where}). This is a bug: please report it "
            "with the command you ran; --debug shows the details. / 内部错误, 请报告所运行的命令。",
            file=sys.stderr,
        )
        return 3

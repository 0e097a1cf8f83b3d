"""``planner check PLAN``: re-check a plan directory against the rules, e.g. after hand edits in QGIS.

The plan directory carries its travel-time matrix (travel_times.npz), so districts, offices and the schedule are
re-checked with road travel times even when villages or offices were moved by hand.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import ValidationError
from planner.network import TravelTimes
from planner.plan import PlanData
from planner.rules import Rules, load_rules

log = logging.getLogger(__name__)

TIMES_FILE = "travel_times.npz"


def times_to_npz(times: TravelTimes) -> bytes:
    """The matrix as compressed npz bytes (float32 minutes are enough for rule checks; ids as text)."""
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        origins=np.asarray(times.origins.astype(str), dtype=np.str_),
        destinations=np.asarray(times.destinations.astype(str), dtype=np.str_),
        seconds=times.seconds.astype(np.float32),
    )
    return buf.getvalue()


def times_from_npz(path: Path) -> TravelTimes:
    """Read back :func:`times_to_npz`."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return TravelTimes(
                pd.Index(z["origins"].astype(str)),
                pd.Index(z["destinations"].astype(str)),
                z["seconds"].astype(np.float64),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise ValidationError(
            f"{path}: unreadable travel-time matrix ({exc}); re-run planner plan to rebuild it.",
            zh=f"{path}: 行车时间矩阵无法读取 ({exc}); 请重新运行 planner plan。",
        ) from None


def check_plan(plan: PlanData, *, rules: Rules, times: TravelTimes | None) -> list[Any]:
    """Every rule on a plan: districts and offices, then the schedule when there is one."""
    from planner.districts import check_districts
    from planner.io import metric_crs

    villages = plan.villages.set_index("village_id")
    villages.index = villages.index.astype(str)
    # the plan's layers are WGS-84; neighbour tests measure shared borders in metres
    villages = villages.to_crs(metric_crs(villages))
    violations = list(check_districts(villages, times, offices=plan.offices, rules=rules))
    if len(plan.schedule) and times is not None:
        from planner.patrol.month import check_schedule
        from planner.pipeline import patrol_assignment

        assignment = patrol_assignment(villages, plan.offices, plan.districts)
        month = str(plan.summary.get("month") or str(plan.schedule["date"].min())[:7])
        violations += list(
            check_schedule(
                plan.schedule, assignment, times, rules=rules.patrol, month=month, roster=_roster_of(plan)
            )
        )
    return violations


def run_check(args: argparse.Namespace) -> int:
    """``planner check``: prints every violation; exit 1 when any hard rule is broken."""
    from planner.io.plan_files import read_plan_dir

    path = Path(args.plan)
    plan_dir = path.parent if path.suffix == ".gpkg" else path
    plan = read_plan_dir(plan_dir)
    rules = load_rules(args.config) if args.config else _rules_of(plan)
    times = times_from_npz(plan_dir / TIMES_FILE) if (plan_dir / TIMES_FILE).is_file() else None
    if times is None:
        log.warning(
            "%s has no %s: travel-time rules are checked with the layer's travel_min_to_office",
            plan_dir,
            TIMES_FILE,
        )
    violations = check_plan(plan, rules=rules, times=times)
    zh = args.lang == "zh"
    for v in violations:
        kind = ("硬" if v.hard else "软") if zh else ("hard" if v.hard else "soft")
        print(f"{v.rule}\t{kind}\t{v.subject}\t{(v.detail_zh if zh else v.detail) or v.detail}")
    hard = [v for v in violations if v.hard]
    if hard:
        print(f"{len(hard)} 项违反硬性规则" if zh else f"{len(hard)} hard rule break(s)", file=sys.stderr)
        return 1
    print("方案符合全部规则" if zh else "the plan meets every rule", file=sys.stderr)
    return 0


def _roster_of(plan: PlanData) -> pd.DataFrame | None:
    """The roster the plan was made with (summary.json), leave dates included, so office-day weeks are
    re-checked against the days each officer could work."""
    import datetime as dt

    rows = plan.summary.get("roster")
    if not isinstance(rows, list) or not rows:
        return None
    return pd.DataFrame(
        {
            "officer_id": [str(r["officer_id"]) for r in rows],
            "office": [str(r["office"]) for r in rows],
            "kind": [str(r.get("kind", "linked")) for r in rows],
            "village_id": [str(r.get("village_id") or "") or None for r in rows],
            "unavailable": [tuple(dt.date.fromisoformat(d) for d in r.get("unavailable", [])) for r in rows],
        }
    )


def _rules_of(plan: PlanData) -> Rules:
    """The rules the plan was made with (summary.json), so a check without --config checks the same rules."""
    data = plan.summary.get("rules")
    if not isinstance(data, dict):
        return load_rules(None)
    return Rules.from_dict(data, source="summary.json rules")

"""Every month of a region (issue 11's acceptance): plan each month, then measure the plan against the issue's
"Done when" from its outputs alone (schedule.csv, summary.json, officers.csv, plan.gpkg) and `planner check`.

Usage::

    python benchmarks/months.py --region demo --months 2026-01..2027-12 --out /tmp/months --json demo.json
    python benchmarks/months.py --region li --villages li.gpkg --roads liechtenstein-latest.osm.pbf \
        --months 2026-01..2027-12 --out /tmp/months --json li.json
    python benchmarks/months.py --measure-only PLAN_DIR [PLAN_DIR ...]   # measure existing plans

Per month: the plan's exit code; its hard breaks by rule; whether every hard break is explained by an arithmetic
officer shortfall (an R2 break: a district with more residents than its officers may serve; or a break of R4-R8 in
an office that summary.json's ``shortfall`` names); the schedule rows on a statutory holiday or day in lieu (the
``holidays`` package's China calendar) and on a weekend day that is no 调休 working day; R8 weekly-visit breaks in a
week with fewer than ``min_week_days`` working days inside the month (a week that should have joined its
neighbour); officer-days whose span, first row to last (the night trip included), is over ``shift_hours`` (plus
``night_overtime_hours`` on a night-visit day); officer-days under half a shift in an office that drops a visit
(as benchmarks/idle_days.py), and the soft C4 days ``planner check`` names; whether ``planner check`` exits as the
plan did and reports the same hard breaks.

The districts and offices do not depend on the month, but the CLI has no way to reuse a plan's districts without
drawing them again (``--current`` compares with them and ``--lock`` still runs the district search), so every
month is a whole ``planner plan``. The calendar measured here is the package's own, computed independently of
the planner's calendar module.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import holidays
import pandas as pd

DEMO = Path(__file__).resolve().parent.parent / "planner" / "demo"
PATROL_RULES = {"R4", "R5", "R6", "R7", "R8"}


def month_list(spec: str) -> list[str]:
    """``2026-01..2027-12`` or ``2026-01,2026-10``: the months."""
    out: list[str] = []
    for part in spec.split(","):
        if ".." in part:
            a, b = part.split("..")
            y, m = map(int, a.split("-"))
            while f"{y:04d}-{m:02d}" <= b:
                out.append(f"{y:04d}-{m:02d}")
                y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        elif part:
            out.append(part)
    return out


def _minutes(hhmm: str) -> int:
    h, m = str(hhmm).split(":")[:2]
    return int(h) * 60 + int(m)


def china_calendar(month: str) -> tuple[dict[dt.date, str], set[dt.date], list[dt.date]]:
    """Holidays (with days off in lieu), 调休 working days and working days of the month, from the package."""
    y, m = map(int, month.split("-"))
    cal = holidays.country_holidays("CN", years=[y - 1, y, y + 1])
    off = {d: str(n) for d, n in cal.items()}
    extra = set(getattr(cal, "weekend_workdays", set()))
    days = [dt.date(y, m, 1) + dt.timedelta(days=i) for i in range(31)]
    days = [d for d in days if d.month == m]
    working = [d for d in days if d not in off and (d.weekday() < 5 or d in extra)]
    return off, extra, working


def _week_days(week: str, working: list[dt.date]) -> int:
    """Working days of the month in a named week (``2027-W21`` or ``2027-W21+W22``)."""
    y = week.split("-W")[0]
    isos = {f"{y}-W{int(w):02d}" for w in week.split("-W", 1)[1].split("+W")}
    return sum(1 for d in working if f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" in isos)


def _check_hard(stdout: str) -> Counter[tuple[str, str]]:
    """The hard breaks `planner check -v` prints, one a line (rule TAB hard TAB subject TAB detail)."""
    got: Counter[tuple[str, str]] = Counter()
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1] == "hard":
            got[(parts[0], re.sub(r" \(.*\)$", "", parts[2]))] += 1
    return got


def _soft_count(stdout: str, rule: str) -> int:
    return sum(1 for line in stdout.splitlines() if line.startswith(f"{rule}\tsoft\t"))


def _day_spans(s: pd.DataFrame) -> pd.DataFrame:
    """Per officer-day: first start, last end (minutes), work minutes, whether a night visit."""
    s = s.copy()
    s["a"] = s["start"].map(_minutes)
    s["b"] = s["end"].map(_minutes)
    s.loc[s["b"] < s["a"], "b"] += 24 * 60  # a row past midnight
    s["dur"] = s["b"] - s["a"]
    s["night"] = s["activity"] == "night_visit"
    return s.groupby(["officer_id", "date"]).agg(
        a=("a", "min"), b=("b", "max"), dur=("dur", "sum"), night=("night", "any")
    )


def measure(
    plan_dir: Path, *, plan_rc: int | None, check: subprocess.CompletedProcess[str] | None
) -> dict[str, Any]:
    """The acceptance figures of one plan directory."""
    summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    month = str(summary["month"])
    rules = summary.get("rules", {})
    patrol = rules.get("patrol", {})
    min_week = int(rules.get("calendar", {}).get("min_week_days", 3))
    shift = float(patrol.get("shift_hours", 8.0)) * 60
    overtime = float(patrol.get("night_overtime_hours", 0.0)) * 60
    s = pd.read_csv(plan_dir / "schedule.csv", dtype=str, encoding="utf-8-sig").fillna("")
    roster = pd.read_csv(plan_dir / "officers.csv", dtype=str, encoding="utf-8-sig").fillna("")
    villages = gpd.read_file(plan_dir / "plan.gpkg", layer="villages", ignore_geometry=True)
    office_of = dict(zip(roster["officer_id"], roster["office"], strict=True))
    office_of.update(
        dict(zip(villages["village_id"].astype(str), villages["office_id"].astype(str), strict=True))
    )

    hard = [v for v in summary.get("violations", []) if v.get("hard")]
    by_rule = Counter(v["rule"] for v in hard)
    short_offices = {r["office_id"] for r in summary.get("shortfall", [])}

    def explained(v: dict[str, Any]) -> bool:
        if v["rule"] == "R2":
            return True
        return v["rule"] in PATROL_RULES and office_of.get(str(v["subject"]), "?") in short_offices

    unexplained = [f"{v['rule']} {v['subject']}" for v in hard if not explained(v)]

    off, extra, working = china_calendar(month)
    dates = pd.to_datetime(s["date"]).dt.date
    on_holiday = sorted({f"{d} {off[d]}" for d in dates if d in off})
    on_weekend = sorted({str(d) for d in dates if d.weekday() >= 5 and d not in extra and d not in off})

    short_week_breaks = []
    for v in hard:
        m = re.search(r"no visit in week (\S+)", str(v.get("detail", "")))
        if v["rule"] == "R8" and m and _week_days(m.group(1), working) < min_week:
            short_week_breaks.append(f"{v['subject']} {m.group(1)}")

    days = _day_spans(s)
    limit = shift + days["night"] * overtime
    over = days[(days["b"] - days["a"]) > limit]
    over_shift = [f"{o} {d} {int(r.b - r.a)} min" for (o, d), r in over.iterrows()]

    dropped = summary.get("dropped_visits", [])
    dropping = {office_of.get(str(d.get("officer_id", "")), "") for d in dropped} - {""}
    short = days[days["dur"] < shift / 2]
    idle = [f"{o} {d}" for (o, d) in short.index if office_of.get(o) in dropping]

    row: dict[str, Any] = {
        "plan": str(plan_dir),
        "month": month,
        "exit": plan_rc,
        "hard": sum(by_rule.values()),
        "hard_by_rule": dict(sorted(by_rule.items())),
        "shortfall_offices": sorted(short_offices),
        "all_hard_explained": not unexplained,
        "unexplained": unexplained,
        "work_on_holiday": on_holiday,
        "work_on_weekend_off": on_weekend,
        "short_week_r8_breaks": short_week_breaks,
        "officer_days": len(days),
        "over_shift": over_shift,
        "dropped_visits": len(dropped),
        "idle_beside_drop": idle,
    }
    if check is not None:
        mine = Counter((str(v["rule"]), str(v["subject"])) for v in hard)
        theirs = _check_hard(check.stdout)
        row["check_exit"] = check.returncode
        row["check_agrees"] = mine == theirs and (
            plan_rc is None or (check.returncode == 0) == (plan_rc == 0)
        )
        row["check_only"] = sorted(f"{r} {s_}" for r, s_ in (theirs - mine))
        row["plan_only"] = sorted(f"{r} {s_}" for r, s_ in (mine - theirs))
        row["c4_soft"] = _soft_count(check.stdout, "C4")
    return row


def run_month(args: argparse.Namespace, month: str) -> dict[str, Any]:
    """Plan one month, check it, measure it."""
    out = Path(args.out) / f"{args.region}-{month}"
    villages = args.villages or str(DEMO / "villages.gpkg")
    roads = args.roads or str(DEMO / "roads.osm.bz2")
    cmd = ["planner", "plan", "--villages", villages, "--roads", roads, "--out", str(out), "--month", month]
    cmd += ["--lang", "en", "--overwrite", "--seed", str(args.seed)]
    if args.config:
        cmd += ["--config", args.config]
    t0 = time.perf_counter()
    plan = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if not (out / "summary.json").exists():
        return {
            "month": month,
            "exit": plan.returncode,
            "error": plan.stderr[-2000:],
            "seconds": round(seconds, 1),
        }
    ccmd = ["planner", "check", str(out), "--lang", "en", "-v"] + (
        ["--config", args.config] if args.config else []
    )
    check = subprocess.run(ccmd, capture_output=True, text=True, check=False)
    row = measure(out, plan_rc=plan.returncode, check=check)
    row["seconds"] = round(seconds, 1)
    return row


def _cell(v: object) -> str:
    if isinstance(v, list):
        return str(len(v))
    if isinstance(v, dict):
        return " ".join(f"{k}x{n}" for k, n in v.items()) or "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    return "-" if v is None else str(v)


COLUMNS = [
    ("month", "month"),
    ("exit", "exit"),
    ("hard_by_rule", "hard breaks"),
    ("all_hard_explained", "all by shortfall"),
    ("work_on_holiday", "rows on holiday"),
    ("short_week_r8_breaks", "R8 short week"),
    ("over_shift", "days over shift"),
    ("dropped_visits", "dropped"),
    ("idle_beside_drop", "idle beside drop"),
    ("c4_soft", "C4 days"),
    ("check_agrees", "check agrees"),
    ("seconds", "s"),
]


def table(rows: list[dict[str, Any]], region: str) -> str:
    """The rows as a Markdown table."""
    head = "| region | " + " | ".join(h for _, h in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 1)]
    for r in rows:
        lines.append(f"| {region} | " + " | ".join(_cell(r.get(k)) for k, _ in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--region", default="demo", help="a name for the plan directories and the table")
    p.add_argument("--villages", help="village layer (default: the built-in demo)")
    p.add_argument("--roads", help="roads (default: the built-in demo's)")
    p.add_argument("--months", default="2026-01..2027-12")
    p.add_argument("--out", default="/tmp/months")
    p.add_argument("--json", help="write the rows here (rewritten after every month)")
    p.add_argument("--config", help="rules file")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--measure-only", nargs="*", help="measure these plan directories (with planner check)")
    args = p.parse_args(argv)
    rows: list[dict[str, Any]] = []
    if args.measure_only:
        for d in args.measure_only:
            check = subprocess.run(
                ["planner", "check", d, "--lang", "en", "-v"], capture_output=True, text=True, check=False
            )
            rows.append(measure(Path(d), plan_rc=None, check=check))
    else:
        for month in month_list(args.months):
            rows.append(run_month(args, month))
            print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    print(table(rows, args.region))
    return 0


if __name__ == "__main__":
    sys.exit(main())

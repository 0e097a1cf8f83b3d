"""Idle days beside dropped visits (C4, issue 11): per plan directory, the officer-days under half a shift in an
office that drops a visit that month, and the dropped visits.

Usage: ``python benchmarks/idle_days.py PLAN_DIR [PLAN_DIR ...]`` prints one JSON object per plan: month,
officer_days (days with work), short_days (under shift_hours / 2 of work, night trip included), idle_beside_drop
(short days in an office that drops a visit), idle_share_pct (of officer_days), dropped_visits, offices_dropping.
The measure reads only schedule.csv, officers.csv and summary.json, so it measures old and new plans alike.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd


def _minutes(hhmm: str) -> int:
    h, m = str(hhmm).split(":")[:2]
    return int(h) * 60 + int(m)


def measure(plan_dir: Path, shift_hours: float = 8.0) -> dict[str, object]:
    """The figures of one plan directory."""
    s = pd.read_csv(plan_dir / "schedule.csv", dtype=str)
    roster = pd.read_csv(plan_dir / "officers.csv", dtype=str)
    summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    office_of = dict(zip(roster["officer_id"], roster["office"], strict=True))
    dropped = summary.get("dropped_visits", [])
    dropping = {office_of.get(d["officer_id"], "") for d in dropped if d.get("officer_id")}
    s["dur"] = [_minutes(b) - _minutes(a) for a, b in zip(s["start"], s["end"], strict=True)]
    per_day = s.groupby(["officer_id", "date"])["dur"].sum()
    short = per_day[per_day < shift_hours * 60 / 2]
    idle = [k for k in short.index if office_of.get(k[0]) in dropping]
    return {
        "plan": str(plan_dir),
        "month": summary.get("month"),
        "officer_days": len(per_day),
        "short_days": len(short),
        "idle_beside_drop": len(idle),
        "idle_share_pct": round(100.0 * len(idle) / max(len(per_day), 1), 1),
        "dropped_visits": len(dropped),
        "offices_dropping": sorted(dropping),
    }


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(json.dumps(measure(Path(arg)), ensure_ascii=False))

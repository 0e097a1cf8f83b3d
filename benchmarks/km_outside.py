"""Share of each district's patrol kilometres driven outside its own district (issue 17, C5).

Usage: python benchmarks/km_outside.py PLAN_DIR [PLAN_DIR ...]
Prints a table per plan and a JSON line; the measure is planner.districts.roads.km_outside.
"""

from __future__ import annotations

import json
import sys

from planner.districts.roads import km_outside
from planner.io.plan_files import read_plan_dir


def main(paths: list[str]) -> None:
    for path in paths:
        plan = read_plan_dir(path)
        t = km_outside(plan.routes, plan.districts, plan.offices)
        print(f"# {path}")
        print(t.sort_values("share_outside", ascending=False).round(3).to_string())
        worst = t["share_outside"].idxmax()
        print(
            json.dumps(
                {
                    "plan": path,
                    "worst": worst,
                    "worst_share": round(float(t["share_outside"].max()), 3),
                    "km_share_total": round(float(t["km_outside"].sum() / t["km"].sum()), 3),
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])

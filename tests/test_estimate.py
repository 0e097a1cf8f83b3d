"""planner.network.estimate: travel times where no road measures them (issue 14), and a plan without roads."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_run import run_planner
from corpus.make_corpus import county

from planner.model import TravelTimes
from planner.network.estimate import estimated_access, estimated_times, fill_unreachable, straight_legs
from planner.rules import NetworkRules, Rules

ROOT = Path(__file__).resolve().parents[1]


def test_an_estimate_is_the_straight_line_times_the_terrain_circuity_at_the_terrain_speed():
    """Two villages 2 km apart (centre to centre) in mountain terrain: 2 km x 2.0 at 25 km/h = 9.6 min."""
    villages, _ = county(cols=2, rows=1)
    times = estimated_times(villages, NetworkRules())
    assert times.minutes[0, 1] == pytest.approx(9.6, rel=1e-6) and times.minutes[0, 0] == 0
    flat = estimated_times(villages, Rules.from_dict({"network": {"terrain": "flat"}}).network)
    assert flat.minutes[0, 1] == pytest.approx(2.0 * 1.3 / 40 * 60, rel=1e-6)
    access = estimated_access(villages, NetworkRules())
    assert set(access["access"]) == {"estimated"} and "2" in access["reason"].iloc[0]


def test_villages_beyond_the_roads_get_estimates_and_keep_their_reason():
    """An unreachable village's row and column become the estimate, its access 'estimated'; others unchanged."""
    villages, _ = county(cols=3, rows=1)
    ids = villages.index.astype(str)
    sec = np.array([[0, 300, np.inf], [300, 0, np.inf], [np.inf, np.inf, 0]], dtype=float)
    access = estimated_access(villages, NetworkRules()).assign(
        access=["road", "road", "unreachable"], reason=["", "", "no road"]
    )
    times, acc = fill_unreachable(TravelTimes(ids, ids, sec), access, villages, NetworkRules())
    assert list(acc["access"]) == ["road", "road", "estimated"] and acc["reason"].iloc[2].startswith(
        "no road"
    )
    assert times.seconds[0, 1] == 300 and np.isfinite(times.seconds).all()
    assert np.isinf(sec[0, 2])  # the input is not changed


def test_straight_legs_carry_the_estimated_km():
    """A leg between neighbours is a straight line of 2 km drawn, 4 km (x 2.0) counted."""
    import pandas as pd

    villages, _ = county(cols=2, rows=1)
    legs = pd.DataFrame({"from_id": ["V00"], "to_id": ["V01"], "minutes": [12]})
    out = straight_legs(villages, legs, NetworkRules())
    assert out["km"].iloc[0] == pytest.approx(4.0) and out.geometry.iloc[0].length == pytest.approx(2000.0)


@pytest.mark.slow
def test_a_plan_without_roads_runs_to_the_end_every_time_flagged_and_check_agrees(tmp_path):
    """`--roads none` on the demo villages: a complete plan directory, every village 'estimated', the network
    summary says how, and `planner check` finds exactly the plan's hard breaks."""
    out = tmp_path / "plan"
    p = run_planner(
        "plan",
        "--villages",
        str(ROOT / "data" / "demo" / "villages.gpkg"),
        "--roads",
        "none",
        "--out",
        str(out),
        "--month",
        "2026-12",
        "--lang",
        "en",
        timeout=1200,
    )
    assert p.returncode in (0, 1), p.stderr
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["network"]["estimated"] is True and len(s["estimated_villages"]) == s["villages"] == 66
    assert (
        s["schedule" if "schedule" in s else "visit_requirements_met_pct"]
        and (out / "schedule.csv").is_file()
    )
    c = run_planner("check", str(out), "--lang", "en", "-v", timeout=600)
    plan_hard = sorted((v["rule"], v["subject"]) for v in s["violations"] if v["hard"])
    # check prints: rule, hard/soft, subject (the village's name beside its id), detail
    fields = [line.split("\t") for line in c.stdout.splitlines() if "\thard\t" in line]
    check_hard = sorted((f[0], f[2].split(" (")[0]) for f in fields)
    assert c.returncode == (1 if plan_hard else 0)
    # the village whose residents alone exceed R2 is named by the plan and by check alike
    assert check_hard == plan_hard


def test_the_report_says_which_travel_times_are_estimates():
    """A plan with estimated villages says so on the report's first page, with the factor and the speed."""

    sys.path.insert(0, str(Path(__file__).parent))
    from plan_fixture import make_plan

    from planner.model import PlanData
    from planner.outputs.report import report_html

    p = make_plan()
    s = {**p.summary, "estimated_villages": ["V1", "V2"], "network": {"circuity": 2.0, "speed_kmh": 25.0}}
    page = report_html(PlanData(p.villages, p.districts, p.offices, s), lang="en")
    assert "Travel times of 2 of" in page and "straight line x 2 at 25 km/h" in page

"""The report's first page and its grouped causes (planner.outputs.front), on summary dicts: no plan is made."""

from __future__ import annotations

from planner.outputs.front import dropped_groups


def _dropped(officer: str, office: int, field: int, village: str, hours: float) -> dict[str, str]:
    return {
        "officer_id": officer,
        "village_id": village,
        "reason": f"{officer} has {field} field days after {office} office days for 8 villages; the round trip "
        f"to {village} takes {hours:.1f} h, so at most 1 visit(s) of 4 h fit in each 8 h shift: 1 of 2 visit "
        "days missed",
        "reason_zh": f"{officer} 除 {office} 个坐班日外仅有 {field} 个外勤日, 负责 8 个村; 往返 {village} 需 "
        f"{hours:.1f} 小时, 每个 8 小时班次最多容纳 1 次 4 小时走访: 2 个走访日中缺 1 个",
    }


def test_dropped_groups_show_each_officers_own_figures() -> None:
    """Regression: the reasons of four officers were one group with the first officer's office and field days
    for all (O04-1 had 7 and 9, not 6 and 10) and the village as "…". A group is one officer's now, with his
    figures; the villages read "each village", a figure they differ in its range; a lone visit keeps its words."""
    summary = {
        "dropped_visits": [
            _dropped("O03-1", 6, 10, "osm-n1", 0.2),
            _dropped("O03-1", 6, 10, "osm-n2", 0.3),
            _dropped("O03-1", 6, 10, "osm-n3", 0.1),
            _dropped("O04-1", 7, 9, "osm-n4", 0.4),
            _dropped("O04-1", 7, 9, "osm-n5", 0.4),
            _dropped("O05-1", 8, 8, "osm-n6", 0.1),
        ]
    }
    zh = dropped_groups(summary, "zh")
    assert [(g.officers, g.subjects) for g in zh] == [
        (["O03-1"], ["osm-n1", "osm-n2", "osm-n3"]),
        (["O04-1"], ["osm-n4", "osm-n5"]),
        (["O05-1"], ["osm-n6"]),
    ]
    o3, o4, o5 = zh
    assert o3.cause.startswith("该民警除 6 个坐班日外仅有 10 个外勤日")
    assert "往返各村需 0.1–0.3 小时" in o3.cause and "…" not in o3.cause
    assert o4.cause.startswith("该民警除 7 个坐班日外仅有 9 个外勤日") and "往返各村需 0.4 小时" in o4.cause
    assert o5.first == summary["dropped_visits"][-1]["reason_zh"]
    en = dropped_groups(summary, "en")
    assert en[1].cause.startswith("the officer has 9 field days after 7 office days")
    assert "the round trip to each village takes 0.4 h" in en[1].cause


def test_terminal_names_a_break_by_the_rule_id_the_report_uses() -> None:
    """Regression: the terminal printed "[目标] 1个警务区 travel：…" where the report says R11; the English line
    lost its subject to the grouping ("1 village(s) of lie beyond 45 min"). Both read the report's rule id and
    the cause reads whole."""
    from dataclasses import replace

    import numpy as np
    import pandas as pd

    from planner.districts.check import _assignment, _check_travel
    from planner.outputs.front import breaks_lines, rule_tag
    from planner.rules import Rules

    r = replace(Rules().districts, max_travel_min=45.0, max_travel_hard=False)
    v = pd.DataFrame(
        {"district_id": ["D06", "D06"], "office_village_id": ["V1", "V1"], "population": [100, 100]},
        index=pd.Index(["V1", "V2"]),
    )
    a = _assignment(v, None, r)
    minutes = np.array([[0.0, 108.0], [108.0, 0.0]])
    found = _check_travel("D06", "V1", np.array([0, 1]), minutes, a, r)
    violations = [x.to_dict() for x in found]
    en = breaks_lines(violations, {"V1": "V1", "V2": "Lawena"}, "en", districts={"D06"})
    assert en[1] == (
        "  [goal] 1 district R11: 1 village(s) beyond 45 min of its office (soft limit); worst V2 at 108 min"
    )
    zh = breaks_lines(violations, {}, "zh", districts={"D06"})
    assert zh[1].startswith("  [目标] 1个警务区 R11：有 1 个村距警务室超过 45 分钟")
    assert [rule_tag(x, "zh") for x in ("R5", "contiguity", "drive", "C5", "office")] == [
        "R5",
        "C5",
        "C3",
        "C5",
        "每个警务区一个警务室",
    ]


def test_every_rule_a_check_can_break_has_a_name_in_both_languages() -> None:
    """Regression: the report listed C5's breaks under "其他规则 (C5)". Every rule code a Violation is made with
    anywhere in the package has a rule text (or is one of R1-R11, named from the rules in force)."""
    import re
    from pathlib import Path

    import planner
    from planner.check import rule_labels
    from planner.rules import Rules
    from planner.texts import has, t

    labels = rule_labels(Rules(), "zh")
    codes: set[str] = set()
    for path in Path(planner.__file__).parent.rglob("*.py"):
        codes |= set(re.findall(r'Violation\(\s*"(\w+)"', path.read_text(encoding="utf-8")))
    assert {"C5", "travel", "lock", "R5"} <= codes
    missing = sorted(c for c in codes if c not in labels and not has(f"rule.{c}"))
    assert not missing
    for c in codes - set(labels):
        assert t(f"rule.{c}", "zh", n=45) != t(f"rule.{c}", "en", n=45)


def test_every_stage_the_pipeline_times_has_a_name_in_both_languages() -> None:
    """Regression: the zh report's footer read "… stations 0.0": the stations stage had no text. Every stage
    name timed anywhere in the package (``clock.stage("…")``) has a report.stage text in Chinese and English."""
    import re
    from pathlib import Path

    import planner
    from planner.texts import has, t

    stages: set[str] = set()
    for path in Path(planner.__file__).parent.rglob("*.py"):
        stages |= set(re.findall(r'\.stage\(\s*"(\w+)"', path.read_text(encoding="utf-8")))
    assert {"network", "stations", "patrol"} <= stages
    assert not sorted(s for s in stages if not has(f"report.stage.{s}"))
    for s in stages:
        assert t(f"report.stage.{s}", "zh") != s and t(f"report.stage.{s}", "en")


def test_check_says_every_hard_rule_is_met_when_goals_are_missed() -> None:
    """Regression: `planner check` said "另有7处目标未达成" and then "方案符合全部规则". With goals missed it says
    the plan meets every hard rule; "every rule" only when nothing is missed."""
    from planner.cli.commands import check_verdict

    assert check_verdict(0, 7, "zh") == "方案符合全部硬性规则（另有 7 处目标未达成）"
    assert check_verdict(0, 7, "en") == "the plan meets every hard rule (7 goal(s) missed)"
    assert check_verdict(0, 0, "zh") == "方案符合全部规则"
    assert check_verdict(0, 0, "en") == "the plan meets every rule"
    assert check_verdict(3, 7, "zh") == "3 项违反硬性规则"


def test_conclusion_says_what_each_r2_officer_count_counts() -> None:
    """Regression: one conclusion box said "其警务区需要 5 名民警" (the village alone) and "D02 (2→6)" (the
    district) with nothing to tell them apart. The sentence now says the district needs 6 for all its villages
    and has 2, and that the village alone needs 5."""
    import dataclasses

    from plan_fixture import make_plan

    from planner.outputs.front import conclusion
    from planner.texts import t

    plan = make_plan()
    v = plan.villages.copy()
    v.loc[v["village_id"] == "V5", "population"] = 24_000
    d = plan.districts.copy()
    d["population"] = v.groupby("district_id")["population"].sum().reindex(d["district_id"]).to_numpy()
    name = str(v.loc[v["village_id"] == "V5", "name"].iloc[0])
    plan = dataclasses.replace(plan, villages=v, districts=d)
    pop = int(d.loc[d["district_id"] == "D2", "population"].iloc[0])
    assert pop == 26_950
    zh = conclusion(plan, "zh")
    assert f"D2 全区（含其他村）{pop:,}人需6名民警、现有1名，其中{name}一村即需5名" in zh.replace(
        "&#x27;", "'"
    )
    assert "D2 (1→6)" not in zh
    en = conclusion(plan, "en")
    assert "D2 needs 6 officers for all its villages" in en and "alone needs 5" in en
    assert t("report.conclusion.r2_village", "en", village="X", need=5) == ", of which X alone needs 5"


def test_before_hiring_the_conclusion_names_the_spare_hours_of_other_offices() -> None:
    """O01 is 48 officer-hours short; O02 has 73 spare hours, O03 4 (under a shift): the hint names O02 only,
    with the hours against the shortfall, and says nothing once mutual aid is on."""
    from planner.outputs.front import _aid_hint
    from planner.rules import Rules

    summary = {
        "workload": [
            {"office_id": "O01", "hours_spare": 2.0},
            {"office_id": "O02", "hours_spare": 73.3},
            {"office_id": "O03", "hours_spare": 4.0},
        ]
    }
    short = [{"office_id": "O01", "short_hours": 48.0, "more_officers": 1}]
    zh = _aid_hint(summary, Rules(), short, "zh")
    assert "O02 73 h" in zh and "O03" not in zh and "O01" not in zh and "缺口 48" in zh
    assert "mutual_aid = true" in _aid_hint(summary, Rules(), short, "en")
    aid = Rules.from_dict({"patrol": {"mutual_aid": True}})
    assert _aid_hint(summary, aid, short, "zh") == ""


def test_the_rules_table_names_each_size_mode_a_bureau_may_set() -> None:
    """Regression: ``[districts] mode = "population"`` (or "villages") crashed the report with KeyError
    'report.rules.mode.population': the texts were keyed r1/r2 while the rules say villages/population."""
    import pytest

    from planner.errors import ValidationError
    from planner.outputs.front import rules_table
    from planner.rules import Rules

    want = {
        "villages": ("按R1（村数）划分警务区", "districts drawn by R1 (villages)"),
        "population": ("按R2（人口）划分警务区", "districts drawn by R2 (residents)"),
        "both": ("同时满足R1（村数）和R2（人口）", "districts meet both R1 (villages) and R2 (residents)"),
    }
    for mode, (zh, en) in want.items():
        rules = Rules.from_dict({"districts": {"mode": mode}})
        summary = {"rules": rules.to_dict()}
        assert zh in rules_table(summary, "zh") and en in rules_table(summary, "en"), mode
    with pytest.raises(ValidationError, match=r"districts\.mode"):
        Rules.from_dict({"districts": {"mode": "r2"}})

"""planner.outputs.report: sections, escaping, self-containment, charts and the comparison with current districts."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from plan_fixture import EVIL_NAME, POPULATION, TRAVEL, make_plan

from planner.errors import ValidationError
from planner.model import PlanData
from planner.outputs.front import break_groups
from planner.outputs.report import compare_current, coverage_curve, report_html
from planner.texts import t

SECTIONS = ("figures", "checks", "districts", "compare", "charts", "explain", "routes")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_section_is_there_with_its_title(lang: str) -> None:
    page = report_html(make_plan(), lang=lang)
    for key in SECTIONS:
        assert f"<section id='{key}'><h2>{t(f'report.section.{key}', lang)}</h2>" in page


def test_user_text_is_escaped() -> None:
    page = report_html(make_plan(), lang="en")
    assert EVIL_NAME not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>V9</b>" not in page  # a reason with markup stays text
    assert "<script" not in page


def test_page_needs_no_network() -> None:
    page = report_html(make_plan(), lang="zh")
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", page)
    assert "@import" not in page and "url(" not in page


def _section(page: str, key: str) -> str:
    return page.split(f"<section id='{key}'>")[1].split("</section>")[0]


def test_each_violation_is_listed_once_in_its_cause_group() -> None:
    """The rule checks hold one line per cause naming every subject; the explanations do not repeat them."""
    plan = make_plan()
    page = report_html(plan, lang="zh")
    checks, explain = _section(page, "checks"), _section(page, "explain")
    assert checks.count("<li class=") == len(break_groups(plan.summary, "zh"))
    for v in plan.summary["violations"]:
        assert v["subject"] in checks
        assert v["detail_zh"] not in explain


def test_each_dropped_visit_and_unreachable_village_is_explained() -> None:
    plan = make_plan()
    page = report_html(plan, lang="zh")
    explain = _section(page, "explain")
    for d in plan.summary["dropped_visits"]:
        assert d["officer_id"] in explain and d["village_id"] in explain
    # the Chinese reason is used in zh, the id in it named
    assert "无道路通达&lt;b&gt;<span class='v'>河口村 <span class='id'>V9</span></span>&lt;/b&gt;" in explain
    assert "河口村 (V9)" in explain  # village named, not only its id


def test_no_rule_broken_says_so() -> None:
    plan = make_plan()
    summary = {**plan.summary, "violations": [], "dropped_visits": [], "unreachable_villages": []}
    page = report_html(PlanData(plan.villages, plan.districts, plan.offices, summary), lang="en")
    assert t("report.checks.ok", "en") in page
    assert t("report.explain.none", "en") in page


def test_coverage_curve_is_the_share_of_residents_within_each_minute() -> None:
    curve = coverage_curve(make_plan())
    total = sum(POPULATION)
    for minute in (0, 15, 30, 45, 60, 90):
        within = sum(p for p, m in zip(POPULATION, TRAVEL, strict=True) if m == m and m <= minute)
        assert curve[minute] == pytest.approx(within / total)
    assert (curve.diff().dropna() >= 0).all()
    assert curve.iloc[-1] < 1  # the unreachable village is never covered


def test_coverage_figures_follow_the_thresholds_the_plan_was_made_with() -> None:
    """Coverage thresholds of 20 and 45 minutes in summary.json are the figures shown and the curve's marks."""
    plan = make_plan()
    summary = {**plan.summary, "coverage_pct": {"20": 61.5, "45": 90.25}}
    page = report_html(PlanData(plan.villages, plan.districts, plan.offices, summary), lang="en")
    figures = page.split("<section id='figures'>")[1].split("</section>")[0]
    for minutes, pct in (("20", "61.5%"), ("45", "90.2%")):
        assert t("report.fig.coverage", "en", minutes=minutes) in figures
        assert pct in figures
    assert t("report.fig.coverage", "en", minutes="15") not in figures
    curve = re.findall(r"<svg.*?</svg>", _section(page, "charts"), flags=re.S)[2]
    assert curve.count("<circle ") == 2


def test_histogram_counts_every_reachable_village_once() -> None:
    page = report_html(make_plan(), lang="en")
    svgs = re.findall(r"<svg.*?</svg>", _section(page, "charts"), flags=re.S)
    assert len(svgs) == 3
    bars = re.findall(r"<rect class='bar'[^>]*><title>[^<]*: (\d+)</title>", svgs[1])
    assert sum(int(b) for b in bars) == sum(1 for m in TRAVEL if m == m)
    assert svgs[0].count("<rect class='bar'") == 3  # one bar per district


def test_moves_are_villages_whose_matched_district_differs() -> None:
    current, moves = compare_current(make_plan())
    # proposed districts are grid columns, current ones grid rows: each pair shares one village, so the
    # best one-to-one matching keeps 3 villages and moves the other 6
    assert len(current) == 3 and current["n_villages"].tolist() == [3, 3, 3]
    assert len(moves) == 6
    assert current["population"].sum() == sum(POPULATION)


def test_same_districts_under_other_names_move_nothing() -> None:
    plan = make_plan(current=False)
    renamed = plan.villages[["village_id", "district_id", "geometry"]].copy()
    renamed["district_id"] = "old-" + renamed["district_id"]
    plan = PlanData(
        plan.villages, plan.districts, plan.offices, plan.summary, plan.routes, plan.schedule, current=renamed
    )
    _, moves = compare_current(plan)
    assert moves.empty
    assert t("report.compare.moves_none", "en") in report_html(plan, lang="en")


def test_villages_of_a_district_matched_to_none_move() -> None:
    """With two current districts and three proposed, the unmatched proposed district's villages all move."""
    plan = make_plan()
    current = plan.current.copy()
    current["district_id"] = ["A"] * 5 + ["B"] * 4  # V1-V5 in A, V6-V9 in B
    plan = PlanData(
        plan.villages, plan.districts, plan.offices, plan.summary, plan.routes, plan.schedule, current=current
    )
    stats, moves = compare_current(plan)
    # D1 (V1 V4 V7) keeps 2 of A, D3 (V3 V6 V9) keeps 2 of B; D2 (V2 V5 V8) is matched to none
    assert stats.set_index("district_id")["matched"].to_dict() == {"A": "D1", "B": "D3"}
    assert set(moves["village_id"]) == {"V7", "V3", "V2", "V5", "V8"}


def test_without_current_or_schedule_those_parts_are_left_out() -> None:
    page = report_html(make_plan(routes=False, current=False), lang="en")
    assert "<section id='compare'>" not in page
    assert compare_current(make_plan(current=False)) is None
    assert t("report.routes.none", "en") in page


def test_route_summary_counts_each_officers_activities() -> None:
    page = report_html(make_plan(), lang="en")
    routes = page.split("<section id='routes'>")[1].split("</section>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", routes)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    p1 = next(c for c in cells if c[0] == "P1")
    # P1: two days with one visit each plus one night visit, legs of 10+20 min twice
    assert p1[1:5] == ["2", "2", "1", "0"]
    assert p1[6] == "60"


def test_unknown_language_is_an_input_error() -> None:
    with pytest.raises(ValidationError, match="unknown language"):
        report_html(make_plan(), lang="de")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_rule_texts_say_the_values_in_force_not_the_defaults(lang: str) -> None:
    """A bureau that asks for 3 visit days of 5 hours (R5) and 6-10 villages (R1) reads those numbers beside
    the breaks, never the defaults' '2 days, 4 hours' or '5 to 8'."""
    from planner.rules import Rules

    plan = make_plan()
    rules = Rules.from_dict(
        {
            "patrol": {"visit_days_per_village": 3, "visit_hours": 5},
            "districts": {"min_villages": 6, "max_villages": 10},
        }
    )
    violations = [
        {"rule": "R5", "subject": "V1", "detail": "d", "hard": True},
        {"rule": "R1", "subject": "D01", "detail": "d", "hard": True},
    ]
    summary = {**plan.summary, "rules": rules.to_dict(), "violations": violations}
    page = report_html(PlanData(plan.villages, plan.districts, plan.offices, summary), lang=lang)
    checks = page.split("<section id='checks'>")[1].split("</section>")[0]
    if lang == "zh":
        assert "至少走访3天，每天至少5小时" in checks and "6至10个行政村" in checks
        assert "至少走访2天" not in checks
    else:
        assert "at least 3 days a month, 5 hours a day" in checks and "6 to 10 villages" in checks
        assert "2 days a month" not in checks


def test_first_page_names_region_month_date_rules_and_a_conclusion() -> None:
    """The first page: region (from summary.json's townships), month, date of generation, the rules in force
    with their values, and a written conclusion."""
    plan = make_plan()
    summary = {**plan.summary, "month": "2027-01", "region": {"townships": ["河口乡", "山前镇"]}}
    page = report_html(
        PlanData(plan.villages, plan.districts, plan.offices, summary), lang="zh", generated="2027-01-05"
    )
    front = page.split("<div id='front'>")[1].split("<section id='map'>")[0]
    assert "河口乡、山前镇等2个乡镇" in front and "2027年1月" in front and "2027-01-05" in front
    assert (
        "<th>R5</th><td>每村每月至少走访2天，每天至少4小时（驻村民警所驻的村按 R4 计）</td>" in front
    )  # the rule as the bureau knows it, values in force
    conclusion = _section(page, "conclusion")
    assert (
        t("report.conclusion.head_works", "zh") in conclusion
        and t("report.conclusion.head_fails", "zh") in conclusion
    )


def test_soft_goals_are_told_apart_from_hard_breaks_and_named_by_rule() -> None:
    """A soft goal is tagged as a goal (not red), a hard break as hard; a non-R rule id gets its bureau name."""
    plan = make_plan()
    violations = [
        {
            "rule": "travel",
            "subject": "V8",
            "detail": "52 min, over 45",
            "detail_zh": "52分钟，超过45",
            "hard": False,
        },
        {"rule": "R1", "subject": "D1", "detail": "3 villages", "detail_zh": "3个行政村", "hard": True},
    ]
    summary = {**plan.summary, "violations": violations}
    checks = _section(
        report_html(PlanData(plan.villages, plan.districts, plan.offices, summary), lang="zh"), "checks"
    )
    assert checks.count("<li class='soft'>") == 1 and checks.count("<li class='hard'>") == 1
    assert "R11 村到本区警务室车程上限45分钟" in checks
    assert t("rule.other", "zh") not in checks


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_conclusion_says_which_stations_need_more_community_officers_under_r9(lang: str) -> None:
    """The first page's 'what it would take' names the stations R9 finds short of community officers, each with
    how many more (summary.json's shortfall rows of a station), escaped; none without such rows."""
    import dataclasses

    from plan_fixture import STATION_EVIL, with_stations

    from planner.outputs.front import stations_short
    from planner.outputs.html import escape

    plan = with_stations(make_plan())
    second = {"station_id": "S2", "office_id": "戌街派出所", "more_officers": 0, "more_community_officers": 1}
    summary = {**plan.summary, "shortfall": [*plan.summary["shortfall"], second]}
    sep = "、" if lang == "zh" else ", "
    want = t("report.conclusion.r9_more", lang, n=2, more=3, stations=f"{STATION_EVIL} 2{sep}戌街派出所 1")
    assert stations_short(summary, lang) == want
    conclusion = _section(report_html(dataclasses.replace(plan, summary=summary), lang=lang), "conclusion")
    assert escape(want) in conclusion and STATION_EVIL not in conclusion
    assert t("report.conclusion.head_take", lang) in conclusion
    one = stations_short(plan.summary, lang)
    assert one == t("report.conclusion.r9_more_one", lang, n=1, more=2, stations=f"{STATION_EVIL} 2")
    assert stations_short(make_plan().summary, lang) == ""
    if lang == "en":
        assert one.startswith("1 station needs 2 more community officers under R9: ")


@pytest.mark.parametrize(
    ("lang", "want"),
    [
        ("zh", "硬性规则未满足3处（涉及2条规则：R1、R5）；另有2处目标未达成（涉及1条规则：C5）"),
        ("en", "3 hard rule breaks (2 rules: R1, R5); 2 goals missed (1 rule: C5)"),
    ],
)
def test_rule_check_heading_counts_hard_causes_apart_from_goals(lang: str, want: str) -> None:
    """The rule checks' heading says what each count counts: the hard breaks with the rules they fall under,
    then the goals missed with theirs (the goals are listed under it too), in the report and the terminal alike."""
    from planner.outputs.front import breaks_lines

    plan = make_plan()
    violations = [
        {"rule": "R1", "subject": "D1", "detail": "3 villages", "detail_zh": "3个行政村", "hard": True},
        {"rule": "R1", "subject": "D2", "detail": "3 villages", "detail_zh": "3个行政村", "hard": True},
        {"rule": "R5", "subject": "V2", "detail": "1 day of 2", "detail_zh": "仅1天，需要2天", "hard": True},
        {"rule": "C5", "subject": "D3", "detail": "route leaves", "detail_zh": "路线经过他区", "hard": False},
        # a second C5 in other words is a second cause of the same rule (regression: "8 goals (8 causes)")
        {"rule": "C5", "subject": "D1", "detail": "route by V4", "detail_zh": "路线经过V4", "hard": False},
    ]
    summary = {**plan.summary, "violations": violations}
    checks = _section(
        report_html(PlanData(plan.villages, plan.districts, plan.offices, summary), lang=lang), "checks"
    )
    assert f"<p class='bad'>{want}</p>" in checks
    names = {"V2": "张家寨"}
    assert breaks_lines(violations, names, lang, districts={"D1", "D2", "D3"})[0] == want


def test_an_id_followed_by_a_bracket_is_named_like_any_other_id() -> None:
    """An id followed by a bracket that is not its name ("to V5 (13 min)") gets its name beside it, in the
    terminal (planner.check.named), the report's rule checks and the conclusion; an id already named, or inside
    Chinese text, is named once."""
    from planner.check import named

    names = {"V5": "白石村", "V1": "李家村", "V10": "十村"}
    assert (
        named("longest to V5 (13 min), via V1", names) == "longest to V5 (白石村) (13 min), via V1 (李家村)"
    )
    assert (
        named("村 V5 (白石村) 位于主干道; V5（白石村）", names) == "村 V5 (白石村) 位于主干道; V5（白石村）"
    )
    assert named("最长的一条到V5 (13 分钟)", names) == "最长的一条到V5 (白石村) (13 分钟)"
    assert named("V10 not V1", names) == "V10 (十村) not V1 (李家村)"

    plan = make_plan()
    detail = "route from office V1 to 1 village passes another district; the longest to V5 (13 min)"
    violations = [
        {"rule": "R1", "subject": "D1", "detail": detail, "detail_zh": detail, "hard": True},
        {"rule": "C5", "subject": "D2", "detail": detail, "detail_zh": detail, "hard": False},
    ]
    summary = {**plan.summary, "violations": violations}
    page = report_html(PlanData(plan.villages, plan.districts, plan.offices, summary), lang="en")
    checks = _section(page, "checks")
    assert "the longest to <span class='v'>白石村 <span class='id'>V5</span></span> (13 min)" in checks
    assert "office <span class='v'>李家村 <span class='id'>V1</span></span> to" in checks
    assert "the longest to V5 (白石村) (13 min)" in _section(page, "conclusion")


def test_villages_of_one_cause_are_one_group_whatever_their_names_in_brackets() -> None:
    """A detail naming its village with the name in brackets ('village V2 (张家寨) is on a main road but ...')
    joins the others of its cause, and the cause keeps no stray bracket of a name."""
    details = [
        ("V2", "张家寨", "警务室 O06"),
        ("V3", "大坪村", "警务室 O06"),
        ("V4", "新村", "警务室 O01"),
    ]
    violations = [
        {
            "rule": "R10",
            "subject": vid,
            "detail": f"village {vid} ({name}) is on a main road but no officer of office {o[-3:]} has the skill",
            "detail_zh": f"村 {vid} ({name}) 位于主干道沿线, 但{o}没有交通专长的民警",
            "hard": False,
        }
        for vid, name, o in details
    ]
    for lang in ("zh", "en"):
        groups = break_groups({"violations": violations}, lang)
        assert [len(g.subjects) for g in groups] == [2, 1]
        assert "(" not in groups[0].cause and groups[0].subjects == ["V2", "V3"]
    assert (
        break_groups({"violations": violations}, "zh")[0].cause
        == "位于主干道沿线, 但警务室 O06没有交通专长的民警"
    )


def _labels(svg: str, y: float | None = None) -> list[tuple[float, str]]:
    """The (x, text) of an SVG's plain labels (the axis ticks), those at height ``y`` when given."""
    found = re.findall(r"<text x='([\d.]+)' y='([\d.]+)' text-anchor='(?:middle|end)'>([\d,.]+)</text>", svg)
    return [(float(x), s) for x, yy, s in found if y is None or abs(float(yy) - y) < 0.5]


def test_chart_axes_have_round_ticks_and_no_two_labels_collide() -> None:
    """Regression: Liechtenstein's travel histogram printed "105" and "110" on top of each other, and the
    residents-per-officer axis read 3,713 / 7,426 / 11,139 / 14,852. Ticks are round (1, 2 or 5 x 10^k) and
    no two labels of an axis sit closer than LABEL_GAP."""
    from planner.outputs.report import LABEL_GAP, _bar_chart, _histogram, axis_ticks, nice_step

    assert [nice_step(s, 4) for s in (13_502, 108, 7, 0.9)] == [5000, 50, 2, 0.5]
    assert axis_ticks(13_502 * 1.1, 4) == [0, 5000, 10000, 15000]
    minutes = np.array([3.0, 12, 18, 25, 33, 41, 47, 52, 60, 75, 90, 108])
    svg = _histogram(minutes, title="t", x_label="min", y_label="n")
    bottom = max(float(y) for y in re.findall(r"y='([\d.]+)' text-anchor='middle'>\d", svg))
    xs = _labels(svg, bottom)
    values = [float(s) for _, s in xs]
    assert values == sorted(values) and len(values) >= 4
    assert all(v % nice_step(values[1], 1) == 0 for v in values)
    assert all(b[0] - a[0] >= LABEL_GAP for a, b in itertools.pairwise(xs))
    bars = _bar_chart(["D1", "D2", "D3"], [9_800.0, 13_502.0, 4_000.0], title="t", target=5000)
    ys = [s for _, s in _labels(bars) if s[0].isdigit()]
    assert ys == ["0", "5,000", "10,000", "15,000"]


def test_station_table_is_two_tables_that_fit_a4() -> None:
    """Regression: the station table had twelve columns, its headers squeezed to one character a line on A4
    (驻/村/民/警) and "社区民警不足40%" wrapped over four lines. The stations are now where they are (name,
    townships, districts, villages, residents) and their force (short headers, explained once below, in a
    smaller type that does not wrap)."""
    from plan_fixture import with_stations

    from planner.outputs.html import escape
    from planner.outputs.stations import stations_html

    plan = with_stations(make_plan())
    for lang in ("zh", "en"):
        html = stations_html(plan, lang)
        tables = re.findall(r"<table class='([^']*)'><thead><tr>(.*?)</tr></thead>", html)
        assert [cls for cls, _ in tables] == ["stations", "stations force"]
        heads = [re.findall(r"<th>(.*?)</th>", row) for _, row in tables]
        assert len(heads[0]) == 5 and len(heads[1]) == 8
        assert all(len(h) <= 4 for h in heads[1][1:]) if lang == "zh" else True
        assert escape(t("stations.short.key", lang)) in html
    css = report_html(plan, lang="zh")
    assert "table.force th, table.force td { white-space: nowrap; }" in css


def test_spare_hours_beside_a_shortfall_are_explained() -> None:
    """Regression: O02's 10.3 spare hours stood beside "32 officer-hours short" with no word on why (a review
    read it as a contradiction). An office short of hours that shows spare hours gets the sentence; one that is
    not short, or has none spare, does not."""
    from planner.outputs.report import _workload

    def office(oid: str, spare: float) -> dict[str, object]:
        return {
            "office_id": oid,
            "officers": 1,
            "hours_min": 100.0,
            "hours_mean": 100.0,
            "hours_max": 100.0,
            "officer_min": f"{oid}-1",
            "officer_max": f"{oid}-1",
            "hours_spare": spare,
        }

    summary = {
        "workload": [office("O02", 10.3), office("O03", 0.0), office("O04", 20.0)],
        "shortfall": [
            {"office_id": "O02", "detail": "O02 short 32 h", "detail_zh": "O02 缺 32 警员小时"},
            {"office_id": "O03", "detail": "O03 short 8 h", "detail_zh": "O03 缺 8 警员小时"},
        ],
    }
    zh, en = _workload(summary, {}, "zh"), _workload(summary, {}, "en")
    assert "O02 表中的空余工时是各工作日排完走访后剩下的零散时间" in zh and "每次走访需连续 4 小时" in zh
    assert "The spare hours of O02 in the table" in en and "O03" not in en.split("The spare hours")[1]
    assert "O04" not in en.split("The spare hours")[1]
    assert "The spare hours" not in _workload({**summary, "shortfall": []}, {}, "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_longest_trip_reads_in_clock_minutes_as_the_sheets_and_messages_do(lang: str) -> None:
    """108.14 minutes is the 109th minute on the schedule's clock: the key figure and the district table say
    109, as the route sheets and the R11/C5 messages do, not 108.1 (Liechtenstein's Lawena, issue 11 review)."""
    plan = make_plan()
    districts = plan.districts.copy()
    districts.loc[districts.index[0], "max_travel_min"] = 108.14
    summary = {**plan.summary, "max_travel_min": 108.14}
    page = report_html(PlanData(plan.villages, districts, plan.offices, summary), lang=lang)
    figures = page.split(t("report.fig.max_travel", lang))[0].rsplit("<div", 2)[-2:]
    assert "109" in "".join(figures) and "108.1" not in page
    table = _section(page, "districts")
    assert "<td class='n'>109</td>" in table

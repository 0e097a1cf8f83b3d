"""planner.outputs.sheets: one printable route sheet per officer, every schedule row and leg, day totals, escaping."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from plan_fixture import EVIL_NAME, make_generated_plan, make_plan

from planner.errors import ValidationError
from planner.model import ROUTE_COLUMNS, PlanData
from planner.outputs.sheets import MAP_HEIGHT, MAP_WIDTH, route_sheets_html
from planner.texts import t

ZH_WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]  # Monday first, as date.weekday()


@pytest.fixture(scope="module")
def generated() -> PlanData:
    return make_generated_plan(seed=1, time_limit=10)


def _sections(page: str) -> dict[str, str]:
    """Officer id -> the HTML of his section."""
    parts = re.split(r"(?=<section class='officer')", page)
    out: dict[str, str] = {}
    for part in parts[1:]:
        officer = html.unescape(re.match(r"<section class='officer' data-officer='([^']*)'", part).group(1))
        assert officer not in out, f"two sections for {officer}"
        out[officer] = part.split("</section>")[0]
    return out


def _totals(section: str) -> dict[str, dict[str, Any]]:
    """Date -> the day's totals as written in the total row's data attributes."""
    out = {}
    for m in re.finditer(
        r"<tr class='total' data-date='([^']*)' data-drive-min='([^']*)' data-km='([^']*)' "
        r"data-work-min='([^']*)'>",
        section,
    ):
        out[m.group(1)] = {
            "drive": float(m.group(2)),
            "km": float(m.group(3)) if m.group(3) else None,
            "work": float(m.group(4)),
        }
    return out


def _without_routes(plan: PlanData) -> PlanData:
    empty = gpd.GeoDataFrame({c: [] for c in ROUTE_COLUMNS}, geometry=[], crs="EPSG:4326")
    return PlanData(
        plan.villages, plan.districts, plan.offices, plan.summary, routes=empty, schedule=plan.schedule
    )


@pytest.mark.parametrize("which", ["fixture", "generated"])
def test_one_section_per_officer_of_the_schedule(which: str, generated: PlanData) -> None:
    """Each officer of the schedule has exactly one sheet, with its own map."""
    plan = make_plan() if which == "fixture" else generated
    page = route_sheets_html(plan, lang="zh")
    sections = _sections(page)
    assert sorted(sections) == sorted(set(plan.schedule["officer_id"].astype(str)))
    for officer, section in sections.items():
        assert section.count("<svg") == 1, officer


@pytest.mark.parametrize("which", ["fixture", "generated"])
def test_every_schedule_row_and_leg_is_in_its_officers_table(which: str, generated: PlanData) -> None:
    """Every schedule row appears once, in its own officer's table; every route leg is listed once."""
    plan = make_plan() if which == "fixture" else generated
    sections = _sections(route_sheets_html(plan, lang="zh"))
    sched = plan.schedule
    for officer, section in sections.items():
        rows = [html.unescape(r) for r in re.findall(r"data-row='([^']*)'", section)]
        expected = [str(i) for i in sched.index[sched["officer_id"].astype(str) == officer]]
        assert sorted(rows) == sorted(expected), officer
        legs = plan.routes[plan.routes["officer_id"].astype(str) == officer]
        # a leg is shown with its km, either on its travel row or on a row of its own
        travel_with_km = re.findall(r"<tr class='travel[^']*' data-(?:row|leg)='[^']*'>.*?</tr>", section)
        km_cells = [re.findall(r"<td class='n'>([^<]*)</td>", r)[-1] for r in travel_with_km]
        assert sum(1 for k in km_cells if k) == len(legs), officer


def test_generated_plan_travel_rows_all_match_a_leg(generated: PlanData) -> None:
    """On a plan of the real planner every drive is both a schedule row and a leg: no leg is listed alone."""
    page = route_sheets_html(generated, lang="zh")
    assert "data-leg=" not in page
    assert t("sheets.leg_unscheduled", "zh") not in page


def test_day_totals_equal_schedule_minutes_and_route_km(generated: PlanData) -> None:
    """Per officer-day: driving = travel rows' minutes, km = the routes' km, work = all schedule minutes."""
    sched, routes = generated.schedule, generated.routes
    sections = _sections(route_sheets_html(generated, lang="zh"))
    for (officer, date), rows in sched.groupby(["officer_id", "date"]):
        total = _totals(sections[officer])[date]
        legs = routes[(routes["officer_id"] == officer) & (routes["date"] == date)]
        assert total["drive"] == rows.loc[rows["activity"] == "travel", "minutes"].sum()
        assert total["work"] == rows["minutes"].sum()
        assert total["km"] == pytest.approx(legs["km"].sum(), abs=1e-3)
    n_days = sched.groupby(["officer_id", "date"]).ngroups
    assert sum(len(_totals(s)) for s in sections.values()) == n_days


def test_fixture_day_totals_count_legs_without_travel_rows() -> None:
    """The fixture's schedule has no travel rows: its legs still count as driving, km and work."""
    plan = make_plan()
    sched, routes = plan.schedule, plan.routes
    sections = _sections(route_sheets_html(plan, lang="en"))
    days = set(zip(sched["officer_id"], sched["date"], strict=True)) | set(
        zip(routes["officer_id"], routes["date"], strict=True)
    )
    for officer, date in days:
        total = _totals(sections[officer])[date]
        legs = routes[(routes["officer_id"] == officer) & (routes["date"] == date)]
        rows = sched[(sched["officer_id"] == officer) & (sched["date"] == date)]
        assert total["drive"] == legs["minutes"].sum()
        assert total["work"] == rows["minutes"].sum() + legs["minutes"].sum()
        assert total["km"] == pytest.approx(legs["km"].sum())


def test_summary_line_counts_days_nights_and_km(generated: PlanData) -> None:
    """The officer's summary line: field days, office days, night visits, total km of his legs."""
    sched = generated.schedule
    page = route_sheets_html(generated, lang="en")
    for officer, section in _sections(page).items():
        s = sched[sched["officer_id"] == officer]
        m = re.search(
            r"data-field-days='(\d+)' data-office-days='(\d+)' data-night-visits='(\d+)'>([^<]*)<", section
        )
        assert int(m.group(1)) == s.loc[s["activity"] == "visit", "date"].nunique()
        assert int(m.group(2)) == s.loc[s["activity"] == "office", "date"].nunique()
        assert int(m.group(3)) == (s["activity"] == "night_visit").sum()
        km = generated.routes.loc[generated.routes["officer_id"] == officer, "km"].sum()
        assert f"{km:,.1f} km and " in m.group(4) and "h on the way in all (walking included)" in m.group(4)


@pytest.mark.parametrize("which", ["fixture", "generated"])
def test_village_named_script_is_escaped(which: str, generated: PlanData) -> None:
    """A village named <script>alert(1)</script> is shown as text, in the tables and on the maps."""
    plan = make_plan() if which == "fixture" else generated
    page = route_sheets_html(plan, lang="zh")
    assert EVIL_NAME not in page
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    svg_text = "".join(re.findall(r"<svg.*?</svg>", page, flags=re.S))
    assert "&lt;script&gt;" in svg_text


def test_page_is_self_contained_and_prints_one_officer_per_page() -> None:
    """No script, no external resource; A4 portrait and a page break before each officer."""
    page = route_sheets_html(make_plan(), lang="zh")
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", page)
    assert "@import" not in page and "url(" not in page
    assert "size: A4 portrait" in page
    assert re.search(r"section\.officer \{[^}]*page-break-before: always", page)


@pytest.mark.parametrize(
    ("lang", "names"), [("zh", ZH_WEEKDAYS), ("en", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])]
)
def test_dates_carry_their_weekday(lang: str, names: list[str], generated: PlanData) -> None:
    """Each day's date cell is followed by its weekday (Chinese 周一..周日 for zh)."""
    page = route_sheets_html(generated, lang=lang)
    dates = sorted(set(generated.schedule["date"]))
    for date in dates:
        found = set(re.findall(rf">{date}</td><td class='date' rowspan='\d+'>([^<]*)</td>", page))
        assert found == {(ZH_WEEKDAYS if lang == "zh" else names)[dt.date.fromisoformat(date).weekday()]}
    if lang == "zh":  # Monday to Friday, and Saturday only as an official 调休 working day
        worked = {ZH_WEEKDAYS[dt.date.fromisoformat(d).weekday()] for d in dates}
        assert {d for d in re.findall(r"rowspan='\d+'>(周.)</td>", page)} <= worked


def test_village_names_with_township_not_only_ids(generated: PlanData) -> None:
    """Stops name the village and its township; office, district and the roster's kind head each sheet."""
    page = route_sheets_html(generated, lang="zh")
    sections = _sections(page)
    assert "大坪村（安乐乡）" in page
    assert "O1（位于城关村）" in sections["O1-1"]
    kinds = {r["officer_id"]: r["kind"] for r in generated.summary["roster"]}
    for officer, kind in kinds.items():
        assert t(f"sheets.kind.{kind}", "zh") in sections[officer]
    assert "☾ " + t("activity.night_visit", "zh") in page


def test_works_without_routes(generated: PlanData) -> None:
    """Empty routes: every schedule row is still listed, no map line is drawn and km is left blank, not 0."""
    plan = _without_routes(generated)
    page = route_sheets_html(plan, lang="zh")
    sections = _sections(page)
    assert "class='route'" not in page
    assert t("sheets.map.no_routes", "zh") in page
    for officer, section in sections.items():
        rows = re.findall(r"data-row='([^']*)'", section)
        assert len(rows) == (plan.schedule["officer_id"] == officer).sum()
        s = plan.schedule[plan.schedule["officer_id"] == officer]
        for date, total in _totals(section).items():
            drives = (s.loc[s["date"] == date, "activity"] == "travel").any()
            assert (total["km"] is None) == drives, (officer, date)


def test_fixture_without_routes_still_has_every_row() -> None:
    plan = _without_routes(make_plan())
    sections = _sections(route_sheets_html(plan, lang="en"))
    assert sum(len(re.findall(r"data-row=", s)) for s in sections.values()) == len(plan.schedule)


def test_no_schedule_gives_a_note() -> None:
    """A plan without a patrol plan gives one page that says so."""
    page = route_sheets_html(make_plan(routes=False), lang="zh")
    assert _sections(page) == {}
    assert t("sheets.none", "zh") in page


def test_map_fits_its_box_in_any_crs() -> None:
    """Layers in a metric CRS are shown in lon/lat: every map coordinate lies inside the SVG box."""
    for crs in ("EPSG:4326", "EPSG:32647"):
        page = route_sheets_html(make_plan(crs=crs), lang="zh")
        for d in re.findall(r" d='([^']*)'", page):
            nums = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", d)]
            xs, ys = nums[0::2], nums[1::2]
            assert min(xs) >= 0 and max(xs) <= MAP_WIDTH
            assert min(ys) >= 0 and max(ys) <= MAP_HEIGHT


def test_input_not_mutated_and_bad_language_refused(generated: PlanData) -> None:
    before = generated.schedule.copy(), generated.routes.copy()
    route_sheets_html(generated, lang="en")
    pd.testing.assert_frame_equal(generated.schedule, before[0])
    pd.testing.assert_frame_equal(pd.DataFrame(generated.routes), pd.DataFrame(before[1]))
    with pytest.raises(ValidationError, match="unknown language"):
        route_sheets_html(generated, lang="fr")


def test_the_sheets_warn_when_the_years_holidays_are_an_estimate_and_name_the_weeks() -> None:
    """Route sheets go to the officers: when the year's State Council arrangement is not known, the sheets say
    the holidays are an estimate (as the report's C1 line does), and they name the weeks R8 counts."""
    import dataclasses

    from planner.patrol.rulebook.calendar import month_calendar
    from planner.rules import PatrolRules

    plan = make_plan()
    year = next(y for y in range(2026, 2040) if not month_calendar(f"{y}-10", PatrolRules()).weekend_work)
    cal = month_calendar(f"{year}-02", PatrolRules()).summary()
    assert not cal["official_known"]
    unknown = dataclasses.replace(plan, summary={**plan.summary, "calendar": cal, "month": f"{year}-02"})
    zh = route_sheets_html(unknown, lang="zh")
    assert "extra_holidays" in zh and "尚无" in zh and "R8 的每周规则" in zh
    known = month_calendar("2026-10", PatrolRules()).summary()
    page = route_sheets_html(
        dataclasses.replace(plan, summary={**plan.summary, "calendar": known, "month": "2026-10"}), lang="en"
    )
    assert "extra_holidays" not in page and "weekly rules (office days, every village each week)" in page


def _total_text(section: str, date: str) -> str:
    m = re.search(
        rf"<tr class='total' data-date='{re.escape(date)}'[^>]*><td colspan='5'>([^<]*)</td>", section
    )
    assert m, f"no total row for {date}"
    return html.unescape(m.group(1))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_night_visit_days_say_late_shift_and_office_days_no_driving(lang: str, generated: PlanData) -> None:
    """A night-visit day's total names the late shift with its first start and last end from the schedule; a day
    with no travel says only the hours of work (no "0 min driving, 0.0 km")."""
    sched = generated.schedule
    sections = _sections(route_sheets_html(generated, lang=lang))
    nights = offices = 0
    for (officer, date), rows in sched.groupby(["officer_id", "date"]):
        text = _total_text(sections[officer], date)
        rows = rows.sort_values("start")
        late = t("sheets.late_shift", lang, start=rows["start"].iloc[0], end=rows["end"].max())
        if (rows["activity"] == "night_visit").any():
            nights += 1
            assert text.endswith(late), (officer, date, text)
        else:
            assert late not in text
        if not (rows["activity"] == "travel").any():
            offices += 1
            assert text == t("sheets.day_total_office", lang, work=f"{rows['minutes'].sum() / 60:.1f}")
    assert nights and offices  # the fixture has both kinds of day

"""``planner check PLAN``: re-check a plan directory against the rules, e.g. after hand edits in QGIS.

The plan directory carries its travel-time matrix (travel_times.npz), so districts, offices and the schedule are
re-checked with road travel times even when villages or offices were moved by hand.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.model import ROSTER_EXTRA, PlanData, TravelTimes, Violation
from planner.rules import Rules

log = logging.getLogger(__name__)


def check_plan(
    plan: PlanData,
    *,
    rules: Rules,
    times: TravelTimes | None,
    roster: pd.DataFrame | None = None,
    roster_source: str = "officer roster",
) -> list[Violation]:
    """Every rule on a plan: districts and offices, then the schedule when there is one, then the stations'
    force (R9) and the matches by need (R10).

    The districts and offices are re-derived from the villages layer (:func:`edited_layers`), so a district id
    typed in QGIS, a village moved to another district or an office moved to another village are checked as
    the plan they make; every schedule row made stale by such an edit is named (:func:`stale_rows`). ``roster``
    (e.g. the plan's officers.csv edited: stations, skills, home villages) replaces the plan's own roster.
    """
    from planner.districts import check_districts

    derived = edited_layers(plan, rules=rules, times=times)
    villages = derived.villages
    violations = list(check_districts(villages, times, rules=rules))
    # a roster given to the check (edited stations, skills, home villages) replaces the plan's own
    roster = _given_roster(roster, derived, source=roster_source) if roster is not None else _roster_of(plan)
    if len(plan.schedule):  # stale rows need no travel times
        violations += stale_rows(plan, derived, roster)
    if len(plan.schedule) and times is not None:
        from planner.patrol.month import check_schedule
        from planner.patrol.roster import patrol_assignment

        assignment = patrol_assignment(villages, derived.offices, derived.districts)
        month = str(plan.summary.get("month") or str(plan.schedule["date"].min())[:7])
        violations += list(
            check_schedule(plan.schedule, assignment, times, rules=rules.patrol, month=month, roster=roster)
        )
    if roster is not None:
        violations += check_people(plan, derived, roster, rules=rules, source=roster_source)
    return violations


def _given_roster(roster: pd.DataFrame, derived: Any, *, source: str) -> pd.DataFrame:
    """A roster file given to ``planner check``: offices as village ids or names resolved to the plan's offices,
    then checked like the planner checks it."""
    from planner.patrol.roster import (
        check_roster,
        name_roster_homes,
        name_roster_offices,
        patrol_assignment,
        resolve_roster_offices,
    )

    a = patrol_assignment(derived.villages, derived.offices, derived.districts)
    a.index = a.index.astype(str)
    r = name_roster_homes(name_roster_offices(roster, derived.villages), derived.villages)
    r = resolve_roster_offices(r, a, source=source)
    return check_roster(r, a, source=source)


def check_people(
    plan: PlanData, derived: Any, roster: pd.DataFrame, *, rules: Rules, source: str
) -> list[Violation]:
    """R9 on the plan's stations layer and R10 on the schedule's links (the officer who visits a village most),
    both with ``roster``; a plan without a stations layer or village needs is not checked for them."""
    from planner.patrol.rulebook import r10
    from planner.stations import roster_stations, station_force

    out: list[Violation] = []
    v = derived.villages
    office_of = v["office_id"].astype(str)
    if plan.stations is not None and len(plan.stations):
        st = plan.stations.assign(station_id=plan.stations["station_id"].astype(str))
        d_station = {
            d: str(s)
            for s, ds in zip(st["station_id"], st["districts"], strict=True)
            for d in str(ds).split(";")
            if d
        }
        district = v["district_id"].astype(str)
        office_station = {str(o): d_station.get(district[vid], "") for vid, o in office_of.items()}
        who = roster_stations(roster, st, office_station, source=source)
        out += station_force(st, roster, who, rules=rules.stations)[1]
    needs = plan.summary.get("village_needs")
    if isinstance(needs, dict) and needs and len(plan.schedule):
        frame = pd.DataFrame.from_dict(needs, orient="index")
        frame.index = frame.index.astype(str)
        frame["main_road"] = frame["main_road"].astype(bool)
        frame["high_incident"] = frame["high_incident"].astype(bool)
        matching = r10.Matching.of(roster, frame, rules=rules.matching)
        links = r10.links_from_schedule(plan.schedule)
        names = dict(zip(v.index.astype(str), v["name"].astype(str), strict=True))
        out += r10.violations(r10.evaluate(matching, links, roster, office_of, names=names))
    return out


def edited_layers(plan: PlanData, *, rules: Rules, times: TravelTimes | None) -> Any:
    """The districts and offices the villages layer now makes, as a :class:`~planner.districts.DistrictPlan`
    (villages indexed by village_id in a metric CRS, with ``office_village_id``).

    A district's office is the office of the offices layer whose village lies in it; a district with none (a
    new district id) gets the office id most of its villages carry if no other office has that id, else the
    next free ``O..``, sited at its village with the shortest longest trip to the others. Officers: the
    districts layer's for a district it knows, else R2's count for the district's residents.
    """
    from planner.districts.plan import DistrictPlan
    from planner.geo import metric_crs

    v = plan.villages.set_index("village_id")
    v.index = v.index.astype(str)
    v = v.to_crs(metric_crs(v))
    district = v["district_id"].astype(str)
    offices = plan.offices.assign(office_id=plan.offices["office_id"].astype(str))
    site = dict(zip(offices["office_id"], offices["village_id"].astype(str), strict=True))
    office_of: dict[str, str] = {}
    for o, s in sorted(site.items()):
        d = district.get(s)
        if d is not None and d not in office_of:
            office_of[d] = o
    taken = set(site)
    for d in sorted(set(district) - set(office_of)):
        members = district.index[district == d]
        votes = v.loc[members, "office_id"].astype(str).value_counts()
        free = [o for o in votes.index if o and o not in taken and o != "nan"]
        o = free[0] if free else _next_office_id(taken)
        taken.add(o)
        office_of[d] = o
        site[o] = _best_site(members, times)
    v["office_id"] = district.map(office_of)
    v["office_village_id"] = v["office_id"].map(site)
    if times is not None:
        # village -> office, as the plan writes travel_min_to_office and counts resident-minutes
        sub = times.subset(v.index, pd.Index(sorted(set(v["office_village_id"]))))
        minutes = pd.DataFrame(sub.seconds / 60.0, index=sub.origins, columns=sub.destinations)
        v["travel_min_to_office"] = [float(minutes.at[i, o]) for i, o in v["office_village_id"].items()]
    known = plan.districts.set_index(plan.districts["district_id"].astype(str))["officers"]
    rows = []
    for d, grp in v.groupby(district, sort=True):
        pop = float(grp["population"].sum())
        travel = pd.to_numeric(grp["travel_min_to_office"], errors="coerce")
        officers = int(known[d]) if d in known.index else rules.districts.officers_for(pop)
        rows.append(
            {
                "district_id": d,
                "n_villages": len(grp),
                "population": int(pop),
                "officers": officers,
                "office_id": office_of[d],
                "max_travel_min": float(travel.max()),
                "mean_travel_min": float(travel.mean()),
                "geometry": grp.geometry.union_all(),
            }
        )
    districts = gpd.GeoDataFrame(rows, geometry="geometry", crs=v.crs)
    old_points = dict(zip(offices["office_id"], offices.to_crs(v.crs).geometry, strict=True))
    office_rows = []
    for r in districts.itertuples():
        o, s = str(r.office_id), site[str(r.office_id)]
        moved = o not in old_points or str(plan.offices.set_index("office_id")["village_id"].get(o)) != s
        point = v.geometry[s].representative_point() if moved or s not in v.index else old_points[o]
        office_rows.append(
            {
                "office_id": o,
                "village_id": s,
                "district_id": r.district_id,
                "officers": r.officers,
                "geometry": point,
            }
        )
    offices_out = gpd.GeoDataFrame(office_rows, geometry="geometry", crs=v.crs)
    return DistrictPlan(villages=v, districts=districts, offices=offices_out, violations=[])


def _next_office_id(taken: set[str]) -> str:
    n = 1
    while f"O{n:02d}" in taken:
        n += 1
    return f"O{n:02d}"


def _best_site(members: pd.Index, times: TravelTimes | None) -> str:
    """The member village to which the longest trip from the others is shortest (the first by id without times)."""
    ids = pd.Index(sorted(members.astype(str)))
    if times is None or len(ids) == 1:
        return str(ids[0])
    worst = times.subset(ids, ids).seconds.max(axis=0)
    return str(ids[int(np.argmin(worst))])


_VISITS = ("visit", "night_visit")
#: the command that plans the month again on districts a bureau edited: every district kept as the layer has it
REPLAN_EN = "planner plan --villages ... --roads ... --current EDITED_PLAN_DIR --lock all"
REPLAN_ZH = "planner plan --villages ... --roads ... --current 修改后的方案目录 --lock all"


def stale_rows(plan: PlanData, derived: Any, roster: pd.DataFrame | None) -> list[Violation]:
    """Schedule rows an edit made stale: a visit by an officer of another office than the village's (now),
    an office day at a village that is no longer the officer's office; one violation per row, with names."""
    v = derived.villages
    office_of = v["office_id"].astype(str)
    site = dict(
        zip(derived.offices["office_id"].astype(str), derived.offices["village_id"].astype(str), strict=True)
    )
    names = v["name"].astype(str)
    if roster is not None:
        home = dict(zip(roster["officer_id"].astype(str), roster["office"].astype(str), strict=True))
    else:
        home = {}
    out: list[Violation] = []
    visits: dict[tuple[str, str], list[tuple[int, str]]] = {}  # (officer, village) -> its stale (line, date)
    known_offices = set(site) | set(office_of)

    def named(vid: str) -> str:
        return f"{vid} ({names[vid]})" if vid in names.index else vid

    for i, r in enumerate(plan.schedule.itertuples(index=False), start=2):
        officer, vid, act, day = str(r.officer_id), str(r.village_id), str(r.activity), str(r.date)
        mine = home.get(officer) or officer.rsplit("-", 1)[0]
        if mine not in known_offices:
            continue
        if act in _VISITS and vid in office_of.index and office_of[vid] != mine:
            visits.setdefault((officer, vid), []).append((i, day))
        elif act == "office" and mine in site and vid and vid != site[mine]:
            name = named(vid)
            out.append(
                Violation(
                    "schedule",
                    officer,
                    f"schedule line {i}: officer {officer} keeps office on {day} at {name}, but office {mine} is now "
                    f"at {site[mine]} ({names.get(site[mine], '')})",
                    f"排班表第 {i} 行: 民警 {officer} 于 {day} 在 {name} 坐班, 但警务室 {mine} 现位于 {site[mine]}"
                    f"({names.get(site[mine], '')})",
                    kind="schedule",
                )
            )
    for (officer, vid), rows in sorted(visits.items()):
        mine = home.get(officer) or officer.rsplit("-", 1)[0]
        name = named(vid)
        d, o = str(v.at[vid, "district_id"]), office_of[vid]
        lines = ", ".join(str(i) for i, _ in rows)
        days = sorted({day for _, day in rows})
        out.append(
            Violation(
                "schedule",
                vid,
                f"{name} now belongs to district {d} (office {o}), but the schedule still has officer {officer} "
                f"(office {mine}) visit it on {len(days)} day(s) ({', '.join(days)}; lines {lines}): re-plan the "
                f"month on the edited districts ({REPLAN_EN}) or give these visits to an officer of office {o}",
                f"{name} 现属警务区 {d}(警务室 {o}), 但排班表仍由民警 {officer}(警务室 {mine})走访 {len(days)} 天"
                f"({'、'.join(days)}; 第 {lines} 行): 请按修改后的警务区重新排班({REPLAN_ZH}), 或改由警务室 {o} "
                "的民警走访",
                kind="schedule",
            )
        )
    return out


def id_pieces(text: str, names: dict[str, str]) -> list[tuple[str, str | None]]:
    """``text`` cut at the village ids in it: (text, None) between them, (its text, id) for each id, the text
    being the id with the bracket naming it when one follows ("V1 (大寨村)", "V1（大寨村）"); another bracket
    ("to osm-n64954396 (13 min)") stays text. numpy's reprs of text are removed first (``np.str_('O01')``
    reads O01)."""
    text = re.sub(r"np\.str_\('([^']*)'\)", r"\1", text)
    ids = [i for i in names if i and names[i] and i in text]
    if not ids:
        return [(text, None)] if text else []
    pattern = re.compile(
        # an id ends at a letter, digit, _ or -, not at a Chinese character: "到V1" names V1
        r"(?<![A-Za-z0-9_-])("
        + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
        + r")(?![A-Za-z0-9_-])"
    )
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for m in pattern.finditer(text):
        if m.start() < at:  # inside the bracket of the id before it
            continue
        vid, end = m.group(1), m.end()
        if text[at : m.start()]:
            pieces.append((text[at : m.start()], None))
        for own in (f" ({names[vid]})", f"({names[vid]})", f" （{names[vid]}）", f"（{names[vid]}）"):
            if text.startswith(own, end):
                end += len(own)
                break
        pieces.append((text[m.start() : end], vid))
        at = end
    if text[at:]:
        pieces.append((text[at:], None))
    return pieces


def named(text: str, names: dict[str, str]) -> str:
    """``text`` with every village id in it followed by the village's name in brackets, once (an id already
    named is left so; one followed by another bracket is named too: "to osm-n64954396 (Encamp) (13 min)")."""
    return "".join(p if p != vid else f"{p} ({names[p]})" for p, vid in id_pieces(text, names))


def edited_plan(
    plan: PlanData, *, rules: Rules, times: TravelTimes | None, violations: list[Violation]
) -> PlanData:
    """The plan the edits make (``planner check --write``): layers re-derived from the villages layer
    (:func:`edited_layers`), the summary's district figures, coverage and violations recomputed, the schedule
    and routes as they are."""
    from planner.offices import coverage_by_minutes, own_office_coverage, service_area
    from planner.settings import OUTPUT_CRS

    derived = edited_layers(plan, rules=rules, times=times)
    figures = derived.summary()
    summary = dict(plan.summary)
    from planner.districts.plan import DistrictPlan

    summary.update({key: figures[key] for key in DistrictPlan.FIGURES})
    thresholds = rules.offices.coverage_thresholds_min
    # coverage is each village's own office (R11), as in a fresh plan; the nearest office of any district is
    # kept under its own name
    summary["coverage_pct"] = coverage_by_minutes(
        own_office_coverage(derived.villages, thresholds_min=thresholds)
    )
    if times is not None:
        sa = service_area(
            times,
            derived.offices["village_id"].tolist(),
            derived.villages["population"],
            thresholds_min=thresholds,
        )
        summary["coverage_any_office_pct"] = coverage_by_minutes(sa)
    summary["violations"] = [{**x.to_dict(), "subject": str(x.subject)} for x in violations]
    summary["rules"] = rules.to_dict()
    summary["edited"] = True
    villages = derived.villages.drop(columns=["office_village_id"]).reset_index()
    return PlanData(
        villages=villages.to_crs(OUTPUT_CRS),
        districts=derived.districts.to_crs(OUTPUT_CRS),
        offices=derived.offices.to_crs(OUTPUT_CRS),
        summary=summary,
        routes=plan.routes,
        schedule=plan.schedule,
        current=plan.current,
        # the stations stay as the plan placed them (a station serves townships, which an edit does not move)
        stations=plan.stations,
    )


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
            **{k: [str(r.get(k, "")) for r in rows] for k in ROSTER_EXTRA if any(k in r for r in rows)},
        }
    )


def rules_of(summary: dict[str, Any]) -> Rules:
    """The rules a plan was made with (its summary.json), so that a check without --config checks the same
    rules and the report describes the rules in force; the defaults for a summary without them."""
    return Rules.of_summary(summary)


def rule_labels(rules: Rules, lang: str = "zh") -> dict[str, str]:
    """Every bureau rule's one-line description with the values in force (R1-R11), by rule id.

    Each label comes from the module where its rule lives (districts/check for R1, R2; patrol's rulebook for
    R4-R8, R10; stations for R9; offices for R11); R3 keeps its fixed text.
    """
    from planner.districts.check import r1_label, r2_label
    from planner.offices import r11_label
    from planner.patrol.rulebook import labels, r10
    from planner.stations import label as r9_label
    from planner.texts import t

    out = {"R1": r1_label(rules, lang), "R2": r2_label(rules, lang)}
    out["R3"] = t("rule.R3", lang)
    out.update(labels(rules.patrol, lang))
    out["R9"] = r9_label(rules.stations, lang)
    out["R10"] = r10.label(rules.matching, lang)
    out["R11"] = r11_label(rules, lang)
    return out

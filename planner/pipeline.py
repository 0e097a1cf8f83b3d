"""The whole job: villages and roads in, a plan directory out (``planner plan`` and ``planner demo``).

Each stage is timed; the stages' results become one :class:`planner.plan.PlanData`, which is written to the
plan directory atomically (nothing half-written is left when a stage fails or the run is interrupted).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.errors import ValidationError
from planner.io.cache import TravelTimeCache
from planner.model import PlanData, Violation
from planner.network import leg_lines
from planner.network.estimate import ESTIMATED, straight_legs, terrain_factors
from planner.outputs.summary import build_summary
from planner.patrol.roster import check_roster, patrol_assignment, resolve_roster_offices
from planner.rules import Rules
from planner.settings import DISTRICTS_TIME_CAP, MAX_SHIPPED_MATRIX, OUTPUT_CRS, PATROL_WORK_BUDGET
from planner.texts import t

log = logging.getLogger(__name__)


@dataclass
class StageClock:
    """Seconds per stage, and a hook that tells the CLI which stage runs (for its progress display)."""

    on_stage: Callable[[str], None] | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.on_stage:
            self.on_stage(name)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - t0, 3)
            log.info("stage %s: %.2f s", name, self.seconds[name])


def default_month(today: dt.date | None = None) -> str:
    """Next month as YYYY-MM: a plan is made ahead of the month it covers."""
    d = today or dt.date.today()
    return f"{d.year + (d.month == 12)}-{d.month % 12 + 1:02d}"


def check_month(month: str) -> str:
    """Validate a YYYY-MM month."""
    try:
        dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValidationError(
            f"--month '{month}' is not a month; write it as YYYY-MM, e.g. 2026-12.",
            zh=f"--month '{month}' 不是月份; 请写成 YYYY-MM, 例如 2026-12。",
        ) from None
    return month


@dataclass(frozen=True, eq=False)
class PlanResult:
    """A finished plan and what the command should say about it."""

    plan: PlanData
    hard_breaks: int
    times: Any = None  # the village travel-time matrix, shipped in the plan directory for `planner check`

    @property
    def exit_code(self) -> int:
        return 1 if self.hard_breaks else 0


def make_plan(
    villages: gpd.GeoDataFrame,
    roads: Any,
    *,
    rules: Rules,
    month: str,
    current: pd.Series | None = None,
    roster: pd.DataFrame | None = None,
    roster_source: str = "officer roster",
    candidates: list[str] | None = None,
    locked: list[str] | None = None,
    n_districts: int | None = None,
    seed: int = 0,
    time_limit: float | None = None,
    cache_dir: Path | None = None,
    clock: StageClock | None = None,
    county: Any = None,
    stations: gpd.GeoDataFrame | None = None,
    stations_source: str = "townships",
    executor: Any = None,
) -> PlanResult:
    """Run every stage on villages (metric CRS, indexed by village_id) and roads read by planner.io.roads.

    Returns the plan in WGS-84 with its summary; raises the planner's errors when a stage cannot go on.
    ``roads`` None plans without road data (every travel time estimated); ``county`` (an official county of
    planner.io.nbs) adds summary.json's ``nbs``, the layer's completeness against the official list.
    ``stations`` (planner.io.stations.read_stations) are the county's police stations; None gives one per
    township at its seat (planner.stations).
    """
    from planner.districts import plan_districts
    from planner.network import build_network, locate_villages, travel_times
    from planner.network.estimate import estimated_access, estimated_times, fill_unreachable
    from planner.offices import place_offices
    from planner.patrol import plan_month

    clock = clock or StageClock()
    with clock.stage("network"):
        # roads=None: no road data at all (--roads none); every travel time is then estimated and flagged
        network = None if roads is None else build_network(roads, rules=rules.network, crs=villages.crs)
        access = (
            estimated_access(villages, rules.network)
            if network is None
            else locate_villages(network, villages, rules=rules.network)
        )
    with clock.stage("travel_times"):
        if network is None:
            times = estimated_times(villages, rules.network)
        else:
            cache = TravelTimeCache(cache_dir) if cache_dir is not None else None
            times = travel_times(network, access, cache=cache)
            if rules.network.estimate_unreachable:
                times, access = fill_unreachable(times, access, villages, rules.network)
    with clock.stage("districts"):
        partition = plan_districts(
            villages,
            times,
            access,
            rules=rules,
            current=current,
            candidates=candidates,
            locked=locked,
            n_districts=n_districts,
            seed=seed,
            time_limit=time_limit or DISTRICTS_TIME_CAP,
            network=network,
            executor=executor,
        )
        dplan = place_offices(partition, rules=rules)
    with clock.stage("stations"):
        from planner.stations import plan_stations

        assignment = patrol_assignment(dplan.villages, dplan.offices, dplan.districts)
        # a village beyond the road: its walk (one way, minutes) is marked as walking in the schedule
        walk_s = access["walk_s"].where(access["access"] == "walk", 0.0)
        assignment["walk_min"] = (walk_s.reindex(assignment.index) / 60.0).fillna(0.0)
        station_plan = plan_stations(
            dplan.villages.assign(office_village_id=assignment["office_village_id"]),
            times,
            rules=rules.stations,
            given=stations,
            source=stations_source,
        )
    with clock.stage("patrol"):
        if roster is not None:
            roster = resolve_roster_offices(roster, assignment, source=roster_source)
            # checked here, where the file is known, so that an error names it and the line
            check_roster(roster, assignment.set_axis(assignment.index.astype(str)), source=roster_source)
        matching = _matching(villages, network, roster, rules=rules)
        patrol = plan_month(
            assignment,
            times,
            rules=rules.patrol,
            month=month,
            roster=roster,
            matching=matching,
            seed=seed,
            time_limit=time_limit or PATROL_WORK_BUDGET,
            executor=executor,
        )
        if roster is not None:
            patrol = _unstaffed_offices_once(patrol, assignment, dplan.villages)
    with clock.stage("routes"):
        routes = _route_lines(network, access, villages, patrol.legs, rules=rules)
    summary = build_summary(
        dplan,
        patrol,
        times,
        access,
        rules=rules,
        month=month,
        seconds=clock.seconds,
        network_summary=network.summary() if network is not None else _no_roads_summary(rules),
    )
    _add_stations_and_matches(
        summary, station_plan, patrol, assignment, matching, dplan.villages, rules, roster_source
    )
    # why a village is walk-only or unreachable travels with it into the layer a planner opens in QGIS
    villages_out = dplan.villages.assign(
        access_reason=access["reason"].reindex(dplan.villages.index)
    ).reset_index()
    plan = PlanData(
        villages=villages_out.to_crs(OUTPUT_CRS),
        districts=dplan.districts.to_crs(OUTPUT_CRS),
        offices=dplan.offices.to_crs(OUTPUT_CRS),
        routes=routes.to_crs(OUTPUT_CRS),
        schedule=patrol.schedule,
        summary=summary,
        current=_current_layer(villages, current),
        stations=station_plan.stations.to_crs(OUTPUT_CRS),
    )
    if county is not None:
        from planner.nbs import compare_official

        # what the layer has, misses, adds or names otherwise against the county's official village list
        summary["nbs"] = compare_official(villages, county).summary()
    detected = villages.attrs.get("detected") or {}
    if detected.get("crs"):  # layers go back in the user's CRS; GCJ-02 was converted, so WGS-84 and said so
        summary["layer_crs"] = detected["crs"]
        if detected.get("gcj02"):
            summary["crs_note"] = t("note.gcj02", "en")
            summary["crs_note_zh"] = t("note.gcj02", "zh")
    if roster is not None:  # the officers the bureau has, not the ones R2 would give it
        summary["officers"] = len(patrol.roster)
    hard = [v for v in summary["violations"] if v["hard"]]
    return PlanResult(plan=plan, hard_breaks=len(hard), times=times)


def _matching(villages: gpd.GeoDataFrame, network: Any, roster: pd.DataFrame | None, *, rules: Rules) -> Any:
    """R10's preferences for the linking: the villages' needs (main roads from the network, incidents from the
    layer) and the roster's skills and home villages; None without a roster (a generated roster has neither)."""
    from planner.patrol.rulebook import r10

    if roster is None:
        return None
    needs = r10.village_needs(villages, network, rules=rules.matching)
    return r10.Matching.of(roster, needs, rules=rules.matching)


def _add_stations_and_matches(
    summary: dict[str, Any],
    station_plan: Any,
    patrol: Any,
    assignment: pd.DataFrame,
    matching: Any,
    villages: pd.DataFrame,
    rules: Rules,
    roster_source: str,
) -> None:
    """summary.json's ``stations`` (the layer's figures, officers by kind and R9 per station) and ``matches``
    (R10: every wanted match, met or missed with its reason), their breaks in ``violations`` and the stations
    short of community officers in ``shortfall``."""
    from planner.patrol.rulebook import r10
    from planner.stations import roster_stations, station_force

    office_of = assignment["office_id"].astype(str)
    office_of.index = office_of.index.astype(str)
    district_of = assignment["district_id"].astype(str)
    district_of.index = office_of.index
    office_station = {o: station_plan.district_station[district_of[v]] for v, o in office_of.items()}
    officer_station = roster_stations(
        patrol.roster, station_plan.stations, office_station, source=roster_source
    )
    rows, r9_breaks, short = station_force(
        station_plan.stations, patrol.roster, officer_station, rules=rules.stations
    )
    summary["stations"] = {**station_plan.summary(), "force": rows}
    station_name = dict(
        zip(station_plan.stations["station_id"], station_plan.stations["name"].astype(str), strict=True)
    )
    for r in summary["roster"]:  # officers.csv then names each officer's station, for the bureau to edit
        r["station"] = station_name.get(officer_station.get(r["officer_id"], ""), "")
    found = list(r9_breaks)
    if matching is not None:
        names = dict(zip(villages.index.astype(str), villages["name"].astype(str), strict=True))
        matches = r10.evaluate(matching, patrol.links, patrol.roster, office_of, names=names)
        summary["matches"] = matches
        summary["village_needs"] = {
            str(i): {
                "main_road": bool(r.main_road),
                "main_road_m": None if pd.isna(r.main_road_m) else round(float(r.main_road_m)),
                "incidents": None if pd.isna(r.incidents) else float(r.incidents),
                "high_incident": bool(r.high_incident),
            }
            for i, r in matching.needs.iterrows()
        }
        found += r10.violations(matches)
    summary["violations"] = [
        *summary["violations"],
        *({**v.to_dict(), "subject": str(v.subject)} for v in found),
    ]
    summary["shortfall"] = [*summary["shortfall"], *short]


def _route_lines(
    network: Any, access: pd.DataFrame, villages: gpd.GeoDataFrame, legs: pd.DataFrame, *, rules: Rules
) -> gpd.GeoDataFrame:
    """The legs along the roads; a leg to or from a village whose travel is estimated is a straight line whose
    km is the estimate's (there is no road to draw it on)."""
    est = set(access.index[access["access"] == ESTIMATED].astype(str))
    by_estimate = legs["from_id"].astype(str).isin(est) | legs["to_id"].astype(str).isin(est)
    if network is None or by_estimate.all():
        return straight_legs(villages, legs, rules.network)
    road = leg_lines(network, access, legs[~by_estimate])
    if not by_estimate.any():
        return road
    straight = straight_legs(villages, legs[by_estimate], rules.network).to_crs(road.crs)
    return gpd.GeoDataFrame(pd.concat([road, straight]).loc[legs.index], crs=road.crs)


def _no_roads_summary(rules: Rules) -> dict[str, Any]:
    """summary.json's ``network`` when the plan has no road data: how the travel times were estimated."""
    circuity, kmh = terrain_factors(rules.network)
    return {
        "roads": "none",
        "estimated": True,
        "terrain": rules.network.terrain,
        "circuity": circuity,
        "speed_kmh": kmh,
    }


def _unstaffed_offices_once(patrol: Any, assignment: pd.DataFrame, villages: pd.DataFrame) -> Any:
    """The patrol plan with one violation per office the roster gives no officer, in place of a line for every
    rule each of its villages then breaks."""
    import dataclasses

    office = assignment["office_id"].astype(str)
    office.index = office.index.astype(str)
    empty = sorted(set(office) - set(patrol.roster["office"].astype(str)))
    if not empty:
        return patrol
    names = villages["name"].astype(str)
    names.index = names.index.astype(str)
    site = assignment["office_village_id"].astype(str)
    site.index = office.index
    orphans = set(office.index[office.isin(empty)])
    kept = [v for v in patrol.violations if str(v.subject) not in orphans]
    for o in empty:
        vill = office.index[office == o]
        where = site[vill[0]]
        shown = "、".join(f"{names.get(v, v)}" for v in vill[:8]) + ("…" if len(vill) > 8 else "")
        shown_en = ", ".join(f"{names.get(v, v)}" for v in vill[:8]) + (", ..." if len(vill) > 8 else "")
        kept.append(
            Violation(
                "R3",
                o,
                f"office {o} ({names.get(where, where)}) has no officer in the roster: its {len(vill)} villages "
                f"({shown_en}) get no visits; add officers of {o} (or of village {where}) to the roster",
                f"警务室 {o}({names.get(where, where)})在名册中没有民警: 其 {len(vill)} 个村({shown})无人走访;"
                f"请在名册中为 {o}(或村代码 {where})添加民警",
                kind="office",
            )
        )
    return dataclasses.replace(patrol, violations=kept)


def _current_layer(villages: gpd.GeoDataFrame, current: pd.Series | None) -> gpd.GeoDataFrame | None:
    if current is None:
        return None
    cur = villages[["name", "township", "population", "geometry"]].copy()
    cur["district_id"] = current.reindex(villages.index).astype(str)
    cur = cur.reset_index()
    return cur.to_crs(OUTPUT_CRS)


def write_outputs(
    result: PlanResult,
    out: Path,
    *,
    lang: str,
    overwrite: bool,
    basemap: str = "none",
    tile_key: str | None = None,
    shapefile_encoding: str | None = None,
) -> None:
    """plan.gpkg, summary.json, schedule, map.html, report.html and report.pdf (and Shapefiles on request),
    atomically.

    report.pdf is printed by headless Chromium (:func:`planner.io.pdf.report_pdf`); without it the plan is
    still written, summary.json's ``report_pdf`` says why there is no PDF and how to get one, and a warning says
    it on the terminal.
    """
    from dataclasses import replace

    from planner.io.pdf import start_report_pdf
    from planner.io.plan_files import TIMES_FILE, times_to_npz, write_plan_dir
    from planner.outputs.maps import map_html, plan_map
    from planner.outputs.report import report_html
    from planner.outputs.sheets import route_sheets_html

    report = report_html(result.plan, lang=lang)
    printing = start_report_pdf(report)  # Chromium prints while the map and the sheets are made
    try:
        extra: dict[str, str | bytes] = {
            # map_html inlines Leaflet and its plugins: the map works in a meeting room without internet
            "map.html": map_html(plan_map(result.plan, lang=lang, tiles=basemap, tile_key=tile_key)),
            "report.html": report,
            "route_sheets.html": route_sheets_html(result.plan, lang=lang),
        }
    except BaseException:
        printing.cancel()
        raise
    pdf = printing.result()
    if pdf.pdf is not None:
        extra["report.pdf"] = pdf.pdf
        status: dict[str, Any] = {"made": True}
    else:
        log.warning("%s", pdf.reason_zh if lang == "zh" else pdf.reason)
        status = {"made": False, "reason": pdf.reason, "reason_zh": pdf.reason_zh}
    # how the plan directory was exported, so that `planner check --write` writes the same set of files (the
    # tile key is a credential and is not kept: a regenerated Tianditu map needs it again)
    exports = {"shapefile_encoding": shapefile_encoding, "basemap": basemap}
    plan = replace(result.plan, summary={**result.plan.summary, "report_pdf": status, "exports": exports})
    if result.times is not None and len(result.times.origins) <= MAX_SHIPPED_MATRIX:
        extra[TIMES_FILE] = times_to_npz(result.times)
    write_plan_dir(
        plan,
        out,
        overwrite=overwrite,
        extra_files=extra,
        shapefile_encoding=shapefile_encoding,
        lang=lang,
    )

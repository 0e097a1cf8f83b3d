"""A small, realistic plan (PlanData) for the map, report and browser tests.

Nine villages on a 3 x 3 grid near Mouding, Yunnan, in three districts (one per grid column), an office per
district, two officers with two days of routes each, a schedule, a summary with violations and dropped visits,
and the current districts (rows instead of columns, so most villages move). Names include HTML and JavaScript
that must stay text.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, box

from planner.model import PlanData

EVIL_NAME = "<script>alert(1)</script>"
QUOTE_NAME = '王家"大"村\'s'
TEMPLATE_NAME = "`${alert(2)}`\\u寨"

NAMES = ["李家村", EVIL_NAME, "张家寨", QUOTE_NAME, "白石村", "大坪村", TEMPLATE_NAME, "新村", "河口村"]
TOWNSHIPS = ["共和镇", "共和镇", "共和镇", "安乐乡", "安乐乡", "安乐乡", "戌街乡", "戌街乡", "戌街乡"]
POPULATION = [1200, 850, 2300, 640, 1800, 990, 1500, 2100, 700]
# travel minutes to the office (offices in V1, V5, V3); village 8 (index 7) is walk-only, village 9 (index 8) unreachable
TRAVEL = [0.0, 12.5, 0.0, 17.0, 0.0, 45.0, 28.0, 52.0, math.nan]
ACCESS = ["road", "road", "road", "road", "road", "road", "road", "walk", "unreachable"]
LON0, LAT0, STEP = 101.50, 25.30, 0.03


def village_ids() -> list[str]:
    return [f"V{i + 1}" for i in range(9)]


def make_plan(*, routes: bool = True, current: bool = True, crs: Any = "EPSG:4326") -> PlanData:
    """The fixture plan; ``routes=False`` drops routes and schedule, ``current=False`` the current districts."""
    ids = village_ids()
    geoms, district = [], []
    for i in range(9):
        col, row = i % 3, i // 3
        x, y = LON0 + col * STEP, LAT0 + row * STEP
        geoms.append(box(x, y, x + STEP, y + STEP))
        district.append(f"D{col + 1}")
    office_of = {"D1": "V1", "D2": "V5", "D3": "V3"}
    villages = gpd.GeoDataFrame(
        {
            "village_id": ids,
            "name": NAMES,
            "township": TOWNSHIPS,
            "population": POPULATION,
            "district_id": district,
            "office_id": [f"O{d[1:]}" for d in district],
            "travel_min_to_office": TRAVEL,
            "access": ACCESS,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    districts = villages.dissolve(by="district_id", as_index=False, aggfunc={"population": "sum"})
    districts["n_villages"] = (
        villages.groupby("district_id").size().reindex(districts["district_id"]).to_numpy()
    )
    districts["officers"] = [1, 1, 2]
    districts["office_id"] = ["O1", "O2", "O3"]
    districts["max_travel_min"] = villages.groupby("district_id")["travel_min_to_office"].max().to_numpy()
    districts["mean_travel_min"] = villages.groupby("district_id")["travel_min_to_office"].mean().to_numpy()
    districts = districts[
        [
            "district_id",
            "n_villages",
            "population",
            "officers",
            "office_id",
            "max_travel_min",
            "mean_travel_min",
            "geometry",
        ]
    ]
    centroid = dict(zip(ids, villages.geometry.representative_point(), strict=True))
    offices = gpd.GeoDataFrame(
        {
            "office_id": ["O1", "O2", "O3"],
            "village_id": [office_of["D1"], office_of["D2"], office_of["D3"]],
            "district_id": ["D1", "D2", "D3"],
            "officers": [1, 1, 2],
        },
        geometry=[centroid[office_of[d]] for d in ("D1", "D2", "D3")],
        crs="EPSG:4326",
    )
    legs = [
        ("P1", "2025-03-03", ["V1", "V4", "V1"]),
        ("P1", "2025-03-05", ["V1", "V7", "V1"]),
        ("P2", "2025-03-03", ["V5", "V2", "V8", "V5"]),
        ("P2", "2025-03-04", ["V5", "V2", "V5"]),
    ]
    rows, sched = [], []
    for officer, date, stops in legs:
        for seq, (a, b) in enumerate(itertools.pairwise(stops), start=1):
            rows.append(
                {
                    "officer_id": officer,
                    "date": date,
                    "seq": seq,
                    "from_id": a,
                    "to_id": b,
                    "minutes": 10.0 * seq,
                    "km": 6.5 * seq,
                    "geometry": LineString([centroid[a], centroid[b]]),
                }
            )
        for k, stop in enumerate(stops[1:-1]):
            sched.append(
                {
                    "officer_id": officer,
                    "date": date,
                    "start": f"{9 + 4 * k:02d}:00",
                    "end": f"{13 + 4 * k:02d}:00",
                    "village_id": stop,
                    "activity": "visit",
                    "minutes": 240,
                }
            )
    sched.append(
        {
            "officer_id": "P1",
            "date": "2025-03-05",
            "start": "20:00",
            "end": "21:00",
            "village_id": "V7",
            "activity": "night_visit",
            "minutes": 60,
        }
    )
    sched.append(
        {
            "officer_id": "P2",
            "date": "2025-03-06",
            "start": "09:00",
            "end": "17:00",
            "village_id": "V5",
            "activity": "office",
            "minutes": 480,
        }
    )
    summary = {
        "villages": 9,
        "population": sum(POPULATION),
        "districts": 3,
        "offices": 3,
        "officers": 4,
        "coverage_pct": {"15": 50.9, "30": 68.6, "60": 94.2},
        "max_travel_min": 52.0,
        "mean_travel_min": 19.3,
        "district_villages": {"min": 3, "max": 3},
        "district_population": {"min": 3340, "max": 4750, "cv": 0.15},
        "visit_requirements_met_pct": 87.5,
        "unreachable_villages": ["V9"],
        "violations": [
            {
                "rule": "R1",
                "subject": "D1",
                "detail": "3 villages, fewer than 5",
                "detail_zh": "3个行政村，少于5个",
            },
            {
                "rule": "R11",
                "subject": "V8",
                "detail": f"{QUOTE_NAME} is 52 min from its office, over 45",
                "detail_zh": f"{QUOTE_NAME}距警务室52分钟，超过45分钟",
            },
        ],
        "dropped_visits": [
            {
                "officer_id": "P2",
                "village_id": "V9",
                "reason": "no road reaches <b>V9</b>",
                "reason_zh": "无道路通达<b>V9</b>",
            },
        ],
        "seconds": {"network": 1.2, "districts": 3.4, "patrol": 5.6},
    }
    kwargs: dict[str, Any] = {}
    if routes:
        kwargs["routes"] = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs="EPSG:4326")
        kwargs["schedule"] = pd.DataFrame(sched)
    if current:
        # current districts by grid row: V1-V3 -> C1, V4-V6 -> C2, V7-V9 -> C3
        kwargs["current"] = gpd.GeoDataFrame(
            {"village_id": ids, "district_id": [f"C{i // 3 + 1}" for i in range(9)]},
            geometry=geoms,
            crs="EPSG:4326",
        )
    plan = PlanData(villages=villages, districts=districts, offices=offices, summary=summary, **kwargs)
    if crs != "EPSG:4326":
        plan = PlanData(
            villages=plan.villages.to_crs(crs),
            districts=plan.districts.to_crs(crs),
            offices=plan.offices.to_crs(crs),
            summary=summary,
            routes=plan.routes.to_crs(crs),
            schedule=plan.schedule,
            current=None if plan.current is None else plan.current.to_crs(crs),
        )
    return plan


# -- a plan made by the real monthly planner (planner.patrol.month) ------------------------------------------
GEN_CRS = "EPSG:32648"  # UTM 48N: Yunnan
GEN_XY_KM = [(0, 0), (8, 0), (0, 9), (-7, -5), (6, -8), (-4, 6)]
GEN_MONTH = "2026-10"


def make_generated_plan(*, seed: int = 1, time_limit: float = 10.0) -> PlanData:
    """A plan whose schedule and legs come from :func:`planner.patrol.plan_month` on one district.

    Six 2 km square villages (the second named ``<script>alert(1)</script>``) at GEN_XY_KM in UTM 48N, the
    office in V1, two officers (the generated roster, recorded in ``summary["roster"]``), straight-line drives
    at 30 km/h; each leg of the plan becomes a straight route line whose km is its length.
    """
    import numpy as np

    from planner.model import TravelTimes
    from planner.patrol.month import plan_month
    from planner.rules import PatrolRules

    ids = [f"V{i + 1}" for i in range(len(GEN_XY_KM))]
    x0, y0 = 500_000.0, 2_800_000.0
    centres = {v: (x0 + 1000.0 * x, y0 + 1000.0 * y) for v, (x, y) in zip(ids, GEN_XY_KM, strict=True)}
    xy = np.asarray(GEN_XY_KM, dtype=float)
    km = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    times = TravelTimes(pd.Index(ids), pd.Index(ids), km / 30.0 * 3600.0)
    assignment = pd.DataFrame(
        {
            "district_id": "D1",
            "office_id": "O1",
            "office_village_id": "V1",
            "officers": 2,
            "population": 1500,
            "access": "road",
        },
        index=pd.Index(ids, name="village_id"),
    )
    patrol = plan_month(
        assignment, times, rules=PatrolRules(), month=GEN_MONTH, seed=seed, time_limit=time_limit
    )
    names = ["城关村", EVIL_NAME, "河口村", "新寨", "大坪村", "白石村"]
    villages = gpd.GeoDataFrame(
        {
            "village_id": ids,
            "name": names,
            "township": ["城关镇", "城关镇", "城关镇", "安乐乡", "安乐乡", "安乐乡"],
            "population": 1500,
            "district_id": "D1",
            "office_id": "O1",
            "travel_min_to_office": [float(times.seconds[0, i]) / 60.0 for i in range(len(ids))],
            "access": "road",
        },
        geometry=[box(x - 1000, y - 1000, x + 1000, y + 1000) for x, y in centres.values()],
        crs=GEN_CRS,
    )
    districts = villages.dissolve(by="district_id", as_index=False, aggfunc={"population": "sum"})
    districts = districts.assign(
        n_villages=len(ids), officers=2, office_id="O1", max_travel_min=0.0, mean_travel_min=0.0
    )
    offices = gpd.GeoDataFrame(
        {"office_id": ["O1"], "village_id": ["V1"], "district_id": ["D1"], "officers": [2]},
        geometry=[villages.geometry.iloc[0].centroid],
        crs=GEN_CRS,
    )
    legs = patrol.legs
    index = {v: i for i, v in enumerate(ids)}
    routes = gpd.GeoDataFrame(
        legs.assign(
            km=[
                round(float(km[index[a], index[b]]), 3)
                for a, b in zip(legs["from_id"], legs["to_id"], strict=True)
            ]
        ),
        geometry=[
            LineString([centres[a], centres[b]]) for a, b in zip(legs["from_id"], legs["to_id"], strict=True)
        ],
        crs=GEN_CRS,
    )
    roster = [
        {"officer_id": str(r.officer_id), "office": str(r.office), "kind": str(r.kind)}
        for r in patrol.roster.itertuples(index=False)
    ]
    summary = {"month": GEN_MONTH, "villages": len(ids), "roster": roster, **patrol.summary()}
    return PlanData(
        villages=villages,
        districts=districts,
        offices=offices,
        summary=summary,
        routes=routes,
        schedule=patrol.schedule,
    )


# -- stations (issue 15) -----------------------------------------------------------------------------------
STATION_EVIL = "<b>东</b>派出所"


def with_stations(plan: PlanData) -> PlanData:
    """The fixture plan with two police stations: S1 (named with HTML) at V1 serving D1 and D2, 1 resident and
    1 linked officer of a force of 7, 2 more community officers needed under R9 (40% of 5 others asks 4); S2 at V3 serving D3, whose force
    is not given (R9 not checked)."""
    import dataclasses

    sites = plan.villages.set_index("village_id").geometry.representative_point()
    stations = gpd.GeoDataFrame(
        {
            "station_id": ["S1", "S2"],
            "name": [STATION_EVIL, "戌街派出所"],
            "village_id": ["V1", "V3"],
            "townships": ["共和镇;安乐乡", "戌街乡"],
            "districts": ["D1;D2", "D3"],
            "n_districts": [2, 1],
            "n_villages": [6, 3],
            "population": [8090, 3990],
            "other_officers": [5.0, math.nan],
            "rural": [True, True],
        },
        geometry=[sites["V1"], sites["V3"]],
        crs=plan.villages.crs,
    )
    force = [
        {
            "station_id": "S1",
            "name": STATION_EVIL,
            "resident": 1,
            "linked": 1,
            "community": 2,
            "other": 5,
            "force": 7,
            "rural": True,
            "checked": True,
            "community_pct": 28.6,
            "r9_share_ok": False,
            "r9_min_ok": True,
            "more_community": 2,
        },
        {
            "station_id": "S2",
            "name": "戌街派出所",
            "resident": 0,
            "linked": 2,
            "community": 2,
            "other": None,
            "force": None,
            "rural": True,
            "checked": False,
            "community_pct": None,
            "r9_share_ok": None,
            "r9_min_ok": None,
            "more_community": 0,
        },
    ]
    shortfall = {
        "office_id": STATION_EVIL,
        "station_id": "S1",
        "more_officers": 0,
        "more_community_officers": 2,
        "detail": f"station {STATION_EVIL} needs 2 more community officer(s) (R9: 2 of 7)",
        "detail_zh": f"派出所 {STATION_EVIL} 还需 2 名社区民警 (R9: 现有 2/7)",
    }
    summary = {
        **plan.summary,
        "stations": {
            "source": "townships",
            "list": [
                {
                    "station_id": str(r.station_id),
                    "name": str(r.name),
                    "village_id": str(r.village_id),
                    "townships": str(r.townships).split(";"),
                    "districts": str(r.districts).split(";"),
                    "villages": int(r.n_villages),
                    "population": int(r.population),
                    "other_officers": None if pd.isna(r.other_officers) else int(r.other_officers),
                    "rural": True,
                }
                for r in stations.itertuples()
            ],
            "notes": [],
            "force": force,
        },
        "shortfall": [*(plan.summary.get("shortfall") or []), shortfall],
    }
    return dataclasses.replace(plan, stations=stations, summary=summary)

"""The police stations (派出所) above the districts, and their force (R9).

**Stations.** Without a station file there is one station per township, at the township's seat: the village
with the most residents (ties: the first by id), named ``<township>派出所``. A station file (points or
polygons, :func:`planner.io.stations.read_stations`) gives the county's real stations: a station serves the
townships it names, else those of the villages inside its polygon; a point without townships serves the districts
nearest to it by travel time. Every district belongs to one station: the station of the township holding most of
its residents; where no station serves that township, the station nearest by travel time from the district's
office (to the station's village: the village its point lies in, or the nearest one).

**R9.** Community officers (resident and linked: the roster's officers, at the station its ``station`` column
names or else the station of their office's district) are at least ``community_share`` of a station's force, and
a rural station has at least ``min_officers`` officers. The force is known when the station file gives its
``other_officers`` (the officers who are not community officers); without it R9 is not checked for that station
and the station table says so. A station short of community officers gets a shortfall row: the fewest
community officers more that meet both limits, ``c' >= share * other / (1 - share)`` and ``c' + other >= min``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import ValidationError
from planner.model import STATION_COLUMNS, TravelTimes, Violation
from planner.rules import StationRules
from planner.texts import check_lang

log = logging.getLogger(__name__)

__all__ = [
    "STATION_COLUMNS",
    "StationPlan",
    "check_townships",
    "label",
    "plan_stations",
    "roster_stations",
    "station_force",
]


def label(rules: StationRules, lang: str = "zh") -> str:
    """R9 in one line with the values in force (as the report lists the rules)."""
    pct = round(rules.community_share * 100)
    if check_lang(lang) == "zh":
        return f"社区民警(驻村、挂村)不少于派出所警力的{pct}%；农村派出所警力不少于{rules.min_officers}人"
    return (
        f"community officers (resident and linked) at least {pct}% of a station's force; a rural station at "
        f"least {rules.min_officers} officers"
    )


@dataclass(frozen=True, eq=False)
class StationPlan:
    """The stations of a county and the station of every district.

    Attributes
    ----------
    stations
        GeoDataFrame with :data:`STATION_COLUMNS` (points: the station's site), in the villages' CRS.
    district_station
        district_id -> station_id.
    source
        ``"townships"`` (one station per township, generated) or the station file's path.
    notes
        Districts given to a station by travel time because no station serves their township (en, zh).
    """

    stations: gpd.GeoDataFrame
    district_station: dict[str, str]
    source: str = "townships"
    notes: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The stations as summary.json lists them (figures of the layer, no geometry)."""
        rows = []
        for r in self.stations.itertuples():
            rows.append(
                {
                    "station_id": str(r.station_id),
                    "name": str(r.name),
                    "village_id": str(r.village_id),
                    "townships": [x for x in str(r.townships).split(";") if x],
                    "districts": [x for x in str(r.districts).split(";") if x],
                    "villages": int(r.n_villages),
                    "population": int(r.population),
                    "other_officers": None if pd.isna(r.other_officers) else int(r.other_officers),
                    "rural": bool(r.rural),
                }
            )
        return {"source": self.source, "list": rows, "notes": [{"en": e, "zh": z} for e, z in self.notes]}


def plan_stations(
    villages: gpd.GeoDataFrame,
    times: TravelTimes | None,
    *,
    rules: StationRules,
    given: gpd.GeoDataFrame | None = None,
    source: str = "townships",
) -> StationPlan:
    """The stations and the station of every district.

    Parameters
    ----------
    villages
        Indexed by village_id (metric CRS): township, population, district_id, office_id, geometry; optional
        ``office_village_id``. Not mutated.
    times
        Travel times among the villages (for districts no station's townships hold); None: straight lines.
    rules
        R9's rules (``rural`` is the default of a station the file does not mark).
    given
        The station file's stations (:func:`planner.io.stations.read_stations`), or None for one station per
        township.
    source
        The station file's path, for messages and summary.json.
    """
    v = villages.copy()
    v.index = v.index.astype(str)
    town = v["township"].fillna("").astype(str) if "township" in v.columns else pd.Series("", index=v.index)
    if given is None:
        sites = _township_seats(v, town, rural=rules.rural)
    else:
        sites = _given_sites(v, town, given.to_crs(v.crs), rural=rules.rural, source=source)
    served = {t: s["station_id"] for s in sites for t in s["townships"]}
    office_site = _office_sites(v)
    district_station: dict[str, str] = {}
    notes: list[tuple[str, str]] = []
    for d, grp in v.groupby(v["district_id"].astype(str), sort=True):
        pops = grp.groupby(town[grp.index])["population"].sum().sort_index()
        main = str(pops.idxmax()) if len(pops) else ""
        if main in served:
            district_station[d] = served[main]
            continue
        sid = _nearest_station(office_site.get(d, str(grp.index[0])), sites, v, times)
        district_station[d] = sid
        notes.append(
            (
                f"district {d}: no station serves township {main or '(none)'}; it belongs to the station nearest "
                f"by travel time, {sid}",
                f"警务区 {d}:乡镇 {main or '(无)'} 无派出所管辖,划归行车时间最近的派出所 {sid}",
            )
        )
    if given is None:
        # one station per township that holds a district's residents mostly: a township all of whose villages
        # lie in districts of other townships has no district of its own, so no default station (its villages
        # belong to their districts' stations); the rest renumbered in order
        used = set(district_station.values())
        renumber = {
            s["station_id"]: f"S{k:02d}"
            for k, s in enumerate((s for s in sites if s["station_id"] in used), 1)
        }
        sites = [{**s, "station_id": renumber[s["station_id"]]} for s in sites if s["station_id"] in used]
        district_station = {d: renumber[sid] for d, sid in district_station.items()}
    rows = []
    for s in sites:
        ds = sorted(d for d, sid in district_station.items() if sid == s["station_id"])
        members = v.index[v["district_id"].astype(str).isin(ds)]
        rows.append(
            {
                "station_id": s["station_id"],
                "name": s["name"],
                "village_id": s["village_id"],
                "townships": ";".join(s["townships"]),
                "districts": ";".join(ds),
                "n_districts": len(ds),
                "n_villages": len(members),
                "population": int(v.loc[members, "population"].sum()),
                "other_officers": s["other_officers"],
                "rural": s["rural"],
                "geometry": s["geometry"],
            }
        )
    layer = gpd.GeoDataFrame(rows, columns=STATION_COLUMNS, geometry="geometry", crs=v.crs)
    log.info("stations: %d (%s), %d districts", len(layer), source, len(district_station))
    return StationPlan(layer, district_station, source, notes)


def _township_seats(v: gpd.GeoDataFrame, town: pd.Series, *, rural: bool) -> list[dict[str, Any]]:
    """One station per township at its most populous village (all villages one station without townships)."""
    out = []
    groups = sorted(v.groupby(town), key=lambda kv: str(kv[0]))
    for k, (t, grp) in enumerate(groups, start=1):
        top = grp["population"].max()
        seat = min(str(i) for i in grp.index[grp["population"] == top])  # ties: the first village id
        out.append(
            {
                "station_id": f"S{k:02d}",
                "name": f"{t}派出所" if t else "派出所",
                "village_id": seat,
                "townships": (str(t),) if t else (),
                "other_officers": float("nan"),
                "rural": rural,
                "geometry": _point(v, seat),
            }
        )
    return out


def _point(v: gpd.GeoDataFrame, vid: str) -> Any:
    """A village's site: its committee point when the layer has it, else a point inside its outline."""
    if {"anchor_x", "anchor_y"} <= set(v.columns) and not pd.isna(v.at[vid, "anchor_x"]):
        from shapely.geometry import Point

        return Point(float(v.at[vid, "anchor_x"]), float(v.at[vid, "anchor_y"]))
    return v.geometry[vid].representative_point()


def _given_sites(
    v: gpd.GeoDataFrame, town: pd.Series, given: gpd.GeoDataFrame, *, rural: bool, source: str
) -> list[dict[str, Any]]:
    """The file's stations: the townships each serves, its village and its site."""
    known = set(town)
    pts = v.geometry.representative_point()
    out = []
    claimed: dict[str, str] = {}
    for k, r in enumerate(given.itertuples(), start=1):
        geom = r.geometry
        polygon = geom.geom_type in ("Polygon", "MultiPolygon")
        inside = pts.index[pts.within(geom)] if polygon else pd.Index([])
        towns = tuple(r.townships)
        if not towns and polygon and len(inside):
            pop = v.loc[inside].groupby(town[inside])["population"].sum()
            towns = tuple(sorted(str(t) for t in pop.index if t))
        for t in towns:
            _check_township(t, str(r.name), known, claimed, source)
            claimed[t] = str(r.name)
        if polygon and len(inside):
            seat = str(v.loc[inside, "population"].sort_values(ascending=False, kind="stable").index[0])
        else:
            site = geom.representative_point() if polygon else geom
            seat = str(v.geometry.distance(site).idxmin())
        out.append(
            {
                "station_id": f"S{k:02d}",
                "name": str(r.name),
                "village_id": seat,
                "townships": towns,
                "other_officers": float(r.other_officers),
                "rural": rural if r.rural is None else bool(r.rural),
                "geometry": geom.representative_point() if polygon else geom,
            }
        )
    return out


def check_townships(given: pd.DataFrame, villages: pd.DataFrame, *, source: str) -> None:
    """Before any solving: every township a station names is one of the village layer's, and none is named by
    two stations (an input error naming the file and the stations)."""
    known = set(villages["township"].fillna("").astype(str)) if "township" in villages.columns else set()
    claimed: dict[str, str] = {}
    for name, towns in zip(given["name"].astype(str), given["townships"], strict=True):
        for t in towns:
            _check_township(t, name, known, claimed, source)
            claimed[t] = name


def _check_township(t: str, name: str, known: set[str], claimed: dict[str, str], source: str) -> None:
    if t not in known:
        raise ValidationError(
            f"station file {source}: station {name} serves township '{t}', which the village layer does "
            f"not have (it has {sorted(known)[:12]})",
            zh=f"派出所文件 {source}:派出所 {name} 管辖的乡镇“{t}”不在村庄图层中(现有 {sorted(known)[:12]})",
        )
    if t in claimed:
        raise ValidationError(
            f"station file {source}: township '{t}' is served by both {claimed[t]} and {name}; "
            "give each township to one station",
            zh=f"派出所文件 {source}:乡镇“{t}”同时属于 {claimed[t]} 和 {name};每个乡镇只属一个派出所",
        )


def _office_sites(v: pd.DataFrame) -> dict[str, str]:
    """district_id -> the village of its office (the district's first village when not known)."""
    col = "office_village_id" if "office_village_id" in v.columns else None
    out: dict[str, str] = {}
    for d, grp in v.groupby(v["district_id"].astype(str)):
        out[str(d)] = str(grp[col].iloc[0]) if col else str(grp.index[0])
    return out


def _nearest_station(
    origin: str, sites: list[dict[str, Any]], v: gpd.GeoDataFrame, times: TravelTimes | None
) -> str:
    """The station whose village is nearest to ``origin`` by travel time (by straight line without times)."""
    seats = [s["village_id"] for s in sites]
    if times is not None and origin in times.origins and all(s in times.destinations for s in seats):
        sec = times.subset([origin], seats).seconds[0]
        if np.isfinite(sec).any():
            return str(sites[int(np.argmin(sec))]["station_id"])
    d = [float(v.geometry[origin].distance(v.geometry[s])) for s in seats]
    return str(sites[int(np.argmin(d))]["station_id"])


# -- R9: the station's force ----------------------------------------------------------------------------------


def roster_stations(
    roster: pd.DataFrame, stations: pd.DataFrame, office_station: dict[str, str], *, source: str
) -> pd.Series:
    """officer_id -> station_id: the roster's ``station`` (a station's name or id) when given, else the
    station of the officer's office. An unknown station name is an input error naming the roster's line."""
    by_name = dict(zip(stations["name"].astype(str), stations["station_id"].astype(str), strict=True))
    ids = set(stations["station_id"].astype(str))
    out = {}
    col = roster["station"] if "station" in roster.columns else pd.Series("", index=roster.index)
    for k, (oid, office, st) in enumerate(zip(roster["officer_id"], roster["office"], col, strict=True)):
        text = "" if st is None or (isinstance(st, float) and math.isnan(st)) else str(st).strip()
        if not text:
            out[str(oid)] = office_station.get(str(office), "")
        elif text in ids or text in by_name:
            out[str(oid)] = text if text in ids else by_name[text]
        else:
            raise ValidationError(
                f"{source}: line {k + 2}: station '{text}' of officer {oid} is not a station of the plan; use "
                f"one of {sorted(by_name)[:10]}",
                zh=f"{source}: 第 {k + 2} 行: 民警 {oid} 的派出所“{text}”不在方案中; 请用 {sorted(by_name)[:10]} 之一",
            )
    return pd.Series(out, dtype=object)


def station_force(
    stations: pd.DataFrame, roster: pd.DataFrame, officer_station: pd.Series, *, rules: StationRules
) -> tuple[list[dict[str, Any]], list[Violation], list[dict[str, Any]]]:
    """Per station its officers by kind, R9's figures, R9's breaks and the community officers it lacks.

    Returns
    -------
    The station rows (station_id, name, resident, linked, community, other, force, community_pct, rural,
    checked, r9_share_ok, r9_min_ok, more_community), the violations (soft: staffing is the bureau's, the plan
    cannot change it) and the shortfall rows (as summary.json's ``shortfall``: ``station_id``, ``office_id``
    the station's name, ``more_community_officers``; ``more_officers``, the officers the month's visits need, 0).
    """
    kind = dict(zip(roster["officer_id"].astype(str), roster["kind"].astype(str), strict=True))
    rows, violations, shortfall = [], [], []
    share, least = rules.community_share, rules.min_officers
    for s in stations.itertuples():
        sid, name = str(s.station_id), str(s.name)
        mine = [o for o, st in officer_station.items() if st == sid]
        resident = sum(1 for o in mine if kind.get(o) == "resident")
        linked = sum(1 for o in mine if kind.get(o) == "linked")
        community = resident + linked
        known = not pd.isna(s.other_officers)
        other = int(s.other_officers) if known else None
        row: dict[str, Any] = {
            "station_id": sid,
            "name": name,
            "resident": resident,
            "linked": linked,
            "community": community,
            "other": other,
            "force": community + other if other is not None else None,
            "rural": bool(s.rural),
            "checked": known,
        }
        if other is None:
            rows.append(
                {**row, "community_pct": None, "r9_share_ok": None, "r9_min_ok": None, "more_community": 0}
            )
            continue
        force = community + other
        pct = 100.0 * community / force if force else 0.0
        need_share = math.ceil(share * other / (1 - share) - 1e-9) if share else 0
        need_min = max(least - other, 0) if s.rural else 0
        more = max(need_share, need_min, 0) - community
        share_ok = community >= need_share and (force > 0 or share == 0)
        min_ok = (not s.rural) or force >= least
        row.update(
            community_pct=round(pct, 1), r9_share_ok=share_ok, r9_min_ok=min_ok, more_community=max(more, 0)
        )
        rows.append(row)
        if not share_ok:
            violations.append(
                Violation(
                    "R9",
                    sid,
                    f"station {name}: {community} community officers of a force of {force} ({pct:.0f}%), below "
                    f"{share:.0%}",
                    f"派出所 {name}: 社区民警 {community} 人, 占全所 {force} 人的 {pct:.0f}%, 低于 {share:.0%}",
                    hard=False,
                    kind="station",
                )
            )
        if not min_ok:
            violations.append(
                Violation(
                    "R9",
                    sid,
                    f"station {name}: a rural station of {force} officers, fewer than {least}",
                    f"派出所 {name}: 农村派出所仅 {force} 名民警, 少于 {least} 人",
                    hard=False,
                    kind="station",
                )
            )
        if more > 0:
            shortfall.append(
                {
                    "office_id": name,
                    "station_id": sid,
                    "needed_days": 0,
                    "available_days": 0,
                    # patrol's officer-days short are more_officers; R9's are community officers, apart
                    "more_officers": 0,
                    "more_community_officers": more,
                    "detail": f"station {name} needs {more} more community officer(s) (R9: {community} of {force})",
                    "detail_zh": f"派出所 {name} 还需 {more} 名社区民警 (R9: 现有 {community}/{force})",
                }
            )
    return rows, violations, shortfall

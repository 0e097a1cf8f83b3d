"""Re-check any assignment of villages to districts and offices (fresh or edited by hand) against R1/R2.

One function per rule: membership, contiguity, R1 (villages per district), R2 (residents per officer),
township, office, candidates and travel from the office. R1 and R2 keep their check and their plain-words
label (:func:`r1_label`, :func:`r2_label`, built from the rules in force) side by side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.districts.adjacency import _anchor_points, _bridge, village_adjacency
from planner.districts.roads import check_c5, road_adjacency
from planner.engines.districting.graph import components, is_connected, neighbours
from planner.model import Violation, clock_minutes
from planner.rules import DistrictRules, Rules

_EMPTY_OFFICE = {"", "nan", "None"}  # how a missing office reads once the column is text


@dataclass(frozen=True, eq=False)
class _Assignment:
    """An assignment as arrays: village ids, district and office village of each, residents, townships."""

    ids: pd.Index
    district: np.ndarray  # district id per village, as text
    assigned: np.ndarray  # the village is in some district
    office: np.ndarray  # village id of the office, as text
    population: np.ndarray
    township: np.ndarray | None  # read only when districts stay within townships
    position: dict[str, int]


# ------------------------------------------------------------------------------------------------- R1 and R2


def r1_label(rules: Rules, lang: str = "zh") -> str:
    """R1 in plain words, from the rules in force (the defaults read as texts.py's ``rule.R1``)."""
    r = rules.districts
    if lang == "en":
        return (
            f"{r.min_villages} to {r.max_villages} villages per district, "
            f"{r.min_officers} to {r.max_officers} officers per office"
        )
    return f"每个警务区{r.min_villages}至{r.max_villages}个行政村，每个警务室{r.min_officers}至{r.max_officers}名民警"


def r2_label(rules: Rules, lang: str = "zh") -> str:
    """R2 in plain words, from the rules in force (the defaults read as texts.py's ``rule.R2``)."""
    per = rules.districts.residents_per_officer
    if lang == "en":
        return f"one officer per about {per:,} residents"
    return f"每名民警服务约{per}名实有人口"


def _check_r1(d: str, mem: np.ndarray, r: DistrictRules) -> list[Violation]:
    """R1: a district holds min_villages..max_villages villages (when the bureau uses R1)."""
    if not r.uses_villages or r.min_villages <= len(mem) <= r.max_villages:
        return []
    return [
        Violation(
            "R1",
            d,
            f"district {d} has {len(mem)} villages, outside {r.min_villages}-{r.max_villages}",
            f"警务区 {d} 有 {len(mem)} 个村, 不在 {r.min_villages}-{r.max_villages} 之内",
            kind="district",
        )
    ]


def heavy_villages(ids: pd.Index, pop: np.ndarray, r: DistrictRules) -> list[Violation]:
    """R2 breaks the numbers force: a village with more residents than a district's officers may serve (the plan
    and `planner check` report the same)."""
    cap = r.max_officers * r.residents_per_officer
    out: list[Violation] = []
    if not r.uses_population:
        return out
    for vid, p in zip(ids, pop, strict=True):
        if p > cap:
            need = math.ceil(p / r.residents_per_officer)
            out.append(
                Violation(
                    "R2",
                    str(vid),
                    f"village {vid} has {p:,.0f} residents alone, more than {r.max_officers} officers x "
                    f"{r.residents_per_officer:,} = {cap:,}; the village alone needs {need} officers",
                    f"村 {vid} 单村即有 {p:,.0f} 人, 超过 {r.max_officers} 名民警 x {r.residents_per_officer:,} = "
                    f"{cap:,}; 该村单独即需 {need} 名民警",
                    kind="village",
                )
            )
    return out


# connected village sets a village's R1-and-R2 test may look at before it gives up (and calls the village free)
HEAVY_SEARCH_SETS = 20_000


def heavy_neighbourhoods(nbrs: Sequence[Any], pop: np.ndarray, r: DistrictRules) -> np.ndarray:
    """Villages that no district within R1 and R2 can hold: every connected set of ``min_villages`` villages
    through the village (in the neighbour graph ``nbrs``) has more residents than the district's officers may
    serve. A village over the cap alone is one of them; so is a large village whose every neighbourhood of R1's
    minimum is over the cap, which R1 and R2 together force to break R2 wherever it goes.

    A branch-and-bound enumeration of the connected sets through the village, cheapest neighbour first, stops
    at the first set within the cap; after :data:`HEAVY_SEARCH_SETS` sets it gives up and calls the village free
    (never a false "forced"). Bool mask per village; all False when the bureau does not use R2.
    """
    n = len(pop)
    if not r.uses_population:
        return np.zeros(n, dtype=bool)
    cap = float(r.max_officers * r.residents_per_officer)
    out = np.asarray(pop, dtype=float) > cap
    size = r.min_villages if r.uses_villages else 1
    if size <= 1 or n == 0:
        return out
    pl = [float(p) for p in pop]
    pmin = min(pl)
    nbl = [[int(v) for v in nb] for nb in nbrs]
    for i in range(n):
        if not out[i]:
            out[i] = _no_set_within(i, nbl, pl, size, cap, pmin)
    return out


def _no_set_within(i: int, nbl: list[list[int]], pl: list[float], size: int, cap: float, pmin: float) -> bool:
    """No connected set of ``size`` units through ``i`` has at most ``cap`` residents (False when unsure, and
    when the village's piece of the graph has fewer than ``size`` units: that is R1's break, not R2's)."""
    piece, todo = {i}, [i]
    while todo and len(piece) < size:
        for v in nbl[todo.pop()]:
            if v not in piece:
                piece.add(v)
                todo.append(v)
    if len(piece) < size:
        return False
    # a set, its residents, the units that may extend it and those its branch has ruled out
    Node = tuple[tuple[int, ...], float, frozenset[int], frozenset[int]]
    stack: list[Node] = [((i,), pl[i], frozenset(nbl[i]) - {i}, frozenset((i,)))]
    seen = 0
    while stack:
        members, total, ext, banned = stack.pop()
        seen += 1
        if seen > HEAVY_SEARCH_SETS:
            return False
        if len(members) == size:
            if total <= cap:
                return False
            continue
        need = size - len(members)
        # children in cheapest-first order, each ruling out the siblings before it (every set is reached once,
        # in the branch of its first member in that order); pushed in reverse, so the cheapest is tried first
        ruled = set(banned)
        children: list[Node] = []
        for v in sorted(ext - banned, key=lambda u: (pl[u], u)):
            if total + pl[v] + (need - 1) * pmin <= cap:
                grown = (ext | frozenset(nbl[v])) - set(members) - {v} - ruled
                children.append(((*members, v), total + pl[v], frozenset(grown), frozenset(ruled | {v})))
            ruled.add(v)
        stack.extend(reversed(children))
    return True


def _check_r2(d: str, residents: float, r: DistrictRules) -> list[Violation]:
    """R2: a district's residents fit its most officers at residents_per_officer each (when the bureau uses R2)."""
    cap = r.max_officers * r.residents_per_officer
    if not (r.uses_population and residents > cap):
        return []
    return [
        Violation(
            "R2",
            d,
            f"district {d} has {residents:,.0f} residents, more than {r.max_officers} officers "
            f"x {r.residents_per_officer:,} = {cap:,}",
            f"警务区 {d} 有 {residents:,.0f} 人, 超过 {r.max_officers} 名民警 x {r.residents_per_officer:,} = {cap:,}",
            kind="district",
        )
    ]


# -------------------------------------------------------------------------------------- the other rules


def _check_membership(ids: pd.Index, district: pd.Series) -> list[Violation]:
    """Every village in exactly one row and one district."""
    out = [
        Violation(
            "membership",
            vid,
            f"village {vid} appears in more than one row or district",
            f"村 {vid} 出现在多行或多个警务区中",
            kind="village",
        )
        for vid in (sorted(set(ids[ids.duplicated()])) if not ids.is_unique else [])
    ]
    for vid in ids[district.isna().to_numpy() | (district.astype(str).str.strip() == "").to_numpy()]:
        out.append(
            Violation(
                "membership",
                vid,
                f"village {vid} is in no district",
                f"村 {vid} 不属于任何警务区",
                kind="village",
            )
        )
    return out


def _check_contiguity(d: str, mem: np.ndarray, ids: pd.Index, nbrs: list[np.ndarray]) -> list[Violation]:
    """A district's villages form one piece of the neighbour graph."""
    if is_connected(mem.tolist(), nbrs):
        return []
    parts = components(nbrs, mem.tolist())
    desc = "; ".join(",".join(str(ids[u]) for u in p[:6]) for p in parts)
    return [
        Violation(
            "contiguity",
            d,
            f"district {d} falls into {len(parts)} pieces: {desc}",
            f"警务区 {d} 分成 {len(parts)} 块互不相连: {desc}",
            kind="district",
        )
    ]


def _check_township(
    d: str, mem: np.ndarray, township: np.ndarray | None, r: DistrictRules
) -> list[Violation]:
    """With within_township, a district lies inside one township."""
    if not r.within_township:
        return []
    assert township is not None  # read whenever within_township holds
    tws = sorted(set(township[mem]))
    if len(tws) <= 1:
        return []
    return [
        Violation(
            "township", d, f"district {d} spans townships {tws}", f"警务区 {d} 跨乡镇 {tws}", kind="district"
        )
    ]


def _check_office(d: str, offs: list[str]) -> list[Violation]:
    """One office per district, in a village of that district."""
    if not offs:
        return [
            Violation("office", d, f"district {d} has no office", f"警务区 {d} 没有警务室", kind="district")
        ]
    out = []
    if len(offs) > 1:
        out.append(
            Violation(
                "office",
                d,
                f"district {d} has {len(offs)} offices: {offs}",
                f"警务区 {d} 有 {len(offs)} 个警务室: {offs}",
                kind="district",
            )
        )
    return out


def _check_office_site(d: str, o: str, a: _Assignment) -> list[Violation]:
    """The office ``o`` of district ``d`` is a village of the layer and of that district."""
    if o not in a.position:
        return [
            Violation(
                "office",
                d,
                f"the office of district {d} is at {o}, which is no village",
                f"警务区 {d} 的警务室位于 {o}, 不是图层中的村",
                kind="district",
            )
        ]
    home = a.district[a.position[o]]
    if home == d:
        return []
    return [
        Violation(
            "office",
            d,
            f"the office of district {d} is in village {o}, which belongs to district {home}",
            f"警务区 {d} 的警务室位于村 {o}, 而该村属于警务区 {home}",
            kind="district",
        )
    ]


def _check_candidate(d: str, o: str, candidates: Sequence[str] | None) -> list[Violation]:
    """The office village is one of the candidate sites, when the bureau named them."""
    if candidates is None or o in set(candidates):
        return []
    return [
        Violation(
            "candidates",
            d,
            f"office village {o} is not a candidate site",
            f"警务室所在村 {o} 不是候选地点",
            kind="district",
        )
    ]


def _check_travel(
    d: str, o: str, mem: np.ndarray, minutes: np.ndarray, a: _Assignment, r: DistrictRules
) -> list[Violation]:
    """Every village of the district within max_travel_min of its office (hard or soft, as the rules say)."""
    t = minutes[a.position[o], mem]
    far = [(str(a.ids[u]), tt) for u, tt in zip(mem, t, strict=True) if tt > r.max_travel_min + 1e-9]
    if not far:
        return []
    worst = max(far, key=lambda x: x[1])
    kind = "hard" if r.max_travel_hard else "soft"
    return [
        Violation(
            "travel",
            d,
            f"district {d}: {len(far)} village(s) beyond {r.max_travel_min:g} min of its office "
            f"({kind} limit); worst {worst[0]} at {clock_minutes(worst[1]):.0f} min",
            f"警务区 {d} 有 {len(far)} 个村距警务室超过 {r.max_travel_min:g} 分钟 "
            f"({'硬' if r.max_travel_hard else '软'}约束); 最远 {worst[0]} 为 {clock_minutes(worst[1]):.0f} 分钟",
            hard=r.max_travel_hard,
            kind="district",
        )
    ]


# ------------------------------------------------------------------------------------------------ the check


def _assignment(v: pd.DataFrame, offices: pd.DataFrame | None, r: DistrictRules) -> _Assignment:
    """The arrays of an assignment; the office comes from ``office_village_id``, or ``office_id`` via ``offices``."""
    ids = v.index.astype(str)
    dist = v["district_id"]
    if "office_village_id" in v.columns:
        office_v = v["office_village_id"].astype(str).to_numpy()
    elif offices is not None:
        omap = dict(zip(offices["office_id"].astype(str), offices["village_id"].astype(str), strict=True))
        office_v = np.array([omap.get(str(o), "") for o in v["office_id"]])
    else:
        office_v = v["office_id"].astype(str).to_numpy()
    return _Assignment(
        ids=ids,
        district=dist.astype(str).to_numpy(),
        assigned=~dist.isna().to_numpy(),
        office=office_v,
        population=v["population"].to_numpy(float),
        township=v["township"].astype(str).to_numpy() if r.within_township else None,
        position={vid: i for i, vid in enumerate(ids)},
    )


def _neighbour_lists(
    v: pd.DataFrame, ids: pd.Index, times: Any, adjacency: Any, r: DistrictRules
) -> list[np.ndarray]:
    """Neighbours of every village: the given matrix, or the villages' own adjacency with small pieces bridged."""
    if adjacency is None:
        gv = gpd.GeoDataFrame(v, geometry="geometry").set_axis(ids)
        adjacency = village_adjacency(gv, times=times)
        pts = np.array([[p.x, p.y] for p in _anchor_points(gv)])
        tw = gv["township"].astype(str).to_numpy() if r.within_township else None
        adjacency = _bridge(sp.csr_matrix(adjacency), pts, tw, r.min_villages if r.uses_villages else 1)
        if r.contiguity == "roads" and times is not None:
            # a plan is contiguous by borders or by roads (the planner relaxes roads to borders where a hub
            # forces it); a route through another district is C5's soft note, not a contiguity break
            minutes = times.subset(ids, ids).seconds / 60.0
            adjacency = sp.csr_matrix(((adjacency + road_adjacency(adjacency, minutes)) > 0).astype(np.int8))
    return neighbours(adjacency, len(ids))


def check_districts(
    villages: pd.DataFrame,
    times: Any,
    *,
    rules: Rules,
    adjacency: Any = None,
    offices: pd.DataFrame | None = None,
    candidates: Sequence[str] | None = None,
    roads: Any = None,
) -> list[Violation]:
    """Re-check an assignment of villages to districts and offices (a fresh plan or one edited by hand).

    Parameters
    ----------
    villages
        GeoDataFrame indexed by village_id (or with a ``village_id`` column) with ``district_id``, population,
        township, geometry, and the office as ``office_village_id`` (village of the office) or ``office_id``
        resolved through ``offices`` (office_id, village_id).
    times
        TravelTimes between the villages.
    adjacency
        Neighbour matrix in the villages' order (default :func:`village_adjacency`, small pieces bridged).
    roads
        A :class:`planner.districts.roads.C5Roads` when the road network is at hand: C5's notes then name the
        road a route takes through another district and its minutes outside (the plan has it; ``planner check``
        has the travel times only).

    Returns
    -------
    list[Violation]
        membership (village in no district), contiguity, R1 sizes, R2 population, office (missing, several, or
        outside its district), candidates, township, travel (office to a village beyond max_travel_min); the
        district rules district by district, in that order.
    """
    r = rules.districts
    v = villages.set_index("village_id") if "village_id" in villages.columns else villages
    a = _assignment(v, offices, r)
    out = _check_membership(a.ids, v["district_id"])
    out += heavy_villages(a.ids, a.population, r)
    nbrs = _neighbour_lists(v, a.ids, times, adjacency, r)
    minutes = times.subset(a.ids, a.ids).seconds / 60.0 if times is not None else None
    for d in sorted(set(a.district[a.assigned])):
        mem = np.flatnonzero(a.district == d)
        out += _check_contiguity(d, mem, a.ids, nbrs)
        out += _check_r1(d, mem, r)
        out += _check_r2(d, float(a.population[mem].sum()), r)
        out += _check_township(d, mem, a.township, r)
        offs = sorted(set(a.office[mem]) - _EMPTY_OFFICE)
        out += _check_office(d, offs)
        for o in offs:
            out += _check_office_site(d, o, a)
            if o not in a.position:
                continue
            out += _check_candidate(d, o, candidates)
            if minutes is not None:
                out += _check_travel(d, o, mem, minutes, a, r)
                out += check_c5(d, a.position[o], mem, minutes, a.ids, a.district, roads=roads)
    return out

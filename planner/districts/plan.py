"""The district stage: villages and travel times in, contiguous districts under R1/R2 out (:func:`plan_districts`).

The partition itself is the engine :func:`planner.engines.districting.contiguous_districts` (arrays in, arrays
out); this module turns the bureau's villages and rules into its arrays and its result back into layers.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.districts.adjacency import _anchor_points, _bridge, village_adjacency
from planner.districts.check import check_districts
from planner.districts.compare import PlanComparison, compare_current
from planner.engines.districting import DistrictSolution, contiguous_districts
from planner.engines.districting.graph import components
from planner.errors import ValidationError
from planner.model import Violation
from planner.offices import choose_office
from planner.rules import DistrictRules, Rules

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class DistrictPlan:
    """Districts, offices and the rules they break (docs/ARCHITECTURE.md, "District plan").

    ``proven_optimal``: CP-SAT proved the districts optimal for the objective; ``stopped_by_time``: the
    ``time_limit`` safety cap cut the district search short (the plan may then differ between runs);
    ``seconds``: wall time of :func:`plan_districts`. :meth:`summary` carries all three.
    """

    villages: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    offices: gpd.GeoDataFrame
    violations: list[Violation]
    comparison: PlanComparison | None = None
    proven_optimal: bool = False
    seconds: float = 0.0
    stopped_by_time: bool = False

    def summary(self) -> dict[str, Any]:
        """Key figures for summary.json."""
        d = self.districts
        pop = d["population"].astype(float)
        t = self.villages["travel_min_to_office"].astype(float)
        ft = t[np.isfinite(t)]
        return {
            "villages": len(self.villages),
            "population": int(self.villages["population"].sum()),
            "districts": len(d),
            "offices": len(self.offices),
            "officers": int(d["officers"].sum()),
            "district_villages": {"min": int(d["n_villages"].min()), "max": int(d["n_villages"].max())},
            "district_population": {
                "min": int(pop.min()),
                "max": int(pop.max()),
                "cv": float(pop.std(ddof=0) / pop.mean()) if pop.mean() > 0 else 0.0,
            },
            "max_travel_min": float(ft.max()) if len(ft) else None,
            "mean_travel_min": float(ft.mean()) if len(ft) else None,
            "unreachable_villages": [
                str(v) for v in self.villages.index[self.villages["access"] == "unreachable"]
            ],
            "violations": [v.to_dict() for v in self.violations],
            "proven_optimal": self.proven_optimal,
            "stopped_by_time": self.stopped_by_time,
        }


def _village_cost(villages: gpd.GeoDataFrame, times: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(minutes village -> office with unreachable pairs filled, raw minutes, anchor xy)."""
    ids = villages.index
    if not (times.origins.isin(ids).all() or set(ids) <= set(times.origins)):
        raise ValidationError("the travel-time matrix lacks some villages", zh="行程时间矩阵缺少部分村")
    have_o, have_d = set(times.origins), set(times.destinations)
    missing = [v for v in ids if v not in have_o or v not in have_d]
    if missing:
        raise ValidationError(
            f"villages {missing[:10]} are not in the travel-time matrix; recompute it",
            zh=f"村 {missing[:10]} 不在行程时间矩阵中; 请重新计算",
        )
    raw = times.subset(ids, ids).seconds / 60.0
    pts = np.array([[p.x, p.y] for p in _anchor_points(villages)])
    # unreachable pairs: straight line at walking pace (4 km/h) times 1.5 for the terrain, so such villages go
    # to the nearest district by straight line and are flagged
    cost = raw.copy()
    bad_r, bad_c = np.nonzero(~np.isfinite(raw))
    if len(bad_r):
        straight = np.hypot(*(pts[bad_r] - pts[bad_c]).T)
        cost[bad_r, bad_c] = straight / 1000.0 / 4.0 * 60.0 * 1.5
    np.fill_diagonal(cost, 0.0)
    return cost, raw, pts


def _district_counts(n: int, pop: float, r: DistrictRules) -> tuple[int, int]:
    """(fewest, most) districts the rules allow for n villages with pop residents."""
    low, high = 1, n
    if r.uses_villages:
        low = max(low, math.ceil(n / r.max_villages))
        high = min(high, n // r.min_villages)
    if r.uses_population:
        officers = math.ceil(pop / r.residents_per_officer)
        low = max(
            low,
            math.ceil(officers / r.max_officers),
            math.ceil(pop / (r.max_officers * r.residents_per_officer)),
        )
    return low, high


def plan_districts(
    villages: gpd.GeoDataFrame,
    times: Any,
    access: pd.DataFrame,
    *,
    rules: Rules,
    adjacency: Any = None,
    current: pd.Series | None = None,
    locked: Sequence[str] | None = None,
    candidates: Sequence[str] | None = None,
    n_districts: int | None = None,
    seed: int = 0,
    time_limit: float = 60.0,
) -> DistrictPlan:
    """Draw police districts and place one office in each, under the bureau rules.

    Parameters
    ----------
    villages
        GeoDataFrame indexed by village_id with name, township, population, geometry (metric CRS).
    times
        :class:`planner.network.TravelTimes` between the villages (seconds, inf where no road).
    access
        DataFrame indexed by village_id with ``access`` (road / walk / unreachable) and ``reason``.
    rules
        The validated rules; ``rules.districts`` sizes and weights the plan.
    adjacency
        Neighbour matrix in the order of ``villages.index`` (default :func:`village_adjacency`).
    current
        Series village_id -> district_id in force today: adds :class:`PlanComparison` and is the source of
        ``locked`` districts.
    locked
        Village ids that keep their current district (requires ``current``): they stay together, and apart from
        the other locked groups.
    candidates
        Village ids that may hold an office (default every village).
    n_districts
        Number of districts; default the fewest the counts allow (R1 villages, R2 officers), or one or two
        more when the search finds no plan within R1/R2 at that number (contiguity can forbid it).
    seed
        Same inputs and seed, same plan, whatever the machine's load (the searches stop on counts sized from
        the number of villages and districts).
    time_limit
        Safety cap in seconds on the district search; when it cuts the search short a warning is logged and
        the plan is marked ``stopped_by_time``.

    Returns
    -------
    DistrictPlan
        With every rule that cannot hold listed as a :class:`Violation` (rule, subject, numbers).
    """
    t0 = time.monotonic()
    r = rules.districts
    _validate_villages(villages)
    ids = villages.index
    n = len(ids)
    pop = villages["population"].to_numpy(dtype=float)
    cost, raw, pts = _village_cost(villages, times)
    acc = access.reindex(ids)
    if acc["access"].isna().any():
        miss = ids[acc["access"].isna()].tolist()[:10]
        raise ValidationError(f"access lacks villages {miss}", zh=f"可达性表缺少村 {miss}")
    township = villages["township"].astype(str).to_numpy() if r.within_township else None
    adj = village_adjacency(villages, times=times) if adjacency is None else sp.csr_matrix(adjacency)
    adj = _bridge(adj, pts, township, r.min_villages if r.uses_villages else 1)
    violations: list[Violation] = []
    # what the numbers rule out before solving
    cap = r.max_officers * r.residents_per_officer
    if r.uses_population:
        for vid, p in zip(ids, pop, strict=True):
            if p > cap:
                violations.append(
                    Violation(
                        "R2",
                        str(vid),
                        f"village {vid} has {p:,.0f} residents alone, more than {r.max_officers} officers x "
                        f"{r.residents_per_officer:,} = {cap:,}; its district needs {math.ceil(p / r.residents_per_officer)} "
                        "officers",
                        f"村 {vid} 单村即有 {p:,.0f} 人, 超过 {r.max_officers} 名民警 x {r.residents_per_officer:,} = "
                        f"{cap:,}; 其警务区需要 {math.ceil(p / r.residents_per_officer)} 名民警",
                    )
                )
    adj = sp.csr_matrix(adj)
    nb = [adj.indices[adj.indptr[i] : adj.indptr[i + 1]] for i in range(n)]
    if township is not None:
        nb = [x[township[x] == township[i]] for i, x in enumerate(nb)]
    comps = components(nb, range(n))
    k_low = k_high = 0
    for comp in comps:
        lo_c, hi_c = _district_counts(len(comp), float(pop[comp].sum()), r)
        k_low += lo_c
        k_high += max(lo_c, hi_c)
        if lo_c > hi_c and r.uses_villages:
            names = [str(ids[u]) for u in comp[:10]]
            where = f"township {township[comp[0]]}" if township is not None else "a separate piece of the map"
            where_zh = f"乡镇 {township[comp[0]]}" if township is not None else "地图上一块独立区域"
            violations.append(
                Violation(
                    "R1",
                    where,
                    f"{where} has {len(comp)} villages ({', '.join(names)}): cannot make districts of "
                    f"{r.min_villages}-{r.max_villages} villages"
                    + (" within_township" if township is not None else ""),
                    f"{where_zh} 只有 {len(comp)} 个村 ({', '.join(names)}): 无法组成 {r.min_villages}-{r.max_villages} "
                    "个村的警务区" + (" (不跨乡镇)" if township is not None else ""),
                )
            )
    k = n_districts if n_districts is not None else k_low
    if n_districts is not None and not 1 <= n_districts <= n:
        raise ValidationError(
            f"--districts {n_districts}: must be between 1 and {n} villages",
            zh=f"--districts {n_districts}: 必须在 1 到 {n} (村数) 之间",
        )
    cand = None if candidates is None else ids.isin(list(candidates))
    if cand is not None and not cand.any():
        raise ValidationError(
            "no candidate office site is a village of the layer", zh="候选警务室地点都不是图层中的村"
        )
    group = None
    if locked:
        if current is None:
            raise ValidationError(
                "locked villages need the current districts (--current)",
                zh="锁定村需要现行警务区 (--current)",
            )
        cur = current.reindex(ids)
        lk = ids.isin(list(locked))
        codes = {d: i for i, d in enumerate(sorted({str(cur.iloc[i]) for i in np.flatnonzero(lk)}))}
        group = np.array([codes[str(cur.iloc[i])] if lk[i] else -1 for i in range(n)], dtype=np.int64)
    forced = pop > cap if r.uses_population else np.zeros(n, dtype=bool)

    def avoidable(sol: DistrictSolution) -> int:
        """Size and population breaks that a village heavier than the cap does not force."""
        out = 0
        for b in sol.breaks:
            d = b.district
            if b.rule == "size" or (
                b.rule == "population" and d is not None and not forced[sol.labels == d].any()
            ):
                out += 1
        return out

    # the fewest districts the counts allow; when the search finds no plan within the rules at that number
    # (contiguity and village sizes can make it impossible), one or two more, unless --districts fixed it
    tries = [k] if n_districts is not None else list(range(k, min(k + 2, max(k, k_high)) + 1))
    cut = False
    sol: DistrictSolution | None = None
    for kk in tries:
        left = time_limit - (time.monotonic() - t0)
        if sol is not None and left <= 0:
            log.warning("plan_districts: the time limit stopped the tries with more districts at k=%d", kk)
            cut = True
            break
        s_k = contiguous_districts(
            adj,
            pop,
            cost,
            kk,
            min_size=r.min_villages if r.uses_villages else None,
            max_size=r.max_villages if r.uses_villages else None,
            pop_upper=float(cap) if r.uses_population else None,
            township=township,
            candidates=cand,
            locked=group,
            balance_weight=r.balance_weight,
            compactness_weight=r.compactness_weight,
            max_cost=r.max_travel_min,
            max_cost_hard=r.max_travel_hard,
            seed=seed,
            time_limit=max(left, 0.0),
        )
        cut |= s_k.stopped_by_time
        if sol is None or avoidable(s_k) < avoidable(sol):
            sol = s_k
        if avoidable(s_k) == 0:
            break
        if kk != tries[-1]:
            log.info(
                "plan_districts: %d districts break R1/R2 %d time(s); trying %d", kk, avoidable(s_k), kk + 1
            )
    assert sol is not None
    labels, centers = sol.labels, list(sol.centers)
    if rules.offices.objective != "pmedian":
        centers = [
            choose_office(
                np.flatnonzero(labels == d),
                raw,
                pop,
                objective=rules.offices.objective,
                coverage_min=rules.offices.coverage_min,
                candidates=cand,
                current=c,
            )
            for d, c in enumerate(centers)
        ]
    width = max(2, len(str(len(centers))))
    did = np.array([f"D{d + 1:0{width}d}" for d in range(len(centers))])
    oid = np.array([f"O{d + 1:0{width}d}" for d in range(len(centers))])
    out = villages.copy()
    out["district_id"] = did[labels]
    out["office_id"] = oid[labels]
    office_pos = np.array(centers)[labels]
    out["travel_min_to_office"] = raw[np.arange(n), office_pos]
    out["access"] = acc["access"].astype(str).to_numpy()
    districts, offices = _layers(out, ids, pop, labels, centers, did, oid, raw, pts, r, villages.crs)
    out_check = out.copy()
    out_check["office_village_id"] = [str(ids[c]) for c in office_pos]
    violations.extend(
        check_districts(
            out_check,
            times,
            rules=rules,
            adjacency=adj,
            candidates=None if candidates is None else list(candidates),
        )
    )
    for vid in ids[out["access"].to_numpy() == "unreachable"]:
        reason = str(acc.loc[vid, "reason"]) if "reason" in acc.columns else ""
        violations.append(
            Violation(
                "access",
                str(vid),
                f"village {vid} is unreachable by road ({reason}); placed in the nearest "
                "district by straight line",
                f"村 {vid} 无道路可达 ({reason}); 按直线距离划入最近的警务区",
                hard=False,
            )
        )
    violations = _dedupe(violations)
    comparison = compare_current(out_check, current, raw, pop, r) if current is not None else None
    seconds = time.monotonic() - t0
    log.info(
        "plan_districts: %d villages, %d districts, %d violations, %.1fs",
        n,
        len(centers),
        len(violations),
        seconds,
    )
    return DistrictPlan(
        out,
        districts,
        offices,
        violations,
        comparison,
        sol.proven_optimal and not cut,
        seconds,
        cut,
    )


def _dedupe(vs: list[Violation]) -> list[Violation]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for v in vs:
        key = (v.rule, v.subject, v.detail)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _validate_villages(villages: gpd.GeoDataFrame) -> None:
    need = [c for c in ("township", "population", "geometry") if c not in villages.columns]
    if need:
        raise ValidationError(f"villages lack column(s) {need}", zh=f"村图层缺少列 {need}")
    if not villages.index.is_unique:
        dup = villages.index[villages.index.duplicated()].tolist()[:10]
        raise ValidationError(f"village ids {dup} appear more than once", zh=f"村编号 {dup} 重复出现")
    if villages.crs is not None and not villages.crs.is_projected:
        raise ValidationError(
            "villages must be in a metric (projected) CRS", zh="村图层必须使用米制投影坐标系"
        )


def _layers(
    out: gpd.GeoDataFrame,
    ids: pd.Index,
    pop: np.ndarray,
    labels: np.ndarray,
    centers: list[int],
    did: np.ndarray,
    oid: np.ndarray,
    raw: np.ndarray,
    pts: np.ndarray,
    r: DistrictRules,
    crs: Any,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    from shapely.geometry import Point

    drows, orows, dgeom, ogeom = [], [], [], []
    for d, c in enumerate(centers):
        mem = np.flatnonzero(labels == d)
        t = raw[mem, c]
        ft = t[np.isfinite(t)]
        p = float(pop[mem].sum())
        off = r.officers_for(p)
        drows.append(
            {
                "district_id": did[d],
                "n_villages": len(mem),
                "population": int(p),
                "officers": off,
                "office_id": oid[d],
                "max_travel_min": float(ft.max()) if len(ft) else float("nan"),
                "mean_travel_min": float(ft.mean()) if len(ft) else float("nan"),
            }
        )
        dgeom.append(out.geometry.iloc[mem].union_all())
        orows.append({"office_id": oid[d], "village_id": str(ids[c]), "district_id": did[d], "officers": off})
        ogeom.append(Point(pts[c]))
    return gpd.GeoDataFrame(drows, geometry=dgeom, crs=crs), gpd.GeoDataFrame(orows, geometry=ogeom, crs=crs)

"""Re-check any assignment of villages to districts and offices (fresh or edited by hand) against R1/R2."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.districts.adjacency import _anchor_points, _bridge, village_adjacency
from planner.engines.districting.graph import components, is_connected, neighbours
from planner.model import Violation
from planner.rules import Rules


def check_districts(
    villages: pd.DataFrame,
    times: Any,
    *,
    rules: Rules,
    adjacency: Any = None,
    offices: pd.DataFrame | None = None,
    candidates: Sequence[str] | None = None,
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

    Returns
    -------
    list[Violation]
        membership (village in no district), contiguity, R1 sizes, R2 population, office (missing, several, or
        outside its district), candidates, township, travel (office to a village beyond max_travel_min).
    """
    r = rules.districts
    v = villages.set_index("village_id") if "village_id" in villages.columns else villages
    ids = v.index.astype(str)
    out: list[Violation] = []
    if not ids.is_unique:
        for vid in sorted(set(ids[ids.duplicated()])):
            out.append(
                Violation(
                    "membership",
                    vid,
                    f"village {vid} appears in more than one row or district",
                    f"村 {vid} 出现在多行或多个警务区中",
                )
            )
    dist = v["district_id"]
    for vid in ids[dist.isna().to_numpy() | (dist.astype(str).str.strip() == "").to_numpy()]:
        out.append(
            Violation("membership", vid, f"village {vid} is in no district", f"村 {vid} 不属于任何警务区")
        )
    if "office_village_id" in v.columns:
        office_v = v["office_village_id"].astype(str).to_numpy()
    elif offices is not None:
        omap = dict(zip(offices["office_id"].astype(str), offices["village_id"].astype(str), strict=True))
        office_v = np.array([omap.get(str(o), "") for o in v["office_id"]])
    else:
        office_v = v["office_id"].astype(str).to_numpy()
    dist_s = dist.astype(str).to_numpy()
    pop = v["population"].to_numpy(float)
    pos = {vid: i for i, vid in enumerate(ids)}
    if adjacency is None:
        gv = gpd.GeoDataFrame(v, geometry="geometry").set_axis(ids)
        adjacency = village_adjacency(gv, times=times)
        pts = np.array([[p.x, p.y] for p in _anchor_points(gv)])
        tw = gv["township"].astype(str).to_numpy() if r.within_township else None
        adjacency = _bridge(sp.csr_matrix(adjacency), pts, tw, r.min_villages if r.uses_villages else 1)
    nbrs = neighbours(adjacency, len(ids))
    sec = times.subset(ids, ids).seconds / 60.0 if times is not None else None
    cap = r.max_officers * r.residents_per_officer
    for d in sorted(set(dist_s[~dist.isna().to_numpy()])):
        mem = np.flatnonzero(dist_s == d)
        if not is_connected(mem.tolist(), nbrs):
            parts = components(nbrs, mem.tolist())
            desc = "; ".join(",".join(str(ids[u]) for u in p[:6]) for p in parts)
            out.append(
                Violation(
                    "contiguity",
                    d,
                    f"district {d} falls into {len(parts)} pieces: {desc}",
                    f"警务区 {d} 分成 {len(parts)} 块互不相连: {desc}",
                )
            )
        if r.uses_villages and not r.min_villages <= len(mem) <= r.max_villages:
            out.append(
                Violation(
                    "R1",
                    d,
                    f"district {d} has {len(mem)} villages, outside {r.min_villages}-{r.max_villages}",
                    f"警务区 {d} 有 {len(mem)} 个村, 不在 {r.min_villages}-{r.max_villages} 之内",
                )
            )
        p = float(pop[mem].sum())
        if r.uses_population and p > cap:
            out.append(
                Violation(
                    "R2",
                    d,
                    f"district {d} has {p:,.0f} residents, more than {r.max_officers} officers "
                    f"x {r.residents_per_officer:,} = {cap:,}",
                    f"警务区 {d} 有 {p:,.0f} 人, 超过 {r.max_officers} 名民警 x "
                    f"{r.residents_per_officer:,} = {cap:,}",
                )
            )
        if r.within_township:
            tws = sorted(set(v["township"].astype(str).to_numpy()[mem]))
            if len(tws) > 1:
                out.append(
                    Violation(
                        "township", d, f"district {d} spans townships {tws}", f"警务区 {d} 跨乡镇 {tws}"
                    )
                )
        offs = sorted(set(office_v[mem]) - {"", "nan", "None"})
        if not offs:
            out.append(Violation("office", d, f"district {d} has no office", f"警务区 {d} 没有警务室"))
            continue
        if len(offs) > 1:
            out.append(
                Violation(
                    "office",
                    d,
                    f"district {d} has {len(offs)} offices: {offs}",
                    f"警务区 {d} 有 {len(offs)} 个警务室: {offs}",
                )
            )
        for o in offs:
            if o not in pos:
                out.append(
                    Violation(
                        "office",
                        d,
                        f"the office of district {d} is at {o}, which is no village",
                        f"警务区 {d} 的警务室位于 {o}, 不是图层中的村",
                    )
                )
                continue
            if dist_s[pos[o]] != d:
                out.append(
                    Violation(
                        "office",
                        d,
                        f"the office of district {d} is in village {o}, which belongs to "
                        f"district {dist_s[pos[o]]}",
                        f"警务区 {d} 的警务室位于村 {o}, 而该村属于警务区 {dist_s[pos[o]]}",
                    )
                )
            if candidates is not None and o not in set(candidates):
                out.append(
                    Violation(
                        "candidates",
                        d,
                        f"office village {o} is not a candidate site",
                        f"警务室所在村 {o} 不是候选地点",
                    )
                )
            if sec is not None:
                t = sec[pos[o], mem]
                far = [
                    (str(ids[u]), tt) for u, tt in zip(mem, t, strict=True) if tt > r.max_travel_min + 1e-9
                ]
                if far:
                    worst = max(far, key=lambda x: x[1])
                    kind = "hard" if r.max_travel_hard else "soft"
                    out.append(
                        Violation(
                            "travel",
                            d,
                            f"{len(far)} village(s) of district {d} lie beyond {r.max_travel_min:g} min of the office "
                            f"({kind} limit); worst {worst[0]} at {worst[1]:.0f} min",
                            f"警务区 {d} 有 {len(far)} 个村距警务室超过 {r.max_travel_min:g} 分钟 "
                            f"({'硬' if r.max_travel_hard else '软'}约束); 最远 {worst[0]} 为 {worst[1]:.0f} 分钟",
                            hard=r.max_travel_hard,
                        )
                    )
    return out

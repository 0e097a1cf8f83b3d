"""The officers of a plan: which office each serves, and what the patrol stage needs of a district plan."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd

from planner.errors import ValidationError
from planner.model import ROSTER_EXTRA
from planner.rules import PatrolRules

ROSTER_COLUMNS = ["officer_id", "office", "kind", "village_id", "unavailable"]


def patrol_assignment(villages: pd.DataFrame, offices: pd.DataFrame, districts: pd.DataFrame) -> pd.DataFrame:
    """What the patrol stage needs of a district plan: per village its district, office, office village and
    the district's officers (villages indexed by village_id; offices and districts with their id columns)."""
    offices = offices.set_index("office_id")
    districts = districts.set_index("district_id")
    out = pd.DataFrame(index=villages.index)
    out["district_id"] = villages["district_id"]
    out["office_id"] = villages["office_id"]
    out["office_village_id"] = villages["office_id"].map(offices["village_id"])
    out["officers"] = villages["district_id"].map(districts["officers"]).astype(int)
    out["population"] = villages["population"]
    out["access"] = villages["access"]
    return out


def check_roster_offices(roster: pd.DataFrame, villages: pd.Index, *, source: str) -> None:
    """Before any solving: each roster office must be a village id (the office's village) or an office id the
    planner gives (O01, O02, ...); anything else is an input error naming the CSV line."""
    known = set(villages.astype(str))
    for i, office in enumerate(roster["office"].astype(str)):
        if office not in known and not re.fullmatch(r"O\d+", office):
            raise _roster_error(
                source,
                i,
                office,
                "it is neither a village id nor an office id (O01, O02, ...)",
                "既不是村代码也不是警务室编号 (O01、O02……)",
            )


def name_roster_offices(roster: pd.DataFrame, villages: pd.DataFrame) -> pd.DataFrame:
    """Roster offices written as a village's name (``上庄村`` or ``上庄村警务室``) become that village's id, when
    the name is unique in the layer; ids and office ids are left as they are."""
    if "name" not in villages.columns:
        return roster
    ids, by_name = _ids_and_unique_names(villages)
    out = []
    for office in roster["office"].astype(str):
        key = office.strip()
        if key in ids or re.fullmatch(r"O\d+", key):
            out.append(key)
            continue
        bare = key.removesuffix("警务室").removesuffix("警务站").strip()
        out.append(by_name.get(key) or by_name.get(bare) or key)
    return roster.assign(office=out)


def _ids_and_unique_names(villages: pd.DataFrame) -> tuple[set[str], dict[str, str]]:
    """The layer's village ids, and its names that belong to one village only (name -> id)."""
    names = villages["name"].astype(str)
    counts = names.value_counts()
    return set(villages.index.astype(str)), {n: str(i) for i, n in names.items() if counts[n] == 1}


def name_roster_homes(roster: pd.DataFrame, villages: pd.DataFrame) -> pd.DataFrame:
    """A roster's ``home_village`` (R10) written as a village's name becomes its id when the name is unique in
    the layer; ids, blanks and unknown names are left as they are (an unknown one is reported as a missed
    match)."""
    if "home_village" not in roster.columns or "name" not in villages.columns:
        return roster
    ids, by_name = _ids_and_unique_names(villages)
    out = []
    for v in roster["home_village"]:
        key = "" if _blank(v) else str(v).strip()
        out.append(key if key in ids or not key else by_name.get(key, key))
    return roster.assign(home_village=out)


def resolve_roster_offices(roster: pd.DataFrame, assignment: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Roster offices given as village ids become the office of the district that holds that village (a
    bureau knows where its officers sit, not the ids of offices the planner has yet to place)."""
    office_of_village = assignment["office_id"].astype(str)
    office_of_village.index = office_of_village.index.astype(str)
    offices = set(office_of_village)
    resolved = []
    for i, office in enumerate(roster["office"].astype(str)):
        if office in offices:
            resolved.append(office)
        elif office in office_of_village.index:
            resolved.append(office_of_village[office])
        else:
            raise _roster_error(
                source,
                i,
                office,
                f"the plan has no such office (it has {sorted(offices)[:10]})",
                f"方案中没有该警务室 (现有 {sorted(offices)[:10]})",
            )
    return roster.assign(office=resolved)


def _roster_error(source: str, i: int, office: str, why: str, why_zh: str) -> ValidationError:
    line = i + 2  # the header is line 1
    return ValidationError(
        f"{source}: line {line}: office '{office}': {why}. Give the village id of the officer's office.",
        zh=f"{source}: 第 {line} 行: 警务室 '{office}' {why_zh}。请填写该民警所在警务室的村代码。",
    )


def make_roster(assignment: pd.DataFrame, *, rules: PatrolRules) -> pd.DataFrame:
    """A roster from the district's officer count (R2): ``<office_id>-1``, ``<office_id>-2``, ...

    The first officer is the resident officer (驻村民警) of the office village when ``resident_days_per_month``
    is above 0, the others are linked officers (挂村民警).
    """
    a = assignment.copy()
    a.index = a.index.astype(str)
    rows = []
    for office, grp in a.groupby(a["office_id"].astype(str), sort=True):
        n = int(pd.to_numeric(grp["officers"]).max())
        for i in range(1, max(n, 0) + 1):
            resident = i == 1 and rules.resident_days_per_month > 0
            rows.append(
                {
                    "officer_id": f"{office}-{i}",
                    "office": office,
                    "kind": "resident" if resident else "linked",
                    "village_id": str(grp["office_village_id"].iloc[0]) if resident else None,
                    "unavailable": [],
                }
            )
    return pd.DataFrame(rows, columns=ROSTER_COLUMNS)


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def check_roster(roster: pd.DataFrame, a: pd.DataFrame, *, source: str = "roster") -> pd.DataFrame:
    """A given roster checked against the assignment ``a`` (indexed by village_id as text): unique ids, known
    offices and villages, kinds resident / linked, unavailable dates parsed; in :data:`ROSTER_COLUMNS`.
    A blank ``village_id`` (a linked officer) is no village; errors name ``source`` and the 1-based CSV line."""
    missing = [c for c in ("officer_id", "office", "kind") if c not in roster.columns]
    if missing:
        raise ValidationError(
            f"roster: missing column(s) {missing}; it needs officer_id, office, kind (resident / linked), "
            "optional village_id and unavailable (dates).",
            zh=f"警员名单: 缺少列 {missing}; 需要 officer_id、office、kind (resident / linked), "
            "可选 village_id 和 unavailable (日期)。",
        )
    r = roster.copy().reset_index(drop=True)
    where = f"{source}: line"
    r["officer_id"] = r["officer_id"].astype(str)
    r["office"] = r["office"].astype(str)
    if "village_id" not in r.columns:
        r["village_id"] = None
    if "unavailable" not in r.columns:
        r["unavailable"] = [[] for _ in range(len(r))]
    offices = set(a["office_id"])
    out_unavail = []
    for k, (_, row) in enumerate(r.iterrows()):
        line = k + 2  # the header is line 1
        if row["officer_id"] in set(r["officer_id"].iloc[:k]):
            raise ValidationError(
                f"{where} {line}: officer_id '{row['officer_id']}' appears twice; make ids unique.",
                zh=f"{source}: 警员名单第 {line} 行: officer_id '{row['officer_id']}' 重复; 请保证唯一。",
            )
        if row["office"] not in offices:
            raise ValidationError(
                f"{where} {line}: office '{row['office']}' is not an office of the plan; use one of "
                f"{sorted(offices)[:10]}.",
                zh=f"{source}: 警员名单第 {line} 行: 警务室 '{row['office']}' 不在规划中; 请使用 {sorted(offices)[:10]} 之一。",
            )
        if row["kind"] not in ("resident", "linked"):
            raise ValidationError(
                f"{where} {line}: kind '{row['kind']}' must be resident or linked.",
                zh=f"{source}: 警员名单第 {line} 行: kind '{row['kind']}' 必须是 resident 或 linked。",
            )
        vid = row["village_id"]
        if not _blank(vid) and str(vid) not in a.index:
            raise ValidationError(
                f"{where} {line}: village_id '{vid}' is not a village of the plan.",
                zh=f"{source}: 警员名单第 {line} 行: village_id '{vid}' 不是规划中的村。",
            )
        raw = row["unavailable"]
        dates: list[dt.date] = []
        if isinstance(raw, str):
            raw = [x for x in raw.replace(";", ",").split(",") if x.strip()]
        for x in raw if isinstance(raw, list | tuple | set | np.ndarray) else []:
            try:
                dates.append(x if isinstance(x, dt.date) else dt.date.fromisoformat(str(x).strip()))
            except ValueError:
                raise ValidationError(
                    f"{where} {line}: unavailable date '{x}' is not an ISO date (YYYY-MM-DD).",
                    zh=f"{source}: 警员名单第 {line} 行: 不在岗日期 '{x}' 不是 ISO 日期 (YYYY-MM-DD)。",
                ) from None
        out_unavail.append(sorted(set(dates)))
    r["village_id"] = [None if _blank(v) else str(v) for v in r["village_id"]]
    r["unavailable"] = out_unavail
    return r[[*ROSTER_COLUMNS, *(c for c in ROSTER_EXTRA if c in r.columns)]]

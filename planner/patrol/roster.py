"""The officers of a plan: which office each serves, and what the patrol stage needs of a district plan."""

from __future__ import annotations

import re

import pandas as pd

from planner.errors import ValidationError


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

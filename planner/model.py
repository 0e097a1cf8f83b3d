"""A plan as the files of a plan directory hold it (INTERFACE.md): the one object maps, report and check read.

The pipeline builds a :class:`PlanData` from the stages' results and writes it; ``planner check``, the map and
the report read it back with :func:`planner.io.plan_files.read_plan_dir`, so a plan edited by hand in QGIS is
handled exactly like a fresh one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

# Columns of each layer, in order (INTERFACE.md); extra columns may follow.
VILLAGE_COLUMNS = [
    "village_id",
    "name",
    "township",
    "population",
    "district_id",
    "office_id",
    "travel_min_to_office",
    "access",
]
DISTRICT_COLUMNS = [
    "district_id",
    "n_villages",
    "population",
    "officers",
    "office_id",
    "max_travel_min",
    "mean_travel_min",
]
OFFICE_COLUMNS = ["office_id", "village_id", "district_id", "officers"]
ROUTE_COLUMNS = ["officer_id", "date", "seq", "from_id", "to_id", "minutes", "km"]
SCHEDULE_COLUMNS = ["officer_id", "date", "start", "end", "village_id", "activity", "minutes"]


@dataclass(frozen=True, eq=False)
class PlanData:
    """Every layer and table of one plan, in WGS-84 or a metric CRS (layers keep the CRS they were given).

    Attributes
    ----------
    villages, districts, offices
        GeoDataFrames with the columns of INTERFACE.md (``village_id`` etc. as columns, default RangeIndex).
    routes
        GeoDataFrame of route legs along the roads; empty when no patrol plan was made.
    schedule
        The monthly plan, one row per officer-day-stop; empty when no patrol plan was made.
    summary
        The content of summary.json.
    current
        The districts in force today (villages with ``district_id``) when given, else None.
    """

    villages: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    offices: gpd.GeoDataFrame
    summary: dict[str, Any]
    routes: gpd.GeoDataFrame = field(
        default_factory=lambda: gpd.GeoDataFrame({c: [] for c in ROUTE_COLUMNS}, geometry=[], crs="EPSG:4326")
    )
    schedule: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({c: [] for c in SCHEDULE_COLUMNS}))
    current: gpd.GeoDataFrame | None = None
    stations: gpd.GeoDataFrame | None = None  # the police stations (派出所) and their figures


#: The roster's optional columns, carried through a plan when given: for the stations (R9) and matching (R10).
ROSTER_EXTRA = ("name", "station", "home_village", "skills")

#: The ``stations`` layer of plan.gpkg, in this order (docs/INTERFACE.md; planner.stations makes it).
STATION_COLUMNS = [
    "station_id",
    "name",
    "village_id",
    "townships",
    "districts",
    "n_districts",
    "n_villages",
    "population",
    "other_officers",
    "rural",
    "geometry",
]


@dataclass(frozen=True)
class Violation:
    """One broken rule: which rule, for what (village, district or office id), the numbers, in en and zh."""

    rule: str
    subject: str
    detail: str
    detail_zh: str
    hard: bool = True  # False: reported for the planner to weigh (a soft limit, a fact of the terrain)
    # what the subject is, so that nobody parses it back out of the text: "village", "district", "office",
    # "officer", "township", "piece" (of the map), "schedule" (a row or column of it), or "" when not known
    kind: str = ""

    def to_dict(self) -> dict[str, str | bool]:
        """As plain data for summary.json."""
        return {
            "rule": self.rule,
            "subject": self.subject,
            "detail": self.detail,
            "detail_zh": self.detail_zh,
            "hard": self.hard,
        }


def clock_minutes(minutes: Any) -> Any:
    """Travel minutes as the schedule's clock counts them: rounded up to the whole minute.

    A leg of 108.14 minutes takes the 109th minute, so the schedule, the route sheets and every message that
    names a travel time in whole minutes use this one rounding (1e-9 absorbs float noise: 60.0000000001 is 60).
    Works on a number or an array.
    """
    return np.ceil(np.asarray(minutes, dtype=float) - 1e-9)


@dataclass(frozen=True, eq=False)
class TravelTimes:
    """Travel times between villages (or village and site) along the roads, walking legs included.

    Attributes
    ----------
    origins, destinations
        Village ids of the rows and the columns.
    seconds
        Array of shape (len(origins), len(destinations)); ``inf`` where no road connects the pair.
    """

    origins: pd.Index
    destinations: pd.Index
    seconds: np.ndarray

    def __post_init__(self) -> None:
        if self.seconds.shape != (len(self.origins), len(self.destinations)):
            raise ValueError(
                f"seconds has shape {self.seconds.shape}, expected "
                f"({len(self.origins)}, {len(self.destinations)})"
            )

    @property
    def minutes(self) -> np.ndarray:
        """The matrix in minutes."""
        return self.seconds / 60.0

    def frame(self) -> pd.DataFrame:
        """Minutes as a DataFrame indexed by origin, with destinations as columns."""
        return pd.DataFrame(self.minutes, index=self.origins, columns=self.destinations)

    def subset(self, origins: Any = None, destinations: Any = None) -> TravelTimes:
        """The rows and columns of the given village ids (all when None), in the given order."""
        oi = np.arange(len(self.origins)) if origins is None else self.origins.get_indexer(pd.Index(origins))
        di = (
            np.arange(len(self.destinations))
            if destinations is None
            else self.destinations.get_indexer(pd.Index(destinations))
        )
        if (oi < 0).any() or (di < 0).any():
            raise KeyError("some village ids are not in the travel-time matrix")
        return TravelTimes(self.origins[oi], self.destinations[di], self.seconds[np.ix_(oi, di)])

    def summary(self) -> dict[str, Any]:
        """Size and reachability of the matrix."""
        finite = np.isfinite(self.seconds)
        return {
            "origins": len(self.origins),
            "destinations": len(self.destinations),
            "reachable_pairs_pct": float(100.0 * finite.mean()) if self.seconds.size else 100.0,
            "max_min": float(self.seconds[finite].max() / 60.0) if finite.any() else None,
        }


class DroppedVisit(NamedTuple):
    """A visit requirement the plan does not meet, with the reason and its numbers."""

    officer_id: str
    village_id: str
    reason: str
    reason_zh: str


def officer_labels(summary: Mapping[str, Any] | None) -> dict[str, str]:
    """officer_id -> how the sheets and the map name him: "苏英艳 (O01-1)" when the roster gives a name, else
    the id; from summary.json's ``roster``."""
    out: dict[str, str] = {}
    for r in (summary or {}).get("roster") or []:
        if isinstance(r, Mapping) and r.get("officer_id") is not None:
            oid, name = str(r["officer_id"]), str(r.get("name") or "").strip()
            out[oid] = f"{name} ({oid})" if name and name.lower() != "nan" and name != oid else oid
    return out

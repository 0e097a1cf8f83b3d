"""A plan as the files of a plan directory hold it (INTERFACE.md): the one object maps, report and check read.

The pipeline builds a :class:`PlanData` from the stages' results and writes it; ``planner check``, the map and
the report read it back with :func:`planner.io.plan_files.read_plan_dir`, so a plan edited by hand in QGIS is
handled exactly like a fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
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

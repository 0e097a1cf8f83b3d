"""Reading and writing files: villages (any format, CRS, encoding, GCJ-02), rosters, current districts,
layers and plan directories, written atomically (docs/ARCHITECTURE.md)."""

from planner.io.files import atomic_output_dir, read_roster, write_layer
from planner.io.plan_files import read_plan_dir, write_plan_dir
from planner.io.villages import (
    gcj02_to_wgs84,
    metric_crs,
    read_current,
    read_office_sites,
    read_villages,
    wgs84_to_gcj02,
)

__all__ = [
    "atomic_output_dir",
    "gcj02_to_wgs84",
    "metric_crs",
    "read_current",
    "read_office_sites",
    "read_plan_dir",
    "read_roster",
    "read_villages",
    "wgs84_to_gcj02",
    "write_layer",
    "write_plan_dir",
]

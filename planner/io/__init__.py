"""Reading and writing files: villages (any format, CRS, encoding, GCJ-02), rosters, current districts,
layers and plan directories, written atomically. The only code of the planner that touches disk."""

from planner.io.current import locked_villages, read_current, read_office_sites
from planner.io.files import atomic_output_dir, read_roster, write_layer
from planner.io.plan_files import read_plan_dir, write_plan_dir
from planner.io.villages import read_villages

__all__ = [
    "atomic_output_dir",
    "locked_villages",
    "read_current",
    "read_office_sites",
    "read_plan_dir",
    "read_roster",
    "read_villages",
    "write_layer",
    "write_plan_dir",
]

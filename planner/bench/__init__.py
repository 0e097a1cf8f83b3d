"""`planner bench FAMILY`: the engine on published instances (shared/benchmarks), with reference values.

Each family lives in its own module with ``run(args) -> int``; :mod:`planner.bench.common` finds instance
files, prints the table and writes one JSON object per line per instance (INTERFACE.md).
"""

from __future__ import annotations

import argparse
import importlib

FAMILIES = ("pmedian", "cpmp", "districting", "cvrp", "pvrp", "matrix", "districts")


def run_bench(args: argparse.Namespace) -> int:
    """Dispatch ``planner bench FAMILY`` to ``planner.bench.<family>.run``."""
    module = importlib.import_module(f"planner.bench.{args.family}")
    return int(module.run(args))

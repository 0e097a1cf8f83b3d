#!/usr/bin/env bash
# The two real regions planned as issue 10 fixes them (month 2026-12, seed 0), into OUT/demo and OUT/li, so that
# benchmarks/compare_plans.py can compare a refactor's plans with the plans before it. The inputs are copied into
# OUT/inputs and named by relative paths, so plans made from two checkouts name the same files.
# Usage: bash benchmarks/refactor_plans.sh OUT   (needs ../shared beside the project for the second region)
set -euo pipefail
# Before the redesign, osmnx merged the tags of simplified ways through a set, so a plan depended on string
# hashing; the issue-10 comparison fixed the hash seed so that before and after saw the same road graph. Roads
# are read deterministically since (planner.io.roads), so the seed no longer matters but is kept for old checkouts.
export PYTHONHASHSEED="${PYTHONHASHSEED:-0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RAW="${PLANNER_SHARED:-$ROOT/../shared}/data/raw"
mkdir -p "$1/inputs"
cd "$1"
cp "$ROOT/data/demo/villages.gpkg" "$ROOT/data/demo/roads.osm.bz2" inputs/
cp "$RAW/osm-liechtenstein-2024/liechtenstein-latest.osm.pbf" "$RAW/osm-liechtenstein-2024/liechtenstein-drive.osm.bz2" inputs/
planner prepare-osm --osm inputs/liechtenstein-latest.osm.pbf --out inputs/li_villages.gpkg >/dev/null
for args in "demo inputs/villages.gpkg inputs/roads.osm.bz2" "li inputs/li_villages.gpkg inputs/liechtenstein-drive.osm.bz2"; do
  set -- $args
  code=0
  planner plan --villages "$2" --roads "$3" --out "$1" --month 2026-12 --seed 0 --overwrite >/dev/null 2>&1 || code=$?
  [ "$code" -le 1 ] || { echo "planner plan $1 failed with exit $code" >&2; exit "$code"; }
done
echo "wrote $(pwd)/demo $(pwd)/li"

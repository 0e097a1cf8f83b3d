#!/usr/bin/env bash
# Set up (first run only) and run the test suite. Extra arguments go to pytest (e.g. -m slow, -k network).
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/browser.sh"
# one tool for lint and format, one for types (CONVENTIONS.md), before the tests
ruff check .
ruff format --check .
mypy planner
exec python -m pytest "$@"

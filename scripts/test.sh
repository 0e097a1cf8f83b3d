#!/usr/bin/env bash
# Set up (first run only) and run the test suite. Extra arguments go to pytest (e.g. -m slow, -k network).
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/browser.sh"
exec python -m pytest "$@"

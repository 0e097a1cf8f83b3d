#!/usr/bin/env bash
# Set up (first run only) and run the whole pipeline on the embedded demo region; writes maps/demo/.
source "$(dirname "$0")/env.sh"
exec planner demo "$@"

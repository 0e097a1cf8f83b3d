"""The colours of the plan's pages, in one place so that the map, the report and the route sheets agree."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["ACCENT", "ALERT", "DAY_COLOURS", "DISTRICT_PALETTE", "MAP_DAY_COLOURS", "district_colours"]

#: Twelve well-separated colours (ColorBrewer Paired / Set3 mix); districts cycle through them.
DISTRICT_PALETTE = (
    "#1f78b4",
    "#33a02c",
    "#e31a1c",
    "#ff7f00",
    "#6a3d9a",
    "#b15928",
    "#a6cee3",
    "#b2df8a",
    "#fb9a99",
    "#fdbf6f",
    "#cab2d6",
    "#8dd3c7",
)

#: Route colours, one per day of the month in date order (cycling); dark enough to print in colour or grey.
DAY_COLOURS = (
    "#e41a1c",
    "#377eb8",
    "#4daf4a",
    "#984ea3",
    "#ff7f00",
    "#a65628",
    "#f781bf",
    "#17becf",
    "#7f7f00",
    "#1b2a80",
)

#: The map's day colours: the first eight of DAY_COLOURS. The map has always cycled after eight days and the
#: route sheets after ten; making them one cycle would recolour map.html, so it waits for a deliberate change.
MAP_DAY_COLOURS = DAY_COLOURS[:8]

#: Headings, bars and rules of the report and the route sheets.
ACCENT = "#2b6cb0"
#: Targets, marks and the office on the printed pages.
ALERT = "#c53030"


def district_colours(district_ids: pd.Series | list[Any]) -> dict[str, str]:
    """A colour per district id (sorted ids, cycling through a 12-colour palette): the map and the report's
    static map agree."""
    ids = sorted({str(d) for d in district_ids if d is not None and not pd.isna(d)})
    return {d: DISTRICT_PALETTE[i % len(DISTRICT_PALETTE)] for i, d in enumerate(ids)}

"""The colours of the plan's pages, in one place so that the map, the report and the route sheets agree."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = [
    "ACCENT",
    "ALERT",
    "DAY_COLOURS",
    "DISTRICT_PALETTE",
    "MAP_DAY_COLOURS",
    "district_colours",
    "swatch",
]

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


def swatch(colour: str, *, kind: str = "box") -> str:
    """A small coloured sign for a map legend: a filled box, a line, a dashed line, a dashed outline or a dot."""
    if kind in ("line", "dashline"):
        style = "solid" if kind == "line" else "dashed"
        return (
            f"<span style='display:inline-block;width:18px;height:0;border-top:3px {style} {colour};"
            "vertical-align:middle;margin-right:5px'></span>"
        )
    if kind == "dashed":
        return (
            f"<span style='display:inline-block;width:14px;height:10px;border:2px dashed {colour};"
            "vertical-align:middle;margin-right:5px'></span>"
        )
    if kind == "dot":
        return (
            f"<span style='display:inline-block;width:11px;height:11px;border-radius:50%;background:{colour};"
            "border:2px solid #fff;outline:1px solid #333;vertical-align:middle;margin-right:5px'></span>"
        )
    return (
        f"<span style='display:inline-block;width:14px;height:11px;background:{colour};opacity:.8;"
        "border:1px solid #666;vertical-align:middle;margin-right:5px'></span>"
    )

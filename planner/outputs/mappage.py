"""The map as one self-contained HTML page: folium's page with its random ids numbered in order (the same plan
gives the same bytes) and, offline, Leaflet and its plugins inlined from the copies in ``planner/static/vendor``
(a police intranet has no internet)."""

from __future__ import annotations

import base64
import logging
import re
from pathlib import Path

import folium

logger = logging.getLogger(__name__)

_VENDOR = Path(__file__).resolve().parents[1] / "static" / "vendor"


_ASSET_RE = re.compile(r"/(?:npm|gh/[^/]+)/(?P<pkg>(?:@[^/]+/)?[^/@]+@[^/]+)/(?P<path>[^?#]+)")


def _vendored(url: str) -> Path | None:
    """The vendored copy of a CDN asset URL, or None when we do not ship it."""
    match = _ASSET_RE.search(url)
    if not match:
        return None
    path = _VENDOR / match["pkg"] / match["path"]
    if ".min." in path.name and not path.exists():
        path = path.with_name(path.name.replace(".min.", "."))
    return path if path.is_file() else None


def _inline_css(css: str, folder: Path) -> str:
    """CSS with its relative ``url(...)`` images embedded as data URIs."""

    def embed(match: re.Match[str]) -> str:
        ref = match[1].strip("'\"")
        target = folder / ref
        if ref.startswith(("data:", "#", "http")) or not target.is_file():
            return match[0]
        mime = "image/svg+xml" if target.suffix == ".svg" else "image/png"
        return f"url(data:{mime};base64,{base64.b64encode(target.read_bytes()).decode()})"

    return re.sub(r"url\(([^)]+)\)", embed, css)


# folium names each element with a random uuid4 hex (map_<32 hex>, geo_json_<32 hex>, ...)
_FOLIUM_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


def _numbered_ids(page: str) -> str:
    """folium's random element ids replaced by their order of first appearance, so that the same plan gives
    the same bytes (reproducible plan directories)."""
    seen: dict[str, str] = {}
    return _FOLIUM_ID.sub(lambda mt: seen.setdefault(mt.group(0), f"{len(seen):032x}"), page)


def map_html(m: folium.Map, *, offline: bool = True) -> str:
    """The map as one HTML page.

    Parameters
    ----------
    m
        The map.
    offline
        When True (default), Leaflet and its plugins are inlined from the copies shipped in
        ``planner/static/vendor`` so the page needs no internet (tiles still do: use ``tiles="none"``).
        Assets we do not ship are left as links and logged.

    Returns
    -------
    str
        The HTML page.
    """
    page = _numbered_ids(m.get_root().render())
    if not offline:
        return page

    def script(match: re.Match[str]) -> str:
        path = _vendored(match[1])
        if path is None:
            logger.warning("map asset not shipped, left as a link: %s", match[1])
            return match[0]
        return f"<script>{path.read_text(encoding='utf-8')}</script>"

    def style(match: re.Match[str]) -> str:
        path = _vendored(match[1])
        if path is None:
            logger.warning("map style not shipped, left as a link: %s", match[1])
            return match[0]
        return f"<style>{_inline_css(path.read_text(encoding='utf-8'), path.parent)}</style>"

    page = re.sub(r'<script src="([^"]+)"></script>', script, page)
    return re.sub(r'<link rel="stylesheet" href="([^"]+)"\s*/?>', style, page)

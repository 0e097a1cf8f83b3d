"""Coordinates: the metric CRS a county is planned in, and China's offset coordinates (GCJ-02) and CGCS2000.

GCJ-02 is the obfuscated datum of Amap and Tencent maps; the conversion is the published formula (an
approximation good to about a metre inside China, none outside, where the offset is not applied).
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import pyproj.exceptions
import shapely

from planner.errors import ValidationError

# ---------------------------------------------------------------------------------------------------------------
# GCJ-02 ("Mars coordinates", used by Amap / Gaode and Tencent maps)
# ---------------------------------------------------------------------------------------------------------------
# The published obfuscation: a Krasovsky-1940 ellipsoid and a fixed trigonometric series. China's extent is the
# rectangle every implementation uses (outside it the services apply no offset).
_GCJ_A = 6378245.0


_GCJ_EE = 0.00669342162296594323


_CHINA_LON = (72.004, 137.8347)


_CHINA_LAT = (0.8293, 55.8271)


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= _CHINA_LON[0]) & (lon <= _CHINA_LON[1]) & (lat >= _CHINA_LAT[0]) & (lat <= _CHINA_LAT[1])


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84, in degrees, at WGS-84 (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_GCJ_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Offset WGS-84 coordinates to GCJ-02 (what Amap / Tencent show); outside China they are unchanged.

    Parameters
    ----------
    lon, lat
        Degrees; scalars or arrays of the same shape.

    Returns
    -------
    (lon, lat)
        GCJ-02 degrees as float64 arrays of the input's shape (0-d for scalars).
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    dlon, dlat = _gcj_delta(lon_a, lat_a)
    inside = _in_china(lon_a, lat_a)
    return np.where(inside, lon_a + dlon, lon_a), np.where(inside, lat_a + dlat, lat_a)


def gcj02_to_wgs84(
    lon: Any, lat: Any, *, tol_deg: float = 1e-9, max_iter: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Remove the GCJ-02 offset: the inverse of :func:`wgs84_to_gcj02`, iterated to below 0.01 m.

    The offset changes slowly (well under 1e-3 per degree), so the fixed-point iteration
    ``w <- w + (g - wgs84_to_gcj02(w))`` gains about three digits a step; it stops when every point maps back
    to its GCJ-02 input within ``tol_deg`` (1e-9 degrees is about 0.1 mm).

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees; scalars or arrays of the same shape.
    tol_deg
        Convergence tolerance in degrees.
    max_iter
        Iteration cap (convergence takes 3 to 4 steps in practice).

    Returns
    -------
    (lon, lat)
        WGS-84 degrees as float64 arrays of the input's shape (0-d for scalars); unchanged outside China.
    """
    g_lon = np.asarray(lon, dtype=np.float64)
    g_lat = np.asarray(lat, dtype=np.float64)
    inside = _in_china(g_lon, g_lat)
    dlon, dlat = _gcj_delta(g_lon, g_lat)
    w_lon, w_lat = g_lon - dlon, g_lat - dlat
    for _ in range(max_iter):
        dlon, dlat = _gcj_delta(w_lon, w_lat)
        err_lon = g_lon - (w_lon + dlon)
        err_lat = g_lat - (w_lat + dlat)
        w_lon = w_lon + err_lon
        w_lat = w_lat + err_lat
        err = np.maximum(np.abs(err_lon), np.abs(err_lat))
        if not np.any(inside & (err > tol_deg)):
            break
    return np.where(inside, w_lon, g_lon), np.where(inside, w_lat, g_lat)


def _gcj_geometries(geoms: np.ndarray) -> np.ndarray:
    """GCJ-02 geometries (lon/lat) to WGS-84, every vertex."""

    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, convert)


# ---------------------------------------------------------------------------------------------------------------
# Metric CRS
# ---------------------------------------------------------------------------------------------------------------
def metric_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    """The UTM zone (WGS-84, EPSG 326xx north / 327xx south) of the centre of the data's extent.

    Parameters
    ----------
    gdf
        Features in any CRS (it must have one).

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    ValidationError
        The data has no CRS or no features with coordinates.
    """
    if gdf.crs is None:
        raise ValidationError(
            "the layer has no coordinate reference system; pass --crs (e.g. EPSG:4490 for CGCS2000)",
            zh="图层没有坐标参考系;请用 --crs 指定(如 CGCS2000 为 EPSG:4490)",
        )
    bounds = gdf.total_bounds
    if len(gdf) == 0 or not np.all(np.isfinite(bounds)):
        raise ValidationError("the layer has no features with coordinates", zh="图层中没有带坐标的要素")
    to_wgs = pyproj.Transformer.from_crs(gdf.crs, "EPSG:4326", always_xy=True)
    west, south, east, north = to_wgs.transform_bounds(*bounds)
    lon = (west + east) / 2.0 if west <= east else ((west + east + 360.0) / 2.0 + 180.0) % 360.0 - 180.0
    lat = (south + north) / 2.0
    zone = min(max(math.floor((lon + 180.0) / 6.0) + 1, 1), 60)
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def outside_china(lon: Any, lat: Any) -> np.ndarray:
    """Which points lie outside China's rectangle, where GCJ-02 applies no offset (a ``--coords gcj02`` there is
    most likely a mistake)."""
    return ~_in_china(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))

"""Which files the planner reads, and how: one table per kind of input, looked up by the file name's ending.

- :data:`LAYER_DRIVERS`: GIS layers read (and written) through GDAL: ending -> driver.
- :data:`TABLE_READERS`: attribute tables without geometry (a village list with lon/lat columns, a roster, a
  table of current districts): ending -> reader. A new table format (e.g. ``.xlsx``) is one entry here and its
  reader function; every reader of tables (:func:`is_table`, :func:`read_table`) then accepts it.
- :data:`OSM_SUFFIXES`: OpenStreetMap files: ending -> how they are read, ``"xml"`` (osmnx parses it directly)
  or ``"osmium"`` (pyosmium reads it; road reading first converts the drivable ways to OSM XML).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from planner.errors import ValidationError

log = logging.getLogger(__name__)

#: Layer formats read and written through GDAL (pyogrio): file extension -> GDAL driver.
LAYER_DRIVERS = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
}


def read_csv_text(path: Path, *, encoding: str | None, what: str, what_zh: str) -> pd.DataFrame:
    """Read a CSV file as text columns (no type guessing); UTF-8 (with or without BOM), else GB18030.

    Empty cells are empty strings; column names are stripped of spaces.
    """
    encodings = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    last: Exception | None = None
    for enc in encodings:
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc, skipinitialspace=True)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except LookupError as exc:
            raise ValidationError(
                f"{what} {path}: unknown encoding '{encoding}'; use e.g. UTF-8, GBK or GB18030",
                zh=f"{what_zh} {path}:未知编码“{encoding}”,请使用 UTF-8、GBK 或 GB18030 等",
            ) from exc
        except pd.errors.EmptyDataError as exc:
            raise ValidationError(
                f"{what} {path} is empty; give a CSV file with a header row and one row per record",
                zh=f"{what_zh} {path} 为空;请提供带表头、每行一条记录的 CSV 文件",
            ) from exc
        except (pd.errors.ParserError, OSError) as exc:
            fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            why_zh = (
                f"第 {fields[2]} 行有 {fields[3]} 个字段, 表头只有 {fields[1]} 个"
                if fields
                else "文件格式不对或无法打开"
            )
            raise ValidationError(
                f"{what} {path} cannot be read as CSV ({exc}); save it as comma-separated UTF-8 text",
                zh=f"{what_zh} {path} 无法按 CSV 读取({why_zh});请另存为逗号分隔的 UTF-8 文本",
            ) from exc
        if enc == "gb18030":
            log.info("%s is not UTF-8: read as GB18030 (GBK)", path)
        df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
        return df
    raise ValidationError(
        f"{what} {path}: the text does not decode as {' or '.join(encodings)} ({last}); "
        "save it as UTF-8 or pass the encoding (--encoding)",
        zh=f"{what_zh} {path}:文本无法按 {'、'.join(encodings)} 解码;请另存为 UTF-8 或用 --encoding 指定编码",
    )


#: A table reader: (path, encoding, what, what_zh) -> text columns, empty cells as "" (see read_csv_text).
TableReader = Callable[..., pd.DataFrame]

#: Attribute tables (no geometry): file extension -> reader. Rows are named "line N" in messages (header line 1).
TABLE_READERS: dict[str, TableReader] = {".csv": read_csv_text}

#: The table extensions, for path checks.
TABLE_SUFFIXES = tuple(TABLE_READERS)

#: Every input extension a village-type layer may have: a GIS layer or a table.
INPUT_EXTENSIONS = (*LAYER_DRIVERS, *TABLE_SUFFIXES)

#: OpenStreetMap file endings -> "xml" (osmnx reads it as it is) or "osmium" (pyosmium reads it; it picks the
#: format from the name). osmnx opens .bz2 itself but not .gz, so a gzipped XML goes through pyosmium.
OSM_SUFFIXES: dict[str, str] = {
    ".osm.pbf": "osmium",
    ".pbf": "osmium",
    ".o5m": "osmium",
    ".osc": "osmium",
    ".osm.gz": "osmium",
    ".osm.bz2": "xml",
    ".osm.xml": "xml",
    ".osm": "xml",
    ".xml": "xml",
}


def is_table(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an attribute table (a format of :data:`TABLE_READERS`), not a GIS layer."""
    return Path(path).suffix.lower() in TABLE_READERS


def read_table(
    path: str | os.PathLike[str], *, encoding: str | None = None, what: str, what_zh: str
) -> pd.DataFrame:
    """Read a table of :data:`TABLE_READERS` as text columns (empty cells "", names stripped).

    Raises
    ------
    ValidationError
        Not a table format, or the reader's own input errors (empty, undecodable, unparsable).
    """
    p = Path(path)
    reader = TABLE_READERS.get(p.suffix.lower())
    if reader is None:
        raise ValidationError(
            f"{what} {p}: not a table; give one of {', '.join(TABLE_SUFFIXES)}",
            zh=f"{what_zh} {p}:不是表格文件;请使用 {'、'.join(TABLE_SUFFIXES)}",
        )
    return reader(p, encoding=encoding, what=what, what_zh=what_zh)


def osm_reader(path: str | os.PathLike[str]) -> str | None:
    """How an OSM file is read (``"xml"`` or ``"osmium"``, see :data:`OSM_SUFFIXES`), None when not OSM."""
    name = Path(path).name.lower()
    # the longest ending first: "x.osm.bz2" is bz2 XML, not a file ending in ".bz2" of some other kind
    for suffix in sorted(OSM_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return OSM_SUFFIXES[suffix]
    return None

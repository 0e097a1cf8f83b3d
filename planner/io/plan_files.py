"""A plan directory on disk (INTERFACE.md): plan.gpkg, summary.json, schedule.csv/.xlsx and extra files.

:func:`write_plan_dir` writes a :class:`~planner.plan.PlanData` atomically (all files appear together or none);
:func:`read_plan_dir` reads one back, including one edited by hand in QGIS, checking every layer and column.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors

from planner.errors import ValidationError
from planner.io.files import PLAN_MARKER, atomic_output_dir, read_layer_file, write_layer
from planner.io.schedule_xlsx import read_schedule_xlsx, write_schedule_xlsx
from planner.model import (
    DISTRICT_COLUMNS,
    OFFICE_COLUMNS,
    ROSTER_EXTRA,
    ROUTE_COLUMNS,
    SCHEDULE_COLUMNS,
    STATION_COLUMNS,
    VILLAGE_COLUMNS,
    PlanData,
    TravelTimes,
    officer_labels,
)
from planner.rules import Rules

log = logging.getLogger(__name__)

PLAN_GPKG = "plan.gpkg"
SUMMARY_JSON = "summary.json"
SCHEDULE_CSV = "schedule.csv"
SCHEDULE_XLSX = "schedule.xlsx"
SHAPEFILE_DIR = "shp"
OFFICERS_CSV = "officers.csv"
SHAPEFILE_FIELDS = "fields.csv"
#: The planner's columns as Shapefile fields (at most 10 bytes); shp/fields.csv lists every field of a plan.
SHAPEFILE_NAMES = {
    "district_id": "district",
    "travel_min_to_office": "travel_min",
    "population": "population",
    "population_source": "pop_source",
    "access_reason": "acc_reason",
    "n_villages": "n_villages",
    "max_travel_min": "max_min",
    "mean_travel_min": "mean_min",
    "officer_id": "officer",
    "office_village_id": "office_vil",
}

#: Layer name -> required columns, in the order they are written.
LAYER_COLUMNS: dict[str, list[str]] = {
    "villages": VILLAGE_COLUMNS,
    "districts": DISTRICT_COLUMNS,
    "offices": OFFICE_COLUMNS,
    "routes": ROUTE_COLUMNS,
    "current": [*VILLAGE_COLUMNS[:4], "district_id"],
    "stations": [c for c in STATION_COLUMNS if c != "geometry"],
}
_REQUIRED_LAYERS = ("villages", "districts", "offices", "routes")
# Identifier columns stay text whatever QGIS made of them; numeric ones are numbers.
_TEXT_COLUMNS = {
    "village_id",
    "name",
    "township",
    "district_id",
    "office_id",
    "access",
    "officer_id",
    "date",
    "from_id",
    "to_id",
    "start",
    "end",
    "activity",
}
_INT_COLUMNS = {"population", "n_villages", "officers", "seq"}
_FLOAT_COLUMNS = {"travel_min_to_office", "max_travel_min", "mean_travel_min", "minutes", "km"}
_RESERVED = {PLAN_GPKG, SUMMARY_JSON, SCHEDULE_CSV, SCHEDULE_XLSX, OFFICERS_CSV, PLAN_MARKER}


def _json_ready(value: Any) -> Any:
    """Plain JSON values: numpy scalars and arrays, dates, paths, sets, tuples; NaN and infinity become null."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_json_ready(v) for v in value), key=str)
    if isinstance(value, np.ndarray):
        return [_json_ready(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _ordered(
    gdf: gpd.GeoDataFrame, name: str, *, geographic: bool = True, crs: Any = 4326
) -> gpd.GeoDataFrame:
    """The layer with its required columns first (a named index counts), checked, in ``crs`` (WGS-84)."""
    named = [n for n in gdf.index.names if n is not None]
    data = gdf.reset_index() if named and not set(named) & set(gdf.columns) else gdf.reset_index(drop=True)
    required = LAYER_COLUMNS[name]
    missing = [c for c in required if c not in data.columns]
    if missing:
        raise ValidationError(
            f"plan layer '{name}' lacks column(s) {', '.join(missing)}",
            zh=f"方案图层“{name}”缺少字段 {'、'.join(missing)}",
        )
    if data.crs is None:
        raise ValidationError(f"plan layer '{name}' has no CRS", zh=f"方案图层“{name}”没有坐标参考系")
    geom = data.geometry.name
    extra = [c for c in data.columns if c not in required and c != geom]
    out = data[[*required, *extra, geom]]
    return out.to_crs(crs) if geographic else out


#: The first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# a cell that a semicolon-separated reading (Excel in many locales) would split, or that holds a tab or CR
_SPLITS = re.compile(r"[;\t\r]")


def _neutralised(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, prefixed with a single quote; anything else as it is."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def safe_cells(table: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The table with every text cell that begins with = + - @ tab or CR prefixed with ``'`` (OWASP).

    Numbers stay numbers (a negative minute count is not text). Returns the table (the same object when no
    cell needs it) and whether every text cell of a CSV file should be quoted: true when a cell was
    neutralised or holds a semicolon, tab or carriage return, where a reader splitting cells differently
    could start a new cell inside it.
    """
    out = table
    quote = False
    for col in table.columns:
        s = table[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        text = s.map(lambda v: v if isinstance(v, str) else "")
        risky = text.str.startswith(FORMULA_START)
        if risky.any():
            if out is table:
                out = table.copy()
            out[col] = s.map(_neutralised)
            quote = True
        quote = quote or bool(text.str.contains(_SPLITS).any())
    return out, quote


def restored_cell(value: str) -> str:
    """Undo :func:`safe_cells` on a cell read back from schedule.csv."""
    return value[1:] if value.startswith("'") and value[1:2] in FORMULA_START else value


def _write_xlsx(plan: PlanData, schedule: pd.DataFrame, path: Path, *, lang: str) -> None:
    """schedule.xlsx with the villages' names and townships beside their ids and each officer's km."""
    v = plan.villages
    ids = (v["village_id"] if "village_id" in v.columns else v.index.to_series()).astype(str).tolist()
    shown = Rules.of_summary(plan.summary).names.shown  # [names] short: 大寨村民委员会 reads 大寨村
    names = dict(zip(ids, v["name"].astype(str).map(shown), strict=True)) if "name" in v.columns else {}
    towns = dict(zip(ids, v["township"].astype(str), strict=True)) if "township" in v.columns else {}
    km: dict[str, float] = {}
    if len(plan.routes) and {"officer_id", "km"} <= set(plan.routes.columns):
        sums = pd.to_numeric(plan.routes["km"], errors="coerce").groupby(
            plan.routes["officer_id"].astype(str)
        )
        km = {str(k): float(x) for k, x in sums.sum().items()}
    labels = officer_labels(plan.summary if isinstance(plan.summary, dict) else None)
    write_schedule_xlsx(schedule, path, lang=lang, names=names, townships=towns, km=km, labels=labels)


def officers_table(plan: PlanData) -> pd.DataFrame | None:
    """The roster the plan used (summary.json's ``roster``) as officers.csv: a template a bureau fills in with
    its officers' real ids and leave and gives back with ``--officers``. ``office`` is the village id of the
    office (stable from one run to the next, unlike the office ids O01...), ``office_name`` its name."""
    rows = plan.summary.get("roster")
    if not isinstance(rows, list) or not rows:
        return None
    site = dict(
        zip(plan.offices["office_id"].astype(str), plan.offices["village_id"].astype(str), strict=True)
    )
    v = plan.villages
    ids = (v["village_id"] if "village_id" in v.columns else v.index.to_series()).astype(str)
    names = dict(zip(ids, v["name"].astype(str), strict=True)) if "name" in v.columns else {}
    out = []
    for r in rows:
        office = site.get(str(r.get("office", "")), str(r.get("office", "")))
        out.append(
            {
                "officer_id": str(r.get("officer_id", "")),
                "office": office,
                "office_name": names.get(office, ""),
                "kind": str(r.get("kind", "linked")),
                "village_id": str(r.get("village_id") or ""),
                "unavailable": ";".join(str(d) for d in r.get("unavailable", [])),
                # name, station, home village and skills (R9, R10) when the roster gave them
                **{k: str(r[k]) for k in ROSTER_EXTRA if k in r},
            }
        )
    return pd.DataFrame(out).fillna("")


def shapefile_fields(layer: gpd.GeoDataFrame, *, encoding: str) -> dict[str, str]:
    """Column -> Shapefile field name (<= 10 bytes in ``encoding``, unique): :data:`SHAPEFILE_NAMES` for the
    planner's columns, the others cut to 10 bytes with ``_2``, ``_3``... against clashes."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in layer.columns:
        if col == layer.geometry.name:
            continue
        base = SHAPEFILE_NAMES.get(str(col), str(col))
        while len(base.encode(encoding, errors="replace")) > 10:
            base = base[:-1]
        name, k = base, 2
        while name.lower() in used:
            suffix = f"_{k}"
            name = base
            while len((name + suffix).encode(encoding, errors="replace")) > 10:
                name = name[:-1]
            name += suffix
            k += 1
        used.add(name.lower())
        out[str(col)] = name
    return out


def _whole_minutes(schedule: pd.DataFrame) -> pd.DataFrame:
    """Minutes as whole numbers (480, not 480.0) when every value is one: a plan read back (``check --write``)
    writes its schedule as the plan did."""
    out = schedule
    for col in ("minutes", "walk_minutes"):
        if col in out.columns and len(out):
            x = pd.to_numeric(out[col], errors="coerce")
            if x.notna().all() and (x == x.round()).all():
                out = out.assign(**{col: x.astype("int64")})
    return out


def write_table_csv(table: pd.DataFrame, path: Path) -> None:
    """A table as UTF-8 CSV (with BOM, for Excel) whose cells a spreadsheet never runs as formulas."""
    cells, quote = safe_cells(table)
    if quote:
        cells.to_csv(path, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_NONNUMERIC)
    else:  # the common case: the same bytes as a plain CSV
        cells.to_csv(path, index=False, encoding="utf-8-sig")


def _schedule_for_writing(schedule: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in SCHEDULE_COLUMNS if c not in schedule.columns]
    if missing:
        raise ValidationError(
            f"schedule lacks column(s) {', '.join(missing)}", zh=f"排班表缺少字段 {'、'.join(missing)}"
        )
    extra = [c for c in schedule.columns if c not in SCHEDULE_COLUMNS]
    out = schedule[[*SCHEDULE_COLUMNS, *extra]].reset_index(drop=True)
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
        elif pd.api.types.is_datetime64_any_dtype(out[col].dtype):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def _check_extra_name(name: str) -> PurePosixPath:
    rel = PurePosixPath(name)
    if rel.is_absolute() or not rel.parts or ".." in rel.parts or rel.as_posix() in _RESERVED:
        raise ValidationError(
            f"extra plan file name {name!r} must be a relative path inside the plan directory and not one of "
            f"{', '.join(sorted(_RESERVED))}",
            zh=f"附加文件名 {name!r} 须为方案目录内的相对路径,且不能与 {'、'.join(sorted(_RESERVED))} 重名",
        )
    return rel


def write_plan_dir(
    plan: PlanData,
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    extra_files: dict[str, str | bytes] | None = None,
    shapefile_encoding: str | None = None,
    lang: str = "zh",
) -> Path:
    """Write a plan directory atomically: plan.gpkg, summary.json, schedule.csv, schedule.xlsx, officers.csv
    (when the summary holds the roster), extra files.

    Parameters
    ----------
    plan
        The plan; layers are written in ``summary["layer_crs"]`` (the input's CRS, recorded by the pipeline),
        else WGS-84 (EPSG:4326), with the columns of :mod:`planner.plan` first. Not modified.
    out
        The plan directory.
    overwrite
        Replace an existing plan directory (the old one is removed only once the new one is complete). Only a
        directory holding the marker file :data:`~planner.io.files.PLAN_MARKER` (written into every plan
        directory) is ever replaced: never one holding anything else.
    extra_files
        File name (relative, e.g. ``map.html``) -> content; text is written as UTF-8.
    shapefile_encoding
        When given (e.g. ``"GBK"`` for older desktop GIS), also write every layer as a Shapefile in that
        encoding under ``shp/``.
    lang
        The language of schedule.xlsx's headers and activity names (``zh`` or ``en``).

    Returns
    -------
    Path
        The plan directory.

    Raises
    ------
    ValidationError
        ``out`` exists and is not empty without ``overwrite``; a layer lacks a column; a bad extra file name.
    """
    # the CRS of the user's village layer (CGCS2000 stays CGCS2000), WGS-84 when none is recorded
    crs = plan.summary.get("layer_crs") or 4326
    layers: dict[str, gpd.GeoDataFrame] = {
        "villages": _ordered(plan.villages, "villages", crs=crs),
        "districts": _ordered(plan.districts, "districts", crs=crs),
        "offices": _ordered(plan.offices, "offices", crs=crs),
        "routes": _ordered(plan.routes, "routes", crs=crs),
    }
    if plan.current is not None:
        layers["current"] = _ordered(plan.current, "current", crs=crs)
    if plan.stations is not None:
        layers["stations"] = _ordered(plan.stations, "stations", crs=crs)
    schedule = _schedule_for_writing(plan.schedule)
    extras = {_check_extra_name(k): v for k, v in (extra_files or {}).items()}
    summary_text = (
        json.dumps(_json_ready(plan.summary), ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False)
        + "\n"
    )

    with atomic_output_dir(out, overwrite=overwrite, marker=PLAN_MARKER) as tmp:
        gpkg = tmp / PLAN_GPKG
        for name, layer in layers.items():
            data = layer
            for col in data.columns:  # dates as ISO text, the same in the GeoPackage as in schedule.csv
                if col != data.geometry.name and data[col].dtype == object:
                    data = data.assign(
                        **{col: data[col].map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)}
                    )
            pyogrio.write_dataframe(data, gpkg, layer=name, driver="GPKG", append=gpkg.exists())
        (tmp / SUMMARY_JSON).write_text(summary_text, encoding="utf-8")
        write_table_csv(_whole_minutes(schedule), tmp / SCHEDULE_CSV)
        _write_xlsx(plan, schedule, tmp / SCHEDULE_XLSX, lang=lang)
        officers = officers_table(plan)
        if officers is not None:
            write_table_csv(officers, tmp / OFFICERS_CSV)
        for rel, content in extras.items():
            target = tmp.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        if shapefile_encoding:
            fields: list[dict[str, str]] = []
            for name, layer in layers.items():
                if len(layer) == 0:
                    log.info("shapefile export: layer %s is empty and is not written", name)
                    continue
                short = shapefile_fields(layer, encoding=shapefile_encoding)
                fields += [{"layer": name, "field": f, "column": c} for c, f in short.items()]
                write_layer(
                    layer.rename(columns=short),
                    tmp / SHAPEFILE_DIR / f"{name}.shp",
                    encoding=shapefile_encoding,
                )
            if fields:
                write_table_csv(pd.DataFrame(fields), tmp / SHAPEFILE_DIR / SHAPEFILE_FIELDS)
    log.info(
        "plan written to %s (%d villages, %d districts, %d schedule rows)",
        out,
        len(layers["villages"]),
        len(layers["districts"]),
        len(schedule),
    )
    return Path(out)


def shapefile_encoding_of(folder: str | os.PathLike[str]) -> str | None:
    """The encoding of the Shapefile export in a plan directory (its shp/*.cpg), None when it has none: a plan
    written before summary.json recorded its ``exports``."""
    for cpg in sorted((Path(folder) / SHAPEFILE_DIR).glob("*.cpg")):
        text = cpg.read_text(encoding="ascii", errors="replace").strip()
        if text:
            return text
    return None


def _typed(df: pd.DataFrame, *, where: str, where_zh: str) -> pd.DataFrame:
    """Id and text columns as str, counts as int64, minutes and km as float64 (a hand edit may change types)."""
    out = df.copy()
    for col in out.columns:
        if col in _TEXT_COLUMNS:
            values = out[col].astype(object)
            out[col] = pd.array(
                [
                    ""
                    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA
                    else (
                        str(int(v))
                        if isinstance(v, float) and v.is_integer()
                        else (v.isoformat()[:10] if col == "date" and hasattr(v, "isoformat") else str(v))
                    )
                    for v in values
                ],
                dtype="str",
            )
        elif col in _INT_COLUMNS or col in _FLOAT_COLUMNS:
            num = pd.to_numeric(out[col], errors="coerce")
            bad = num.isna() & out[col].notna() & (out[col].astype(str).str.strip() != "")
            if bad.any():
                rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad.to_numpy())[:20])
                raise ValidationError(
                    f"{where}: column {col} holds text that is not a number in row(s) {rows}; fix the values",
                    zh=f"{where_zh}:字段 {col} 第 {rows} 行不是数字;请修正",
                )
            if col in _INT_COLUMNS and not num.isna().any():
                out[col] = num.round().astype("int64")
            else:
                out[col] = num.astype("float64")
    return out


def read_plan_dir(path: str | os.PathLike[str]) -> PlanData:
    """Read a plan directory (or its plan.gpkg) back into a :class:`~planner.plan.PlanData`.

    Parameters
    ----------
    path
        The plan directory, or the plan.gpkg inside it (summary.json and schedule.csv are read beside it
        when present).

    Returns
    -------
    PlanData
        Layers in the CRS stored (EPSG:4326 for plans written by the planner), ids as str, ``date`` as
        ``YYYY-MM-DD`` text; ``summary`` is {} and ``schedule`` empty when their files are absent (logged).

    Raises
    ------
    ValidationError
        No plan.gpkg, a missing layer or column (named), unreadable files.
    """
    p = Path(path)
    if not p.exists():
        raise ValidationError(
            f"plan {p} not found; give a plan directory written by `planner plan` or its plan.gpkg",
            zh=f"找不到方案 {p};请给出 `planner plan` 写出的方案目录或其中的 plan.gpkg",
        )
    gpkg = p / PLAN_GPKG if p.is_dir() else p
    if not gpkg.exists():
        raise ValidationError(
            f"plan directory {p} has no {PLAN_GPKG}; give a plan directory written by `planner plan`",
            zh=f"方案目录 {p} 中没有 {PLAN_GPKG};请给出 `planner plan` 写出的方案目录",
        )
    if gpkg.suffix.lower() != ".gpkg":
        raise ValidationError(
            f"plan {p}: expected a plan directory or a .gpkg file, not '{gpkg.suffix}'",
            zh=f"方案 {p}:须为方案目录或 .gpkg 文件,而不是“{gpkg.suffix}”",
        )
    folder = gpkg.parent
    try:
        present = {str(name) for name, _ in pyogrio.list_layers(gpkg)}
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise ValidationError(
            f"plan {gpkg} cannot be read ({exc}); export it again as a GeoPackage",
            zh=f"方案 {gpkg} 无法读取({exc});请重新导出为 GeoPackage",
        ) from exc
    missing_layers = [name for name in _REQUIRED_LAYERS if name not in present]
    if missing_layers:
        raise ValidationError(
            f"plan {gpkg}: missing layer(s) {', '.join(missing_layers)}; the plan needs layers "
            f"{', '.join(_REQUIRED_LAYERS)}",
            zh=f"方案 {gpkg}:缺少图层 {'、'.join(missing_layers)};方案须含图层 {'、'.join(_REQUIRED_LAYERS)}",
        )
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name in (*_REQUIRED_LAYERS, "current", "stations"):
        if name not in present:
            continue
        gdf = read_layer_file(gpkg, layer=name, what="plan", what_zh="方案")
        missing = [c for c in LAYER_COLUMNS[name] if c not in gdf.columns]
        if missing:
            raise ValidationError(
                f"plan {gpkg}: layer '{name}' lacks column(s) {', '.join(missing)}; restore them (QGIS: "
                "Layer Properties > Fields)",
                zh=f"方案 {gpkg}:图层“{name}”缺少字段 {'、'.join(missing)};请恢复这些字段",
            )
        layers[name] = _typed(gdf, where=f"plan {gpkg} layer '{name}'", where_zh=f"方案 {gpkg} 图层“{name}”")

    summary: dict[str, Any] = {}
    summary_path = folder / SUMMARY_JSON
    if summary_path.exists():
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"plan {summary_path} is not valid JSON ({exc}); restore it or delete it",
                zh=f"方案 {summary_path} 不是有效的 JSON;请恢复或删除该文件",
            ) from exc
    else:
        log.warning("plan %s has no %s; figures will be recomputed where needed", folder, SUMMARY_JSON)

    schedule = read_schedule(folder)
    return PlanData(
        villages=layers["villages"],
        districts=layers["districts"],
        offices=layers["offices"],
        summary=summary,
        routes=layers["routes"],
        schedule=schedule,
        current=layers.get("current"),
        stations=layers.get("stations"),
    )


def _schedule_csv(path: Path) -> pd.DataFrame:
    schedule = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    schedule = schedule.map(restored_cell)  # the quotes that kept spreadsheets from running formulas
    missing = [c for c in SCHEDULE_COLUMNS if c not in schedule.columns]
    if missing:
        raise ValidationError(
            f"plan {path}: missing column(s) {', '.join(missing)}",
            zh=f"方案 {path}:缺少字段 {'、'.join(missing)}",
        )
    return schedule


def read_schedule(folder: Path) -> pd.DataFrame:
    """The schedule of a plan directory: schedule.csv, or schedule.xlsx when it was edited (it differs from
    the csv and is not older, or there is no csv). The file read is in ``.attrs["source"]``."""
    csv_path, xlsx_path = folder / SCHEDULE_CSV, folder / SCHEDULE_XLSX
    table: pd.DataFrame | None = None
    source: Path | None = None
    if csv_path.exists():
        table, source = _schedule_csv(csv_path), csv_path
    if xlsx_path.exists():
        sheet = read_schedule_xlsx(xlsx_path)
        newer = table is None or xlsx_path.stat().st_mtime >= csv_path.stat().st_mtime
        if table is None or (newer and not _same_rows(sheet, table)):
            table, source = sheet, xlsx_path
    if table is None or source is None:
        log.warning("plan %s has no %s; the schedule is empty", folder, SCHEDULE_CSV)
        table = pd.DataFrame({c: pd.Series([], dtype=object) for c in SCHEDULE_COLUMNS})
        out = _typed(table, where=str(folder), where_zh=str(folder))
        out.attrs["source"] = ""
        return out
    log.info("schedule read from %s", source)
    out = _typed(table, where=f"plan {source}", where_zh=f"方案 {source}")
    out.attrs["source"] = str(source)
    return out


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two schedules (text tables) hold the same rows in the same order (minutes compared as numbers)."""
    if len(a) != len(b):
        return False
    for col in SCHEDULE_COLUMNS:
        # a workbook stores a carriage return as a line feed (XML): that is no edit
        x = [v.replace("\r", "\n") for v in a[col].astype(str)]
        y = [v.replace("\r", "\n") for v in b[col].astype(str)]
        if col == "minutes":
            x = [str(float(pd.to_numeric(v, errors="coerce"))) for v in x]
            y = [str(float(pd.to_numeric(v, errors="coerce"))) for v in y]
        if x != y:
            return False
    return True


TIMES_FILE = "travel_times.npz"


def times_to_npz(times: TravelTimes) -> bytes:
    """The matrix as compressed npz bytes (float32 minutes are enough for rule checks; ids as text)."""
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        origins=np.asarray(times.origins.astype(str), dtype=np.str_),
        destinations=np.asarray(times.destinations.astype(str), dtype=np.str_),
        seconds=times.seconds.astype(np.float32),
    )
    return buf.getvalue()


def times_from_npz(path: Path) -> TravelTimes:
    """Read back :func:`times_to_npz`."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return TravelTimes(
                pd.Index(z["origins"].astype(str)),
                pd.Index(z["destinations"].astype(str)),
                z["seconds"].astype(np.float64),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise ValidationError(
            f"{path}: unreadable travel-time matrix ({exc}); re-run planner plan to rebuild it.",
            zh=f"{path}: 行车时间矩阵无法读取 ({exc}); 请重新运行 planner plan。",
        ) from None

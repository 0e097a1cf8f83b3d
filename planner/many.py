"""Many plans at once (issue 13): every county of a province, or every combination of rule values, each a task on
Dask distributed.

A **province** is a village layer with a county column: each county is planned by the whole pipeline
(:func:`planner.pipeline.make_plan`) in its own metric CRS, with the road data cut to its extent from the road
files given, and written as a complete plan directory ``DIR/<county>/``. A county that fails is reported with its
reason and the others go on; a re-run resumes (a county whose plan directory is complete is not planned again).

A **sweep** plans one county once per combination of rule values (``districts.max_villages=6,8`` x
``districts.residents_per_officer=4000,5000``...) and keeps each plan's key figures, to answer a bureau's what-if
question ("how many officers for 95% of residents within 30 minutes?").

Every task runs on a Dask ``distributed`` cluster: a LocalCluster of N single-threaded worker processes by default
(one task per core, the solvers' own threads pinned to one), or an existing cluster given by its scheduler
address. Tasks are whole plans, seconds to minutes each, so the scheduler's overhead does not matter and no data
but the county's villages travels to a worker. The plans themselves do not depend on which worker ran them or on
the machine's load: every search stops on counts.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import time
import tomllib
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.errors import PlannerError, ValidationError
from planner.geo import metric_crs
from planner.rules import Rules

log = logging.getLogger(__name__)

PROVINCE_JSON = "province.json"
SWEEP_CSV = "sweep.csv"
# Roads this far beyond a county's villages are kept, so that a road leaving the county and coming back (a pass
# over a ridge, a valley road through the neighbour) still serves it.
ROAD_BUFFER_M = 10_000.0
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


# --- the cluster ----------------------------------------------------------------------------------------------


@contextmanager
def dask_client(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask distributed client: on the cluster at ``scheduler``, else on a LocalCluster of ``workers`` processes.

    Each local worker is one process with one thread, so that two plans never share a core's time slice and the
    solvers inside a plan (CP-SAT with one worker, OR-Tools) stay single-threaded as the stages expect.
    """
    from distributed import Client, LocalCluster

    # the scheduler's and workers' own INFO lines are not for a bureau planner's terminal
    logging.getLogger("distributed").setLevel(logging.WARNING)
    # a task of a big county carries its travel-time matrix (about 200 MB at 5,000 villages): expected here
    warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ValidationError(
                f"--scheduler {scheduler}: no Dask scheduler answers there ({exc}); start one "
                "(`dask scheduler`) or use --workers N for a local cluster.",
                zh=f"--scheduler {scheduler}: 该地址没有 Dask 调度器响应 ({exc}); 请启动调度器 (`dask scheduler`), "
                "或用 --workers N 使用本机集群。",
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    n = int(workers or 1)
    if n < 1:
        raise ValidationError(
            f"--workers {workers}: give at least 1 worker.",
            zh=f"--workers {workers}: 至少需要 1 个工作进程。",
        )
    cluster = LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


# --- a province -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountyOutcome:
    """What became of one county: the figures of province.json.

    ``status``: "planned" (every hard rule holds), "breaks" (planned, with hard rule breaks listed in its report)
    or "failed" (``reason`` says why); ``resumed``: the complete plan directory of an earlier run was kept.
    """

    county: str
    folder: str
    status: str
    villages: int
    districts: int | None = None
    officers: int | None = None
    coverage_pct: dict[str, float] = field(default_factory=dict)
    hard_breaks: int | None = None
    visit_requirements_met_pct: float | None = None
    seconds: float = 0.0
    reason: str = ""
    reason_zh: str = ""
    resumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """As plain data for province.json."""
        return asdict(self)


def county_folder(county: str) -> str:
    """The folder name of a county's plan: its code or name with the characters file systems refuse replaced."""
    name = _UNSAFE.sub("_", str(county)).strip().strip(".")
    return name or "_"


def split_counties(villages: gpd.GeoDataFrame, county: pd.Series) -> dict[str, gpd.GeoDataFrame]:
    """The villages of each county, each in its own metric CRS (a province may span several UTM zones).

    ``county`` is indexed like ``villages``. A village without a county is an input error naming it.
    """
    values = county.reindex(villages.index).astype("string").str.strip()
    empty = values.isna() | (values == "")
    if empty.any():
        ids = villages.index[empty.to_numpy()].astype(str).tolist()
        raise ValidationError(
            f"{int(empty.sum())} village(s) have no county ({', '.join(ids[:10])}); fill the county column for "
            "every village.",
            zh=f"{int(empty.sum())} 个村没有所属县 ({'、'.join(ids[:10])}); 请为每个村填写县字段。",
        )
    folders: dict[str, str] = {}
    out: dict[str, gpd.GeoDataFrame] = {}
    for name, sub in villages.groupby(values.to_numpy(), sort=True):
        folder = county_folder(str(name))
        if folder in folders:
            raise ValidationError(
                f"counties '{folders[folder]}' and '{name}' would share the folder '{folder}'; rename one.",
                zh=f"县 '{folders[folder]}' 与 '{name}' 的目录名相同 ('{folder}'); 请重命名其中之一。",
            )
        folders[folder] = str(name)
        out[str(name)] = _to_crs(sub, metric_crs(sub))
    return out


def _to_crs(villages: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """``villages`` in ``crs``, their village-committee anchors (anchor_x, anchor_y, metric) moved with them."""
    out = villages.to_crs(crs)
    if {"anchor_x", "anchor_y"} <= set(villages.columns):
        from pyproj import Transformer

        move = Transformer.from_crs(villages.crs, crs, always_xy=True)
        x, y = move.transform(villages["anchor_x"].to_numpy(float), villages["anchor_y"].to_numpy(float))
        out["anchor_x"], out["anchor_y"] = x, y
    return out


def county_roads(road_files: Sequence[str | Path], villages: gpd.GeoDataFrame, *, buffer_m: float) -> Any:
    """The road lines of ``road_files`` that lie within ``buffer_m`` of the county's villages, as one table.

    Each file is read whole (planner.io.roads) and cut to the county's buffered extent; a file that does not reach
    the county adds nothing. Raises ValidationError when no file reaches the county.
    """
    from planner.io.roads import read_roads

    area = gpd.GeoSeries([villages.union_all().envelope.buffer(buffer_m)], crs=villages.crs)
    parts: list[gpd.GeoDataFrame] = []
    sources: list[str] = []
    kind = "osm"
    for path in road_files:
        roads = read_roads(path)
        x0, y0, x1, y1 = area.to_crs(roads.crs).total_bounds
        cut = roads.cx[x0:x1, y0:y1]
        if len(cut):
            parts.append(cut.to_crs(roads.crs if not parts else parts[0].crs))
            sources.append(str(path))
            kind = roads.attrs.get("kind", "osm")
    if not parts:
        raise ValidationError(
            f"none of the road files ({', '.join(str(p) for p in road_files)}) reaches this county's villages; "
            "give a road file that covers it.",
            zh=f"道路文件 ({'、'.join(str(p) for p in road_files)}) 均未覆盖该县的村; 请给出覆盖该县的道路文件。",
        )
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    out.attrs = {"source": "; ".join(sources), "kind": kind}
    return out


def plan_county(
    county: str,
    villages: gpd.GeoDataFrame,
    road_files: Sequence[str],
    out: Path,
    *,
    rules: dict[str, Any],
    month: str,
    seed: int,
    time_limit: float | None,
    lang: str,
    overwrite: bool,
    cache_dir: Path | None,
) -> CountyOutcome:
    """One county, start to end, as a Dask task: the plan directory ``out`` and its figures.

    The planner's own errors (bad input, rules that cannot hold, a solver that failed) become a "failed" outcome
    with the reason, so that the other counties go on; anything else is a bug and propagates.
    """
    from planner.pipeline import make_plan, write_outputs

    t0 = time.perf_counter()
    base: dict[str, Any] = {"county": county, "folder": out.name, "villages": len(villages)}
    try:
        roads = county_roads(road_files, villages, buffer_m=ROAD_BUFFER_M)
        result = make_plan(
            villages,
            roads,
            rules=Rules.from_dict(rules, source="rules"),
            month=month,
            seed=seed,
            time_limit=time_limit,
            cache_dir=cache_dir,
        )
        write_outputs(result, out, lang=lang, overwrite=overwrite, basemap="none")
    except PlannerError as exc:
        return CountyOutcome(
            **base,
            status="failed",
            seconds=round(time.perf_counter() - t0, 2),
            reason=exc.text("en"),
            reason_zh=exc.text("zh"),
        )
    return _outcome(base, result.plan.summary, seconds=round(time.perf_counter() - t0, 2))


def _outcome(
    base: dict[str, Any], summary: dict[str, Any], *, seconds: float, resumed: bool = False
) -> CountyOutcome:
    hard = sum(1 for v in summary.get("violations", []) if v.get("hard", True))
    return CountyOutcome(
        **base,
        status="breaks" if hard else "planned",
        resumed=resumed,
        districts=summary.get("districts"),
        officers=summary.get("officers"),
        coverage_pct=dict(summary.get("coverage_pct", {})),
        hard_breaks=hard,
        visit_requirements_met_pct=summary.get("visit_requirements_met_pct"),
        seconds=seconds,
    )


def finished_county(out: Path, county: str, villages: int) -> CountyOutcome | None:
    """The outcome of a county planned by an earlier run, when its plan directory is complete; else None."""
    import json

    from planner.io.plan_files import PLAN_GPKG, SUMMARY_JSON

    summary_path = out / SUMMARY_JSON
    if not (summary_path.is_file() and (out / PLAN_GPKG).is_file() and (out / "report.html").is_file()):
        return None
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if summary.get("villages") != villages:
        return None  # the county's villages changed since: plan it again
    base: dict[str, Any] = {"county": county, "folder": out.name, "villages": villages}
    return _outcome(base, summary, seconds=float(sum(summary.get("seconds", {}).values())), resumed=True)


@dataclass(frozen=True)
class ProvinceResult:
    """Every county's outcome, in county order, and the wall time of the run."""

    counties: tuple[CountyOutcome, ...]
    seconds: float
    workers: int

    @property
    def failed(self) -> list[CountyOutcome]:
        return [c for c in self.counties if c.status == "failed"]

    def summary(self) -> dict[str, Any]:
        """province.json: totals and one entry per county."""
        done = [c for c in self.counties if c.status != "failed"]
        return {
            "counties": len(self.counties),
            "planned": len(done),
            "failed": len(self.failed),
            "villages": sum(c.villages for c in self.counties),
            "districts": sum(c.districts or 0 for c in done),
            "officers": sum(c.officers or 0 for c in done),
            "hard_breaks": sum(c.hard_breaks or 0 for c in done),
            "workers": self.workers,
            "seconds": round(self.seconds, 2),
            "county_list": [c.to_dict() for c in self.counties],
        }


def plan_province(
    counties: dict[str, gpd.GeoDataFrame],
    road_files: Sequence[str],
    out: Path,
    *,
    client: Any,
    rules: Rules,
    month: str,
    seed: int = 0,
    time_limit: float | None = None,
    lang: str = "zh",
    overwrite: bool = False,
    cache_dir: Path | None = None,
    on_county: Callable[[CountyOutcome], None] | None = None,
) -> ProvinceResult:
    """Plan every county as a task on ``client``; counties finished by an earlier run are kept unless ``overwrite``.

    ``on_county`` is called in the client's process as each county ends (for a progress display). The result
    lists the counties in their sorted order, whatever order they finished in.
    """
    from distributed import as_completed

    t0 = time.perf_counter()
    outcomes: dict[str, CountyOutcome] = {}
    futures = []
    rules_data = rules.to_dict()
    # the largest counties first (and first in the scheduler's priority), so that the workers finish together
    # rather than one of them planning the largest county alone at the end: longest-processing-time-first
    for county, villages in sorted(counties.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        target = out / county_folder(county)
        kept = None if overwrite else finished_county(target, county, len(villages))
        if kept is not None:
            outcomes[county] = kept
            if on_county:
                on_county(kept)
            continue
        futures.append(
            client.submit(
                plan_county,
                county,
                villages,
                list(road_files),
                target,
                rules=rules_data,
                month=month,
                seed=seed,
                time_limit=time_limit,
                lang=lang,
                overwrite=True,  # a folder without a complete plan is this run's to write
                cache_dir=cache_dir,
                key=f"county-{county_folder(county)}-{time.time_ns()}",
                pure=False,
                priority=len(villages),
            )
        )
    for future in as_completed(futures):
        outcome = future.result()
        outcomes[outcome.county] = outcome
        if on_county:
            on_county(outcome)
    workers = len(client.scheduler_info().get("workers", {}))
    return ProvinceResult(tuple(outcomes[c] for c in sorted(outcomes)), time.perf_counter() - t0, workers)


# --- a sweep --------------------------------------------------------------------------------------------------


def parse_vary(specs: Sequence[str]) -> dict[str, list[Any]]:
    """``["districts.max_villages=6,8", ...]`` as {key: [values]}; each value read as a TOML value (6, 4.5, true,
    "text"), a bare word as text. The keys and values are checked against the rules when combined."""
    out: dict[str, list[Any]] = {}
    for spec in specs:
        key, sep, raw = spec.partition("=")
        key = key.strip()
        if not sep or "." not in key or not raw.strip():
            raise ValidationError(
                f"--vary {spec!r}: write it as SECTION.KEY=V1,V2,..., e.g. districts.max_villages=6,7,8.",
                zh=f"--vary {spec!r}: 请写成 节.键=值1,值2,..., 例如 districts.max_villages=6,7,8。",
            )
        if key in out:
            raise ValidationError(f"--vary {key} is given twice.", zh=f"--vary {key} 重复给出。")
        out[key] = [_toml_value(v.strip()) for v in _split_values(raw)]
    return out


def _split_values(raw: str) -> list[str]:
    """Split on commas outside brackets, so that a list value (night_window=["19:00","20:00"]) stays whole."""
    parts, depth, cur = [], 0, ""
    for ch in raw:
        depth += (ch in "[{" and 1) or 0
        depth -= (ch in "]}" and 1) or 0
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


def _toml_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def combinations(base: dict[str, Any], vary: dict[str, list[Any]]) -> list[tuple[dict[str, Any], Rules]]:
    """Every combination of the varied values over ``base`` (rules as plain data), each validated as Rules.

    A key the rules do not know, or a value out of range, is an input error naming ``--vary`` and the key.
    """
    keys = list(vary)
    out = []
    for values in itertools.product(*(vary[k] for k in keys)):
        data = {s: dict(v) for s, v in base.items()}
        for key, value in zip(keys, values, strict=True):
            section, _, name = key.partition(".")
            data.setdefault(section, {})[name] = value
        choice = dict(zip(keys, values, strict=True))
        out.append((choice, Rules.from_dict(data, source=f"--vary {choice}")))
    return out


@dataclass(frozen=True)
class SweepRow:
    """One combination's key figures (a row of sweep.csv)."""

    values: dict[str, Any]
    status: str
    districts: int | None = None
    officers: int | None = None
    coverage_15: float | None = None
    coverage_30: float | None = None
    coverage_60: float | None = None
    mean_travel_min: float | None = None
    max_travel_min: float | None = None
    hard_breaks: int | None = None
    visit_requirements_met_pct: float | None = None
    seconds: float = 0.0
    reason: str = ""

    def record(self) -> dict[str, Any]:
        """The values first, then the figures, as one flat row."""
        row = dict(self.values)
        row.update({k: v for k, v in asdict(self).items() if k != "values"})
        return row


def plan_combination(
    villages: gpd.GeoDataFrame,
    roads: Any,
    values: dict[str, Any],
    rules: dict[str, Any],
    *,
    month: str,
    seed: int,
    time_limit: float | None,
    cache_dir: Path | None,
) -> SweepRow:
    """One combination planned to the end (a Dask task); the planner's own errors become a "failed" row."""
    from planner.pipeline import make_plan

    t0 = time.perf_counter()
    try:
        result = make_plan(
            villages,
            roads,
            rules=Rules.from_dict(rules, source="rules"),
            month=month,
            seed=seed,
            time_limit=time_limit,
            cache_dir=cache_dir,
        )
    except PlannerError as exc:
        return SweepRow(values, "failed", seconds=round(time.perf_counter() - t0, 2), reason=exc.text("en"))
    s = result.plan.summary
    cov = s.get("coverage_pct", {})
    return SweepRow(
        values,
        "breaks" if result.hard_breaks else "planned",
        districts=s["districts"],
        officers=s["officers"],
        coverage_15=cov.get("15"),
        coverage_30=cov.get("30"),
        coverage_60=cov.get("60"),
        mean_travel_min=s.get("mean_travel_min"),
        max_travel_min=s.get("max_travel_min"),
        hard_breaks=result.hard_breaks,
        visit_requirements_met_pct=s.get("visit_requirements_met_pct"),
        seconds=round(time.perf_counter() - t0, 2),
    )


def run_sweep(
    villages: gpd.GeoDataFrame,
    roads: Any,
    combos: list[tuple[dict[str, Any], Rules]],
    *,
    client: Any,
    month: str,
    seed: int = 0,
    time_limit: float | None = None,
    cache_dir: Path | None = None,
    on_row: Callable[[SweepRow], None] | None = None,
) -> list[SweepRow]:
    """Plan every combination on ``client``; rows in the order of ``combos``."""
    from distributed import as_completed

    # the county travels to each worker once, not once per combination
    [v_future] = client.scatter([villages], broadcast=True)
    [r_future] = client.scatter([roads], broadcast=True)
    futures = {
        client.submit(
            plan_combination,
            v_future,
            r_future,
            values,
            rules.to_dict(),
            month=month,
            seed=seed,
            time_limit=time_limit,
            cache_dir=cache_dir,
            key=f"combination-{i}-{time.time_ns()}",
            pure=False,
        ): i
        for i, (values, rules) in enumerate(combos)
    }
    rows: dict[int, SweepRow] = {}
    for future in as_completed(list(futures)):
        row = future.result()
        rows[futures[future]] = row
        if on_row:
            on_row(row)
    return [rows[i] for i in range(len(combos))]


def sweep_table(rows: Sequence[SweepRow]) -> pd.DataFrame:
    """sweep.csv's table: one row per combination."""
    return pd.DataFrame([r.record() for r in rows])


def fewest_officers(rows: Sequence[SweepRow], *, minutes: int = 30, share: float = 95.0) -> SweepRow | None:
    """The combination with the fewest officers that brings ``share`` % of residents within ``minutes`` of their
    office and breaks no hard rule (ties: the higher coverage); None when no combination does."""
    key = f"coverage_{minutes}"
    ok = [r for r in rows if r.status == "planned" and (getattr(r, key, None) or 0) >= share - 1e-9]
    if not ok:
        return None
    return min(
        ok, key=lambda r: (r.officers if r.officers is not None else math.inf, -(getattr(r, key) or 0))
    )

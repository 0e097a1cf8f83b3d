"""What every benchmark family shares: finding instances, gaps, the printed table and the JSON lines."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import ValidationError


def shared_dir() -> Path:
    """The project's shared data (real OSM extracts, benchmark instances): $PLANNER_SHARED, else the folder
    ``shared`` beside the repository, where CI and every developer have it."""
    import os

    env = os.environ.get("PLANNER_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared"


@dataclass
class BenchRow:
    """One instance's result; ``extra`` holds the family-specific fields."""

    instance: str
    n: int
    objective: float | None
    reference: float | None
    feasible: bool
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gap_pct(self) -> float | None:
        """Gap to the reference in percent of the reference (positive: worse than the reference)."""
        if self.objective is None or self.reference is None or self.reference == 0:
            return None
        return 100.0 * (self.objective - self.reference) / abs(self.reference)

    def to_json(self) -> dict[str, Any]:
        gap = self.gap_pct
        return {
            "instance": self.instance,
            "n": self.n,
            "objective": self.objective,
            "reference": self.reference,
            "gap_pct": None if gap is None else round(gap, 4),
            "feasible": self.feasible,
            "seconds": round(self.seconds, 3),
            **self.extra,
        }


def find_instances(
    directory: str | Path | None, patterns: Sequence[str], *, only: str | None = None
) -> list[Path]:
    """Instance files under ``directory`` (recursively) matching any glob pattern, sorted naturally.

    ``only`` is a comma-separated list of instance names (file names without extension).
    """
    if directory is None:
        raise ValidationError(
            "--instances is required: give the directory that holds the instances.",
            zh="缺少 --instances: 请给出存放算例的目录。",
        )
    root = Path(directory)
    if not root.is_dir():
        raise ValidationError(
            f"{root}: not a directory; give the directory that holds the instances.",
            zh=f"{root}: 不是目录; 请给出存放算例的目录。",
        )
    files = sorted({p for pat in patterns for p in root.rglob(pat) if p.is_file()}, key=_natural_key)
    if only:
        wanted = {w.strip() for w in only.split(",") if w.strip()}
        files = [p for p in files if instance_name(p) in wanted]
        missing = wanted - {instance_name(p) for p in files}
        if missing:
            raise ValidationError(
                f"--only: no instance named {sorted(missing)} under {root}.",
                zh=f"--only: {root} 下没有名为 {sorted(missing)} 的算例。",
            )
    if not files:
        raise ValidationError(
            f"{root}: no instance files ({', '.join(patterns)}) found.",
            zh=f"{root}: 未找到算例文件 ({', '.join(patterns)})。",
        )
    return files


def instance_name(path: Path) -> str:
    """The file name without its extension(s): pmed1.txt -> pmed1, A-n32-k5.vrp -> A-n32-k5."""
    name = path.name
    for suffix in (".txt", ".vrp", ".dat", ".json", ".csv", ".res", ".sol"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _natural_key(p: Path) -> list[Any]:
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(p))]


def emit(rows: Iterable[BenchRow], *, json_path: str | None, columns: Sequence[str] = ()) -> list[BenchRow]:
    """Print each row as it comes (a table on stdout) and append it as a JSON line to ``json_path``.

    Returns the rows; prints a closing line with the mean and max gap.
    """
    head = ["instance", "n", "objective", "reference", "gap_pct", "feasible", "seconds", *columns]
    print("  ".join(f"{h:>12}" for h in head))
    out: list[BenchRow] = []
    fh = open(json_path, "w", encoding="utf-8") if json_path else None  # noqa: SIM115 - closed below
    try:
        for row in rows:
            out.append(row)
            d = row.to_json()
            print("  ".join(f"{_fmt(d.get(h)):>12}" for h in head))
            sys.stdout.flush()
            if fh:
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
                fh.flush()
    finally:
        if fh:
            fh.close()
    gaps = [r.gap_pct for r in out if r.gap_pct is not None]
    if gaps:
        print(
            f"instances {len(out)}  feasible {sum(r.feasible for r in out)}  "
            f"mean gap {sum(gaps) / len(gaps):.3f}%  max gap {max(gaps):.3f}%  "
            f"total seconds {sum(r.seconds for r in out):.1f}"
        )
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isinf(v):
            return "inf"
        return f"{v:.4g}" if abs(v) < 1e6 else f"{v:.0f}"
    return str(v)


def read_reference_csv(path: Path, *, key: str, value: str) -> dict[str, float]:
    """A reference-value CSV as {instance: value}."""
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return {r[key].strip(): float(r[value]) for r in csv.DictReader(fh) if r.get(value, "").strip()}

"""The official village list (统计用区划代码, NBS 2023) shipped with the planner: one county's townships and villages.

The nationwide list lives in ``planner/data/nbs2023/`` (xz-compressed CSV, SOURCE.md beside it). A county is
found by its 6-digit code (or a 12-digit village code, whose first six digits are its county) or by its name;
a name that several counties share (e.g. 永和县 is unique, 城关区 is not) is an input error listing them.
"""

from __future__ import annotations

import functools
import io
import lzma
import re
from dataclasses import dataclass
from importlib import resources

import pandas as pd

from planner.errors import ValidationError

_DIR = "data/nbs2023"


@dataclass(frozen=True, eq=False)
class OfficialCounty:
    """One county of the official list.

    Attributes
    ----------
    code, name
        The 6-digit county code and its name (e.g. 532527, 泸西县).
    full_name
        Province, city and county, for reports (云南省 红河哈尼族彝族自治州 泸西县).
    townships
        code (9 digits), name; sorted by code.
    villages
        code (12 digits), name, township_code; sorted by code.
    """

    code: str
    name: str
    full_name: str
    townships: pd.DataFrame
    villages: pd.DataFrame


@functools.cache
def _table(name: str) -> pd.DataFrame:
    raw = resources.files("planner").joinpath(f"{_DIR}/{name}.csv.xz").read_bytes()
    return pd.read_csv(io.BytesIO(lzma.decompress(raw)), dtype=str, keep_default_na=False)


def find_county(spec: str) -> OfficialCounty:
    """The county named by ``spec``: a 6-digit code, a longer code starting with it, or a county name.

    Raises
    ------
    ValidationError
        No county has that code or name, or several share the name (the message lists them with their codes).
    """
    text = str(spec).strip()
    areas = _table("areas")
    if re.fullmatch(r"\d{6}(\d{3}|\d{6})?", text):
        hit = areas[areas["code"] == text[:6]]
        if hit.empty:
            raise ValidationError(
                f"--county {spec}: no county has the code {text[:6]} in the NBS 2023 list; check the code "
                "(6 digits, e.g. 532527 for 泸西县).",
                zh=f"--county {spec}: 2023 年统计用区划代码中没有代码为 {text[:6]} 的县; 请检查代码 (6 位, 如泸西县为 532527)。",
            )
    else:
        hit = areas[areas["name"] == text]
        if hit.empty:
            near = areas[areas["name"].str.contains(re.escape(text[:2]), regex=True)]["name"].head(8).tolist()
            hint = f" Similar names: {', '.join(near)}." if near else ""
            raise ValidationError(
                f"--county {spec}: no county of that name in the NBS 2023 list; give its full name (e.g. 泸西县) "
                f"or its 6-digit code.{hint}",
                zh=f"--county {spec}: 2023 年统计用区划代码中没有该名称的县; 请给出全称 (如 泸西县) 或 6 位代码。"
                + (f"相近的名称: {'、'.join(near)}。" if near else ""),
            )
        if len(hit) > 1:
            listed = ", ".join(f"{_full_name(r.code, r.name)} ({r.code})" for r in hit.itertuples())
            raise ValidationError(
                f"--county {spec}: {len(hit)} counties share this name: {listed}; give the 6-digit code.",
                zh=f"--county {spec}: 有 {len(hit)} 个县同名: {listed}; 请给出 6 位代码。",
            )
    row = hit.iloc[0]
    code = str(row["code"])
    streets = _table("streets")
    towns = streets[streets["code"].str.startswith(code)].sort_values("code").reset_index(drop=True)
    villages = _table("villages")
    vill = villages[villages["code"].str.startswith(code)].sort_values("code").reset_index(drop=True)
    vill = vill.assign(township_code=vill["code"].str[:9])
    return OfficialCounty(code, str(row["name"]), _full_name(code, str(row["name"])), towns, vill)


def _full_name(code: str, name: str) -> str:
    provinces = dict(zip(_table("provinces")["code"], _table("provinces")["name"], strict=True))
    cities = dict(zip(_table("cities")["code"], _table("cities")["name"], strict=True))
    parts = [provinces.get(code[:2], ""), cities.get(code[:4], ""), name]
    return " ".join(p for p in parts if p)

"""Completeness against the official village list (统计用区划代码, NBS 2023): which units of the county the village
layer has, which it misses, which it adds, and which it carries under another name.

A bureau's layer misses units, keeps old names after mergers, or adds natural villages (自然村); the official list
of its county (:func:`planner.io.nbs.find_county`) is the reference. Matching, in order:

1. by the 12-digit code, when the layer's village id is one;
2. else by name within the township, both normalised: the committee suffixes (村民委员会, 村委会, 村;
   社区居民委员会, 居民委员会, 居委会, 社区) and the township's (街道办事处, 街道, 镇, 乡) are dropped, and
   full-width characters folded, so that 大寨村 matches 大寨村民委员会 in 中枢镇 / 中枢;
3. a village matched by code whose normalised name differs is **renamed** (the layer keeps an old name).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import pandas as pd

from planner.io.nbs import OfficialCounty
from planner.rules import VILLAGE_SUFFIXES

_TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
_CODE = re.compile(r"\d{12}")


def normal_name(name: Any, *, township: bool = False) -> str:
    """A unit's name as matching sees it: NFKC-folded, without spaces and without the committee (or, with
    ``township``, the township) suffix. A name that is only a suffix is kept as it is."""
    text = unicodedata.normalize("NFKC", str(name or "")).strip()
    text = re.sub(r"\s+", "", text)
    for suffix in _TOWNSHIP_SUFFIXES if township else VILLAGE_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


@dataclass(frozen=True, eq=False)
class Completeness:
    """The village layer against its county's official list.

    ``matched``: (village_id, code) pairs; ``missing``: official units with no village; ``extra``: villages with
    no official unit; ``renamed``: villages matched by code whose name differs from the official one.
    """

    county: OfficialCounty
    matched: pd.DataFrame  # village_id, code, by ("code" / "name")
    missing: pd.DataFrame  # code, name, township
    extra: pd.DataFrame  # village_id, name, township
    renamed: pd.DataFrame  # village_id, code, name, official_name

    def summary(self) -> dict[str, Any]:
        """summary.json's ``nbs``: the county, the counts and every unit named."""
        return {
            "county": {
                "code": self.county.code,
                "name": self.county.name,
                "full_name": self.county.full_name,
            },
            "official": len(self.county.villages),
            "matched": len(self.matched),
            "matched_by_name": int((self.matched["by"] == "name").sum()) if len(self.matched) else 0,
            "missing": self.missing.to_dict("records"),
            "extra": self.extra.to_dict("records"),
            "renamed": self.renamed.to_dict("records"),
        }


def compare_official(villages: pd.DataFrame, county: OfficialCounty) -> Completeness:
    """Match the villages (indexed by village_id; ``name``, ``township``) with the county's official units."""
    official = county.villages.assign(
        township=county.villages["township_code"]
        .map(dict(zip(county.townships["code"], county.townships["name"], strict=True)))
        .fillna("")
    )
    ids = villages.index.astype(str)
    names = villages["name"].astype(str).to_numpy()
    towns = villages["township"].astype(str).to_numpy() if "township" in villages else [""] * len(villages)
    by_code = dict(zip(official["code"], official.index, strict=True))
    taken: set[int] = set()
    matched, renamed, extra = [], [], []
    pending = []
    for vid, name, town in zip(ids, names, towns, strict=True):
        k = by_code.get(vid) if _CODE.fullmatch(vid) else None
        if k is not None and k not in taken:
            taken.add(k)
            matched.append({"village_id": vid, "code": vid, "by": "code"})
            off = official.loc[k, "name"]
            if normal_name(off) != normal_name(name):
                renamed.append({"village_id": vid, "code": vid, "name": name, "official_name": off})
        else:
            pending.append((vid, name, town))
    key = {
        (normal_name(t, township=True), normal_name(n)): i
        for i, n, t in zip(official.index, official["name"], official["township"], strict=True)
    }
    by_name: dict[str, list[int]] = {}
    for i, n in zip(official.index, official["name"], strict=True):
        by_name.setdefault(normal_name(n), []).append(i)
    for vid, name, town in pending:
        k = key.get((normal_name(town, township=True), normal_name(name)))
        if k is None and not str(town).strip():
            # no township in the layer: a name that is unique in the county is enough
            free = [i for i in by_name.get(normal_name(name), []) if i not in taken]
            k = free[0] if len(free) == 1 else None
        if k is not None and k not in taken:
            taken.add(k)
            matched.append({"village_id": vid, "code": official.loc[k, "code"], "by": "name"})
        else:
            extra.append({"village_id": vid, "name": name, "township": town})
    missing = official.loc[[i for i in official.index if i not in taken], ["code", "name", "township"]]
    return Completeness(
        county,
        pd.DataFrame(matched, columns=["village_id", "code", "by"]),
        missing.reset_index(drop=True),
        pd.DataFrame(extra, columns=["village_id", "name", "township"]),
        pd.DataFrame(renamed, columns=["village_id", "code", "name", "official_name"]),
    )


def fill_townships(villages: pd.DataFrame, county: OfficialCounty) -> pd.DataFrame:
    """Villages whose township is empty and whose id is an official code get the township of the code (its
    first 9 digits); the others are returned as they are. The input is not changed."""
    names = dict(zip(county.townships["code"], county.townships["name"], strict=True))
    out = villages.copy()
    town = out["township"].astype(str).str.strip() if "township" in out else pd.Series("", index=out.index)
    ids = out.index.astype(str)
    fill = [
        names.get(v[:9], "") if (not t and _CODE.fullmatch(v)) else t for v, t in zip(ids, town, strict=True)
    ]
    out["township"] = pd.array(fill, dtype="str")
    return out

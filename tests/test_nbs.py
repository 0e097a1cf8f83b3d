"""planner.nbs and planner.io.nbs: a village layer against the official NBS 2023 list of its county (issue 14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.errors import ValidationError
from planner.io.nbs import find_county
from planner.nbs import compare_official, fill_townships, normal_name


def test_the_shipped_list_has_the_three_target_counties_with_their_published_counts(shared):
    """泸西县 87, 牟定县 89, 金寨县 232 village-level units, as the raw NBS files in shared/ count them."""
    raw = pd.read_csv(
        shared / "data" / "raw" / "cn-admin-divisions-nbs2023" / "villages_3counties.csv", dtype=str
    )
    for code, name, n in (("532527", "泸西县", 87), ("532323", "牟定县", 89), ("341524", "金寨县", 232)):
        c = find_county(code)
        assert c.name == name and len(c.villages) == n
        assert sorted(c.villages["code"]) == sorted(raw.loc[raw["areaCode"] == code, "code"])
        assert find_county(name).code == code
    assert find_county("532527001001").code == "532527"  # a village code names its county
    assert "云南省" in find_county("532527").full_name


def test_an_unknown_or_ambiguous_county_is_an_input_error_that_says_what_to_give():
    """A name no county has, or one several share, names the fix (the 6-digit code)."""
    with pytest.raises(ValidationError, match="6-digit"):
        find_county("不存在县")
    with pytest.raises(ValidationError, match="counties share this name"):
        find_county("城关区")
    with pytest.raises(ValidationError, match="no county has the code"):
        find_county("999999")


def test_names_lose_their_committee_and_township_suffixes():
    """大寨村民委员会 / 大寨村 / 大寨 match; 中枢镇 and 中枢 match; full-width spaces fold."""
    assert normal_name("大寨村民委员会") == normal_name("大寨村") == normal_name("大寨") == "大寨"
    assert normal_name("城东社区居民委员会") == normal_name("城东社区") == "城东"
    assert normal_name("中枢镇", township=True) == normal_name("中枢", township=True)
    assert normal_name("大\u3000寨村") == "大寨"


def _layer_from_the_list(county, rng: np.random.Generator) -> pd.DataFrame:
    """A bureau's layer made from the official list: every unit, named as bureaus name them (村 not
    村民委员会), townships without 镇/乡, ids as codes."""
    towns = dict(zip(county.townships["code"], county.townships["name"], strict=True))
    v = county.villages
    out = pd.DataFrame(
        {
            "name": [n.replace("村民委员会", "村").replace("居民委员会", "") for n in v["name"]],
            "township": [towns[c].removesuffix("镇").removesuffix("乡") for c in v["township_code"]],
            "population": rng.integers(300, 4000, len(v)),
        },
        index=pd.Index(v["code"].tolist(), name="village_id"),
    )
    return out.sample(frac=1.0, random_state=int(rng.integers(1 << 30)))  # the layer's own order


def test_completeness_names_every_removed_renamed_and_added_unit():
    """Units removed from the layer are missing, a code kept under an old name is renamed, a natural village
    added is extra; a village given by name instead of code still matches within its township."""
    county = find_county("532527")  # 泸西县
    layer = _layer_from_the_list(county, np.random.default_rng(0))
    removed = list(layer.index[:3])
    layer = layer.drop(index=removed)
    old = layer.index[3]
    layer.loc[old, "name"] = "老名字村"  # merged and renamed since: the layer still says the old name
    by_name = layer.index[4]
    layer = layer.rename(index={by_name: "LOCAL-7"})  # the bureau's own id: matched by name and township
    natural = pd.DataFrame(
        {"name": ["小河边自然村"], "township": [layer["township"].iloc[0]], "population": [80]},
        index=pd.Index(["NAT-1"], name="village_id"),
    )
    layer = pd.concat([layer, natural])
    result = compare_official(layer, county)
    s = result.summary()
    assert s["official"] == 87 and s["matched"] == 87 - 3
    assert sorted(m["code"] for m in s["missing"]) == sorted(removed)
    assert [e["village_id"] for e in s["extra"]] == ["NAT-1"]
    assert [(r["village_id"], r["name"]) for r in s["renamed"]] == [(old, "老名字村")]
    assert s["matched_by_name"] == 1
    assert result.matched.set_index("village_id").loc["LOCAL-7", "code"] == by_name


def test_an_empty_township_is_filled_from_the_code():
    """The first nine digits of a 12-digit code name the township; other rows keep theirs."""
    county = find_county("532323")  # 牟定县
    v = county.villages.head(3)
    layer = pd.DataFrame({"name": v["name"].tolist(), "township": ["", "", "已有"]}, index=v["code"].tolist())
    out = fill_townships(layer, county)
    towns = dict(zip(county.townships["code"], county.townships["name"], strict=True))
    assert out["township"].tolist()[:2] == [towns[c[:9]] for c in v["code"].tolist()[:2]]
    assert out["township"].iloc[2] == "已有" and layer["township"].iloc[0] == ""


def test_plan_with_county_reports_completeness_in_summary_json(tmp_path):
    """`planner plan --county 532527 --roads none` on points of one township of 泸西县 (placed by a seeded
    generator, one renamed, one natural village added): summary.json's nbs names the missing, extra and renamed
    units, and the empty township column is filled from the codes."""
    import json

    from cli_run import run_planner

    county = find_county("532527")
    first = county.townships["code"].iloc[0]
    v = county.villages[county.villages["township_code"] == first].reset_index(drop=True)
    rng = np.random.default_rng(7)
    rows = pd.DataFrame(
        {
            "code": v["code"],
            "name": v["name"].str.replace("村民委员会", "村"),
            "实有人口": rng.integers(400, 3000, len(v)),
            "lon": 103.77 + rng.uniform(0, 0.15, len(v)),
            "lat": 24.53 + rng.uniform(0, 0.15, len(v)),
        }
    )
    rows.loc[0, "name"] = "旧名村"
    rows = pd.concat(
        [
            rows,
            pd.DataFrame(
                {"code": ["X-1"], "name": ["新增自然村"], "实有人口": [90], "lon": [103.8], "lat": [24.6]}
            ),
        ],
        ignore_index=True,
    )
    path = tmp_path / "villages.csv"
    rows.to_csv(path, index=False)
    out = tmp_path / "plan"
    p = run_planner(
        "plan",
        "--villages",
        str(path),
        "--id-col",
        "code",
        "--roads",
        "none",
        "--county",
        "泸西县",
        "--out",
        str(out),
        "--month",
        "2026-12",
        "--lang",
        "en",
        timeout=600,
    )
    assert p.returncode in (0, 1), p.stderr
    nbs = json.loads((out / "summary.json").read_text(encoding="utf-8"))["nbs"]
    assert nbs["county"]["code"] == "532527" and nbs["official"] == 87
    assert nbs["matched"] == len(v)
    assert [e["village_id"] for e in nbs["extra"]] == ["X-1"]
    assert [r["name"] for r in nbs["renamed"]] == ["旧名村"]
    assert len(nbs["missing"]) == 87 - len(v)
    import geopandas as gpd

    layer = gpd.read_file(out / "plan.gpkg", layer="villages")
    town = county.townships.set_index("code").loc[first, "name"]
    assert (layer.loc[layer["village_id"] != "X-1", "township"] == town).all()

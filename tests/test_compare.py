"""planner.districts.compare: one matching of proposed to current districts and one rule for a move."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.districts.compare import compare_current, match_districts, village_moves
from planner.rules import DistrictRules


def test_each_proposed_district_is_matched_to_the_current_one_it_shares_most_villages_with() -> None:
    """A one-to-one matching by shared villages; a renamed plan matches name to name and moves nothing."""
    current = ["a", "a", "a", "b", "b", "c"]
    proposed = ["X", "X", "Y", "Y", "Y", "Z"]
    matched = match_districts(current, proposed)
    assert matched == {"X": "a", "Y": "b", "Z": "c"}
    assert village_moves(current, proposed, matched).tolist() == [False, False, True, False, False, False]
    renamed = [f"new-{c}" for c in current]
    assert not village_moves(current, renamed, match_districts(current, renamed)).any()


def test_a_pair_sharing_no_village_is_no_match_and_its_villages_move() -> None:
    """More proposed districts than current ones: the one left over is matched to none and all of it moves."""
    current = ["a", "a", "b", "b"]
    proposed = ["X", "Y", "Y", "Z"]
    matched = match_districts(current, proposed)
    assert len(matched) == 2 and set(matched.values()) == {"a", "b"}
    moves = village_moves(current, proposed, matched)
    unmatched = next(p for p in ("X", "Y", "Z") if p not in matched)
    for c, p, moved in zip(current, proposed, moves, strict=True):
        assert moved == (p == unmatched or matched[p] != c)


def test_a_village_in_only_one_plan_moves_and_one_in_neither_does_not() -> None:
    """Missing labels (None, NaN) are 'not in that plan'."""
    current = ["a", "a", None, np.nan]
    proposed = ["X", None, "X", None]
    assert village_moves(current, proposed, match_districts(current, proposed)).tolist() == [
        False,
        True,
        True,
        False,
    ]


def test_the_stage_lists_the_villages_the_rule_moves() -> None:
    """compare_current's moved villages are village_moves' on the same labels, with their matched district."""
    import geopandas as gpd

    ids = pd.Index([f"V{i}" for i in range(6)])
    villages = gpd.GeoDataFrame(
        {
            "district_id": ["X", "X", "Y", "Y", "Z", "Z"],
            "office_id": ["OX", "OX", "OY", "OY", "OZ", "OZ"],
            "travel_min_to_office": [0.0, 5.0, 0.0, 7.0, 0.0, 3.0],
        },
        index=ids,
    )
    current = pd.Series(["a", "a", "a", "b", "b", "b"], index=ids)
    minutes = np.full((6, 6), 10.0)
    np.fill_diagonal(minutes, 0.0)
    cmp_ = compare_current(villages, current, minutes, np.full(6, 100.0), DistrictRules())
    matched = match_districts(current.to_numpy(), villages["district_id"].to_numpy())
    expected = ids[village_moves(current.to_numpy(), villages["district_id"].to_numpy(), matched)]
    assert cmp_.moved["village_id"].tolist() == expected.tolist()
    assert cmp_.moved["matched_current"].tolist() == [matched.get(p) for p in cmp_.moved["proposed_district"]]
    assert set(cmp_.districts["plan"]) == {"current", "proposed"}

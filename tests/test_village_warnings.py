"""Warnings about a Chinese village list's coordinates (issue 14): GCJ-02 outside China, villages on one point."""

from __future__ import annotations

import logging

import pandas as pd

from planner.io import read_villages


def _csv(tmp_path, lon, lat):
    path = tmp_path / "v.csv"
    pd.DataFrame(
        {
            "code": [f"V{i}" for i in range(len(lon))],
            "name": [f"村{i}" for i in range(len(lon))],
            "population": [500] * len(lon),
            "lon": lon,
            "lat": lat,
        }
    ).to_csv(path, index=False)
    return path


def test_gcj02_outside_china_is_named_and_kept_as_given(tmp_path, caplog):
    """Points in Europe with --coords gcj02: a warning names them; their coordinates are not shifted."""
    path = _csv(tmp_path, [1.52, 1.53], [42.51, 42.55])
    with caplog.at_level(logging.WARNING, logger="planner.io.villages"):
        v = read_villages(path, coords="gcj02")
    assert "outside China" in caplog.text and "V0" in caplog.text
    lon = v.to_crs(4326).geometry.x.round(6).tolist()
    assert lon == [1.52, 1.53]


def test_villages_sharing_a_point_are_reported(tmp_path, caplog):
    """Two villages geocoded to the same point are named together; a lone point is not."""
    path = _csv(tmp_path, [103.80, 103.80, 103.85], [24.55, 24.55, 24.60])
    with caplog.at_level(logging.WARNING, logger="planner.io.villages"):
        read_villages(path)
    assert (
        "share a point" in caplog.text and "V0 = V1" in caplog.text and "V2" not in caplog.text.split("(")[1]
    )


def test_duplicate_ids_are_named_in_chinese_without_english_fragments(tmp_path):
    """The zh message of duplicate ids names the lines in Chinese (第 2 行), never 'line 2'."""
    import pytest

    from planner.errors import ValidationError

    path = _csv(tmp_path, [100.0, 100.1, 100.2], [25.0, 25.1, 25.2])
    table = pd.read_csv(path)
    table.loc[1, "code"] = "V0"
    table.to_csv(path, index=False)
    with pytest.raises(ValidationError) as err:
        read_villages(path)
    zh = err.value.text("zh")
    assert "第 2 行" in zh and "第 3 行" in zh and "line" not in zh

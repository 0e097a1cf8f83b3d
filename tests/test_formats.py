"""planner.io.formats: one table of readers by format, one list of OSM endings, "is this a table?" in one place."""

from __future__ import annotations

import bz2
import gzip
import re
from pathlib import Path

import pandas as pd
import pytest

from planner.errors import ValidationError
from planner.io import formats
from planner.io.formats import INPUT_EXTENSIONS, OSM_SUFFIXES, TABLE_READERS, is_table, osm_reader, read_table

PACKAGE = Path(__file__).resolve().parents[1] / "planner"
DEMO_ROADS = Path(__file__).resolve().parents[1] / "data" / "demo" / "roads.osm.bz2"


def test_tables_are_the_formats_of_the_readers_table():
    """is_table answers from TABLE_READERS, case-insensitively; layers are not tables."""
    assert is_table("a/villages.csv") and is_table("V.CSV")
    assert not is_table("villages.gpkg") and not is_table("villages.shp")
    assert set(TABLE_READERS) <= set(INPUT_EXTENSIONS)


def test_read_table_dispatches_by_suffix(tmp_path, monkeypatch):
    """read_table calls the reader registered for the ending: a new table format is one entry in TABLE_READERS."""
    p = tmp_path / "v.csv"
    p.write_text("village_id,population\nA,5\n", encoding="utf-8")
    assert read_table(p, what="t", what_zh="t").to_dict("list") == {"village_id": ["A"], "population": ["5"]}
    monkeypatch.setitem(TABLE_READERS, ".tsv", lambda path, **kw: pd.read_csv(path, sep="\t", dtype=str))
    q = tmp_path / "v.tsv"
    q.write_text("village_id\tpopulation\nB\t7\n", encoding="utf-8")
    assert is_table(q) and read_table(q, what="t", what_zh="t")["village_id"].tolist() == ["B"]
    with pytest.raises(ValidationError, match="not a table"):
        read_table(tmp_path / "v.gpkg", what="t", what_zh="t")


def test_no_table_suffix_test_outside_formats():
    """No reader of planner/io tests for ".csv" itself: is_table and read_table are the one place that knows."""
    offenders = []
    for path in (PACKAGE / "io").glob("*.py"):
        if path.name in ("formats.py", "plan_files.py"):  # plan_files writes schedule.csv, an output name
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if re.search(r"""["']\.csv["']""", code):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("x.osm.pbf", "osmium"),
        ("X.PBF", "osmium"),
        ("x.o5m", "osmium"),
        ("x.osc", "osmium"),
        ("x.osm.gz", "osmium"),
        ("x.osm.bz2", "xml"),
        ("x.osm", "xml"),
        ("x.osm.xml", "xml"),
        ("x.gpkg", None),
        ("x.bz2", None),
    ],
)
def test_osm_reader_of_every_ending(name, reader):
    """One list of OSM endings says how each is read (osmnx XML or pyosmium); other files are not OSM."""
    assert osm_reader(name) == reader


def test_one_osm_suffix_list():
    """The road reader and the OSM extract reader use the same list (no module keeps its own copy)."""
    for module in ("roads.py", "osm.py"):
        text = (PACKAGE / "io" / module).read_text(encoding="utf-8")
        assert "OSM_SUFFIXES =" not in text and "osm_reader(" in text
    assert set(OSM_SUFFIXES.values()) == {"xml", "osmium"}
    assert formats.OSM_SUFFIXES is OSM_SUFFIXES


def test_gzipped_osm_xml_roads_are_read_through_pyosmium(tmp_path):
    """A .osm.gz road file (which osmnx cannot open) is read like a .osm.pbf: the demo's roads come out."""
    from planner.io.roads import read_roads

    gz = tmp_path / "roads.osm.gz"
    gz.write_bytes(gzip.compress(bz2.decompress(DEMO_ROADS.read_bytes())))
    roads = read_roads(gz)
    assert roads.attrs["kind"] == "osm" and len(roads) > 1000

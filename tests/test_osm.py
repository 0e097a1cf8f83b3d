"""planner.osm / planner.io.osm: village cells, townships and populations from OSM extracts."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely

from planner.bench.common import shared_dir
from planner.cli import main
from planner.errors import ValidationError
from planner.prepare_osm import MIN_VILLAGE_POPULATION, model_population, parse_population, prepare_osm

ROOT = Path(__file__).resolve().parents[1]
RAW = shared_dir() / "data" / "raw"
ANDORRA = RAW / "osm-andorra-2021" / "andorra-latest.osm.pbf"
LIECHTENSTEIN = RAW / "osm-liechtenstein-2024" / "liechtenstein-latest.osm.pbf"
DEMO = ROOT / "data" / "demo" / "villages.gpkg"
ANDORRA_POPULATION_2021 = 79_535  # Departament d'Estadística d'Andorra, 31 Dec 2021 (data/demo/SOURCE.md)

needs_raw = pytest.mark.usefixtures("shared")


# -- a tiny hand-made region -----------------------------------------------------------------------------------
# A square "country" (relation, admin_level 2) of 0.02 x 0.02 degrees split into two townships (closed ways,
# admin_level 8) West | East at lon 10.01. Settlements: Alpha (SW, population=1,200), Beta (SE, name:zh 贝塔),
# Gamma (NE, hamlet), Delta (NW, hamlet), Outside (east of the square), a farm (place type not asked for).
# Residential buildings: 3 houses near Beta, 2 building=yes inside a landuse=residential near Gamma, 1 house
# near Alpha (tagged village: not used); not counted: 1 building=yes outside residential land near Gamma, a
# garage near Delta.


class _Osm:
    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.ways: list[str] = []
        self.relations: list[str] = []
        self._next = 1

    def _id(self) -> int:
        self._next += 1
        return self._next

    @staticmethod
    def _tags(tags: dict[str, str]) -> str:
        return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())

    def node(self, lon: float, lat: float, tags: dict[str, str] | None = None) -> int:
        i = self._id()
        self.nodes.append(
            f'<node id="{i}" version="1" lat="{lat}" lon="{lon}">{self._tags(tags or {})}</node>'
        )
        return i

    def ring(self, corners: list[tuple[float, float]], tags: dict[str, str] | None = None) -> int:
        refs = [self.node(x, y) for x, y in corners]
        i = self._id()
        nds = "".join(f'<nd ref="{r}"/>' for r in [*refs, refs[0]])
        self.ways.append(f'<way id="{i}" version="1">{nds}{self._tags(tags or {})}</way>')
        return i

    def box(self, x: float, y: float, half: float, tags: dict[str, str]) -> int:
        return self.ring(
            [(x - half, y - half), (x + half, y - half), (x + half, y + half), (x - half, y + half)], tags
        )

    def relation(self, outer: int, tags: dict[str, str]) -> int:
        i = self._id()
        self.relations.append(
            f'<relation id="{i}" version="1"><member type="way" ref="{outer}" role="outer"/>'
            f"{self._tags(tags)}</relation>"
        )
        return i

    def write(self, path: Path) -> Path:
        body = "\n".join([*self.nodes, *self.ways, *self.relations])
        path.write_text(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{body}\n</osm>\n', "utf-8"
        )
        return path


def _tiny(path: Path, *, boundary: bool = True) -> tuple[Path, dict[str, int]]:
    o = _Osm()
    ids = {
        "Alpha": o.node(10.005, 45.005, {"place": "village", "name": "Alpha", "population": "1,200"}),
        "Beta": o.node(10.015, 45.005, {"place": "village", "name": "Beta", "name:zh": "贝塔"}),
        "Gamma": o.node(10.015, 45.015, {"place": "hamlet", "name": "Gamma"}),
        "Delta": o.node(10.005, 45.015, {"place": "hamlet", "name": "Delta"}),
        "Outside": o.node(10.03, 45.01, {"place": "village", "name": "Outside"}),
    }
    o.node(10.002, 45.018, {"place": "farm", "name": "Farm"})
    if boundary:
        square = o.ring([(10.0, 45.0), (10.02, 45.0), (10.02, 45.02), (10.0, 45.02)])
        o.relation(
            square, {"type": "boundary", "boundary": "administrative", "admin_level": "2", "name": "Tiny"}
        )
        admin8 = {"boundary": "administrative", "admin_level": "8"}
        o.ring([(10.0, 45.0), (10.01, 45.0), (10.01, 45.02), (10.0, 45.02)], {**admin8, "name": "West"})
        o.ring([(10.01, 45.0), (10.02, 45.0), (10.02, 45.02), (10.01, 45.02)], {**admin8, "name": "East"})
    for k in range(3):
        o.box(10.016 + 0.0005 * k, 45.004, 0.0001, {"building": "house"})
    o.box(10.014, 45.0155, 0.0015, {"landuse": "residential"})
    o.box(10.0135, 45.015, 0.0001, {"building": "yes"})
    o.box(10.0145, 45.016, 0.0001, {"building": "yes"})
    o.box(10.018, 45.018, 0.0001, {"building": "yes"})  # outside residential land: not a dwelling
    o.box(10.004, 45.004, 0.0001, {"building": "house"})  # in tagged Alpha's cell: tag wins
    o.box(10.006, 45.016, 0.0001, {"building": "garage"})
    return o.write(path), ids


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    return _tiny(tmp_path / "tiny.osm")


def test_tiny_region_cells_townships_and_populations(tiny: tuple[Path, dict[str, int]]) -> None:
    """Villages inside the boundary get a cell, their township and a tagged or building-modelled population."""
    path, ids = tiny
    v = prepare_osm(path, persons_per_building=100)
    assert list(v.index) == sorted(f"osm-n{ids[n]}" for n in ("Alpha", "Beta", "Gamma", "Delta"))
    assert v.index.name == "village_id"
    by_name = v.set_index("name")
    assert "Outside" not in by_name.index and "Farm" not in by_name.index
    assert [x.split(" (")[0] for x in v.attrs["outside_region"]] == [
        "Outside"
    ]  # reported, not silently dropped
    assert (v.attrs["admin_level"], v.attrs["township_level"]) == (2, 8)
    assert by_name.loc["贝塔", "township"] == "East" and by_name.loc["Gamma", "township"] == "East"
    assert by_name.loc["Alpha", "township"] == "West" and by_name.loc["Delta", "township"] == "West"
    assert by_name["population"].to_dict() == {"Alpha": 1200, "贝塔": 300, "Gamma": 200, "Delta": 50}
    assert by_name["population_source"].to_dict() == {
        "Alpha": "tag",
        "贝塔": "modelled",
        "Gamma": "modelled",
        "Delta": "modelled",
    }
    assert str(v["population"].dtype) == "int64" and v.crs.to_epsg() == 4326
    assert by_name.loc["Alpha", "lon"] == pytest.approx(10.005) and by_name.loc[
        "Alpha", "lat"
    ] == pytest.approx(45.005)
    for name, row in by_name.iterrows():
        assert row.geometry.contains(shapely.Point(row["lon"], row["lat"])), name
    _assert_tiles(v, shapely.box(10.0, 45.0, 10.02, 45.02))


@pytest.mark.parametrize(
    ("lang", "expected"), [("zh", "贝塔附近无名小村"), ("en", "unnamed hamlet near 贝塔")]
)
def test_names_prefer_simplified_and_unnamed_take_the_nearest_named(
    tmp_path: Path, lang: str, expected: str
) -> None:
    """name:zh-Hans wins over a traditional name:zh; an unnamed hamlet is named after its nearest named
    neighbour (Beta, 0.003 degrees away, not Alpha at 0.009), never "hamlet osm-n..."."""
    o = _Osm()
    alpha = o.node(
        10.003, 45.01, {"place": "village", "name": "Alpha", "name:zh": "阿爾法", "name:zh-Hans": "阿尔法"}
    )
    o.node(10.015, 45.01, {"place": "village", "name": "Beta", "name:zh": "贝塔"})
    lost = o.node(10.012, 45.01, {"place": "hamlet"})
    square = o.ring([(10.0, 45.0), (10.02, 45.0), (10.02, 45.02), (10.0, 45.02)])
    o.relation(square, {"type": "boundary", "boundary": "administrative", "admin_level": "2", "name": "Tiny"})
    v = prepare_osm(o.write(tmp_path / "names.osm"), lang=lang)
    assert v.loc[f"osm-n{alpha}", "name"] == "阿尔法"
    assert v.loc[f"osm-n{lost}", "name"] == expected


def test_tiny_region_scaled_to_total_keeps_tags_and_floor(tiny: tuple[Path, dict[str, int]]) -> None:
    """--total-population scales only modelled villages, never below the floor, to the exact total."""
    path, _ = tiny
    v = prepare_osm(path, persons_per_building=100, total_population=2000).set_index("name")
    # 800 left after Alpha's 1200; Delta (no building) keeps the floor, Beta:Gamma = 3:2 share the other 750
    assert v["population"].to_dict() == {"Alpha": 1200, "贝塔": 450, "Gamma": 300, "Delta": 50}


def test_model_population_floor_and_exact_total() -> None:
    """Scaling with a floor sums exactly to the total and keeps proportions above the floor."""
    tagged = np.array([np.nan, np.nan, 5000.0, np.nan, np.nan])
    buildings = np.array([0, 1, 7, 70, 130])
    pop, src = model_population(tagged, buildings, persons_per_building=1.0, total_population=8000)
    assert pop.sum() == 8000 and pop[2] == 5000
    assert list(src) == ["modelled", "modelled", "tag", "modelled", "modelled"]
    # 3000 to share: 0 and 1 building fall below the floor at any scale that fits; 70:130 share 2900
    assert pop[0] == MIN_VILLAGE_POPULATION and pop[1] == MIN_VILLAGE_POPULATION
    assert (pop[3], pop[4]) == (1015, 1885)
    with pytest.raises(ValidationError, match="too small"):
        model_population(tagged, buildings, total_population=5100)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1234", 1234),
        ("1,234", 1234),
        ("1 234", 1234),
        ("5'050", 5050),
        ("12.345", 12345),
        ("0", None),
        ("ca. 300", None),
        ("300-400", None),
        ("", None),
        ("1.5", None),
    ],
)
def test_parse_population(text: str, value: int | None) -> None:
    """Whole positive numbers with thousands separators parse; anything else is not a tag population."""
    got = parse_population(text)
    assert np.isnan(got) if value is None else got == value


def test_cli_writes_layer_and_exits_0(tiny: tuple[Path, dict[str, int]], tmp_path: Path, capsys) -> None:
    """`planner prepare-osm` writes the villages layer and prints one bilingual summary line."""
    path, _ = tiny
    out = tmp_path / "v.gpkg"
    code = main(
        [
            "prepare-osm",
            "--osm",
            str(path),
            "--out",
            str(out),
            "--persons-per-building",
            "100",
            "--lang",
            "en",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert (
        len(lines) == 1
        and "4 villages in Tiny, 2 townships, population 1,750 (1 tagged, 3 modelled); 1 settlements outside"
        in lines[0]
    )
    assert "4 个村" in lines[0]
    back = gpd.read_file(out, layer="villages")
    assert sorted(back.columns) == sorted(
        ["village_id", "name", "township", "population", "population_source", "lon", "lat", "geometry"]
    )
    assert back["population"].sum() == 1750


# -- bad input ---------------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is named in the error."""
    with pytest.raises(ValidationError, match=r"nope\.osm\.pbf does not exist") as err:
        prepare_osm(tmp_path / "nope.osm.pbf")
    assert "不存在" in err.value.zh


def test_text_file_is_not_osm(tmp_path: Path) -> None:
    """A text file, named .osm or not, is refused with advice to re-download."""
    bad = tmp_path / "notes.osm"
    bad.write_text("these are not OSM data\n", "utf-8")
    with pytest.raises(ValidationError, match=r"notes\.osm.*download the extract again"):
        prepare_osm(bad)
    txt = tmp_path / "notes.txt"
    txt.write_text("hello\n", "utf-8")
    with pytest.raises(ValidationError, match=r"notes\.txt is not an OSM extract"):
        prepare_osm(txt)


@needs_raw
def test_truncated_pbf(tmp_path: Path) -> None:
    """A truncated .osm.pbf (interrupted download) is a ValidationError naming the file, never a crash."""
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(ANDORRA.read_bytes()[: ANDORRA.stat().st_size // 2])
    with pytest.raises(ValidationError, match=r"cut\.osm\.pbf.*truncated.*download the extract again") as err:
        prepare_osm(cut)
    assert "重新下载" in err.value.zh


def test_place_type_without_nodes_lists_the_types_present(tiny: tuple[Path, dict[str, int]]) -> None:
    """Asking for a place type the file lacks says which types it has."""
    path, _ = tiny
    with pytest.raises(
        ValidationError, match=r"no settlement tagged place=city.*village \(3\).*hamlet \(2\)"
    ):
        prepare_osm(path, place_types=["city"])


def test_no_boundary(tmp_path: Path) -> None:
    """Without an administrative boundary the region cannot be clipped: a bilingual ValidationError."""
    path, _ = _tiny(tmp_path / "noboundary.osm", boundary=False)
    with pytest.raises(ValidationError, match="no complete administrative boundary") as err:
        prepare_osm(path)
    assert "行政边界" in err.value.zh


def test_unknown_admin_level_lists_levels(tiny: tuple[Path, dict[str, int]]) -> None:
    """An --admin-level with no boundary names the levels present."""
    path, _ = tiny
    with pytest.raises(ValidationError, match=r"admin_level 4.*levels found: \[2, 8\]"):
        prepare_osm(path, admin_level=4)


def test_cli_bad_input_exit_2(tmp_path: Path, capsys) -> None:
    """The CLI turns bad input into exit code 2 and a message, without a traceback."""
    code = main(
        ["prepare-osm", "--osm", str(tmp_path / "missing.osm.pbf"), "--out", str(tmp_path / "v.gpkg")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "missing.osm.pbf" in err and "Traceback" not in err
    assert not (tmp_path / "v.gpkg").exists()


# -- real regions ----------------------------------------------------------------------------------------------


def _country(path: Path, name: str) -> shapely.Geometry:
    """The admin_level=2 polygon read independently with a pyosmium SimpleHandler."""
    found: list[str] = []
    factory = osmium.geom.WKBFactory()

    class Handler(osmium.SimpleHandler):
        def area(self, a: osmium.osm.Area) -> None:
            if a.tags.get("admin_level") == "2" and a.tags.get("name") == name:
                found.append(factory.create_multipolygon(a))

    Handler().apply_file(str(path), locations=True)
    assert len(found) == 1
    return shapely.from_wkb(found[0])


def _assert_tiles(v: gpd.GeoDataFrame, region: shapely.Geometry) -> None:
    crs = v.estimate_utm_crs()
    cells = v.to_crs(crs).geometry
    union = shapely.union_all(cells.to_numpy())
    region_m = gpd.GeoSeries([region], crs=4326).to_crs(crs).iloc[0]
    assert union.area == pytest.approx(region_m.area, rel=0.005)  # covers the region
    assert cells.area.sum() == pytest.approx(union.area, rel=1e-6)  # no overlaps
    assert shapely.symmetric_difference(union, region_m).area < 0.005 * region_m.area


def _assert_valid_layer(v: gpd.GeoDataFrame) -> None:
    assert v.index.is_unique and v.index.str.startswith("osm-").all()
    assert (v["population"] > 0).all() and str(v["population"].dtype) == "int64"
    assert (v["township"].str.len() > 0).all() and (v["name"].str.len() > 0).all()
    assert set(v["population_source"]) <= {"tag", "modelled"}
    assert v.geometry.is_valid.all() and v.geom_type.isin(["Polygon", "MultiPolygon"]).all()


@needs_raw
def test_liechtenstein_layer_is_valid() -> None:
    """Liechtenstein (not tuned to): >= 30 villages, populations > 0, townships, cells tile the country."""
    v = prepare_osm(LIECHTENSTEIN)
    assert len(v) >= 30
    _assert_valid_layer(v)
    assert v["township"].nunique() == 11  # the 11 municipalities (Gemeinden)
    _assert_tiles(v, _country(LIECHTENSTEIN, "Liechtenstein"))


@needs_raw
def test_andorra_layer_is_valid_and_scaled() -> None:
    """Andorra: the same invariants; with the official total, the population sums to it exactly."""
    v = prepare_osm(ANDORRA, total_population=ANDORRA_POPULATION_2021)
    assert len(v) >= 30
    _assert_valid_layer(v)
    assert v["township"].nunique() == 7  # the 7 parishes
    assert v["population"].sum() == ANDORRA_POPULATION_2021
    _assert_tiles(v, _country(ANDORRA, "Andorra"))


@needs_raw
def test_shipped_demo_equals_a_fresh_run(tmp_path: Path) -> None:
    """data/demo/villages.gpkg is reproducible: the SOURCE.md command gives the same ids and populations."""
    shipped = gpd.read_file(DEMO, layer="villages").set_index("village_id").sort_index()
    out = tmp_path / "villages.gpkg"
    code = main(
        [
            "prepare-osm",
            "--osm",
            str(ANDORRA),
            "--out",
            str(out),
            "--total-population",
            str(ANDORRA_POPULATION_2021),
            "--lang",
            "zh",  # the default, named: the one unnamed hamlet's name is in this language
        ]
    )
    assert code == 0
    fresh = gpd.read_file(out, layer="villages").set_index("village_id").sort_index()
    assert list(fresh.index) == list(shipped.index)
    for col in ("name", "township", "population", "population_source"):
        assert fresh[col].tolist() == shipped[col].tolist(), col
    assert np.allclose(fresh.to_crs(3035).area, shipped.to_crs(3035).area, rtol=1e-9)


@pytest.mark.slow
@needs_raw
def test_reads_bz2_xml_like_pbf(tmp_path: Path) -> None:
    """The same extract as .osm.bz2 gives the same villages as the .pbf (format only changes the reader)."""
    xml = tmp_path / "andorra.osm.bz2"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(ANDORRA)):
            writer.add(obj)
    a = prepare_osm(ANDORRA)
    b = prepare_osm(xml)
    assert list(a.index) == list(b.index)
    assert a["population"].tolist() == b["population"].tolist()

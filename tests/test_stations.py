"""The police stations (planner.stations, planner.io.stations) and R9 on hand-made counties, answers by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from planner.errors import ValidationError
from planner.io.stations import read_stations
from planner.model import TravelTimes
from planner.rules import Rules, StationRules
from planner.stations import check_townships, plan_stations, roster_stations, station_force

CRS = "EPSG:32648"


def _county(district: list[str]) -> gpd.GeoDataFrame:
    """Six villages in a row, 1 km apart: township A holds V1-V3 (100, 300, 200 residents), B V4-V6 (50, 50,
    10); ``district`` gives each village's district, the office in the district's first village."""
    ids = [f"V{i}" for i in range(1, 7)]
    first = {d: ids[district.index(d)] for d in district}
    return gpd.GeoDataFrame(
        {
            "name": [f"村{i}" for i in range(1, 7)],
            "township": ["A", "A", "A", "B", "B", "B"],
            "population": [100, 300, 200, 50, 50, 10],
            "district_id": district,
            "office_id": [f"O{d[1:]}" for d in district],
            "office_village_id": [first[d] for d in district],
        },
        geometry=[box(i * 1000, 0, i * 1000 + 1000, 1000) for i in range(6)],
        index=pd.Index(ids, name="village_id"),
        crs=CRS,
    )


def test_one_station_per_township_at_its_most_populous_village():
    """Without a station file: A's seat is V2 (300), B's is V4 (50, tied with V5: the first by id)."""
    sp = plan_stations(_county(["D1"] * 3 + ["D2"] * 3), None, rules=StationRules())
    st = sp.stations.set_index("station_id")
    assert list(st["name"]) == ["A派出所", "B派出所"]
    assert list(st["village_id"]) == ["V2", "V4"]
    assert sp.district_station == {"D1": "S01", "D2": "S02"}
    assert list(st["n_villages"]) == [3, 3]
    assert list(st["population"]) == [600, 110]


def test_a_district_goes_to_the_station_of_the_township_holding_most_of_its_residents():
    """D1 = V1, V2, V4 (A 400, B 50) and D2 = V3, V5, V6 (A 200, B 60): both belong to A's station, and B,
    whose villages all lie in A's districts, gets no default station of its own (it would have no district)."""
    sp = plan_stations(_county(["D1", "D1", "D2", "D1", "D2", "D2"]), None, rules=StationRules())
    assert sp.district_station == {"D1": "S01", "D2": "S01"}
    st = sp.stations.set_index("station_id")
    assert list(st.index) == ["S01"] and st.at["S01", "districts"] == "D1;D2"
    assert st.at["S01", "n_villages"] == 6


def test_stations_without_townships_take_the_districts_nearest_by_travel_time():
    """Two points, in V1 and V6 (their villages); D2's office V4 is 5 min from V6 and 20 min from V1 by the
    matrix, D1's office V1 is the station's own village: D1 -> S01, D2 -> S02."""
    v = _county(["D1"] * 3 + ["D2"] * 3)
    ids = list(v.index)
    sec = np.full((6, 6), 3600.0)
    np.fill_diagonal(sec, 0)
    sec[ids.index("V4"), ids.index("V6")] = 300
    sec[ids.index("V4"), ids.index("V1")] = 1200
    times = TravelTimes(pd.Index(ids), pd.Index(ids), sec)
    given = gpd.GeoDataFrame(
        {
            "name": ["东所", "西所"],
            "townships": [(), ()],
            "other_officers": [np.nan, 3.0],
            "rural": [None, False],
        },
        geometry=[Point(500, 500), Point(5500, 500)],
        crs=CRS,
    )
    sp = plan_stations(v, times, rules=StationRules(), given=given, source="s.csv")
    assert sp.district_station == {"D1": "S01", "D2": "S02"}
    st = sp.stations.set_index("station_id")
    assert list(st["village_id"]) == ["V1", "V6"]
    assert list(st["rural"]) == [True, False]
    assert len(sp.notes) == 2  # both districts placed by travel time, and said so


def test_a_station_file_naming_an_unknown_township_is_an_input_error():
    given = gpd.GeoDataFrame(
        {"name": ["东所"], "townships": [("C",)], "other_officers": [np.nan], "rural": [None]},
        geometry=[Point(0, 0)],
        crs=CRS,
    )
    with pytest.raises(ValidationError, match=r"s\.csv: station 东所 serves township 'C'"):
        plan_stations(_county(["D1"] * 6), None, rules=StationRules(), given=given, source="s.csv")
    with pytest.raises(ValidationError, match=r"s\.csv: station 东所 serves township 'C'"):
        check_townships(given, _county(["D1"] * 6), source="s.csv")
    twice = given.assign(townships=[("A",)])
    twice = pd.concat([twice, twice.assign(name="西所")])
    with pytest.raises(ValidationError, match=r"township 'A' is served by both 东所 and 西所"):
        check_townships(twice, _county(["D1"] * 6), source="s.csv")


def test_read_stations_csv_names_the_file_and_line(tmp_path):
    p = tmp_path / "stations.csv"
    p.write_text(
        "name,乡镇,其他民警,lon,lat\n中枢派出所,A;B,6,101.5,25.3\n,A,1,101.6,25.3\n", encoding="utf-8"
    )
    with pytest.raises(ValidationError, match=r"stations\.csv: line 3: empty station name"):
        read_stations(p, crs=CRS)
    p.write_text("name,townships,other_officers,lon,lat\n中枢派出所,A、B,2.5,101.5,25.3\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"line 2: other_officers '2.5' is not a whole number"):
        read_stations(p, crs=CRS)
    p.write_text(
        "name,townships,other_officers,rural,lon,lat\n中枢派出所,A、B,6,否,101.5,25.3\n", encoding="utf-8"
    )
    st = read_stations(p, crs=CRS)
    assert (
        st.loc[0, "townships"] == ("A", "B")
        and st.loc[0, "other_officers"] == 6
        and not bool(st.loc[0, "rural"])
    )


def _stations(other: list[float], rural: list[bool]) -> pd.DataFrame:
    n = len(other)
    return pd.DataFrame(
        {
            "station_id": [f"S{i + 1:02d}" for i in range(n)],
            "name": ["中枢派出所", "东山派出所", "城关派出所"][:n],
            "other_officers": other,
            "rural": rural,
        }
    )


ROSTER = pd.DataFrame(
    {
        "officer_id": ["a", "b", "c", "d", "e", "f"],
        "office": ["O1", "O1", "O2", "O2", "O3", "O3"],
        "kind": ["resident", "linked", "resident", "linked", "resident", "linked"],
        "village_id": ["V1", None, "V3", None, "V5", None],
    }
)
OFFICE_STATION = {"O1": "S01", "O2": "S02", "O3": "S03"}


def test_r9_share_and_rural_minimum_with_the_community_officers_short():
    """S01: 2 community + 6 others = 8, 25% < 40%: c >= 0.4 * 6 / 0.6 = 4, so 2 more. S02 (rural): 2 + 1 = 3
    < 5 officers, share 67% fine: c >= 5 - 1 = 4, 2 more. S03 (urban): 2 + 1, no minimum: met."""
    st = _stations([6, 1, 1], [True, True, False])
    who = roster_stations(ROSTER, st, OFFICE_STATION, source="r.csv")
    rows, breaks, short = station_force(st, ROSTER, who, rules=StationRules())
    by = {r["station_id"]: r for r in rows}
    assert (by["S01"]["community"], by["S01"]["force"], by["S01"]["community_pct"]) == (2, 8, 25.0)
    assert by["S01"]["r9_share_ok"] is False and by["S01"]["more_community"] == 2
    assert (
        by["S02"]["r9_share_ok"] is True
        and by["S02"]["r9_min_ok"] is False
        and by["S02"]["more_community"] == 2
    )
    assert by["S03"]["r9_min_ok"] is True and by["S03"]["more_community"] == 0
    assert sorted((v.subject, v.hard) for v in breaks) == [("S01", False), ("S02", False)]
    assert [s["detail"].split(" (")[0] for s in short] == [
        "station 中枢派出所 needs 2 more community officer(s)",
        "station 东山派出所 needs 2 more community officer(s)",
    ]
    assert short[0]["office_id"] == "中枢派出所" and short[0]["more_community_officers"] == 2


def test_r9_is_not_checked_without_the_station_force_and_follows_the_rules_in_force():
    """No other_officers: not checked. With share 0.5 and S01 2 + 2: 50% meets it, 2 + 3 would not (c >= 3)."""
    st = _stations([np.nan], [True])
    who = roster_stations(ROSTER, st, OFFICE_STATION, source="r.csv")
    rows, breaks, _ = station_force(st, ROSTER, who, rules=StationRules())
    assert rows[0]["checked"] is False and not breaks
    rules = Rules.from_dict({"stations": {"community_share": 0.5, "min_officers": 4}})
    for other, ok, more in ((2, True, 0), (3, False, 1)):
        st = _stations([other], [True])
        rows, _, _ = station_force(st, ROSTER, who, rules=rules.stations)
        assert (rows[0]["r9_share_ok"], rows[0]["more_community"]) == (ok, more)


def test_the_roster_may_name_an_officers_station_by_name_or_id():
    """Officer d moves to S01 by name, f by id: S01 then has a, b, d, f; an unknown station names the line."""
    st = _stations([6, 1, 1], [True, True, False])
    r = ROSTER.assign(station=["", "", "", "中枢派出所", "", "S01"])
    who = roster_stations(r, st, OFFICE_STATION, source="r.csv")
    assert sorted(o for o, s in who.items() if s == "S01") == ["a", "b", "d", "f"]
    with pytest.raises(ValidationError, match=r"r\.csv: line 4: station '北所' of officer c"):
        roster_stations(
            ROSTER.assign(station=["", "", "北所", "", "", ""]), st, OFFICE_STATION, source="r.csv"
        )


def test_r9_label_is_built_from_the_values_in_force():
    from planner.check import rule_labels

    rules = Rules.from_dict({"stations": {"community_share": 0.5, "min_officers": 7}})
    assert "50%" in rule_labels(rules, "zh")["R9"] and "7" in rule_labels(rules, "zh")["R9"]
    assert "at least 50% of a station's force" in rule_labels(rules, "en")["R9"]


def test_a_polygon_station_serves_the_townships_of_the_villages_inside_it():
    """A polygon over V4-V6 and one over V1-V3, no townships named: B and A, seats their most populous villages."""
    given = gpd.GeoDataFrame(
        {
            "name": ["东所", "西所"],
            "townships": [(), ()],
            "other_officers": [np.nan, np.nan],
            "rural": [None, None],
        },
        geometry=[box(3000, 0, 6000, 1000), box(0, 0, 3000, 1000)],
        crs=CRS,
    )
    sp = plan_stations(
        _county(["D1"] * 3 + ["D2"] * 3), None, rules=StationRules(), given=given, source="s.gpkg"
    )
    st = sp.stations.set_index("station_id")
    assert list(st["townships"]) == ["B", "A"] and list(st["village_id"]) == ["V4", "V2"]
    assert sp.district_station == {"D1": "S02", "D2": "S01"} and not sp.notes

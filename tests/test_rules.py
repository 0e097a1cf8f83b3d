"""The rules file: defaults from DOMAIN.md, validation that names the key, a round trip through summary.json."""

from __future__ import annotations

import datetime as dt

import pytest

from planner.errors import ValidationError
from planner.rules import Rules, load_rules


def test_defaults_are_the_bureau_rules() -> None:
    """With no file, R1 5-8 villages, R2 5,000 residents per officer, R5 2 days of 4 h, R7 Mon/Wed/Fri 20-21 hold."""
    r = load_rules(None)
    assert (r.districts.min_villages, r.districts.max_villages) == (5, 8)
    assert r.districts.residents_per_officer == 5000
    assert (r.patrol.visit_days_per_village, r.patrol.visit_hours) == (2, 4.0)
    assert r.patrol.night_days == ("Mon", "Wed", "Fri")
    assert r.patrol.night_window == (dt.time(20), dt.time(21))


def test_file_values_are_read_and_typed(tmp_path) -> None:
    """Keys in the file override the defaults, with times, dates and speeds parsed."""
    f = tmp_path / "rules.toml"
    f.write_text(
        '[districts]\nmode = "population"\nmax_villages = 10\n[patrol]\nnight_window = ["19:30", "21:00"]\n'
        'holidays = ["2026-12-25", 2026-12-31]\n[network.speeds_kmh]\ntrack = 10\n',
        encoding="utf-8",
    )
    r = load_rules(f)
    assert r.districts.mode == "population" and r.districts.max_villages == 10
    assert r.patrol.night_window[0] == dt.time(19, 30)
    assert r.patrol.holidays == (dt.date(2026, 12, 25), dt.date(2026, 12, 31))
    assert r.network.speeds_kmh["track"] == 10.0 and r.network.speeds_kmh["primary"] == 60.0


def test_calendar_section_is_read_and_round_trips(tmp_path) -> None:
    """[calendar] keys are read into the patrol rules and come back as their own section in to_dict."""
    f = tmp_path / "rules.toml"
    f.write_text(
        '[calendar]\ncountry = ""\nextra_holidays = ["2026-12-24"]\nweekend_workdays = false\nmin_week_days = 2\n'
        '[patrol]\nholidays = ["2026-12-31"]\n',
        encoding="utf-8",
    )
    r = load_rules(f)
    assert r.calendar is r.patrol.calendar
    assert r.calendar.country == "" and r.calendar.extra_holidays == (dt.date(2026, 12, 24),)
    assert not r.calendar.weekend_workdays and r.calendar.min_week_days == 2
    d = r.to_dict()
    assert d["calendar"]["extra_holidays"] == ["2026-12-24"] and "calendar" not in d["patrol"]
    assert Rules.from_dict(d) == r
    assert load_rules(None).calendar.country == "CN"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[districts]\nmax_villages = 3\n", "districts.max_villages"),
        ("[districts]\nmaxvillages = 3\n", r"unknown key.*districts\.maxvillages"),
        ("[district]\nmax_villages = 3\n", r"unknown section.*district"),
        ('[districts]\nmode = "area"\n', "districts.mode"),
        ('[patrol]\nnight_days = ["Mo"]\n', "patrol.night_days"),
        ('[patrol]\nnight_window = ["21:00", "20:00"]\n', "patrol.night_window"),
        ('[patrol]\nnight_window = ["8pm", "9pm"]\n', "patrol.night_window"),
        ("[patrol]\nmax_drive_hours = 9\n", "patrol.max_drive_hours"),
        ('[patrol]\nholidays = ["Christmas"]\n', "patrol.holidays"),
        ('[calendar]\ncountry = "XX"\n', "calendar.country"),
        ('[calendar]\nextra_holidays = ["soon"]\n', "calendar.extra_holidays"),
        (
            '[calendar]\nextra_holidays = ["2026-12-24"]\nextra_workdays = ["2026-12-24"]\n',
            "calendar.extra_workdays",
        ),
        ("[calendar]\nweekend_workdays = 1\n", "calendar.weekend_workdays"),
        ("[calendar]\nmin_week_days = 0\n", "calendar.min_week_days"),
        ("[calendar]\nholidays = []\n", r"unknown key.*calendar\.holidays"),
        ('[patrol]\ncalendar = "CN"\n', r"unknown key.*patrol\.calendar"),
        ("[patrol]\nnight_overtime_hours = 4\n", "patrol.night_overtime_hours"),
        ('[districts]\nmin_villages = "five"\n', "districts.min_villages"),
        ("[network.speeds_kmh]\nprimary = -5\n", "network.speeds_kmh.primary"),
        ("[districts\n", "not valid TOML"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text: str, match: str) -> None:
    """Every impossible or unknown value is an input error that names the key and the file."""
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=match) as info:
        load_rules(f)
    assert str(f) in str(info.value)


def test_missing_file_is_an_input_error(tmp_path) -> None:
    """A rules path that does not exist is reported with the path."""
    with pytest.raises(ValidationError, match="not found"):
        load_rules(tmp_path / "nope.toml")


def test_round_trip_through_plain_data() -> None:
    """The rules written into summary.json read back to the same rules (planner check relies on it)."""
    r = Rules.from_dict({"districts": {"mode": "villages"}, "patrol": {"holidays": ["2026-12-25"]}})
    assert Rules.from_dict(r.to_dict()) == r


def test_names_short_drops_the_committee_words_and_keeps_village_or_community():
    """[names] short = true: 大寨村民委员会 -> 大寨村, 茅阳社区居民委员会 -> 茅阳社区, 新村委会 -> 新村; a bare name
    or a name that is only the suffix stays; off by default; a wrong type names the key."""
    from planner.rules import Rules

    short = Rules.from_dict({"names": {"short": True}}).names
    assert [short.shown(n) for n in ("大寨村民委员会", "茅阳社区居民委员会", "新村委会", "城东居委会")] == [
        "大寨村",
        "茅阳社区",
        "新村",
        "城东社区",
    ]
    assert short.shown("大寨村") == "大寨村" and short.shown("村民委员会") == "村民委员会"
    assert Rules().names.shown("大寨村民委员会") == "大寨村民委员会"
    assert Rules.from_dict(Rules.from_dict({"names": {"short": True}}).to_dict()).names.short
    with pytest.raises(ValidationError, match=r"names\.short"):
        Rules.from_dict({"names": {"short": "yes"}})

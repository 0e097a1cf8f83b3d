"""The bureau rules (DOMAIN.md R1-R11) as one validated object, read from a TOML rules file.

Every key is optional; the defaults are the rules found in bureau practice. Unknown keys and out-of-range values
are input errors (:class:`~planner.errors.ValidationError`) that name the key, so every later stage gets one
checked :class:`Rules` object.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import ValidationError

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The committee suffixes of an official village name (统计用区划代码), longest first: 大寨村民委员会 is 大寨村
#: to the bureau, 大寨 to the matching of planner.nbs.
VILLAGE_SUFFIXES = ("社区居民委员会", "居民委员会", "村民委员会", "村委会", "居委会", "社区", "村")
#: The suffixes [names] short = true drops, with what is left in their place (a village stays a 村, a community
#: a 社区): 大寨村民委员会 -> 大寨村, 茅阳社区居民委员会 -> 茅阳社区.
_SHORT_NAMES = (
    ("社区居民委员会", "社区"),
    ("居民委员会", "社区"),
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("居委会", "社区"),
)
TERRAINS = ("flat", "hill", "mountain")

# Free-flow speeds (km/h) per OSM highway class, chosen for rural China: national roads (国道) are mostly
# trunk/primary, provincial (省道) secondary, county (县道) tertiary, township (乡道) unclassified and village
# roads (村道) residential/track. Figures follow the design speeds of China's road standard JTG B01-2014
# (class-2 highway 60-80, class-3 30-40, class-4 20-30 km/h) taken at the lower end for mixed traffic.
DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 90.0,
    "trunk": 70.0,
    "primary": 60.0,
    "secondary": 50.0,
    "tertiary": 40.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 15.0,
    "service": 15.0,
    "road": 25.0,
    "track": 15.0,
}


def _check(cond: bool, key: str, message: str, zh: str, source: str) -> None:
    if not cond:
        raise ValidationError(
            f"{source}: key '{key}': {message}. Fix the value in the rules file or remove the key to use the default.",
            zh=f"{source}: 键 '{key}': {zh}。请在规则文件中改正该值, 或删除该键以使用默认值。",
        )


def _parse_hhmm(value: str, key: str, source: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{source}: key '{key}': '{value}' is not a time of day; write it as HH:MM, e.g. \"20:00\".",
            zh=f"{source}: 键 '{key}': '{value}' 不是时刻; 请写成 HH:MM, 例如 \"20:00\"。",
        ) from None


@dataclass(frozen=True)
class DistrictRules:
    """How districts are sized and drawn (R1, R2; optional township and travel-time limits)."""

    mode: str = "both"  # "villages" (R1), "population" (R2) or "both"
    min_villages: int = 5
    max_villages: int = 8
    residents_per_officer: int = 5000
    min_officers: int = 1
    max_officers: int = 2
    within_township: bool = False
    max_travel_min: float = 45.0
    max_travel_hard: bool = False
    # C5: "roads" joins villages whose fastest route passes no third village (docs/DOMAIN.md, "Road
    # contiguity"), so a district's routes stay inside it; "borders" joins villages that share a border
    contiguity: str = "roads"
    # Objective weights: residents' travel time to the office is the core (weight 1 per resident-minute);
    # balance penalises the spread of residents per district, compactness the districts' travel-time radius.
    # balance_tolerance: districts within this share of the mean either side pay no balance (0: every resident
    # off the mean counts, as before 0.2.0); beyond it each resident costs balance_weight typical trips. 0.2:
    # as even in residents as R1's 5-8 villages are in villages (about ±23% around 6.5), and on both real
    # regions it halves the resident-minutes' gap to the bound (BENCHMARKS.md, 2026-12-02, third session)
    balance_weight: float = 1.0
    balance_tolerance: float = 0.2
    compactness_weight: float = 0.1
    # C5 after the search (planner.districts.route_polish): border villages move while the worst district's
    # office routes outside it fall, the objective at most this share above the search's plan; 0 turns it off
    route_allowance: float = 0.05
    # The certificate (docs/DOMAIN.md, "How good the districts are"): every plan gets a lower bound on the
    # objective; exact = true runs the mixed-integer model with contiguity cuts, for up to exact_time_limit
    # seconds (counties up to about 300 villages), proving the optimum or giving a tighter bound
    exact: bool = False
    exact_time_limit: float = 300.0
    source: str = field(default="<defaults>", compare=False, repr=False)

    def __post_init__(self) -> None:
        s = self.source
        _check(
            self.mode in ("villages", "population", "both"),
            "districts.mode",
            f"'{self.mode}' is not one of villages, population, both",
            f"'{self.mode}' 不是 villages、population、both 之一",
            s,
        )
        _check(
            self.contiguity in ("roads", "borders"),
            "districts.contiguity",
            f"'{self.contiguity}' is not one of roads, borders",
            f"'{self.contiguity}' 不是 roads、borders 之一",
            s,
        )
        _check(self.min_villages >= 1, "districts.min_villages", "must be at least 1", "至少为 1", s)
        _check(
            self.max_villages >= self.min_villages,
            "districts.max_villages",
            f"{self.max_villages} is below min_villages {self.min_villages}",
            f"{self.max_villages} 小于 min_villages {self.min_villages}",
            s,
        )
        _check(
            self.residents_per_officer > 0,
            "districts.residents_per_officer",
            "must be positive",
            "必须为正数",
            s,
        )
        _check(self.min_officers >= 1, "districts.min_officers", "must be at least 1", "至少为 1", s)
        _check(
            self.max_officers >= self.min_officers,
            "districts.max_officers",
            f"{self.max_officers} is below min_officers {self.min_officers}",
            f"{self.max_officers} 小于 min_officers {self.min_officers}",
            s,
        )
        _check(
            0 < self.max_travel_min <= 24 * 60,
            "districts.max_travel_min",
            "must be between 0 and 1440 minutes",
            "必须在 0 到 1440 分钟之间",
            s,
        )
        _check(
            0 < self.exact_time_limit <= 24 * 3600,
            "districts.exact_time_limit",
            "must be between 0 and 86400 seconds",
            "必须在 0 到 86400 秒之间",
            s,
        )
        _check(self.balance_weight >= 0, "districts.balance_weight", "must not be negative", "不能为负数", s)
        _check(
            0 <= self.balance_tolerance < 1,
            "districts.balance_tolerance",
            "must be a share of the mean district from 0 up to (not including) 1, e.g. 0.2 for 20%",
            "须为平均警务区人口的比例, 从 0 到 1 (不含 1), 例如 0.2 表示 20%",
            s,
        )
        _check(
            0 <= self.route_allowance <= 1,
            "districts.route_allowance",
            "must be a share of the objective from 0 (off) to 1, e.g. 0.05 for 5%",
            "须为目标值的比例, 从 0 (关闭) 到 1, 例如 0.05 表示 5%",
            s,
        )
        _check(
            self.compactness_weight >= 0,
            "districts.compactness_weight",
            "must not be negative",
            "不能为负数",
            s,
        )

    @property
    def uses_villages(self) -> bool:
        """R1 binds."""
        return self.mode in ("villages", "both")

    @property
    def uses_population(self) -> bool:
        """R2 binds."""
        return self.mode in ("population", "both")

    def officers_for(self, population: float) -> int:
        """Officers of a district of ``population`` residents: one per ``residents_per_officer`` (R2), within
        ``min_officers`` and ``max_officers``; ``min_officers`` when R2 does not bind."""
        if not self.uses_population:
            return self.min_officers
        need = math.ceil(population / self.residents_per_officer)
        return int(min(max(need, self.min_officers), self.max_officers))


@dataclass(frozen=True)
class OfficeRules:
    """Where offices go and what they optimise (R11)."""

    objective: str = (
        "pmedian"  # "pmedian" (residents' travel time), "coverage" (residents within T), "pcenter"
    )
    coverage_min: float = 30.0  # T for the coverage objective
    coverage_thresholds_min: tuple[float, ...] = (15.0, 30.0, 60.0)
    source: str = field(default="<defaults>", compare=False, repr=False)

    def __post_init__(self) -> None:
        s = self.source
        _check(
            self.objective in ("pmedian", "coverage", "pcenter"),
            "offices.objective",
            f"'{self.objective}' is not one of pmedian, coverage, pcenter",
            f"'{self.objective}' 不是 pmedian、coverage、pcenter 之一",
            s,
        )
        _check(self.coverage_min > 0, "offices.coverage_min", "must be positive", "必须为正数", s)
        _check(
            len(self.coverage_thresholds_min) > 0 and all(t > 0 for t in self.coverage_thresholds_min),
            "offices.coverage_thresholds_min",
            "must be a non-empty list of positive minutes",
            "必须是非空的正分钟数列表",
            s,
        )


@dataclass(frozen=True)
class CalendarRules:
    """The month's calendar (C1/C2): the official holidays and adjusted working days, and the short weeks."""

    country: str = "CN"  # the `holidays` package's country code; "" for no official calendar
    extra_holidays: tuple[dt.date, ...] = ()  # the bureau's own days without work
    extra_workdays: tuple[dt.date, ...] = ()  # the bureau's own working days (a weekend or holiday worked)
    weekend_workdays: bool = True  # the weekend days the State Council declares working days (调休) count
    min_week_days: int = 3  # C2: a week with fewer working days inside the month joins its neighbour
    source: str = field(default="<defaults>", compare=False, repr=False)

    def __post_init__(self) -> None:
        s = self.source
        if self.country:
            import holidays

            _check(
                self.country in holidays.list_supported_countries(),
                "calendar.country",
                f'\'{self.country}\' is not a country code the holidays package knows; use "CN" or "" for none',
                f'\'{self.country}\' 不是 holidays 软件包认识的国家代码; 请用 "CN", 或 "" 表示不用官方日历',
                s,
            )
        both = sorted(set(self.extra_holidays) & set(self.extra_workdays))
        _check(
            not both,
            "calendar.extra_workdays",
            f"{[d.isoformat() for d in both]} are also in calendar.extra_holidays; keep each date in one list",
            f"{[d.isoformat() for d in both]} 同时在 calendar.extra_holidays 中; 每个日期只能在一个列表中",
            s,
        )
        _check(
            1 <= self.min_week_days <= 7,
            "calendar.min_week_days",
            "must be 1 to 7",
            "必须在 1 到 7 之间",
            s,
        )


@dataclass(frozen=True)
class PatrolRules:
    """The monthly visit requirements (R4-R8) and working-time limits."""

    visit_days_per_village: int = 2  # R5
    visit_hours: float = 4.0  # R5
    households_per_month: int = 20  # R6
    household_minutes: float = 15.0
    weekly_visit: bool = True  # R8
    weekly_visit_minutes: float = 60.0  # a weekly visit (R8) that is not one of the full visit days
    night_visits_per_village: int = 1  # R7
    night_days: tuple[str, ...] = ("Mon", "Wed", "Fri")
    night_window: tuple[dt.time, dt.time] = (dt.time(20, 0), dt.time(21, 0))
    office_days_per_week: int = 2  # R8
    shift_hours: float = 8.0
    shift_start: dt.time = dt.time(8, 30)
    max_drive_hours: float = 4.0
    resident_days_per_month: int = 8  # R4, a resident officer in his own village
    linked_days_per_month: int = 4  # R4, a linked officer in his linked villages
    holidays: tuple[dt.date, ...] = ()  # added to calendar.extra_holidays (kept from 0.1)
    night_overtime_hours: float = 0.0  # C3: overtime a night-visit day may take (a bureau that pays for it)
    mutual_aid: bool = False  # C4: the nearest office with slack helps an office that misses visits
    calendar: CalendarRules = field(default_factory=CalendarRules)  # the [calendar] section of the rules file
    source: str = field(default="<defaults>", compare=False, repr=False)

    def __post_init__(self) -> None:
        s = self.source
        _check(
            0 <= self.night_overtime_hours <= 3,
            "patrol.night_overtime_hours",
            "must be 0 to 3 (the Labour Law allows at most 3 hours of overtime a day)",
            "必须在 0 到 3 之间 (劳动法规定每日加班不超过 3 小时)",
            s,
        )
        both = sorted(set(self.holidays) & set(self.calendar.extra_workdays))
        _check(
            not both,
            "patrol.holidays",
            f"{[d.isoformat() for d in both]} are also in calendar.extra_workdays; keep each date in one list",
            f"{[d.isoformat() for d in both]} 同时在 calendar.extra_workdays 中; 每个日期只能在一个列表中",
            s,
        )
        _check(
            0 <= self.visit_days_per_village <= 31,
            "patrol.visit_days_per_village",
            "must be 0 to 31",
            "必须在 0 到 31 之间",
            s,
        )
        _check(
            0 < self.visit_hours <= 24,
            "patrol.visit_hours",
            "must be above 0 and at most 24",
            "必须大于 0 且不超过 24",
            s,
        )
        _check(
            self.households_per_month >= 0,
            "patrol.households_per_month",
            "must not be negative",
            "不能为负数",
            s,
        )
        _check(
            self.household_minutes >= 0, "patrol.household_minutes", "must not be negative", "不能为负数", s
        )
        _check(
            0 < self.weekly_visit_minutes <= 24 * 60,
            "patrol.weekly_visit_minutes",
            "must be above 0 and at most 1440",
            "必须大于 0 且不超过 1440",
            s,
        )
        _check(
            0 <= self.night_visits_per_village <= 31,
            "patrol.night_visits_per_village",
            "must be 0 to 31",
            "必须在 0 到 31 之间",
            s,
        )
        bad = [d for d in self.night_days if d not in WEEKDAYS]
        _check(
            not bad,
            "patrol.night_days",
            f"{bad} are not weekdays; use {list(WEEKDAYS)}",
            f"{bad} 不是星期; 请用 {list(WEEKDAYS)}",
            s,
        )
        _check(
            self.night_window[0] < self.night_window[1],
            "patrol.night_window",
            "the start must be before the end",
            "开始时间必须早于结束时间",
            s,
        )
        _check(
            0 <= self.office_days_per_week <= 7,
            "patrol.office_days_per_week",
            "must be 0 to 7",
            "必须在 0 到 7 之间",
            s,
        )
        _check(
            0 < self.shift_hours <= 24,
            "patrol.shift_hours",
            "must be above 0 and at most 24",
            "必须大于 0 且不超过 24",
            s,
        )
        _check(
            0 < self.max_drive_hours <= self.shift_hours,
            "patrol.max_drive_hours",
            f"must be above 0 and at most shift_hours ({self.shift_hours})",
            f"必须大于 0 且不超过 shift_hours ({self.shift_hours})",
            s,
        )
        _check(
            self.visit_hours <= self.shift_hours,
            "patrol.visit_hours",
            f"{self.visit_hours} h does not fit a {self.shift_hours} h shift",
            f"{self.visit_hours} 小时超出 {self.shift_hours} 小时的班次",
            s,
        )
        _check(
            0 <= self.resident_days_per_month <= 31,
            "patrol.resident_days_per_month",
            "must be 0 to 31",
            "必须在 0 到 31 之间",
            s,
        )
        _check(
            0 <= self.linked_days_per_month <= 31,
            "patrol.linked_days_per_month",
            "must be 0 to 31",
            "必须在 0 到 31 之间",
            s,
        )

    @property
    def household_hours(self) -> float:
        """Hours a month that the household visits of one village take (R6)."""
        return self.households_per_month * self.household_minutes / 60.0


@dataclass(frozen=True)
class NetworkRules:
    """How roads become travel times, and how villages reach the roads."""

    speeds_kmh: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SPEEDS_KMH))
    default_speed_kmh: float = 25.0  # a road class not in speeds_kmh
    unpaved_factor: float = 0.6  # speed multiplier on unpaved surfaces
    sinuosity_penalty: float = 0.5  # speed / (1 + penalty * (sinuosity - 1)), sinuosity = length / chord
    walk_kmh: float = 4.0
    max_snap_m: float = 500.0  # farther from a road than this, the last stretch is walked (access = walk)
    max_walk_m: float = 5000.0  # farther than this, the village is unreachable
    # where no road measures a trip (--roads none, or a village beyond walking reach of the roads given), the
    # straight line x circuity at a speed, by terrain (flat, hill, mountain); sources in planner/network/estimate.py
    terrain: str = "mountain"
    circuity: tuple[float, ...] = (1.3, 1.6, 2.0)
    estimate_kmh: tuple[float, ...] = (40.0, 30.0, 25.0)
    estimate_unreachable: bool = True  # a village beyond the roads given gets estimated times, flagged
    source: str = field(default="<defaults>", compare=False, repr=False)

    def __post_init__(self) -> None:
        s = self.source
        for k, v in self.speeds_kmh.items():
            _check(
                isinstance(v, int | float) and 0 < v <= 200,
                f"network.speeds_kmh.{k}",
                f"{v!r} is not a speed between 0 and 200 km/h",
                f"{v!r} 不是 0 到 200 km/h 之间的速度",
                s,
            )
        _check(
            0 < self.default_speed_kmh <= 200,
            "network.default_speed_kmh",
            "must be between 0 and 200",
            "必须在 0 到 200 之间",
            s,
        )
        _check(
            0 < self.unpaved_factor <= 1,
            "network.unpaved_factor",
            "must be above 0 and at most 1",
            "必须大于 0 且不超过 1",
            s,
        )
        _check(
            self.sinuosity_penalty >= 0, "network.sinuosity_penalty", "must not be negative", "不能为负数", s
        )
        _check(
            0 < self.walk_kmh <= 10,
            "network.walk_kmh",
            "must be above 0 and at most 10",
            "必须大于 0 且不超过 10",
            s,
        )
        _check(self.max_snap_m >= 0, "network.max_snap_m", "must not be negative", "不能为负数", s)
        _check(
            self.max_walk_m >= self.max_snap_m,
            "network.max_walk_m",
            f"must be at least max_snap_m ({self.max_snap_m})",
            f"必须不小于 max_snap_m ({self.max_snap_m})",
            s,
        )
        _check(
            self.terrain in TERRAINS,
            "network.terrain",
            f"'{self.terrain}' is not one of {', '.join(TERRAINS)}",
            f"'{self.terrain}' 不是 {'、'.join(TERRAINS)} 之一",
            s,
        )
        _check(
            len(self.circuity) == 3 and all(1 <= c <= 5 for c in self.circuity),
            "network.circuity",
            "must be three factors (flat, hill, mountain) between 1 and 5",
            "必须是 3 个 1 到 5 之间的系数 (平原、丘陵、山区)",
            s,
        )
        _check(
            len(self.estimate_kmh) == 3 and all(0 < v <= 120 for v in self.estimate_kmh),
            "network.estimate_kmh",
            "must be three speeds (flat, hill, mountain) between 0 and 120 km/h",
            "必须是 3 个 0 到 120 km/h 之间的速度 (平原、丘陵、山区)",
            s,
        )


@dataclass(frozen=True)
class StationRules:
    """The police station's force (R9): the community officers' share and a rural station's least force."""

    community_share: float = 0.4  # resident and linked officers over the station's whole force
    min_officers: int = 5  # a rural station's whole force
    rural: bool = True  # stations are rural unless the station file says otherwise (column rural / urban)
    source: str = field(default="<defaults>", compare=False, repr=False)

    def __post_init__(self) -> None:
        s = self.source
        _check(
            0 <= self.community_share < 1,
            "stations.community_share",
            "must be at least 0 and below 1 (a share of the force)",
            "必须不小于 0 且小于 1 (占全所警力的比例)",
            s,
        )
        _check(self.min_officers >= 0, "stations.min_officers", "must be 0 or more", "必须不小于 0", s)


HOME_MODES = ("prefer", "forbid", "ignore")


@dataclass(frozen=True)
class MatchRules:
    """Officers matched to villages by need (R10), as weighted preferences of the village-to-officer linking.

    A weight is worth that many villages' work: with weight 1 the matched officer takes the village while
    his load stays within one village's work of the least loaded officer of his office.
    """

    traffic_weight: float = 1.0  # a "traffic" officer for villages on a main road
    traffic_skill: str = "traffic"
    main_road_classes: tuple[str, ...] = ("motorway", "trunk", "primary")
    main_road_m: float = 300.0  # a village whose point lies this close to a main road is on it
    investigation_weight: float = 1.0  # an "investigation" officer for the villages with the most incidents
    investigation_skill: str = "investigation"
    incident_share: float = 0.2  # the share of the villages (with incidents) that count as "most incidents"
    incidents_col: str = "incidents"  # the village layer's column of incidents a year
    home: str = "prefer"  # an officer for his home village: "prefer", "forbid" (回避) or "ignore"
    home_weight: float = 1.0
    source: str = field(default="<defaults>", compare=False, repr=False)

    def __post_init__(self) -> None:
        s = self.source
        for key in ("traffic_weight", "investigation_weight", "home_weight"):
            _check(
                0 <= getattr(self, key) <= 100,
                f"matching.{key}",
                "must be 0 to 100 (villages' work)",
                "必须在 0 到 100 之间 (以村的工作量计)",
                s,
            )
        _check(self.main_road_m >= 0, "matching.main_road_m", "must be 0 or more", "必须不小于 0", s)
        _check(
            0 < self.incident_share <= 1,
            "matching.incident_share",
            "must be above 0 and at most 1",
            "必须大于 0 且不超过 1",
            s,
        )
        _check(
            self.home in HOME_MODES,
            "matching.home",
            f"'{self.home}' is not one of {', '.join(HOME_MODES)}",
            f"'{self.home}' 不是 {'、'.join(HOME_MODES)} 之一",
            s,
        )


@dataclass(frozen=True)
class NameRules:
    """How village names are shown in the report, the map and the sheets (the layers keep the official name).

    ``short``: drop the committee's redundant words, 大寨村民委员会 -> 大寨村, 茅阳社区居民委员会 -> 茅阳社区.
    """

    short: bool = False
    source: str = field(default="<defaults>", compare=False, repr=False)

    def shown(self, name: str) -> str:
        """``name`` as the bureau wants it shown: shortened when ``short``, else as it is."""
        if not self.short:
            return name
        text = str(name).strip()
        for suffix, kept in _SHORT_NAMES:
            if text.endswith(suffix) and len(text) > len(suffix):
                return text[: -len(suffix)] + kept
        return text


@dataclass(frozen=True)
class Rules:
    """Every rule the planner enforces, validated."""

    districts: DistrictRules = field(default_factory=DistrictRules)
    offices: OfficeRules = field(default_factory=OfficeRules)
    patrol: PatrolRules = field(default_factory=PatrolRules)
    network: NetworkRules = field(default_factory=NetworkRules)
    stations: StationRules = field(default_factory=StationRules)
    matching: MatchRules = field(default_factory=MatchRules)
    names: NameRules = field(default_factory=NameRules)
    source: str = field(default="<defaults>", compare=False)

    @property
    def calendar(self) -> CalendarRules:
        """The ``[calendar]`` section (held by the patrol rules, which plan the month with it)."""
        return self.patrol.calendar

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<rules>") -> Rules:
        """Build and validate rules from a parsed TOML mapping; unknown keys name themselves."""
        sections: dict[str, type] = {
            "districts": DistrictRules,
            "offices": OfficeRules,
            "calendar": CalendarRules,
            "patrol": PatrolRules,
            "network": NetworkRules,
            "stations": StationRules,
            "matching": MatchRules,
            "names": NameRules,
        }
        unknown = sorted(set(data) - set(sections))
        if unknown:
            raise ValidationError(
                f"{source}: unknown section(s) {unknown}; the rules file knows {sorted(sections)}. "
                "Check the spelling or remove them.",
                zh=f"{source}: 未知的节 {unknown}; 规则文件只认 {sorted(sections)}。请检查拼写或删除。",
            )
        parts: dict[str, Any] = {}
        for name, klass in sections.items():
            raw = data.get(name, {})
            if not isinstance(raw, dict):
                raise ValidationError(
                    f"{source}: '{name}' must be a section [{name}], not a value.",
                    zh=f"{source}: '{name}' 必须是一个节 [{name}], 而不是一个值。",
                )
            extra = {"calendar": parts.pop("calendar")} if name == "patrol" else {}
            parts[name] = _build_section(klass, name, raw, source, **extra)
        return cls(**parts, source=source)

    @classmethod
    def of_summary(cls, summary: dict[str, Any]) -> Rules:
        """The rules a plan was made with (its summary.json's ``rules``); the defaults when it has none."""
        data = summary.get("rules")
        if not isinstance(data, dict):
            return cls()
        return cls.from_dict(data, source="summary.json rules")

    def to_dict(self) -> dict[str, Any]:
        """The rules as plain TOML-like data (times and dates as ISO strings), for summary.json."""

        def plain(v: Any) -> Any:
            if isinstance(v, dt.time):
                return v.strftime("%H:%M")
            if isinstance(v, dt.date):
                return v.isoformat()
            if isinstance(v, tuple | list):
                return [plain(x) for x in v]
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            return v

        out: dict[str, Any] = {}
        for name in (
            "districts",
            "offices",
            "calendar",
            "patrol",
            "network",
            "stations",
            "matching",
            "names",
        ):
            section = getattr(self, name)
            out[name] = {
                f.name: plain(getattr(section, f.name))
                for f in dataclasses.fields(section)
                if f.name not in ("source", "calendar")
            }
        return out


_TYPES: dict[str, type | tuple[type, ...]] = {"int": int, "float": (int, float), "bool": bool, "str": str}


def _build_section(klass: type, name: str, raw: dict[str, Any], source: str, **extra: Any) -> Any:
    """One section from its TOML table; ``extra`` are fields that come from another section."""
    fields = {f.name: f for f in dataclasses.fields(klass) if f.name not in ("source", *extra)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ValidationError(
            f"{source}: unknown key(s) {[f'{name}.{k}' for k in unknown]}; [{name}] knows {sorted(fields)}. "
            "Check the spelling or remove them.",
            zh=f"{source}: 未知的键 {[f'{name}.{k}' for k in unknown]}; [{name}] 只认 {sorted(fields)}。请检查拼写或删除。",
        )
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        full = f"{name}.{key}"
        ftype = str(fields[key].type)
        kwargs[key] = _coerce(value, ftype, full, source)
    try:
        return klass(**kwargs, **extra, source=source)
    except TypeError as exc:  # a value of the wrong shape that slipped past _coerce
        raise ValidationError(
            f"{source}: [{name}]: {exc}",
            zh=f"{source}: [{name}] 中有值的类型不对; 请对照 INTERFACE.md 改正。",
        ) from None


def _wrong_type(value: Any, expected: str, key: str, source: str) -> ValidationError:
    return ValidationError(
        f"{source}: key '{key}': {value!r} is not {expected}. Fix the value or remove the key to use the default.",
        zh=f"{source}: 键 '{key}': {value!r} 不是{expected}。请改正该值, 或删除该键以使用默认值。",
    )


def _coerce(value: Any, ftype: str, key: str, source: str) -> Any:
    if ftype == "bool":
        if not isinstance(value, bool):
            raise _wrong_type(value, "true or false", key, source)
        return value
    if ftype == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(value, "a whole number", key, source)
        return value
    if ftype == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong_type(value, "a number", key, source)
        return float(value)
    if ftype == "str":
        if not isinstance(value, str):
            raise _wrong_type(value, "a text", key, source)
        return value
    if ftype.startswith("tuple[float"):
        if not isinstance(value, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        ):
            raise _wrong_type(value, "a list of numbers", key, source)
        return tuple(float(v) for v in value)
    if ftype.startswith("tuple[str"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _wrong_type(value, "a list of texts", key, source)
        return tuple(value)
    if ftype.startswith("tuple[dt.time"):
        if not isinstance(value, list) or len(value) != 2:
            raise _wrong_type(value, 'a list of two times such as ["20:00", "21:00"]', key, source)
        return tuple(_parse_hhmm(v, key, source) for v in value)
    if ftype == "dt.time":
        return _parse_hhmm(value, key, source)
    if ftype.startswith("tuple[dt.date"):
        if not isinstance(value, list):
            raise _wrong_type(value, 'a list of dates such as ["2026-10-01"]', key, source)
        dates = []
        for v in value:
            if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
                dates.append(v)
                continue
            try:
                dates.append(dt.date.fromisoformat(str(v)))
            except ValueError:
                raise _wrong_type(v, "an ISO date such as 2026-10-01", key, source) from None
        return tuple(dates)
    if ftype.startswith("dict[str, float]"):
        if not isinstance(value, dict):
            raise _wrong_type(value, "a table of road class = km/h", key, source)
        merged = dict(DEFAULT_SPEEDS_KMH)
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise _wrong_type(v, "a speed in km/h", f"{key}.{k}", source)
            merged[k] = float(v)
        return merged
    raise AssertionError(f"no coercion for field type {ftype}")  # a programming error, not an input error


def load_rules(path: str | Path | None = None) -> Rules:
    """Read and validate a TOML rules file; ``None`` gives the defaults of DOMAIN.md.

    Raises
    ------
    ValidationError
        The file is missing, is not TOML, or has an unknown key or an out-of-range value (named in the message).
    """
    if path is None:
        return Rules()
    p = Path(path)
    if not p.is_file():
        raise ValidationError(
            f"{p}: rules file not found. Give the path of a TOML file (see INTERFACE.md for the keys).",
            zh=f"{p}: 找不到规则文件。请给出 TOML 文件的路径 (键见 INTERFACE.md)。",
        )
    try:
        # utf-8-sig: Windows Notepad saves UTF-8 with a byte-order mark, which TOML itself does not allow
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ValidationError(
            f"{p}: the rules file is not UTF-8 text; save it as UTF-8.",
            zh=f"{p}: 规则文件不是 UTF-8 文本; 请另存为 UTF-8。",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+), column (\d+)", str(exc))
        at_zh = f"第 {where[1]} 行第 {where[2]} 列" if where else "文件末尾"
        raise ValidationError(
            f"{p}: not valid TOML ({exc}); fix the line it names.",
            zh=f"{p}: 不是有效的 TOML ({at_zh}处有语法错误); 请改正该行。",
        ) from None
    return Rules.from_dict(data, source=str(p))

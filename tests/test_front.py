"""The report's first page and its grouped causes (planner.outputs.front), on summary dicts: no plan is made."""

from __future__ import annotations

from planner.outputs.front import dropped_groups


def _dropped(officer: str, office: int, field: int, village: str, hours: float) -> dict[str, str]:
    return {
        "officer_id": officer,
        "village_id": village,
        "reason": f"{officer} has {field} field days after {office} office days for 8 villages; the round trip "
        f"to {village} takes {hours:.1f} h, so at most 1 visit(s) of 4 h fit in each 8 h shift: 1 of 2 visit "
        "days missed",
        "reason_zh": f"{officer} 除 {office} 个坐班日外仅有 {field} 个外勤日, 负责 8 个村; 往返 {village} 需 "
        f"{hours:.1f} 小时, 每个 8 小时班次最多容纳 1 次 4 小时走访: 2 个走访日中缺 1 个",
    }


def test_dropped_groups_show_each_officers_own_figures() -> None:
    """Regression: the reasons of four officers were one group with the first officer's office and field days
    for all (O04-1 had 7 and 9, not 6 and 10) and the village as "…". A group is one officer's now, with his
    figures; the villages read "each village", a figure they differ in its range; a lone visit keeps its words."""
    summary = {
        "dropped_visits": [
            _dropped("O03-1", 6, 10, "osm-n1", 0.2),
            _dropped("O03-1", 6, 10, "osm-n2", 0.3),
            _dropped("O03-1", 6, 10, "osm-n3", 0.1),
            _dropped("O04-1", 7, 9, "osm-n4", 0.4),
            _dropped("O04-1", 7, 9, "osm-n5", 0.4),
            _dropped("O05-1", 8, 8, "osm-n6", 0.1),
        ]
    }
    zh = dropped_groups(summary, "zh")
    assert [(g.officers, g.subjects) for g in zh] == [
        (["O03-1"], ["osm-n1", "osm-n2", "osm-n3"]),
        (["O04-1"], ["osm-n4", "osm-n5"]),
        (["O05-1"], ["osm-n6"]),
    ]
    o3, o4, o5 = zh
    assert o3.cause.startswith("该民警除 6 个坐班日外仅有 10 个外勤日")
    assert "往返各村需 0.1–0.3 小时" in o3.cause and "…" not in o3.cause
    assert o4.cause.startswith("该民警除 7 个坐班日外仅有 9 个外勤日") and "往返各村需 0.4 小时" in o4.cause
    assert o5.first == summary["dropped_visits"][-1]["reason_zh"]
    en = dropped_groups(summary, "en")
    assert en[1].cause.startswith("the officer has 9 field days after 7 office days")
    assert "the round trip to each village takes 0.4 h" in en[1].cause

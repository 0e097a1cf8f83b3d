"""One term for one figure across the terminal, the report, the workbook and the route sheets (texts.py)."""

from __future__ import annotations

from pathlib import Path

from planner.texts import t


def test_visit_requirements_met_has_one_term_everywhere() -> None:
    """Regression: the terminal said "巡访要求满足 95.8%" and the report "走访要求完成率" for the same
    visit_requirements_met_pct; `planner many` said "巡访要求完成率". All read texts.py's term now."""
    from planner.cli.commands import written_line

    s = {"villages": 66, "districts": 10, "officers": 15, "coverage_pct": {"30": 99.9}}
    s["visit_requirements_met_pct"] = 95.8
    for lang in ("zh", "en"):
        term = t("term.visits_met", lang)
        assert term in written_line(Path("out"), s, lang)
        assert t("report.fig.visits_met", lang).lower() == term.lower()
        assert t("many.col.met", lang).lower() == term.lower()
    assert "走访要求完成率 95.8%" in written_line(Path("out"), s, "zh")
    assert "95.8% of visit requirements met" in written_line(Path("out"), s, "en")
    assert "走访要求完成率" in t("report.conclusion.visits", "zh", pct="95.8")


def test_office_days_are_called_the_same_in_report_workbook_and_route_sheet() -> None:
    """Regression: the report's column said 坐班次数, the workbook 坐班天数 and the route sheet 坐班N天."""
    from planner.io.schedule_xlsx import SUMMARY_HEADERS

    term = "坐班天数"
    assert t("report.col.office_days", "zh") == term
    assert term in SUMMARY_HEADERS["zh"]
    assert term in t("sheets.summary", "zh", field=10, office=6, night=4, km=100, drive=5)

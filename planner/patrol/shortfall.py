"""The shortfall of an office: the requirements missed for want of officer-days, and how many officers more.

A missed requirement counts when more days would have met it: a full visit day that fits a shift, a weekly
visit in a week with field days left after R8's office days, and R4's days. Night visits (R7) and household time
(R6) are not counted: they follow from the visit days.
"""

from __future__ import annotations

import math
from typing import Any

from planner.patrol.daymodel import SlackKey
from planner.patrol.explain import OfficerOutcome
from planner.patrol.rulebook.calendar import days_in_week, office_days_required


def shortfall_row(
    office: str,
    needed: int,
    available: int,
    more: int,
    why: str,
    why_zh: str,
    *,
    shift_hours: float = 8.0,
) -> dict[str, Any]:
    """One office's shortfall: the officer-days (and officer-hours, at ``shift_hours`` a day) it needs and has,
    the officers more, and the arithmetic in words a station chief reads, en and zh."""
    h = float(shift_hours)
    need_h, has_h = needed * h, available * h
    return {
        "office_id": office,
        "needed_days": needed,
        "available_days": available,
        "needed_hours": round(need_h, 1),
        "available_hours": round(has_h, 1),
        "short_hours": round(max(need_h - has_h, 0.0), 1),
        "more_officers": more,
        "shift_hours": h,
        "why": why,
        "why_zh": why_zh,
        "detail": f"office {office} needs {needed} officer-days for its visits ({need_h:g} officer-hours at "
        f"{h:g} h a day) and has {available} ({has_h:g} officer-hours): {max(need_h - has_h, 0):g} officer-hours "
        f"short, {more} more officer(s) ({why})",
        "detail_zh": f"警务室 {office} 完成走访需要 {needed} 个警员工作日 (按每天 {h:g} 小时计 {need_h:g} 警员小时), "
        f"现有 {available} 个 ({has_h:g} 警员小时): 缺 {max(need_h - has_h, 0):g} 警员小时, 还需 {more} 名警员 ({why_zh})",
    }


def merge_shortfall(office: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The officers' shortfall rows of one office as one row (their days and officers added, reasons joined)."""
    if len(rows) <= 1:
        return rows
    needed = sum(r["needed_days"] for r in rows)
    has = sum(r["available_days"] for r in rows)
    more = sum(r["more_officers"] for r in rows)
    why = "; ".join(r["why"] for r in rows)
    why_zh = "; ".join(r["why_zh"] for r in rows)
    return [shortfall_row(office, needed, has, more, why, why_zh, shift_hours=rows[0]["shift_hours"])]


def _fixable(out: OfficerOutcome, key: SlackKey, full_ok: set[str], any_ok: set[str]) -> bool:
    """Whether more officer-days would have met the requirement ``key``."""
    v, kind = key
    if kind == "full":
        return v in full_ok
    if kind.startswith("weekly:"):
        w = kind[7:]
        wd = days_in_week(out.ctx.month, out.officer.days, w, rules=out.ctx.rules)
        return v in any_ok and len(wd) > office_days_required(len(wd), rules=out.ctx.rules)
    return kind in ("resident", "linked")


def officer_shortfall(out: OfficerOutcome, office: str) -> dict[str, Any] | None:
    """The shortfall row of one officer, or None when more days would not have met more."""
    om, o = out.model, out.officer
    missed = {k: out.missed(k) for k in om.slacks if out.missed(k)}
    full_ok = {om.villages[j] for q in om.patterns for j in q.full}
    any_ok = {om.villages[j] for q in om.patterns for j in q.villages}
    cap_missed = {k: m for k, m in missed.items() if _fixable(out, k, full_ok, any_ok)}
    if not cap_missed:
        return None
    field_days = out.field_days
    best_full = out.best_full
    best_any = max((len(q.villages) for q in om.patterns), default=0)
    full_missed = sum(m for k, m in cap_missed.items() if k[1] in ("full", "resident", "linked"))
    week_missed = sum(m for k, m in cap_missed.items() if k[1].startswith("weekly"))
    extra = (math.ceil(full_missed / best_full) if best_full else 0) + (
        math.ceil(week_missed / best_any) if best_any else 0
    )
    if extra == 0:
        return None
    n_days = len(o.days)
    office_days = n_days - field_days
    more = math.ceil(extra / max(n_days - office_days, 1))
    visit_h = round(out.ctx.full / 60, 1)  # one visit day's visit (R5's hours with R6's households folded in)
    return shortfall_row(
        office,
        n_days + extra,
        n_days,
        more,
        f"{o.officer_id}: {field_days} field days after {office_days} office days; at most {best_full} "
        f"visit(s) of {visit_h:g} h fit in one shift",
        f"{o.officer_id}: 除 {office_days} 个坐班日外有 {field_days} 个外勤日; 每个班次最多容纳 {best_full} 次 {visit_h:g} 小时走访",
        shift_hours=out.ctx.rules.shift_hours,
    )

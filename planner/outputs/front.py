"""The report's first page and its grouped rule breaks: what a chief reads in one minute.

The title names the region and the month; a written conclusion says what works, what does not and what it
would take; the rules in force are one short table; the rule breaks and the dropped visits are grouped by cause
(one line per cause, with its count and the villages named, ids in small type), hard breaks apart from soft goals.
Every figure is read from summary.json (one definition).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from planner.check import id_pieces, named, rule_labels, rules_of
from planner.model import PlanData
from planner.outputs.datanotes import estimate_factors
from planner.outputs.html import escape, month_text, number
from planner.outputs.lookups import village_names
from planner.rules import Rules
from planner.texts import t

__all__ = [
    "Group",
    "break_groups",
    "breaks_lines",
    "conclusion",
    "count_head",
    "dropped_groups",
    "group_breaks",
    "rule_tag",
    "rules_table",
    "stations_short",
    "title_block",
]

#: How many subjects a terminal line names before it says how many more there are (``-v`` names them all).
TERMINAL_NAMES = 8

#: The prefixes a violation's detail names its subject with; a group's cause is the detail without them.
_SUBJECT_WORDS = ("村", "警务区", "警务室", "民警", "village", "district", "office", "officer")


def name_html(subject: str, names: dict[str, str]) -> str:
    """A village's name with its id in small type (escaped); the subject as is when it is no village."""
    s = str(subject)
    if s in names and names[s] != s:
        return f"<span class='v'>{escape(names[s])} <span class='id'>{escape(s)}</span></span>"
    return escape(s)


def cause_html(text: str, names: dict[str, str]) -> str:
    """A cause's words (escaped) with every village id in them named as the subjects are (:func:`name_html`),
    e.g. "to osm-n64954396 (13 min)" reads "to Encamp osm-n64954396 (13 min)"."""
    return "".join(escape(p) if vid is None else name_html(vid, names) for p, vid in id_pieces(text, names))


def region_name(summary: dict[str, Any], lang: str) -> str:
    """The region the plan covers: the county of ``--county`` (summary.json's ``nbs``), else the townships of
    summary.json's ``region`` ('' when it has none)."""
    county = (summary.get("nbs") or {}).get("county") or {}
    if county.get("name"):
        return str(county["name"])
    region = summary.get("region") or {}
    towns = [str(x) for x in region.get("townships") or []] if isinstance(region, dict) else []
    if not towns:
        return ""
    if len(towns) == 1:
        return towns[0]
    sep = "、" if lang == "zh" else ", "
    return t("report.region.many", lang, first=sep.join(towns[:2]), n=len(towns))


def title_block(summary: dict[str, Any], lang: str, *, generated: str) -> str:
    """The report's heading: title, region, month and the date it was made."""
    region = region_name(summary, lang)
    title = t("report.title", lang)
    meta = t(
        "report.meta",
        lang,
        region=region or t("unknown", lang),
        month=month_text(str(summary.get("month", "—")), lang),
        date=generated,
        villages=number(summary.get("villages")),
    )
    return f"<h1>{escape(title)}</h1><p class='meta'>{escape(meta)}</p>"


# -- rules in force --------------------------------------------------------------------------------------------
_RULE_ID = re.compile(r"([RC]\d+)(?: |$)")


def rule_tag(rule: str, lang: str) -> str:
    """A violation's rule as the terminal names it: the bureau's id the report's rule line starts with ("R11"
    for the travel limit, "C5" for contiguity), else the rule's name; never an internal code such as "travel"."""
    if _RULE_ID.fullmatch(rule):
        return rule
    from planner.texts import has

    key = f"rule.{rule}"
    if not has(key):
        return rule
    text = t(key, lang, n="")
    m = _RULE_ID.match(text)
    return m.group(1) if m else text


def _rule_text(rule: str, labels: dict[str, str], rules: Rules, lang: str) -> str:
    """A rule's name as the bureau knows it: its id and its words with the values in force."""
    if rule in labels:
        return f"{rule} {labels[rule]}"
    key = f"rule.{rule}"
    from planner.texts import has

    if has(key):
        return t(key, lang, n=number(rules.districts.max_travel_min))
    return t("rule.other", lang) + f" ({rule})"


def rules_table(summary: dict[str, Any], lang: str) -> str:
    """The rules in force as one short table: R1/R2 and their mode, R5, R7, R8 and the travel limit."""
    rules = rules_of(summary)
    labels = rule_labels(rules, lang)
    d = rules.districts
    mode = t(f"report.rules.mode.{d.mode}", lang)
    travel = t(
        "report.rules.travel_hard" if d.max_travel_hard else "report.rules.travel_soft",
        lang,
        n=number(d.max_travel_min),
    )
    rows = [
        ("R1/R2", f"{mode}"),
        ("R1", labels["R1"]),
        ("R2", labels["R2"]),
        ("R5", labels["R5"]),
        ("R7", labels["R7"]),
        ("R8", labels["R8"]),
        ("R11", travel),
    ]
    if summary.get("calendar"):
        from planner.patrol.rulebook.calendar import describe, describe_weeks

        rows.append(("C1", describe(summary["calendar"], str(summary.get("month", "")), lang, brief=True)))
        if weeks := describe_weeks(summary["calendar"], lang):
            rows.append(("C2", weeks))
    body = "".join(f"<tr><th>{escape(r)}</th><td>{escape(text)}</td></tr>" for r, text in rows)
    return f"<table class='rules'><tbody>{body}</tbody></table>"


# -- grouped breaks --------------------------------------------------------------------------------------------
class Group:
    """Rule breaks (or dropped visits) of one cause: the rule, hard or soft, the cause's words, the subjects."""

    def __init__(self, rule: str, hard: bool, cause: str) -> None:
        self.rule, self.hard, self.cause = rule, hard, cause
        self.subjects: list[str] = []
        self.officers: list[str] = []
        self.first = cause  # the first member's own words (a group of one is told in them)


def _cause(detail: str, subject: str) -> str:
    """A detail with its subject taken out: the words every break of one cause shares."""
    text = str(detail)
    if subject:
        # "村 V1 (大寨村) 位于主干道沿线": the subject's name in brackets goes with it, so that villages of one
        # cause share its words
        words = "|".join(re.escape(w) for w in _SUBJECT_WORDS)
        text = re.sub(rf"(?:{words}) {re.escape(subject)} [(（][^()（）]*[)）] ?", "", text)
        for word in _SUBJECT_WORDS:
            text = text.replace(f"{word} {subject} ", "").replace(f"{word} {subject}", "")
        text = text.replace(subject, "…")
    return text.strip(" :：,;")


def _detail(item: dict[str, Any], key: str, lang: str) -> str:
    zh = item.get(f"{key}_zh")
    return str(zh) if lang == "zh" and zh else str(item.get(key, ""))


def break_groups(summary: dict[str, Any], lang: str) -> list[Group]:
    """summary.json's violations grouped by (rule, hard, cause), the largest group first."""
    return group_breaks(summary.get("violations") or [], lang)


def group_breaks(violations: Sequence[dict[str, Any]], lang: str) -> list[Group]:
    """Violations (as summary.json holds them) grouped by (rule, hard, cause), hard first, the largest group
    first: the one grouping the report, the conclusion and the terminal show."""
    groups: dict[tuple[str, bool, str], Group] = {}
    for v in violations:
        rule, hard, subject = str(v.get("rule", "")), bool(v.get("hard", True)), str(v.get("subject", ""))
        cause = _cause(_detail(v, "detail", lang), subject)
        g = groups.setdefault((rule, hard, cause), Group(rule, hard, cause))
        g.subjects.append(subject)
    return sorted(groups.values(), key=lambda g: (not g.hard, -len(g.subjects), g.rule))


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _each_village(reason: str, village: str, lang: str) -> str:
    """A dropped visit's reason with its village read as "each village" (for a group of several villages)."""
    if not village:
        return reason
    each = t("report.dropped.each_village", lang)
    word = "村 " if lang == "zh" else "village "
    text = reason.replace(f"{word}{village}", each).replace(village, each)
    return re.sub(rf" ?{re.escape(each)} ?", each, text) if lang == "zh" else text


def _merged(reasons: Sequence[str]) -> str:
    """Reasons that differ only in their figures, as one: a figure all share as is, one that differs as its
    range ("0.1–0.3"), so that no figure is shown that is not theirs."""
    parts = [_NUMBER.split(r) for r in reasons]
    values = [_NUMBER.findall(r) for r in reasons]
    out = [parts[0][0]]
    for k in range(len(values[0])):
        seen = sorted({v[k] for v in values}, key=float)
        out.append(seen[0] if len(seen) == 1 else f"{seen[0]}–{seen[-1]}")
        out.append(parts[0][k + 1])
    return "".join(out)


def dropped_groups(summary: dict[str, Any], lang: str) -> list[Group]:
    """summary.json's dropped visits grouped by officer and reason (the reason with its village and figures
    taken out), the largest group first.

    A group is one officer's: the officer's own figures are shown (the office and field days of one officer are
    not another's), the village as "each village" and a figure its villages differ in as its range; a group of
    one visit keeps its own words.
    """
    members: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for d in summary.get("dropped_visits") or []:
        village, officer = str(d.get("village_id", "")), str(d.get("officer_id", ""))
        reason = _detail(d, "reason", lang)
        key = _NUMBER.sub("#", reason.replace(village, "…") if village else reason)
        members.setdefault((officer, key), []).append((village, reason))
    groups = []
    for (officer, _), items in members.items():
        first = items[0][1]
        each = [_each_village(r, v, lang) for v, r in items]
        cause = _merged(each)
        if officer:  # "O03-1 除 6 个坐班日外" reads "该民警除 6 个坐班日外"
            who = t("report.officer_each", lang)
            cause = cause.replace(f"{officer} ", who if lang == "zh" else f"{who} ").replace(officer, who)
        g = Group("", True, cause)
        g.first = first
        g.subjects = [v for v, _ in items]
        g.officers = [officer]
        groups.append(g)
    return sorted(groups, key=lambda g: (-len(g.subjects), g.officers))


def _subjects_html(subjects: Sequence[str], names: dict[str, str], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(name_html(s, names) for s in subjects)


def _count_text(subjects: Sequence[str], names: dict[str, str], lang: str, districts: set[str]) -> str:
    """'66 villages', '1 district' or '3 cases': what the subjects of a group are, counted."""
    one = "_one" if len(subjects) == 1 else ""
    if all(s in names for s in subjects):
        return t(f"report.breaks.n_villages{one}", lang, n=len(subjects))
    if all(s in districts for s in subjects):
        return t(f"report.breaks.n_districts{one}", lang, n=len(subjects))
    return t("report.breaks.n_items", lang, n=len(subjects))


def _causes(groups: Sequence[Group], lang: str) -> str:
    """'2 rules: R1, R5': the rules a count's breaks fall under (eight C5 routes, each in its own words, are one
    rule, not eight causes)."""
    ids = sorted({rule_tag(g.rule, lang) for g in groups}, key=_rule_order)
    key = "report.breaks.causes_one" if len(ids) == 1 else "report.breaks.causes"
    return t(key, lang, n=len(ids), rules=("、" if lang == "zh" else ", ").join(ids))


def _rule_order(rule: str) -> tuple[str, int, str]:
    """R2 before R11, then C1.. after the R rules (the order of the rules table)."""
    m = re.fullmatch(r"([RC])(\d+)", rule)
    return ("0" if m.group(1) == "R" else "1", int(m.group(2)), "") if m else ("2", 0, rule)


def count_head(groups: Sequence[Group], lang: str) -> str:
    """'14 hard rule breaks (2 rules: R2, R5); 26 goals missed (1 rule: C5)', or that every hard rule is met: each count
    says what it counts, the hard breaks' causes apart from the goals'."""
    hard = [g for g in groups if g.hard]
    soft = [g for g in groups if not g.hard]
    n_hard = sum(len(g.subjects) for g in hard)
    n_soft = sum(len(g.subjects) for g in soft)
    head = (
        t(
            f"report.breaks.count{'_one' if n_hard == 1 else ''}",
            lang,
            hard=n_hard,
            causes=_causes(hard, lang),
        )
        if n_hard
        else t("report.breaks.count_none", lang)
    )
    if n_soft:
        key = "report.breaks.count_soft_one" if n_soft == 1 else "report.breaks.count_soft"
        head += t(key, lang, soft=n_soft, causes=_causes(soft, lang))
    return head


def _subject_text(subject: str, names: dict[str, str]) -> str:
    """A subject for the terminal: the id with the village's name beside it, as ``planner check`` names ids."""
    return f"{subject} ({names[subject]})" if subject in names and names[subject] != subject else subject


def breaks_lines(
    violations: Sequence[dict[str, Any]],
    names: dict[str, str],
    lang: str,
    *,
    districts: set[str],
    limit: int | None = TERMINAL_NAMES,
) -> list[str]:
    """The rule breaks as the terminal prints them: a count line, then one line per cause (hard or goal, the
    count, the rule, the cause) with the subjects named below it, at most ``limit`` of them (all when None).

    The groups are :func:`group_breaks`'s, the ones the report shows.
    """
    groups = group_breaks(violations, lang)
    if not groups:
        return [t("report.checks.ok", lang)]
    lines = [count_head(groups, lang)]
    sep = "、" if lang == "zh" else ", "
    for g in groups:
        tag = t("report.breaks.hard" if g.hard else "report.breaks.soft", lang)
        count = _count_text(g.subjects, names, lang, districts)
        lines.append(f"  [{tag}] {count} {rule_tag(g.rule, lang)}{t('colon', lang)}{g.cause}")
        shown = g.subjects if limit is None else g.subjects[:limit]
        who = sep.join(_subject_text(s, names) for s in shown)
        if len(g.subjects) > len(shown):
            who += sep + t("report.breaks.more", lang, n=len(g.subjects) - len(shown))
        lines.append(f"      {who}")
    return lines


def _district_ids(plan: PlanData) -> set[str]:
    return set(plan.districts["district_id"].astype(str)) if "district_id" in plan.districts else set()


def breaks_html(plan: PlanData, names: dict[str, str], lang: str) -> str:
    """The rule checks: a tick, or one line per cause (count, rule, cause, the villages), hard before soft."""
    summary = plan.summary or {}
    districts = _district_ids(plan)
    groups = break_groups(summary, lang)
    if not groups:
        return f"<p class='ok'>✔ {escape(t('report.checks.ok', lang))}</p>"
    rules = rules_of(summary)
    labels = rule_labels(rules, lang)
    n_hard = sum(len(g.subjects) for g in groups if g.hard)
    head = escape(count_head(groups, lang))
    items = []
    # the soft R9 and R10 breaks have their own tables (stations, matches): one line each here points there
    elsewhere = {"R9": "report.section.stations", "R10": "report.section.matches"}
    moved: dict[str, int] = {}
    for g in groups:
        if not g.hard and g.rule in elsewhere:
            moved[g.rule] = moved.get(g.rule, 0) + len(g.subjects)
            continue
        cls = "hard" if g.hard else "soft"
        tag = t("report.breaks.hard" if g.hard else "report.breaks.soft", lang)
        items.append(
            f"<li class='{cls}'><span class='tag'>{escape(tag)}</span> "
            f"<b>{escape(_count_text(g.subjects, names, lang, districts))}</b>{escape(t('colon', lang))}"
            f"{cause_html(g.cause, names)}<br><span class='rule'>{escape(_rule_text(g.rule, labels, rules, lang))}</span>"
            f"<div class='who'>{_subjects_html(g.subjects, names, lang)}</div></li>"
        )
    tag = escape(t("report.breaks.soft", lang))
    for rule, n in moved.items():
        where = t(elsewhere[rule], lang)
        items.append(
            f"<li class='soft'><span class='tag'>{tag}</span> "
            f"{escape(t('report.breaks.see_table', lang, rule=rule, n=n, table=where))}</li>"
        )
    return f"<p class='{'bad' if n_hard else 'soft'}'>{head}</p><ul class='groups'>{''.join(items)}</ul>"


def dropped_html(summary: dict[str, Any], names: dict[str, str], lang: str) -> str:
    """Visits that could not be planned, one line per reason with the officers and villages ('' when none)."""
    groups = dropped_groups(summary, lang)
    if not groups:
        return ""
    items = "".join(
        f"<li><b>{escape(t('report.dropped.n', lang, n=len(g.subjects)))}</b> "
        f"（{escape(', '.join(g.officers))}）{escape(t('colon', lang))}"
        f"{cause_html(g.first if len(g.subjects) == 1 else g.cause, names)}"
        f"<div class='who'>{_subjects_html(g.subjects, names, lang)}</div></li>"
        for g in groups
    )
    return f"<h3>{escape(t('report.explain.dropped', lang))}</h3><ul class='groups'>{items}</ul>"


# -- the conclusion --------------------------------------------------------------------------------------------
def _officers_short(plan: PlanData, rules: Rules) -> list[tuple[str, int, int]]:
    """(district, officers, officers R2 asks for) of every district with fewer officers than R2 asks."""
    if rules.districts.mode == "r1":
        return []
    out = []
    for _, d in plan.districts.sort_values("district_id").iterrows():
        pop = pd.to_numeric(d.get("population"), errors="coerce")
        have = pd.to_numeric(d.get("officers"), errors="coerce")
        if pd.isna(pop) or pd.isna(have):
            continue
        need = math.ceil(float(pop) / rules.districts.residents_per_officer)
        if need > int(have):
            out.append((str(d["district_id"]), int(have), need))
    return out


def r2_district_text(plan: PlanData, district: str, have: int, need: int, rules: Rules, lang: str) -> str:
    """A district short of officers under R2 in words that say what each number counts: the officers the whole
    district (all its villages) needs and has, and any village of it that alone needs more than an office may
    have (its R2 break's "needs 5" is the village alone, the district's 6 includes the other villages)."""
    v = plan.villages
    d = plan.districts.set_index(plan.districts["district_id"].astype(str))
    pop = pd.to_numeric(d.at[district, "population"], errors="coerce") if "population" in d else float("nan")
    text = t(
        "report.conclusion.r2_district",
        lang,
        district=district,
        pop=number(pop),
        need=need,
        have=have,
    )
    per = rules.districts.residents_per_officer
    if {"district_id", "population"} <= set(v.columns):
        names = village_names(v)
        mine = v[v["district_id"].astype(str) == district]
        for vid, p in zip(
            mine["village_id"].astype(str), pd.to_numeric(mine["population"], errors="coerce"), strict=True
        ):
            alone = math.ceil(float(p) / per) if pd.notna(p) else 0
            if alone > rules.districts.max_officers:
                text += t("report.conclusion.r2_village", lang, village=names.get(vid, vid), need=alone)
    return text


def _office_districts(plan: PlanData) -> dict[str, str]:
    offices = plan.offices
    if offices is None or not {"office_id", "district_id"} <= set(offices.columns):
        return {}
    return dict(zip(offices["office_id"].astype(str), offices["district_id"].astype(str), strict=True))


def stations_short(summary: dict[str, Any], lang: str) -> str:
    """R9's sentence: the stations short of community officers with how many each needs ('' when none), from
    summary.json's shortfall rows of a station (``station_id``, ``more_community_officers``)."""
    rows = [
        r
        for r in summary.get("shortfall") or []
        if r.get("station_id") and int(r.get("more_community_officers") or 0) > 0
    ]
    if not rows:
        return ""
    listed = (summary.get("stations") or {}).get("list") or []
    names = {str(x.get("station_id")): str(x.get("name") or "") for x in listed}
    sep = "、" if lang == "zh" else ", "
    where = sep.join(
        f"{names.get(str(r['station_id'])) or r.get('office_id') or r['station_id']} "
        f"{int(r['more_community_officers'])}"
        for r in rows
    )
    one = "_one" if len(rows) == 1 else ""
    more = sum(int(r["more_community_officers"]) for r in rows)
    return t(f"report.conclusion.r9_more{one}", lang, n=len(rows), more=more, stations=where)


def _aid_hint(s: dict[str, Any], rules: Rules, shortfall: list[dict[str, Any]], lang: str) -> str:
    """Before hiring: the offices with a shift or more of spare hours (summary.json ``workload``) when mutual aid
    is off, against the officer-hours the short offices lack ('' when none or when aid is already on)."""
    if rules.patrol.mutual_aid:
        return ""
    short_offices = {str(r["office_id"]) for r in shortfall}
    spare = [
        (str(w["office_id"]), float(w["hours_spare"]))
        for w in s.get("workload") or []
        if str(w["office_id"]) not in short_offices
        and float(w.get("hours_spare") or 0) >= rules.patrol.shift_hours
    ]
    if not spare:
        return ""
    sep = "、" if lang == "zh" else ", "
    offices = sep.join(f"{o} {number(h, 0)} h" for o, h in spare)
    short = sum(float(r.get("short_hours") or 0) for r in shortfall)
    return t(
        "report.conclusion.aid_hint",
        lang,
        offices=offices,
        hours=number(sum(h for _, h in spare), 0),
        short=number(short, 0),
    )


def conclusion(plan: PlanData, lang: str) -> str:
    """What works, what does not and what it would take, in a few sentences from summary.json."""
    s = plan.summary or {}
    rules = rules_of(s)
    names = village_names(plan.villages)
    districts = _district_ids(plan)
    cov = s.get("coverage_pct") or {}
    key = str(int(rules.offices.coverage_min)) if float(rules.offices.coverage_min).is_integer() else None
    works = [
        t(
            "report.conclusion.works",
            lang,
            villages=number(s.get("villages")),
            districts=number(s.get("districts")),
            officers=number(s.get("officers")),
            vmin=number((s.get("district_villages") or {}).get("min")),
            vmax=number((s.get("district_villages") or {}).get("max")),
        )
    ]
    if key and key in cov:
        works.append(t("report.conclusion.coverage", lang, minutes=key, pct=number(cov[key], 1)))
    if s.get("visit_requirements_met_pct") is not None:
        works.append(t("report.conclusion.visits", lang, pct=number(s["visit_requirements_met_pct"], 1)))
    groups = break_groups(s, lang)
    hard = [g for g in groups if g.hard]
    fails = []
    if not groups:
        fails.append(t("report.conclusion.all_met", lang))
    for g in hard[:4]:
        fails.append(
            t(
                "report.conclusion.break",
                lang,
                count=_count_text(g.subjects, names, lang, districts),
                rule=rule_tag(g.rule, lang),
                cause=named(g.cause, names),
            )
        )
    if len(hard) > 4:
        fails.append(t("report.conclusion.more_causes", lang, n=len(hard) - 4))
    soft = sum(len(g.subjects) for g in groups if not g.hard)
    if soft:
        fails.append(t("report.conclusion.soft", lang, n=soft))
    estimated = s.get("estimated_villages") or []
    if estimated:
        # issue 14: a travel time without a road to measure it is an estimate, and the chief must know
        circuity, kmh = estimate_factors(s)
        fails.append(
            t(
                "report.conclusion.estimated",
                lang,
                n=len(estimated),
                total=s.get("villages", len(estimated)),
                circuity=f"{circuity:g}",
                kmh=f"{kmh:g}",
            )
        )
    nbs = s.get("nbs") or {}
    if nbs and (nbs.get("missing") or nbs.get("extra") or nbs.get("renamed")):
        # issue 14: a layer that misses official villages plans a county that is not the whole county
        fails.append(
            t(
                "report.conclusion.nbs",
                lang,
                county=(nbs.get("county") or {}).get("name", ""),
                missing=len(nbs.get("missing") or []),
                extra=len(nbs.get("extra") or []),
                renamed=len(nbs.get("renamed") or []),
            )
        )
    take = []
    short = _officers_short(plan, rules)
    if short:
        more = sum(need - have for _, have, need in short)
        ids = ("；" if lang == "zh" else "; ").join(
            r2_district_text(plan, d, have, need, rules, lang) for d, have, need in short
        )
        take.append(
            t("report.conclusion.r2_more", lang, n=more, districts=ids, cap=rules.districts.max_officers)
        )
    shortfall = [r for r in s.get("shortfall") or [] if int(r.get("more_officers") or 0) > 0]
    if shortfall:
        where = _office_districts(plan)
        more = sum(int(r["more_officers"]) for r in shortfall)
        ids = ", ".join(
            f"{where.get(str(r['office_id']), str(r['office_id']))} +{int(r['more_officers'])}"
            for r in shortfall
        )
        take.append(t("report.conclusion.shortfall", lang, n=more, districts=ids))
        if hint := _aid_hint(s, rules, shortfall, lang):
            take.append(hint)
    if r9 := stations_short(s, lang):  # issue 15: R9's community officers, apart from the visits' officers
        take.append(r9)
    dropped = len(s.get("dropped_visits") or [])
    if dropped and not shortfall:
        take.append(t("report.conclusion.dropped", lang, n=dropped))
    parts = [("report.conclusion.head_works", works), ("report.conclusion.head_fails", fails)]
    if take:
        parts.append(("report.conclusion.head_take", take))
    body = "".join(
        f"<p><b>{escape(t(head, lang))}</b></p><ul>{''.join(f'<li>{escape(x)}</li>' for x in lines)}</ul>"
        for head, lines in parts
    )
    return f"<div class='conclusion'>{body}</div>"

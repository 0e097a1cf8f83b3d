"""The report's station sections: the police stations with their districts, villages, residents and officers by
kind, R9's figures per station (issue 15), and every R10 match wanted, met or missed with its reason.

Everything is read from summary.json (``stations``, ``matches``): the same figures as the terminal and
``planner check``.
"""

from __future__ import annotations

from typing import Any

from planner.model import PlanData
from planner.outputs.html import escape, number, table_html
from planner.texts import t

__all__ = ["matches_html", "r9_words", "stations_html"]


def _table(head: list[str], rows: list[list[tuple[str, bool]]]) -> str:
    return table_html(head, rows, cls="stations")


def _labels(summary: dict[str, Any], lang: str) -> dict[str, str]:
    """The rules' one-line texts with the values the plan was made with (summary.json's rules)."""
    from planner.check import rule_labels, rules_of

    return rule_labels(rules_of(summary), lang)


def r9_words(f: dict[str, Any], rules: dict[str, Any], lang: str) -> tuple[str, bool]:
    """A station's R9 in words (met, not checked, or what is broken) and whether it is broken: the station
    table's and the map's one wording of summary.json's ``stations.force`` row ``f``."""
    if not f.get("checked"):
        return t("stations.r9.unknown", lang), False
    broken = []
    if f.get("r9_share_ok") is False:
        broken.append(t("stations.r9.share", lang, pct=round(float(rules.get("community_share", 0.4)) * 100)))
    if f.get("r9_min_ok") is False:
        broken.append(t("stations.r9.min", lang, n=rules.get("min_officers", 5)))
    if not broken:
        return t("stations.r9.ok", lang), False
    return "; ".join(broken), True


def _r9_cell(f: dict[str, Any], rules: dict[str, Any], lang: str) -> str:
    if not f.get("checked"):
        return "—"  # said once under the table (stations.note_unknown)
    words, broken = r9_words(f, rules, lang)
    return f"<b class='bad'>{escape(words)}</b>" if broken else escape(words)


def stations_html(plan: PlanData, lang: str) -> str:
    """The station table: one row per station, its figures, its officers by kind and R9; "" without stations."""
    s = plan.summary or {}
    st = s.get("stations")
    if not isinstance(st, dict) or not st.get("list"):
        return ""
    rules = (s.get("rules") or {}).get("stations") or {}
    force = {str(f["station_id"]): f for f in st.get("force") or []}
    # R9's columns only where some station's whole force is known; else one note says why it is not checked
    checked = any(f.get("checked") for f in force.values())
    # two tables, not one of twelve columns: on A4 its headers were squeezed to a character a line
    where, staff = [], []
    for r in st["list"]:
        f = force.get(str(r["station_id"]), {})
        share = f.get("community_pct")
        urban = "" if r.get("rural", True) else t("stations.urban", lang)
        name = (escape(f"{r['name']}{urban}"), False)
        towns = ("、" if lang == "zh" else ", ").join(r.get("townships") or [])
        where.append(
            [
                name,
                (escape(towns), False),
                (escape(", ".join(r.get("districts") or [])), False),
                (number(r.get("villages")), True),
                (number(r.get("population")), True),
            ]
        )
        staff.append([name, (number(f.get("resident")), True), (number(f.get("linked")), True)])
        if checked:
            staff[-1] += [
                (number(f.get("other")), True),
                (number(f.get("force")), True),
                ("—" if share is None else f"{float(share):.0f}%", True),
                (_r9_cell(f, rules, lang), False),
                (number(f.get("more_community")) if f.get("more_community") else "", True),
            ]
    head = [
        t(f"stations.col.{k}", lang) for k in ("station", "townships", "districts", "villages", "population")
    ]
    cols = ("resident", "linked", *(("other", "force", "share", "r9", "more") if checked else ()))
    staff_head = [t("stations.col.station", lang), *(t(f"stations.short.{k}", lang) for k in cols)]
    key = f"<p class='note'>{escape(t('stations.short.key' if checked else 'stations.short.key_kinds', lang))}</p>"
    src = st.get("source", "townships")
    labels = _labels(s, lang)
    lead = (
        t("stations.source.townships", lang)
        if src == "townships"
        else t("stations.source.file", lang, file=src)
    )
    notes = [n.get("zh" if lang == "zh" else "en", "") for n in st.get("notes") or []]
    if any(not f.get("checked") for f in force.values()):
        notes.append(t("stations.note_unknown", lang))
    short = [x for x in s.get("shortfall") or [] if x.get("station_id")]
    notes += [str(x.get("detail_zh" if lang == "zh" else "detail", "")) for x in short]
    tail = "".join(f"<li>{escape(n)}</li>" for n in notes if n)
    rule = f"<p class='note'>R9: {escape(labels.get('R9', ''))}; R4: {escape(labels.get('R4', ''))}</p>"
    tables = _table(head, where) + table_html(staff_head, staff, cls="stations force") + key
    return f"<p>{escape(lead)}</p>{rule}{tables}" + (f"<ul>{tail}</ul>" if tail else "")


def _person(officer: str, people: dict[str, str]) -> str:
    return f"{officer} {people[officer]}" if people.get(officer) else officer


def matches_html(plan: PlanData, names: dict[str, str], lang: str) -> str:
    """Every R10 match the rules want, met or missed with its reason; "" when the plan had no roster."""
    s = plan.summary or {}
    if "matches" not in s:
        return ""
    matches = s.get("matches") or []
    if not matches:
        return f"<p>{escape(t('matches.none', lang))}</p>"
    met = sum(1 for m in matches if m.get("met"))
    people = {str(r.get("officer_id")): str(r.get("name") or "") for r in s.get("roster") or []}

    def village(vid: str) -> str:
        return f"{names[vid]} ({vid})" if names.get(vid) else vid

    # every miss a row with its reason; the matches met one line per need (the report stays a few pages)
    rows = []
    met_by_need: dict[str, list[str]] = {}
    for m in sorted(matches, key=lambda m: (str(m.get("need")), str(m.get("village_id")))):
        vid = str(m.get("village_id", ""))
        officer = _person(str(m.get("linked", m.get("officer_id", ""))), people)
        need = t(f"matches.need.{m.get('need')}", lang)
        if m.get("met"):
            met_by_need.setdefault(need, []).append(f"{names.get(vid, vid)} ({officer})")
            continue
        rows.append(
            [
                (escape(need), False),
                (escape(village(vid)), False),
                (escape(officer), False),
                (escape(m.get("reason_zh" if lang == "zh" else "reason", "")), False),
            ]
        )
    head = [t(f"matches.col.{k}", lang) for k in ("need", "village", "officer", "reason")]
    lead = t("matches.summary", lang, n=len(matches), met=met, miss=len(matches) - met)
    rule = f"<p class='note'>R10: {escape(_labels(s, lang).get('R10', ''))}</p>"
    sep = "、" if lang == "zh" else ", "
    done = "".join(
        f"<li>{escape(t('matches.met', lang))} · {escape(need)}: {escape(sep.join(items))}</li>"
        for need, items in met_by_need.items()
    )
    table = (f"<h3>{escape(t('matches.missed', lang))}</h3>" + _table(head, rows)) if rows else ""
    return f"<p>{escape(lead)}</p>{rule}{table}" + (f"<ul class='note'>{done}</ul>" if done else "")

"""What the report, the sheets and the terminal say about the data a plan was made from (issues 14 and 16).

- completeness against the official village list (summary.json's ``nbs``, from :mod:`planner.nbs`): how many
  official units, matched, missing, extra and renamed, each named;
- the travel times that are estimates (access ``estimated``: straight line x circuity, planner.network.estimate),
  naming the villages;
- the coordinates note: a GCJ-02 input is written back in WGS-84 (summary.json's ``crs_note``).

Each text is built once here from summary.json and shown as it is by the report (escaped), the route sheets
and the terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from planner.check import rules_of
from planner.network.estimate import terrain_factors
from planner.outputs.html import escape, number
from planner.texts import t

__all__ = [
    "completeness_html",
    "completeness_lines",
    "crs_note",
    "data_notes_html",
    "estimate_factors",
    "estimated_sentence",
    "modelled_note",
]


def _sep(lang: str) -> str:
    return "、" if lang == "zh" else ", "


def _listed(items: Sequence[str], lang: str, limit: int | None) -> str:
    shown = list(items) if limit is None else list(items)[:limit]
    text = _sep(lang).join(shown)
    if len(items) > len(shown):
        text += _sep(lang) + t("report.breaks.more", lang, n=len(items) - len(shown))
    return text


def _unit(name: Any, code: Any) -> str:
    return f"{name} ({code})" if code and str(code) != str(name) else str(name)


def completeness_lines(
    nbs: dict[str, Any], lang: str, *, limit: int | None = None, shown: Callable[[str], str] = str
) -> list[str]:
    """The layer against its county's official list in plain words, one sentence a line: the official count
    and the matched, then the missing, extra and renamed units named (at most ``limit`` of each; all when
    None), each name as ``shown`` gives it (the rules' ``[names] short``). Empty when the plan was not
    compared (no ``--county``)."""
    if not nbs:
        return []
    county = nbs.get("county") or {}
    missing, extra, renamed = nbs.get("missing") or [], nbs.get("extra") or [], nbs.get("renamed") or []
    lines = [
        t(
            "nbs.head",
            lang,
            county=county.get("full_name") or county.get("name") or "",
            code=county.get("code", ""),
            official=number(nbs.get("official")),
            matched=number(nbs.get("matched")),
        )
    ]
    if nbs.get("matched_by_name"):
        lines.append(t("nbs.by_name", lang, n=number(nbs["matched_by_name"])))
    if not (missing or extra or renamed):
        lines.append(t("nbs.complete", lang))
        return lines
    if missing:
        units = [
            _unit(shown(str(m.get("name"))), m.get("code"))
            + (f" {m['township']}" if m.get("township") else "")
            for m in missing
        ]
        lines.append(t("nbs.missing", lang, n=len(missing), units=_listed(units, lang, limit)))
    if extra:
        units = [_unit(shown(str(e.get("name"))), e.get("village_id")) for e in extra]
        lines.append(t("nbs.extra", lang, n=len(extra), units=_listed(units, lang, limit)))
    if renamed:
        units = [
            f"{shown(str(r.get('name')))} → {shown(str(r.get('official_name')))} ({r.get('code')})"
            for r in renamed
        ]
        lines.append(t("nbs.renamed", lang, n=len(renamed), units=_listed(units, lang, limit)))
    return lines


def completeness_html(summary: dict[str, Any], lang: str) -> str:
    """The report's completeness section ('' when the plan was not compared with the official list)."""
    lines = completeness_lines(summary.get("nbs") or {}, lang, shown=rules_of(summary).names.shown)
    if not lines:
        return ""
    head, rest = lines[0], lines[1:]
    items = "".join(f"<li>{escape(x)}</li>" for x in rest)
    return f"<p>{escape(head)}</p><ul class='nbs'>{items}</ul>"


def estimate_factors(summary: dict[str, Any]) -> tuple[float, float]:
    """(circuity, km/h) the estimates were made with: summary.json's ``network`` when it has no roads, else the
    terrain factors of the rules in force (villages beyond the roads given)."""
    net = summary.get("network") or {}
    if "circuity" in net and "speed_kmh" in net:
        return float(net["circuity"]), float(net["speed_kmh"])
    return terrain_factors(rules_of(summary).network)


def estimated_sentence(
    villages: Sequence[str],
    names: dict[str, str],
    summary: dict[str, Any],
    lang: str,
    *,
    limit: int | None = None,
) -> str:
    """'Travel times to A, B and C are estimates (...)': the estimated villages of ``villages`` named ('' when
    none is)."""
    estimated = set(str(v) for v in summary.get("estimated_villages") or [])
    ids = [v for v in dict.fromkeys(str(x) for x in villages) if v in estimated]
    if not ids:
        return ""
    circuity, kmh = estimate_factors(summary)
    if len(ids) == summary.get("villages"):  # no road data at all: every village, not a list of them all
        return t("note.estimated_all", lang, n=len(ids), circuity=f"{circuity:g}", kmh=f"{kmh:g}")
    shown = [names.get(v, v) for v in ids]
    return t(
        "note.estimated",
        lang,
        n=len(ids),
        villages=_listed(shown, lang, limit),
        circuity=f"{circuity:g}",
        kmh=f"{kmh:g}",
    )


def crs_note(summary: dict[str, Any], lang: str) -> str:
    """The note that a GCJ-02 input was written back in WGS-84 ('' when the input was not GCJ-02)."""
    return t("note.gcj02", lang) if summary.get("crs_note") else ""


def modelled_note(summary: dict[str, Any], lang: str) -> str:
    """'20 of 33 villages' residents are estimates ...' ('' when every figure is the layer's or a tag's)."""
    n = len(summary.get("modelled_population_villages") or [])
    if not n:
        return ""
    return t("note.modelled_population", lang, n=n, total=summary.get("villages", n))


def data_notes_html(summary: dict[str, Any], names: dict[str, str], lang: str) -> str:
    """The report's notes on the data: the estimated travel times (every such village named), the modelled
    residents and the coordinates note ('' when there is none)."""
    ordered = sorted(summary.get("estimated_villages") or [], key=lambda v: names.get(str(v), str(v)))
    notes = [
        estimated_sentence(ordered, names, summary, lang),
        modelled_note(summary, lang),
        crs_note(summary, lang),
    ]
    return "".join(f"<p class='note'>{escape(n)}</p>" for n in notes if n)

"""R10: officers matched to villages by need, as weighted preferences of the village-to-officer linking.

Demand: the rules file's ``[matching]`` says which matches are wanted. A village on a main road (its point
within ``main_road_m`` of a road of ``main_road_classes``, from the road network) wants an officer with the
skill ``traffic_skill``; the villages with the most incidents a year (the village layer's ``incidents_col``;
the top ``incident_share`` of the villages that have any) want one with ``investigation_skill``; an officer with
a ``home_village`` in his office's district is wanted there (``home = "prefer"``), or never linked there
(``"forbid"``, 回避: only where he is his office's only officer, or the roster makes it his village).

Constraint: :func:`bonus` is the weight, in villages' work, that the linking
(:func:`planner.patrol.month._link_villages`) takes off an officer's load when it weighs him for a village:
with weight 1 the matched officer takes the village while his load, less one village's work, stays the least
per working day. A forbidden home village weighs :data:`FORBID` villages' work.

Explanation and check: :func:`evaluate` lists every wanted match with the officer linked, met or not, and the
reason of every miss; the same function checks a plan from its schedule (the officer who visits a village most
is the one linked to it) and an edited roster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planner.model import Violation
from planner.rules import MatchRules
from planner.texts import check_lang

FORBID = 1000.0  # a forbidden home village: no officer takes it while another of his office can
#: The usual skills in Chinese, for the texts (a skill not listed is shown as written).
SKILL_ZH = {
    "traffic": "交通",
    "investigation": "侦查",
    "household": "户政",
    "mediation": "调解",
    "patrol": "巡逻",
}


#: OSM road classes (``main_road_classes``) by their Chinese names (公路技术等级), for R10's label.
ROAD_ZH = {
    "motorway": "高速公路",
    "trunk": "干线公路",
    "primary": "一级公路",
    "secondary": "二级公路",
    "tertiary": "三级公路",
}


def roads_zh(classes: tuple[str, ...] | list[str]) -> str:
    """The road classes in Chinese ("motorway", "trunk" -> 高速公路、干线公路); a class without a name as is."""
    return "、".join(ROAD_ZH.get(c.lower(), c) for c in classes)


def skill_zh(skill: str) -> str:
    """A skill's Chinese name (``traffic`` -> 交通)."""
    return SKILL_ZH.get(skill.lower(), skill)


def label(rules: MatchRules, lang: str = "zh") -> str:
    """R10 in one line with the matches in force (as the report lists the rules)."""
    zh = check_lang(lang) == "zh"
    parts = []
    if rules.traffic_weight:
        roads = "/".join(rules.main_road_classes)
        parts.append(
            f"主干道({roads_zh(rules.main_road_classes)}) {rules.main_road_m:g} 米内的村配"
            f"{skill_zh(rules.traffic_skill)}民警"
            f"(权重{rules.traffic_weight:g})"
            if zh
            else f"a {rules.traffic_skill} officer for villages within {rules.main_road_m:g} m of a {roads} road "
            f"(weight {rules.traffic_weight:g})"
        )
    if rules.investigation_weight:
        pct = round(rules.incident_share * 100)
        parts.append(
            f"警情最多的 {pct}% 村配{skill_zh(rules.investigation_skill)}民警(权重{rules.investigation_weight:g})"
            if zh
            else f"a {rules.investigation_skill} officer for the {pct}% of villages with most incidents "
            f"(weight {rules.investigation_weight:g})"
        )
    if rules.home == "prefer" and rules.home_weight:
        parts.append(
            f"民警优先联系本人家乡村(权重{rules.home_weight:g})"
            if zh
            else f"an officer for his home village (weight {rules.home_weight:g})"
        )
    elif rules.home == "forbid":
        parts.append("民警回避本人家乡村" if zh else "no officer linked to his home village (回避)")
    if not parts:
        return "不按专长匹配" if zh else "no matching by need"
    return ("；".join(parts)) if zh else "; ".join(parts)


# -- demand --------------------------------------------------------------------------------------------------


def village_needs(villages: pd.DataFrame, network: Any, *, rules: MatchRules) -> pd.DataFrame:
    """Per village (indexed like ``villages``, metric CRS): ``main_road_m`` (metres from its point to the nearest
    main road, NaN without one), ``main_road`` (bool), ``incidents`` (NaN when the layer has none) and
    ``high_incident`` (bool: among the top ``incident_share`` of the villages with incidents)."""
    idx = villages.index.astype(str)
    out = pd.DataFrame(index=idx)
    out["main_road_m"] = _main_road_distance(villages, network, rules=rules)
    out["main_road"] = out["main_road_m"] <= rules.main_road_m
    col = rules.incidents_col
    if col in villages.columns:
        inc = pd.to_numeric(pd.Series(villages[col].to_numpy(), index=idx), errors="coerce")
    else:
        inc = pd.Series(np.nan, index=idx)
    out["incidents"] = inc
    some = inc[inc > 0].sort_values(ascending=False, kind="stable")
    n_top = math.ceil(rules.incident_share * len(some)) if len(some) else 0
    cut = float(some.iloc[n_top - 1]) if n_top else math.inf
    out["high_incident"] = (inc >= cut) & (inc > 0)
    return out


def _main_road_distance(villages: pd.DataFrame, network: Any, *, rules: MatchRules) -> np.ndarray:
    """Metres from each village's point to the nearest main road of ``network`` (NaN without one)."""
    n = len(villages)
    if network is None or not len(network.edge_highway):
        return np.full(n, np.nan)
    classes = set(rules.main_road_classes)
    hw = [str(h) for h in network.edge_highway]
    main = np.array([h in classes or any(c in h for c in classes if h.startswith("[")) for h in hw])
    if not main.any():
        return np.full(n, np.nan)
    from shapely import STRtree
    from shapely.geometry import Point

    lines = [g for g, m in zip(network.edge_geometry, main, strict=True) if m and g is not None]
    if not lines:
        return np.full(n, np.nan)
    tree = STRtree(lines)
    if {"anchor_x", "anchor_y"} <= set(villages.columns):
        pts = [
            Point(float(x), float(y)) if not (pd.isna(x) or pd.isna(y)) else g.representative_point()
            for x, y, g in zip(villages["anchor_x"], villages["anchor_y"], villages.geometry, strict=True)
        ]
    else:
        pts = list(villages.geometry.representative_point())
    _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    return np.asarray(dist, dtype=float)


@dataclass(frozen=True, eq=False)
class Matching:
    """What R10 knows of officers and villages: skills and home villages, and the villages' needs."""

    rules: MatchRules
    needs: pd.DataFrame  # village_needs(): main_road, high_incident, ...
    skills: dict[str, frozenset[str]] = field(default_factory=dict)
    home: dict[str, str] = field(default_factory=dict)
    skills_given: bool = False  # the roster names skills: without them no skill match is wanted or reported

    @classmethod
    def of(cls, roster: pd.DataFrame, needs: pd.DataFrame, *, rules: MatchRules) -> Matching:
        """From a roster with optional ``skills`` ("traffic;investigation") and ``home_village`` columns."""
        skills, home = {}, {}
        for r in roster.to_dict("records"):
            oid = str(r["officer_id"])
            skills[oid] = frozenset(parse_skills(r.get("skills")))
            hv = r.get("home_village")
            if not _blank(hv):
                home[oid] = str(hv).strip()
        return cls(rules, needs, skills, home, skills_given=any(skills.values()))

    def wants(self, village: str) -> list[tuple[str, str, float]]:
        """The skills ``village`` wants: (need, skill, weight)."""
        r = self.rules
        out: list[tuple[str, str, float]] = []
        if village not in self.needs.index:
            return out
        row = self.needs.loc[village]
        if r.traffic_weight and bool(row["main_road"]):
            out.append(("traffic", r.traffic_skill, r.traffic_weight))
        if r.investigation_weight and bool(row["high_incident"]):
            out.append(("investigation", r.investigation_skill, r.investigation_weight))
        return out


def parse_skills(value: Any) -> list[str]:
    """``"traffic;investigation"`` (or 、 , ，) -> ["traffic", "investigation"]."""
    if _blank(value):
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return [str(x).strip().lower() for x in value if str(x).strip()]
    text = str(value)
    for sep in ("、", ",", "，", "；", "|", " "):
        text = text.replace(sep, ";")
    return [x.strip().lower() for x in text.split(";") if x.strip()]


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


# -- constraint ----------------------------------------------------------------------------------------------


def bonus(matching: Matching | None, officer_id: str, village: str) -> float:
    """The weight (villages' work) of linking ``village`` to the officer: his matched skills' weights, his home
    village's weight, or minus :data:`FORBID` for a forbidden home village; 0 without matching."""
    if matching is None:
        return 0.0
    w = 0.0
    mine = matching.skills.get(officer_id, frozenset())
    for _need, skill, weight in matching.wants(village):
        if skill.lower() in mine:
            w += weight
    if matching.home.get(officer_id) == village:
        if matching.rules.home == "prefer":
            w += matching.rules.home_weight
        elif matching.rules.home == "forbid":
            w -= FORBID
    return w


# -- explanation and check -----------------------------------------------------------------------------------


def evaluate(
    matching: Matching,
    links: pd.Series,
    roster: pd.DataFrame,
    office_of: pd.Series,
    *,
    names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every wanted match, met or missed, with the reason of each miss (en and zh).

    Parameters
    ----------
    matching
        The officers' skills and homes and the villages' needs.
    links
        village_id -> the officer linked to it (the plan's, or the schedule's most visiting officer).
    roster
        officer_id, office, kind, village_id (a resident officer's village; the linking keeps it).
    office_of
        village_id -> office_id.
    """
    names = names or {}
    links = links.astype(str)
    office_of = office_of.astype(str)
    rost = roster.assign(officer_id=roster["officer_id"].astype(str), office=roster["office"].astype(str))
    staff = rost.groupby("office")["officer_id"].apply(list).to_dict()
    fixed = {
        str(v): str(o)
        for o, v in zip(rost["officer_id"], rost["village_id"], strict=True)
        if not _blank(v) and v is not None
    }
    load = links.value_counts().to_dict()
    out: list[dict[str, Any]] = []
    for v in sorted(links.index) if matching.skills_given else []:
        for need, skill, _w in matching.wants(v):
            out.append(_skill_match(matching, v, need, skill, links, staff, fixed, load, office_of, names))
    if matching.rules.home != "ignore":
        for oid, hv in sorted(matching.home.items()):
            if oid in set(rost["officer_id"]):
                out.append(_home_match(matching, oid, hv, links, rost, staff, fixed, office_of, names))
    return out


def _name(v: str, names: dict[str, str]) -> str:
    return f"{v} ({names[v]})" if names.get(v) else v


def _skill_match(
    matching: Matching,
    v: str,
    need: str,
    skill: str,
    links: pd.Series,
    staff: dict[str, list[str]],
    fixed: dict[str, str],
    load: dict[str, int],
    office_of: pd.Series,
    names: dict[str, str],
) -> dict[str, Any]:
    officer = links.get(v, "")
    office = office_of.get(v, "")
    why = "on a main road" if need == "traffic" else "among the villages with most incidents"
    why_zh = "位于主干道沿线" if need == "traffic" else "警情最多"
    row = {
        "rule": "R10",
        "need": need,
        "skill": skill,
        "village_id": v,
        "officer_id": officer,
        "office_id": office,
        "linked": officer,
    }
    have = sorted(o for o in staff.get(office, []) if skill.lower() in matching.skills.get(o, frozenset()))
    vn, sz = _name(v, names), skill_zh(skill)
    if skill.lower() in matching.skills.get(officer, frozenset()):
        return {
            **row,
            "met": True,
            "reason": f"village {vn} ({why}) is linked to {officer}, a {skill} officer",
            "reason_zh": f"村 {vn}({why_zh})由{sz}民警 {officer} 联系",
        }
    if not have:
        en = f"village {vn} is {why} but no officer of office {office} has the skill {skill}"
        zh = f"村 {vn} {why_zh}, 但警务室 {office} 没有{sz}专长的民警"
    elif fixed.get(v) == officer:
        en = f"village {vn} is {why} but it is {officer}'s own village in the roster (his {skill} colleague(s): {', '.join(have)})"
        zh = f"村 {vn} {why_zh}, 但该村是名册中 {officer} 驻村的村({sz}民警: {'、'.join(have)})"
    else:
        counts = ", ".join(f"{o} {load.get(o, 0)}" for o in have)
        en = (
            f"village {vn} is {why}; its {skill} officer(s) ({counts} villages) would carry more than the "
            f"weight allows above {officer} ({load.get(officer, 0)} villages): linked to {officer}"
        )
        zh = (
            f"村 {vn} {why_zh}; 本警务室{sz}民警({counts} 个村)再接此村将超出权重允许的工作量"
            f"(对比 {officer} {load.get(officer, 0)} 个村): 由 {officer} 联系"
        )
    return {**row, "met": False, "reason": en, "reason_zh": zh}


def _home_match(
    matching: Matching,
    oid: str,
    hv: str,
    links: pd.Series,
    rost: pd.DataFrame,
    staff: dict[str, list[str]],
    fixed: dict[str, str],
    office_of: pd.Series,
    names: dict[str, str],
) -> dict[str, Any]:
    office = str(rost.loc[rost["officer_id"] == oid, "office"].iloc[0])
    linked = links.get(hv, "")
    forbid = matching.rules.home == "forbid"
    row = {"rule": "R10", "need": "home_forbidden" if forbid else "home", "skill": "", "village_id": hv}
    row.update(officer_id=oid, office_id=office, linked=linked)  # officer_id: whose home it is
    hn = _name(hv, names)
    if hv not in office_of.index:
        en, zh = f"{oid}'s home village {hv} is not a village of the plan", f"{oid} 的家乡村 {hv} 不在方案中"
        return {**row, "met": forbid, "reason": en, "reason_zh": zh}
    if forbid:
        if linked != oid:
            return {
                **row,
                "met": True,
                "reason": f"{oid} is not linked to his home village {hn}",
                "reason_zh": f"{oid} 未联系本人家乡村 {hn}(回避)",
            }
        if fixed.get(hv) == oid:
            en, zh = (
                f"the roster makes {hn}, {oid}'s home village, his own village",
                f"名册将家乡村 {hn} 定为 {oid} 的驻村村",
            )
        elif len(staff.get(office, [])) <= 1:
            en, zh = (
                f"{oid} is the only officer of office {office}, which holds his home village {hn}",
                f"{oid} 是警务室 {office} 唯一民警, 该所辖其家乡村 {hn}",
            )
        else:
            en, zh = f"{oid} is linked to his home village {hn}", f"{oid} 联系了本人家乡村 {hn}"
        return {**row, "met": False, "reason": en, "reason_zh": zh}
    if linked == oid:
        return {
            **row,
            "met": True,
            "reason": f"{oid} is linked to his home village {hn}",
            "reason_zh": f"{oid} 联系本人家乡村 {hn}",
        }
    if office_of.get(hv) != office:
        en = f"{oid}'s home village {hn} belongs to office {office_of.get(hv)}, he serves office {office}"
        zh = f"{oid} 的家乡村 {hn} 属警务室 {office_of.get(hv)}, 该民警在警务室 {office}"
    elif fixed.get(hv) and fixed[hv] != oid:
        en = f"{oid}'s home village {hn} is {fixed[hv]}'s own village in the roster"
        zh = f"{oid} 的家乡村 {hn} 是名册中 {fixed[hv]} 驻村的村"
    else:
        en = (
            f"{oid}'s home village {hn} went to {linked} to keep the office's work balanced within the weight"
        )
        zh = f"{oid} 的家乡村 {hn} 为均衡工作量(权重以内)由 {linked} 联系"
    return {**row, "met": False, "reason": en, "reason_zh": zh}


def violations(matches: list[dict[str, Any]]) -> list[Violation]:
    """Every missed match as a soft R10 violation (a preference, weighed against the office's balance)."""
    return [
        Violation("R10", m["village_id"], m["reason"], m["reason_zh"], hard=False, kind="village")
        for m in matches
        if not m["met"]
    ]


def links_from_schedule(schedule: pd.DataFrame) -> pd.Series:
    """village_id -> the officer with the most visit minutes there (the one linked to it)."""
    s = schedule[schedule["activity"].astype(str).isin(["visit", "night_visit"])]
    if not len(s):
        return pd.Series(dtype=object)
    m = pd.to_numeric(s["minutes"], errors="coerce").fillna(0)
    per = m.groupby([s["village_id"].astype(str), s["officer_id"].astype(str)]).sum().reset_index()
    per.columns = ["village_id", "officer_id", "minutes"]
    per = per.sort_values(
        ["village_id", "minutes", "officer_id"], ascending=[True, False, True], kind="stable"
    )
    first = per.drop_duplicates("village_id")
    return pd.Series(first["officer_id"].to_numpy(), index=first["village_id"].to_numpy(), dtype=object)

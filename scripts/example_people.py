"""Example stations and a roster of real-looking people for a plan (issue 15), to try R9 and R10 with.

    python scripts/example_people.py PLAN_DIR OUT_DIR [--villages LAYER] [--seed 0]

From a plan directory (made without --stations and --officers) it writes to OUT_DIR:

- ``stations.csv``: the plan's stations (one per township at its seat; a station that heads no district is
  folded into the one whose districts hold most of its township) with lon/lat, the townships they serve,
  ``other_officers`` (the station's officers who are not community officers: chosen so that some stations meet
  R9 and some do not) and ``rural`` (the most populous township's station is urban);
- ``officers.csv``: the plan's roster (officers.csv) with a name, a home village (mostly in the officer's own
  district, some in another) and two skills each (traffic, investigation, household registration, mediation,
  patrol), drawn with ``--seed``;
- with ``--villages``, ``villages.gpkg``: the village layer with an ``incidents`` column (incidents a year,
  illustrative: about 6 per 1,000 residents, with noise), so R10 has villages with the most incidents.

Everything here is made up for trying the planner; none of it describes a real station or person.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红文斌海波春梅晓东云飞鹏辉宇浩")
SKILLS = ["traffic", "investigation", "household", "mediation", "patrol"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("plan")
    ap.add_argument("out")
    ap.add_argument("--villages", help="the plan's village layer, to write a copy with an incidents column")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from planner.io import read_plan_dir

    rng = np.random.default_rng(args.seed)
    plan = read_plan_dir(args.plan)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    roster = pd.read_csv(Path(args.plan) / "officers.csv", dtype=str, keep_default_na=False)
    v = plan.villages.set_index("village_id")
    district = v["district_id"].astype(str)
    site = dict(
        zip(plan.offices["office_id"].astype(str), plan.offices["village_id"].astype(str), strict=True)
    )
    office_district = {s: str(district[s]) for s in site.values()}
    names, homes, skills = [], [], []
    used: set[str] = set()
    for _, r in roster.iterrows():
        while True:
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN, size=int(rng.integers(1, 3))))
            if name not in used:
                used.add(name)
                break
        names.append(name)
        d = office_district.get(r["office"], "")
        own = sorted(district.index[district == d])
        pool = own if (rng.random() < 0.75 and own) else sorted(district.index)
        homes.append(str(rng.choice(pool)))
        # most offices have a traffic officer and an investigator (the first and second officer), not all
        lead = SKILLS[len([o for o in roster["office"][: len(skills)] if o == r["office"]]) % 2]
        first = lead if rng.random() < 0.7 else str(rng.choice(SKILLS[2:]))
        second = str(rng.choice([x for x in SKILLS if x != first]))
        skills.append(f"{first};{second}")
    roster.insert(1, "name", names)
    roster["home_village"] = homes
    roster["skills"] = skills
    roster = roster.drop(columns=[c for c in ("office_name",) if c in roster.columns])
    roster.to_csv(out / "officers.csv", index=False, encoding="utf-8")

    st = plan.stations.to_crs(4326) if plan.stations is not None else None
    if st is None:
        raise SystemExit(f"{args.plan} has no stations layer: make it with this version of the planner")
    community = pd.Series(0, index=st["station_id"].astype(str))
    station_of_district = {
        d: str(s)
        for s, ds in zip(st["station_id"], st["districts"], strict=True)
        for d in str(ds).split(";")
        if d
    }
    for o in roster["office"]:
        community[station_of_district.get(office_district.get(o, ""), "")] = (
            community.get(station_of_district.get(office_district.get(o, ""), ""), 0) + 1
        )
    # a station that heads no district is folded into the station whose districts hold most of its township
    vs = v.assign(station=[station_of_district.get(d, "") for d in district])
    pop = vs.groupby(["township", "station"])["population"].sum().reset_index()
    home = pop.sort_values("population", ascending=False).drop_duplicates("township")
    towns = home.groupby("station")["township"].apply(lambda x: ";".join(sorted(x))).to_dict()
    st = st[st["station_id"].astype(str).isin(towns)].assign(
        townships=lambda d: [towns[str(x)] for x in d["station_id"]]
    )
    urban = str(st.sort_values("population", ascending=False)["station_id"].iloc[0])
    rows = []
    for k, r in enumerate(st.itertuples()):
        c = int(community.get(str(r.station_id), 0))
        # every third station has too many other officers for R9's share; the others just enough for 5
        other = 2 * c + 2 if k % 3 == 0 else max(5 - c, int(np.floor(1.5 * c)) if c else 2)
        rows.append(
            {
                "name": r.name,
                "townships": r.townships,
                "other_officers": other,
                "rural": "no" if str(r.station_id) == urban else "yes",
                "lon": round(r.geometry.x, 6),
                "lat": round(r.geometry.y, 6),
            }
        )
    pd.DataFrame(rows).to_csv(out / "stations.csv", index=False, encoding="utf-8")
    if args.villages:
        import geopandas as gpd

        layer = gpd.read_file(args.villages)
        pop = pd.to_numeric(layer["population"], errors="coerce").fillna(0).to_numpy()
        layer["incidents"] = np.maximum(0, np.round(pop * 0.006 * rng.lognormal(0, 0.6, len(layer)))).astype(
            int
        )
        layer.to_file(out / "villages.gpkg", layer="villages", driver="GPKG")
    print(f"wrote {out}: {len(roster)} officers, {len(rows)} stations")


if __name__ == "__main__":
    main()

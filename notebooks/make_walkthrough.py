"""Writes walkthrough.ipynb (run: python notebooks/make_walkthrough.py). The notebook's cells live here so that
they are reviewed as code; tests/test_notebook.py executes the written notebook."""

from pathlib import Path

import nbformat as nbf

cells = [
    (
        "md",
        """# 一村一警 规划演示 / A walkthrough of the planner on the demo region

This notebook runs each stage of the planner on the embedded demo region (Andorra, OpenStreetMap data,
© OpenStreetMap contributors, ODbL): villages, the road network and travel times, police districts and
offices, one district's monthly patrol plan, and the map. `planner demo` does all of it in one command.""",
    ),
    (
        "code",
        """from pathlib import Path

import planner
from planner.io import read_villages
from planner.io.roads import read_roads
from planner.rules import load_rules

ROOT = Path(planner.__file__).resolve().parent.parent
rules = load_rules(None)  # the bureau rules of DOMAIN.md; pass a TOML file to change them
villages = read_villages(ROOT / "data/demo/villages.gpkg")
print(len(villages), "villages,", int(villages.population.sum()), "residents, CRS", villages.crs.name)
villages[["name", "township", "population", "population_source"]].head()""",
    ),
    (
        "md",
        """## Roads and travel times / 路网与行车时间
Every connected piece of road is kept; villages off the road are walked to it or reported unreachable.""",
    ),
    (
        "code",
        """from planner.network import build_network, locate_villages, travel_times

roads = read_roads(ROOT / "data/demo/roads.osm.bz2")
network = build_network(roads, rules=rules.network, crs=villages.crs)
access = locate_villages(network, villages, rules=rules.network)
times = travel_times(network, access)
print(network.summary())
print(access["access"].value_counts().to_dict())
times.frame().iloc[:5, :5].round(1)""",
    ),
    (
        "md",
        """## Districts and offices / 警务区与警务室
R1 (5-8 villages) and R2 (one officer per 5,000 residents) bind by default; what cannot hold is listed.""",
    ),
    (
        "code",
        """from planner.districts import plan_districts
from planner.offices import place_offices

partition = plan_districts(villages, times, access, rules=rules, seed=0, time_limit=20)
dplan = place_offices(partition, rules=rules)  # the office stage: each district's office
for v in dplan.violations:
    print(v.rule, v.subject, v.detail)
dplan.districts.drop(columns="geometry")""",
    ),
    ("md", """## One district's month / 一个警务区的月度巡访计划"""),
    (
        "code",
        """from planner.patrol import plan_month
from planner.patrol import patrol_assignment

assignment = patrol_assignment(dplan.villages, dplan.offices, dplan.districts)
first = assignment[assignment.district_id == assignment.district_id.iloc[0]]
ids = list(dict.fromkeys([*first.index, *first.office_village_id]))
patrol = plan_month(first, times.subset(ids, ids), rules=rules.patrol, month="2026-12", seed=0, time_limit=20)
print(patrol.summary())
patrol.schedule.head(12)""",
    ),
    (
        "md",
        """## The map / 地图
`plan_map` returns a folium map; the plan files (`planner plan`) hold the same layers for QGIS.""",
    ),
    (
        "code",
        """from planner.outputs.maps import plan_map
from planner.model import PlanData

plan = PlanData(villages=dplan.villages.reset_index().to_crs(4326),
                districts=dplan.districts.to_crs(4326),
                offices=dplan.offices.to_crs(4326),
                summary={})
m = plan_map(plan, lang="zh", tiles="none")
m""",
    ),
    (
        "md",
        """## What if? A sweep / 规则方案比较
How many officers does the county need for 95% of its residents within 30 minutes of their office? Each
combination of rule values is a whole plan, run as a task on a local Dask cluster (`planner sweep` does the
same from the command line and writes sweep.csv and sweep.html).""",
    ),
    (
        "code",
        """from planner.many import combinations, dask_client, fewest_officers, parse_vary, run_sweep, sweep_table

combos = combinations(rules.to_dict(), parse_vary(["districts.max_villages=6,8"]))
with dask_client(workers=2) as client:
    rows = run_sweep(villages, roads, combos, client=client, month="2026-12")
print(fewest_officers(rows, minutes=30, share=95.0))
sweep_table(rows)[["districts.max_villages", "districts", "officers", "coverage_30", "mean_travel_min"]]""",
    ),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [
    nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src) for kind, src in cells
]
nbf.write(nb, Path(__file__).with_name("walkthrough.ipynb"))

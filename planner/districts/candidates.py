"""The district stage's candidate plans: the engine's solves of district counts and relaxed road graphs.

:func:`best_count` tries the fewest districts the counts allow and then more while one more removes a break;
:class:`Candidates` makes those solves (screened above ``planner.settings.DISTRICT_SCREEN_UNITS`` villages,
then the best polished with the full budget), here or as tasks on an executor (``planner plan --workers N``):
each solve stops on its own counts, so the plans are the same either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.engines.districting import DistrictingProblem, DistrictSolution
from planner.engines.districting.contiguous import solve as solve_districts
from planner.engines.districting.contiguous import solve_elsewhere
from planner.engines.districting.search import add_starts, known_starts
from planner.settings import POLISH_CANDIDATES, SCREEN_ROUNDS

log = logging.getLogger(__name__)

__all__ = ["Candidates", "avoidable", "best_count", "screen_counts"]


def avoidable(sol: DistrictSolution, forced: np.ndarray) -> int:
    """Size and population breaks that a village heavier than the cap does not force, and contiguity breaks
    (only locked districts can have them: a bureau's own districts, which a relaxed road graph may join)."""
    out = 0
    for b in sol.breaks:
        d = b.district
        if b.rule in ("size", "contiguity") or (
            b.rule == "population" and d is not None and not forced[sol.labels == d].any()
        ):
            out += 1
    return out


def best_count(
    tries: list[int],
    solve_k: Any,
    forced: np.ndarray,
    *,
    t0: float,
    time_limit: float,
) -> tuple[DistrictSolution, bool]:
    """The plan of the first district count in ``tries`` that breaks R1/R2 no more than the numbers force.

    Failing that, the plan with the fewest avoidable breaks. A further count is tried only while the last one
    removed a break: when one more district breaks the rules as often, the graph, not the count, is what
    breaks them (the relaxed graphs come next). Returns the plan and whether the time cap cut a try.
    """
    cut = False
    sol: DistrictSolution | None = None
    last: int | None = None
    for kk in tries:
        left = time_limit - (time.monotonic() - t0)
        if sol is not None and left <= 0:
            log.warning("plan_districts: the time limit stopped the tries with more districts at k=%d", kk)
            cut = True
            break
        s_k = solve_k(kk, max(left, 0.0))
        cut |= s_k.stopped_by_time
        if sol is None or avoidable(s_k, forced) < avoidable(sol, forced):
            sol = s_k
        now = avoidable(s_k, forced)
        if now == 0 or kk == tries[-1] or (last is not None and now >= last):
            break
        last = now
        log.info(
            "plan_districts: %d districts break R1/R2 %d time(s); trying %d",
            kk,
            avoidable(s_k, forced),
            kk + 1,
        )
    assert sol is not None
    return sol, cut


class Candidates:
    """The engine's solves of the stage's candidate plans (district counts, relaxed graphs): ``solve_k(kk, left)``.

    With ``screen`` (above ``planner.settings.DISTRICT_SCREEN_UNITS`` villages) every candidate is solved with
    ``SCREEN_ROUNDS`` perturbation rounds, the stage's rule picks among them as among full solves, and
    :meth:`polish` solves the winner, and the best of the others by avoidable breaks then objective (up to
    ``POLISH_CANDIDATES`` in all), again with the full budget; without, every solve has the full budget.
    """

    def __init__(
        self,
        problem_k: Any,
        graph: dict[str, sp.csr_matrix],
        *,
        seed: int,
        screen: bool,
        executor: Executor | None = None,
    ) -> None:
        self.problem_k, self.graph, self.seed, self.screen = problem_k, graph, seed, screen
        self.executor = executor  # where :meth:`on_graphs` and :meth:`polish` solve side by side (None: here)
        # every plan made, in order: (it, its district count, its graph)
        self.made: list[tuple[DistrictSolution, int, sp.csr_matrix]] = []

    def __call__(self, kk: int, left: float) -> DistrictSolution:
        rounds = SCREEN_ROUNDS if self.screen else None
        s_ = solve_districts(self.problem_k(kk), seed=self.seed, time_limit=left, rounds=rounds)
        self.made.append((s_, kk, self.graph["adj"]))
        return s_

    def on_graphs(
        self,
        graphs: Sequence[sp.csr_matrix],
        tries: list[int],
        forced: np.ndarray,
        *,
        t0: float,
        time_limit: float,
    ) -> list[tuple[DistrictSolution, bool]]:
        """:func:`best_count` on each graph: per graph its plan and whether the time cap cut a try, in the order
        of ``graphs`` (fewer when the time cap left no time for the rest). With an executor each graph's
        sequence of solves is one task and the graphs run side by side: the same plans, and :attr:`made` in the
        same order, as one after another here."""
        out: list[tuple[DistrictSolution, bool]] = []
        if self.executor is None:
            for g in graphs:
                if time.monotonic() - t0 >= time_limit:
                    break
                self.graph["adj"] = g
                out.append(best_count(tries, self, forced, t0=t0, time_limit=time_limit))
            return out
        left = time_limit - (time.monotonic() - t0)
        if left <= 0:
            return out
        starts = known_starts()  # the starts this process made go with each task (see :meth:`polish`)
        rounds = SCREEN_ROUNDS if self.screen else None
        futures = []
        for g in graphs:
            self.graph["adj"] = g
            futures.append(
                self.executor.submit(
                    screen_counts,
                    self.problem_k(tries[0]),
                    list(tries),
                    forced,
                    starts,
                    seed=self.seed,
                    rounds=rounds,
                    time_limit=left,
                )
            )
        for g, future in zip(graphs, futures, strict=True):
            made, chosen, cut = future.result()
            self.made.extend((s_, kk, g) for s_, kk in made)
            out.append((made[chosen][0], cut))
        return out

    def polish(
        self, winner: DistrictSolution, cut: bool, forced: np.ndarray, *, t0: float, time_limit: float
    ) -> tuple[DistrictSolution, bool, sp.csr_matrix]:
        """The screening's winner and runners-up solved again with the full perturbation budget, each on its
        graph and district count; of these and the screened winner, the plan of fewest avoidable R1/R2 breaks,
        then fewest districts, then least objective (the winner first on a tie). Returns it, ``cut`` or whether the time cap cut a full
        solve, and its graph (also left in ``graph["adj"]``). Without screening, the winner as it is."""
        if not self.screen:
            return winner, cut, self.graph["adj"]
        first = next(m for m in self.made if m[0] is winner)
        # as the stage's rule: fewest avoidable breaks, then the fewest districts (the first count that holds
        # the rules), then the objective
        others = sorted(
            (m for m in self.made if m[0] is not winner),
            key=lambda m: (avoidable(m[0], forced), m[1], m[0].objective),
        )
        best, best_k, best_adj = winner, first[1], first[2]
        chosen = [first, *others][:POLISH_CANDIDATES]
        left = time_limit - (time.monotonic() - t0)
        if left <= 0:
            log.warning("plan_districts: the time limit left no time for a full solve of a screened plan")
            self.graph["adj"] = best_adj
            return best, True, best_adj
        problems = []
        for _s, kk, g in chosen:
            self.graph["adj"] = g
            problems.append(self.problem_k(kk))
        # independent solves, each stopping on its own counts: side by side on the executor or one after another,
        # the same plans
        if self.executor is None:
            fulls = [solve_districts(p, seed=self.seed, time_limit=left) for p in problems]
        else:
            # the starts this process made go with each task, so a worker does not compute them again
            starts = known_starts()
            futures = [
                self.executor.submit(solve_elsewhere, p, starts, seed=self.seed, time_limit=left)
                for p in problems
            ]
            fulls = [f.result() for f in futures]
        for (s_, kk, g), full in zip(chosen, fulls, strict=True):
            cut |= full.stopped_by_time
            log.info(
                "plan_districts: %d districts, full search: breaks %d -> %d, objective %.1f -> %.1f",
                kk,
                avoidable(s_, forced),
                avoidable(full, forced),
                s_.objective,
                full.objective,
            )
            mine = (avoidable(full, forced), kk, full.objective)
            kept = (avoidable(best, forced), best_k, best.objective)
            if mine < kept or (s_ is winner and mine == kept):
                best, best_k, best_adj = full, kk, g
        self.graph["adj"] = best_adj
        return best, cut, best_adj


def screen_counts(
    problem: DistrictingProblem,
    tries: list[int],
    forced: np.ndarray,
    starts: dict[bytes, np.ndarray],
    *,
    seed: int,
    rounds: int | None,
    time_limit: float,
) -> tuple[list[tuple[DistrictSolution, int]], int, bool]:
    """:func:`best_count` on ``problem``'s graph as a task in another process (:meth:`Candidates.on_graphs`):
    every (plan, district count) it made in order, the index of the one it keeps, and whether the cap cut a
    try."""
    from dataclasses import replace

    add_starts(starts)
    made: list[tuple[DistrictSolution, int]] = []

    def solve_k(kk: int, left: float) -> DistrictSolution:
        s_ = solve_districts(replace(problem, k=kk), seed=seed, time_limit=left, rounds=rounds)
        made.append((s_, kk))
        return s_

    sol, cut = best_count(tries, solve_k, forced, t0=time.monotonic(), time_limit=time_limit)
    return made, next(i for i, (s_, _k) in enumerate(made) if s_ is sol), cut

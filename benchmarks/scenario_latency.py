"""50 ms and 200 ms per request: three providers, tap against the raw shared pool.

The emulator renders every page afresh (no page cache), in its own process, and logs each
request's start and end: the mean requests in flight come from that log, for the tap and
for the raw pool alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common import RAW_POOL, RAW_SEQ, TAP, Case, ratio

if TYPE_CHECKING:
    from plan import Getter, Goal, Plan

SCENARIOS = ("50ms", "200ms")
PROVIDERS = ("teli", "nexus_erp", "autocalls")
#: Wall-time goal, tap / raw pool, per latency.
WALL_GOALS = {"50ms": 1.10, "200ms": 1.05}
#: Requests in flight, tap / raw pool: at least this share.
IN_FLIGHT_GOAL = 0.95


def cases(plan: Plan) -> list[Case]:
    found = []
    for scenario in SCENARIOS:
        if scenario not in plan.scenarios:
            continue
        latency = float(scenario.removesuffix("ms"))
        leads = dict.fromkeys(PROVIDERS, plan.sizes.per_provider_latency)
        clients = ((TAP, plan.runs), (RAW_POOL, plan.runs))
        if scenario == "50ms":
            clients += ((RAW_SEQ, plan.runs),)
        found.append(Case(scenario, scenario, latency, leads, clients))
    return found


def checks(get: Getter, plan: Plan) -> list[Goal]:
    n = plan.sizes.per_provider_latency
    found: list[Goal] = []
    for scenario in SCENARIOS:
        found += [
            (
                scenario,
                f"{scenario}, 3 x {n:,}: tap / raw pool wall",
                ratio(get(scenario, "tap", "wall_s"), get(scenario, "raw_pool", "wall_s")),
                "<=",
                WALL_GOALS[scenario],
            ),
            (
                scenario,
                f"{scenario}: tap / raw pool requests in flight",
                ratio(
                    get(scenario, "tap", "mean_in_flight"),
                    get(scenario, "raw_pool", "mean_in_flight"),
                ),
                ">=",
                IN_FLIGHT_GOAL,
            ),
        ]
    found.append(
        (
            "50ms",
            f"50ms, 3 x {n:,}: tap / raw sequential wall",
            ratio(get("50ms", "tap", "wall_s"), get("50ms", "raw_seq", "wall_s")),
            "<=",
            0.2,
        )
    )
    return found


def informational(get: Getter, plan: Plan) -> list[tuple[str, float | None]]:
    found: list[tuple[str, float | None]] = []
    for scenario in SCENARIOS:
        found += [
            (f"{scenario}: tap requests in flight", get(scenario, "tap", "mean_in_flight")),
            (
                f"{scenario}: raw pool requests in flight",
                get(scenario, "raw_pool", "mean_in_flight"),
            ),
            (
                f"{scenario}: tap / raw pool CPU",
                ratio(get(scenario, "tap", "cpu_s"), get(scenario, "raw_pool", "cpu_s")),
            ),
        ]
    found.append(
        (
            "raw sequential / raw pool wall, 50 ms",
            ratio(get("50ms", "raw_seq", "wall_s"), get("50ms", "raw_pool", "wall_s")),
        )
    )
    return found

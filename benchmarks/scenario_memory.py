"""Peak memory of the tap at growing sizes: flat, and under an absolute limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common import TAP, Case, ratio

if TYPE_CHECKING:
    from plan import Getter, Goal, Plan

SCENARIOS = ("memory",)
MEMORY_LIMIT_MIB = 120


def cases(plan: Plan) -> list[Case]:
    if "memory" not in plan.scenarios:
        return []
    sizes, runs = plan.sizes, plan.runs
    found = [
        Case(f"mem-{leads}", "memory", 0.0, {"teli": leads}, ((TAP, runs),))
        for leads in (sizes.memory_small, sizes.memory_absolute)
    ]
    # The cpu scenario's tap runs measure the large size, when it runs.
    if "cpu" not in plan.scenarios:
        leads = sizes.cpu_leads
        found.append(Case(f"mem-{leads}", "memory", 0.0, {"teli": leads}, ((TAP, runs),)))
    return found


def checks(get: Getter, plan: Plan) -> list[Goal]:
    sizes = plan.sizes
    large = "cpu" if "cpu" in plan.scenarios else f"mem-{sizes.cpu_leads}"
    return [
        (
            "memory",
            f"peak RSS sum, {sizes.cpu_leads:,} / {sizes.memory_small:,} leads",
            ratio(
                get(large, "tap", "peak_rss_mib"),
                get(f"mem-{sizes.memory_small}", "tap", "peak_rss_mib"),
            ),
            "<=",
            1.3,
        ),
        (
            "memory",
            f"peak RSS sum at {sizes.memory_absolute:,} leads, MiB",
            get(f"mem-{sizes.memory_absolute}", "tap", "peak_rss_mib"),
            "<",
            MEMORY_LIMIT_MIB,
        ),
    ]


def informational(get: Getter, plan: Plan) -> list[tuple[str, float | None]]:
    return []

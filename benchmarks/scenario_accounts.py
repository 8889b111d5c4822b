"""Many accounts: at 50 ms against the raw pool, and at 0 ms, growing tenfold.

At 0 ms the tap's work per account shows on its own: CPU at 2,000 accounts of 20 leads
must stay within 7 times that at 200 (linear, plus a fixed start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common import RAW_POOL, TAP, Case, ratio

if TYPE_CHECKING:
    from plan import Getter, Goal, Plan

SCENARIOS = ("accounts",)
CPU_GOAL = 7.0


def keys(plan: Plan) -> dict[str, str]:
    sizes = plan.sizes
    return {
        "big": f"acc50-{sum(sizes.accounts_large.values())}",
        "small": f"acc50-{sum(sizes.accounts_small.values())}",
        "many": f"acc0-{sizes.accounts_many}",
        "few": f"acc0-{sizes.accounts_few}",
    }


def cases(plan: Plan) -> list[Case]:
    if "accounts" not in plan.scenarios:
        return []
    sizes, runs, key = plan.sizes, plan.runs, keys(plan)
    per = dict.fromkeys(("autocalls", "teli"), sizes.leads_per_account)
    found = [
        Case(
            key["big"], "accounts", 50.0, per, ((TAP, runs), (RAW_POOL, runs)), sizes.accounts_large
        ),
        Case(key["small"], "accounts", 50.0, per, ((TAP, runs),), sizes.accounts_small),
    ]
    small = {"autocalls": sizes.leads_per_small_account}
    for name, count in (("many", sizes.accounts_many), ("few", sizes.accounts_few)):
        found.append(Case(key[name], "accounts", 0.0, small, ((TAP, runs),), {"autocalls": count}))
    return found


def checks(get: Getter, plan: Plan) -> list[Goal]:
    sizes, key = plan.sizes, keys(plan)
    big, small = sum(sizes.accounts_large.values()), sum(sizes.accounts_small.values())
    return [
        (
            "accounts",
            f"{big} accounts, 50 ms: tap / raw pool wall",
            ratio(get(key["big"], "tap", "wall_s"), get(key["big"], "raw_pool", "wall_s")),
            "<=",
            1.2,
        ),
        (
            "accounts",
            f"peak RSS sum, {big} / {small} accounts",
            ratio(get(key["big"], "tap", "peak_rss_mib"), get(key["small"], "tap", "peak_rss_mib")),
            "<=",
            1.3,
        ),
        (
            "accounts",
            f"0 ms, CPU of {sizes.accounts_many:,} / {sizes.accounts_few:,} accounts",
            ratio(get(key["many"], "tap", "cpu_s"), get(key["few"], "tap", "cpu_s")),
            "<=",
            CPU_GOAL,
        ),
    ]


def informational(get: Getter, plan: Plan) -> list[tuple[str, float | None]]:
    sizes, key = plan.sizes, keys(plan)
    big = sum(sizes.accounts_large.values())
    many, few = sizes.accounts_many, sizes.accounts_few
    return [
        (
            f"final STATE bytes per account, {big} accounts",
            ratio(get(key["big"], "tap", "state_bytes"), big),
        ),
        (f"0 ms, {many:,} accounts: tap CPU s", get(key["many"], "tap", "cpu_s")),
        (f"0 ms, {few:,} accounts: tap CPU s", get(key["few"], "tap", "cpu_s")),
        (
            f"0 ms, wall of {many:,} / {few:,} accounts",
            ratio(get(key["many"], "tap", "wall_s"), get(key["few"], "tap", "wall_s")),
        ),
        (f"0 ms, {many:,} accounts: final STATE bytes", get(key["many"], "tap", "state_bytes")),
    ]

"""An announced quota of 25 requests per second: Flextell's X-RateLimit-* headers on every
answer, enforced by the emulator with 429. How many answers of 429 the tap draws over
100 requests (1,000 leads in pages of 10), from the emulator's log of every answer.

The size is the same in --quick: the goal is stated over 100 requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common import TAP, Case

if TYPE_CHECKING:
    from plan import Getter, Goal, Plan

SCENARIOS = ("quota",)
QUOTA = "25/s"
LEADS = 1_000  # 100 requests in pages of 10 (common.PAGE_SIZES)
#: Answers of 429 over the run, at most.
GOAL = 2


def cases(plan: Plan) -> list[Case]:
    if "quota" not in plan.scenarios:
        return []
    leads = {"flextell": LEADS}
    return [Case("quota", "quota", 0.0, leads, ((TAP, plan.runs),), quota={"flextell": QUOTA})]


def checks(get: Getter, plan: Plan) -> list[Goal]:
    return [
        (
            "quota",
            f"quota {QUOTA}, {LEADS:,} leads in 100 pages: answers of 429",
            get("quota", "tap", "refused"),
            "<=",
            GOAL,
        )
    ]


def informational(get: Getter, plan: Plan) -> list[tuple[str, float | None]]:
    return [
        (f"quota {QUOTA}: tap requests", get("quota", "tap", "requests")),
        (f"quota {QUOTA}: tap wall s (100 requests at 25 a second)", get("quota", "tap", "wall_s")),
    ]

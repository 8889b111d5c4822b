"""Time to first request: from the tap's start to its first request reaching the emulator,
against the time `python -c "import singer_sdk"` takes from start to exit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common import SDK_IMPORT, TAP, Case, ratio

if TYPE_CHECKING:
    from plan import Getter, Goal, Plan

SCENARIOS = ("startup",)
GOAL = 1.3


def cases(plan: Plan) -> list[Case]:
    if "startup" not in plan.scenarios:
        return []
    # One page of Teli: the run is little more than its start-up.
    runs = max(3, plan.runs)
    return [Case("startup", "startup", 0.0, {"teli": 200}, ((TAP, runs), (SDK_IMPORT, runs)))]


def checks(get: Getter, plan: Plan) -> list[Goal]:
    return [
        (
            "startup",
            "time to first request / import singer_sdk",
            ratio(get("startup", "tap", "first_request_s"), get("startup", "sdk_import", "wall_s")),
            "<=",
            GOAL,
        )
    ]


def informational(get: Getter, plan: Plan) -> list[tuple[str, float | None]]:
    return [
        ("tap: time to first request, s", get("startup", "tap", "first_request_s")),
        ("python -c 'import singer_sdk', s", get("startup", "sdk_import", "wall_s")),
    ]

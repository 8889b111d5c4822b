"""0 ms per request: Teli alone, the tap's CPU against the raw sequential client's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common import RAW_SEQ, STOCK, TAP, Case, ratio

if TYPE_CHECKING:
    from plan import Getter, Goal, Plan

SCENARIOS = ("cpu",)


def cases(plan: Plan) -> list[Case]:
    if "cpu" not in plan.scenarios:
        return []
    clients = ((TAP, plan.runs), (RAW_SEQ, plan.runs), (STOCK, min(plan.stock_runs, plan.runs)))
    return [Case("cpu", "cpu", 0.0, {"teli": plan.sizes.cpu_leads}, clients)]


def checks(get: Getter, plan: Plan) -> list[Goal]:
    return [
        (
            "cpu",
            f"0 ms, {plan.sizes.cpu_leads:,}: tap / raw sequential CPU (aim 1.2)",
            ratio(get("cpu", "tap", "cpu_s"), get("cpu", "raw_seq", "cpu_s")),
            "<=",
            1.5,
        )
    ]


def informational(get: Getter, plan: Plan) -> list[tuple[str, float | None]]:
    return [
        (
            "tap / stock-tap throughput, 0 ms",
            ratio(get("cpu", "tap", "leads_per_s"), get("cpu", "stock", "leads_per_s")),
        ),
        (
            "stock tap / tap CPU, 0 ms",
            ratio(get("cpu", "stock", "cpu_s"), get("cpu", "tap", "cpu_s")),
        ),
        (
            "tap / raw sequential wall, 0 ms",
            ratio(get("cpu", "tap", "wall_s"), get("cpu", "raw_seq", "wall_s")),
        ),
    ]

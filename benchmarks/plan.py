"""What a benchmark runs: the sizes, the scenarios (a module each), and their goals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import scenario_accounts
import scenario_cpu
import scenario_latency
import scenario_memory
import scenario_quota
import scenario_startup
from common import Case, Deadline
from report import Check, Row

#: (scenario, name, value, operator, goal)
Goal = tuple[str, str, float | None, str, float]
#: get(case, client, attribute): the median of a row, or None.
Getter = Callable[[str, str, str], float | None]

MODULES = (
    scenario_latency,
    scenario_cpu,
    scenario_memory,
    scenario_accounts,
    scenario_startup,
    scenario_quota,
)
SCENARIOS = tuple(name for module in MODULES for name in module.SCENARIOS)


@dataclass(frozen=True)
class Sizes:
    per_provider_latency: int
    cpu_leads: int
    memory_small: int
    memory_absolute: int
    accounts_large: dict[str, int]
    accounts_small: dict[str, int]
    leads_per_account: int
    accounts_many: int
    accounts_few: int
    leads_per_small_account: int


FULL = Sizes(
    per_provider_latency=20_000,
    cpu_leads=100_000,
    memory_small=10_000,
    memory_absolute=40_000,
    accounts_large={"autocalls": 100, "teli": 100},
    accounts_small={"autocalls": 10, "teli": 10},
    leads_per_account=500,
    accounts_many=2_000,
    accounts_few=200,
    leads_per_small_account=20,
)
# The absolute memory goal is stated at 40,000 leads, so quick mode keeps that size.
QUICK = Sizes(
    per_provider_latency=4_000,
    cpu_leads=20_000,
    memory_small=2_000,
    memory_absolute=40_000,
    accounts_large={"autocalls": 20, "teli": 20},
    accounts_small={"autocalls": 2, "teli": 2},
    leads_per_account=500,
    accounts_many=400,
    accounts_few=40,
    leads_per_small_account=20,
)


@dataclass
class Plan:
    sizes: Sizes
    runs: int
    stock_runs: int
    scenarios: tuple[str, ...]
    run_timeout: float | None
    deadline: Deadline
    workdir: Path
    skipped: dict[str, str] = field(default_factory=dict)

    def cases(self) -> list[Case]:
        found = [case for module in MODULES for case in module.cases(self)]
        return [case for case in found if case.clients[0][1] > 0]


def getter(rows: list[Row]) -> Getter:
    index = {(row.case, row.client): row for row in rows}

    def get(case: str, client: str, attr: str) -> float | None:
        row = index.get((case, client))
        return None if row is None else getattr(row, attr)

    return get


def checks(rows: list[Row], plan: Plan) -> list[Check]:
    get = getter(rows)
    result = []
    for module in MODULES:
        for scenario, name, value, op, goal in module.checks(get, plan):
            if scenario in plan.skipped:
                verdict = "SKIP"
            elif scenario not in plan.scenarios or value is None:
                verdict = "n/a (not measured)"
            else:
                passed = {"<=": value <= goal, "<": value < goal, ">=": value >= goal}[op]
                verdict = "PASS" if passed else "FAIL"
            result.append(Check(name, value, f"{op} {goal:g}", verdict))
    return result


def informational(rows: list[Row], plan: Plan) -> list[tuple[str, float | None]]:
    get = getter(rows)
    return [item for module in MODULES for item in module.informational(get, plan)]

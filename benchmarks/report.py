"""The summary of a benchmark: a row per case and client, the machine, and the report."""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import LABELS, PAGE_SIZES, ROOT, Run, Where, median

if TYPE_CHECKING:
    from plan import Plan


@dataclass
class Row:
    case: str
    scenario: str
    client: str
    label: str
    leads: int
    runs: int
    failed: int
    wall_s: float | None
    leads_per_s: float | None
    cpu_s: float | None
    peak_rss_mib: float | None
    max_single_rss_mib: float | None
    processes: float | None
    state_bytes: float | None
    emulator_cpu_s: float | None
    first_record_s: float | None
    first_request_s: float | None
    mean_in_flight: float | None
    requests: float | None
    refused: float | None


@dataclass
class Check:
    name: str
    value: float | None
    goal: str
    result: str


def summarize(runs: list[Run]) -> list[Row]:
    rows: list[Row] = []
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        if not run.warm_up:
            groups.setdefault((run.case, run.client), []).append(run)
    for (case, client), group in groups.items():
        good = [run for run in group if run.ok]
        wall = median([run.wall_s for run in good])
        leads = group[0].leads
        rows.append(
            Row(
                case=case,
                scenario=group[0].scenario,
                client=client,
                label=LABELS[client],
                leads=leads,
                runs=len(group),
                failed=len(group) - len(good),
                wall_s=wall,
                leads_per_s=leads / wall if wall else None,
                cpu_s=median([run.cpu_s for run in good]),
                peak_rss_mib=median([run.peak_rss_mib for run in good]),
                max_single_rss_mib=median([run.max_single_rss_mib for run in good]),
                processes=median([run.processes for run in good]),
                state_bytes=median([run.state_bytes for run in good]),
                emulator_cpu_s=median([run.emulator_cpu_s for run in good]),
                first_record_s=median([run.first_record_s for run in good]),
                first_request_s=median([run.first_request_s for run in good]),
                mean_in_flight=median([run.mean_in_flight for run in good]),
                requests=median([run.requests for run in good]),
                refused=median([run.refused for run in good]),
            )
        )
    return rows


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": memory_gb,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in ("tap-leads", "singer-sdk", "requests", "orjson", "msgspec"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["git"] = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found["git"] = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    return found


def tap_fingerprint() -> str:
    """A digest of the tap's source, to tell whether it changed while the benchmark ran."""
    digest = hashlib.sha256()
    root = Where.tap_root
    for path in sorted((root / "tap_leads").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json"):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(
    plan: Plan,
    rows: list[Row],
    found: list[Check],
    info: list[tuple[str, float | None]],
    context: dict[str, Any],
) -> str:
    host = context["machine"]
    pages = ", ".join(f"{provider} {size}" for provider, size in PAGE_SIZES.items())
    lines = [
        "",
        f"tap-leads benchmark: median of {plan.runs} run(s) unless noted; page sizes {pages}",
        f"machine: {host['cpu_model']}, {host['cores']} cores ({host['usable_cores']} usable), "
        f"{host['memory_gb']} GB, {host['python']}, {host['platform']}",
        "load average (1 min): {:.2f} at start, {:.2f} at end".format(*context["load_average"]),
        "versions: "
        + ", ".join(f"{k} {v}" for k, v in context["versions"].items())
        + f", tap_leads/ sha256 {context['tap_source_sha256']}"
        + (f" (git {context['tap_rev']})" if context["tap_rev"] else " (work tree)"),
        "",
        f"{'case':<15}{'client':<33}{'leads':>9}{'runs':>5}{'wall s':>8}{'leads/s':>9}"
        f"{'CPU s':>7}{'RSS MiB':>8}{'procs':>6}{'1st req':>8}{'in fl.':>7}{'emu CPU':>8}",
    ]
    for row in rows:
        runs = f"{row.runs - row.failed}" + (f"!{row.failed}" if row.failed else "")
        lines.append(
            f"{row.case:<15}{row.label:<33}{row.leads:>9,}{runs:>5}"
            f"{fmt(row.wall_s, '.2f'):>8}{fmt(row.leads_per_s, ',.0f'):>9}"
            f"{fmt(row.cpu_s, '.2f'):>7}{fmt(row.peak_rss_mib, '.1f'):>8}"
            f"{fmt(row.processes, '.0f'):>6}{fmt(row.first_request_s, '.2f'):>8}"
            f"{fmt(row.mean_in_flight, '.2f'):>7}{fmt(row.emulator_cpu_s, '.2f'):>8}"
        )
    lines += ["", f"{'check':<58}{'value':>8}  {'goal':<8}result"]
    for check in found:
        lines.append(f"{check.name:<58}{fmt(check.value, '.2f'):>8}  {check.goal:<8}{check.result}")
    for scenario, why in plan.skipped.items():
        lines.append(f"  {scenario} skipped: {why}")
    lines += ["", "for information:"]
    lines += [f"  {name:<56}{fmt(value, '.2f'):>8}" for name, value in info]
    lines += ["", *[f"note: {note}" for note in context["notes"]]]
    return "\n".join(lines)


def notes(plan: Plan, runs: list[Run]) -> list[str]:
    found = [
        "wall s: from the client's start to its exit, interpreter start-up included; "
        "CPU s: user + system time summed over every process of the client's tree "
        "(RUSAGE_CHILDREN of a subreaper that reaps them all); RSS MiB: the peak of the "
        "tree's summed resident sets, sampled every 20 ms; procs: processes in the tree, "
        "the client itself included.",
        "emu CPU is the emulator's CPU time during the run (it runs in its own process and "
        "renders every page afresh: no page cache). 1st req: from the client's start to its "
        "first request reaching the emulator; in fl.: requests in flight on average from the "
        "first answer to the last request's start, from the emulator's log of each request's "
        "start and end.",
        "runs are interleaved round by round; on a shared machine compare the ratios, "
        "not the absolute numbers.",
    ]
    if "cpu" in plan.scenarios:
        found.append(
            f"the stock tap runs {min(plan.stock_runs, plan.runs)} time(s) (--stock-runs) in "
            "the cpu scenario only; it enters no check."
        )
    if "memory" in plan.scenarios and "cpu" in plan.scenarios:
        found.append(
            f"peak RSS at {plan.sizes.cpu_leads:,} leads comes from the tap's runs of the cpu "
            "scenario."
        )
    if any(run.subreaper is False for run in runs):
        found.append(
            "this system refused PR_SET_CHILD_SUBREAPER: processes orphaned by the tap were "
            "not reaped by the measurer, so their CPU may be missing."
        )
    failed = [run for run in runs if not run.ok and not run.warm_up]
    if failed:
        found.append(
            f"{len(failed)} run(s) failed and are left out of the medians (the runs column "
            "shows good!failed)."
        )
    return found

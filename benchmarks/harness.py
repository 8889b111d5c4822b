"""tap-leads side by side with raw client floors (and a stock singer-sdk tap), in one run.

Every client runs as its own process tree against an emulator running in another process,
with its stdout drained and its RECORD lines counted here. Wall time, CPU time summed over
the client's whole process tree, the peak of its summed RSS and the number of processes it
started come from measure_child.py. See benchmarks/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import orjson
from common import LABELS, PAGE_SIZES, POOL, RESULTS_DIR, ROOT, Deadline, Where, say
from plan import FULL, QUICK, SCENARIOS, Plan, checks, informational
from report import machine, notes, report, summarize, tap_fingerprint, versions
from runner import execute


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/benchmark",
        description="tap-leads against raw client floors, with the goals checked.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes (3 x 4,000 at 50 and 200 ms, 20,000 at 0 ms, fewer accounts), 1 run",
    )
    parser.add_argument("--runs", type=int, help="runs per client and case (default 3, quick 1)")
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        help="run only this scenario (repeatable): " + ", ".join(SCENARIOS),
    )
    parser.add_argument(
        "--stock-runs",
        type=int,
        default=1,
        help="runs of the stock tap in the cpu scenario, at most --runs (default 1; 0 skips it)",
    )
    parser.add_argument(
        "--run-timeout", type=float, help="seconds one client run may take (default: by size)"
    )
    parser.add_argument(
        "--max-minutes", type=float, default=60, help="budget of the whole benchmark (60)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_DIR / "latest.json",
        help="where the JSON results go (default benchmarks/results/latest.json)",
    )
    parser.add_argument(
        "--tap-rev",
        metavar="REV",
        help="measure tap_leads/ as committed at this git revision, not the work tree's",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a check fails, not only a run"
    )
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def export_tap(rev: str, into: Path) -> Path:
    """tap_leads/ of a git revision, in a directory that goes first on the tap's PYTHONPATH.

    An installed (or editable) tap-leads comes later on sys.path, so this copy wins; the
    work tree is never touched."""
    target = into / "tap-source"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "--", "tap_leads"],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True, timeout=60)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(target), os.environ.get("PYTHONPATH")])
    )
    return target


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tap_dir = tempfile.TemporaryDirectory(prefix="tap-leads-source-")
    if args.tap_rev:
        Where.tap_root = export_tap(args.tap_rev, Path(tap_dir.name))
    # The clients compile their modules once, as an installed package has them compiled:
    # with PYTHONDONTWRITEBYTECODE every run would compile the tap's sources again.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    # SIGTERM (e.g. from timeout(1)) unwinds like Ctrl-C, so the emulator is stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started_at = datetime.now(UTC)
    started = time.monotonic()
    load_start = os.getloadavg()[0]
    tap_source = tap_fingerprint()
    found_versions = versions()
    scenarios = tuple(s for s in SCENARIOS if not args.only or s in args.only)
    with tempfile.TemporaryDirectory(prefix="tap-leads-bench-") as workdir:
        plan = Plan(
            sizes=QUICK if args.quick else FULL,
            runs=args.runs,
            stock_runs=max(0, args.stock_runs),
            scenarios=scenarios,
            run_timeout=args.run_timeout,
            deadline=Deadline(args.max_minutes),
            workdir=Path(workdir),
        )
        say(
            f"Benchmarking tap-leads: {'quick' if args.quick else 'full'} sizes, "
            f"{plan.runs} run(s), scenarios {', '.join(scenarios)}"
        )
        runs = execute(plan)
    rows = summarize(runs)
    found = checks(rows, plan)
    info = informational(rows, plan)
    context = {
        "machine": machine(),
        "versions": found_versions,
        "tap_source_sha256": tap_source,
        "tap_rev": args.tap_rev,
        "load_average": (load_start, os.getloadavg()[0]),
        "notes": notes(plan, runs),
    }
    sources = {run.tap_source for run in runs if run.tap_source} | {tap_source}
    if tap_fingerprint() != tap_source or len(sources) > 1:
        context["notes"].append(
            "tap_leads/ changed while the benchmark ran, so its runs may mix versions "
            "(each run's tap_source in the JSON tells which): rerun it on a quiet tree."
        )
    elapsed = time.monotonic() - started
    context["notes"].append(f"the benchmark took {elapsed / 60:.1f} min.")
    text = report(plan, rows, found, info, context)
    say(text)
    for run in runs:
        if not run.ok:
            warm = " (warm-up)" if run.warm_up else ""
            say(f"\nfailed{warm}: {run.case} {LABELS[run.client]}: {run.error}")
            say("\n".join(f"  | {line}" for line in run.stderr_tail))
    results = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "command": ["scripts/benchmark", *(sys.argv[1:] if argv is None else argv)],
        "settings": {
            "quick": args.quick,
            "sizes": asdict(plan.sizes),
            "runs": plan.runs,
            "page_sizes": PAGE_SIZES,
            "pool": POOL,
            "scenarios": list(scenarios),
            "stock_runs": min(plan.stock_runs, plan.runs),
        },
        "skipped": plan.skipped,
        **context,
        "summary": [asdict(row) for row in rows],
        "checks": [asdict(check) for check in found],
        "informational": dict(info),
        "runs": [{**asdict(run), "cpu_s": run.cpu_s} for run in runs],
        "report": text.strip().splitlines(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    say(f"\nresults: {args.output}")
    tap_dir.cleanup()
    if any(not run.ok for run in runs if not run.warm_up):
        return 1
    if args.strict and any(check.result == "FAIL" for check in found):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

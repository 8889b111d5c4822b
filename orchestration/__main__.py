"""Run the shards job, or re-execute a failed run's failed shards, from the command line.

    python -m orchestration run [--shards N]   # merge states, then N shards in parallel
    python -m orchestration retry RUN_ID       # only the shards that failed in RUN_ID

Both use the Dagster instance in DAGSTER_HOME (default: .dagster in the current directory)
and print one JSON line: the run id, whether it succeeded, the steps that failed and, for
each, why (the shard's own error lines); each failed step's reason also goes to stderr.
Exit 0 when the run succeeded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from dagster import (
    DagsterEvent,
    DagsterInstance,
    DagsterRunStatus,
    ReexecutionOptions,
    execute_job,
    reconstructable,
)

from orchestration.definitions import tap_leads_shards


def why_failed(event: DagsterEvent) -> str:
    """A failed step's own message: the shard's error lines, or the exception's."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    if data.error is not None:
        return data.error.message.strip()
    return "(no message)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="merge the shard states, then run every shard")
    run.add_argument("--shards", type=int, help="N, the number of shards (LEADS_ORCH_SHARDS)")
    retry = commands.add_parser("retry", help="re-execute only the failed shards of a run")
    retry.add_argument("run_id")
    args = parser.parse_args(argv)

    if args.command == "run" and args.shards is not None and args.shards < 1:
        parser.error(f"--shards must be 1 or more, got {args.shards}")
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").touch()  # an instance with the default settings, said so
    instance = DagsterInstance.get()
    job = reconstructable(tap_leads_shards)
    if args.command == "run":
        config = {}
        if args.shards is not None:
            config = {"resources": {"meltano": {"config": {"shards": args.shards}}}}
        result = execute_job(job, instance=instance, run_config=config)
    else:
        parent = instance.get_run_by_id(args.run_id)
        if parent is None:
            print(f"orchestration: no run {args.run_id} in DAGSTER_HOME={home}", file=sys.stderr)
            return 1
        if parent.status != DagsterRunStatus.FAILURE:
            print(
                f"orchestration: run {args.run_id} is {parent.status.value}, not failed: "
                "nothing to retry",
                file=sys.stderr,
            )
            return 1
        options = ReexecutionOptions.from_failure(args.run_id, instance)
        result = execute_job(job, instance=instance, reexecution_options=options)
    errors = {
        event.step_key: why_failed(event)
        for event in result.get_step_failure_events()
        if event.step_key
    }
    for step_key, why in sorted(errors.items()):
        print(f"orchestration: {step_key} failed: {why}", file=sys.stderr)
    outcome = {"run_id": result.run_id, "success": result.success, "failed": sorted(errors)}
    print(json.dumps({**outcome, "errors": dict(sorted(errors.items()))}))
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())

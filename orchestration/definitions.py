"""Dagster code location: tap-leads shards of one Meltano project, side by side.

    dagster dev -m orchestration.definitions           # the UI, from the repository root
    python -m orchestration run --shards 4             # one run from the command line

The job `tap_leads_shards` first merges every shard's Meltano state, gives each shard of
this run the merged state and has the loader create its tables alone, since N loaders
creating the same tables at once race (`merge_shard_states`, `loader_tables`), then runs
one step per shard K of N (`run_shard`):
`meltano run --state-id-suffix shard-K-of-N tap-leads <target>` with TAP_LEADS_SHARD=K/N.
The steps run in parallel under the multiprocess executor, at most `max_concurrent` at a
time. A failed shard fails its own step only; the other shards commit their state, and a
re-execution "from failure" runs that shard alone, from its last committed STATE.

Settings come from the resource `meltano` in the run config, or from the environment:

| variable | default | meaning |
|---|---|---|
| LEADS_ORCH_SHARDS | 4 | N, the number of shards |
| LEADS_ORCH_MAX_CONCURRENT | 4 | shards running at a time (the executor's max_concurrent) |
| LEADS_ORCH_RETRIES | 0 | automatic retries of a failed shard (after 30 s) |
| LEADS_ORCH_PROJECT | orchestration/demo | the Meltano project |
| LEADS_ORCH_TARGET | target-postgres | the loader |
| LEADS_ORCH_ENVIRONMENT | dev | the Meltano environment |
| LEADS_ORCH_MELTANO | meltano on PATH | the meltano executable |
| LEADS_ORCH_PLUGINS | <project>/.meltano | where the installed extractors/, loaders/ are |
| LEADS_ORCH_CRON | 0 * * * * | the schedule (stopped until turned on in the UI) |
| LEADS_ORCH_WORK_DIR | <project>/.meltano/shards | each shard's Meltano run directory and log |

State lives wherever the project's Meltano settings put it (a PostgreSQL system database
in MELTANO_DATABASE_URI, or MELTANO_STATE_BACKEND_URI=s3://...), reached by every shard.
"""

import os
import shutil
from pathlib import Path

from dagster import (
    Backoff,
    ConfigurableResource,
    DefaultScheduleStatus,
    Definitions,
    DynamicOut,
    DynamicOutput,
    Failure,
    MetadataValue,
    OpExecutionContext,
    RetryPolicy,
    ScheduleDefinition,
    job,
    multiprocess_executor,
    op,
)

from orchestration.loader_tables import LoaderTables
from orchestration.meltano_state import MeltanoState, accounts_in, shard_suffix
from orchestration.shard_run import ShardRun

REPO = Path(__file__).resolve().parent.parent
EXTRACTOR = "tap-leads"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _count(name: str, default: int, least: int = 1) -> int:
    value = _env(name, str(default))
    if not value.isdigit() or int(value) < least:
        raise SystemExit(
            f"orchestration: {name} must be a whole number of {least} or more, got {value!r}"
        )
    return int(value)


class MeltanoShards(ConfigurableResource):
    """Where the shards run: the Meltano project, the loader and the number of shards."""

    shards: int = _count("LEADS_ORCH_SHARDS", 4)
    project: str = _env("LEADS_ORCH_PROJECT", str(REPO / "orchestration" / "demo"))
    target: str = _env("LEADS_ORCH_TARGET", "target-postgres")
    environment: str = _env("LEADS_ORCH_ENVIRONMENT", "dev")
    meltano: str = _env("LEADS_ORCH_MELTANO", shutil.which("meltano") or "meltano")
    plugins: str = _env("LEADS_ORCH_PLUGINS", "")
    work_dir: str = _env("LEADS_ORCH_WORK_DIR", "")

    def problem(self) -> str | None:
        """What keeps the shards from running, in one line naming the setting; None if nothing."""
        if self.shards < 1:
            return f"shards (LEADS_ORCH_SHARDS) must be 1 or more, got {self.shards}"
        if not (Path(self.project) / "meltano.yml").is_file():
            return f"no meltano.yml in {self.project}: set LEADS_ORCH_PROJECT to a Meltano project"
        if shutil.which(self.meltano) is None:
            return f"meltano not found at {self.meltano!r}: set LEADS_ORCH_MELTANO"
        for kind, plugin in (("extractors", EXTRACTOR), ("loaders", self.target)):
            if not (self.plugins_dir() / kind / plugin).is_dir():
                return (
                    f"{plugin} is not installed in {self.plugins_dir()}: run `meltano install` "
                    "in the project, or set LEADS_ORCH_PLUGINS to where it is installed"
                )
        return None

    def run_dir(self) -> Path:
        return Path(self.work_dir or Path(self.project) / ".meltano" / "shards")

    def plugins_dir(self) -> Path:
        return Path(self.plugins or Path(self.project) / ".meltano")

    def state(self) -> MeltanoState:
        env = {**os.environ, **self.sys_dir_env(self.run_dir() / "state")}
        return MeltanoState(
            self.meltano, Path(self.project), self.environment, EXTRACTOR, self.target, env
        )

    def sys_dir_env(self, where: Path) -> dict[str, str]:
        """A Meltano system directory of its own (Meltano writes each plugin's config and
        state to fixed paths in it) sharing the installed plugins."""
        sys_dir = where / ".meltano"
        sys_dir.mkdir(parents=True, exist_ok=True)
        for kind in ("extractors", "loaders"):
            link = sys_dir / kind
            if not link.exists():
                link.symlink_to(self.plugins_dir() / kind, target_is_directory=True)
        return {"MELTANO_SYS_DIR_ROOT": str(sys_dir)}


@op(
    out=DynamicOut(int),
    description="Merge every shard's state, give each shard of this run the merged state, "
    "create the loader's tables, then hand out one output per shard K of N.",
)
def merge_shard_states(context: OpExecutionContext, meltano: MeltanoShards):  # noqa: ANN201
    count = meltano.shards
    problem = meltano.problem()
    if problem is not None:
        raise Failure(problem)
    # First a single Meltano process: it brings a new system database up to date, which
    # two Meltano processes starting together on it would race to do.
    plan = meltano.state().reshard(count)
    tables = LoaderTables(
        meltano=meltano.meltano,
        project=Path(meltano.project),
        environment=meltano.environment,
        target=meltano.target,
        log=meltano.run_dir() / "tables" / f"{context.run_id}.log",
        env={**os.environ, **meltano.sys_dir_env(meltano.run_dir() / "tables")},
    )
    made = tables.execute()
    if made.returncode != 0:
        raise Failure(
            f"{meltano.target} could not create its tables (exit {made.returncode}): "
            f"{made.summary}",
            metadata={"log": MetadataValue.path(str(tables.log))},
        )
    context.log.info(f"{meltano.target} tables in place ({made.seconds:.1f} s)")
    context.log.info(
        f"merged {accounts_in(plan.merged)} account entries for {count} shard(s); "
        f"cleared {len(plan.clears)} other shard state(s)"
    )
    for index in range(count):
        yield DynamicOutput(index, mapping_key=shard_suffix(index, count).replace("-", "_"))


@op(
    description="`meltano run tap-leads <target>` for shard K of N, with its own state id.",
    retry_policy=RetryPolicy(
        max_retries=_count("LEADS_ORCH_RETRIES", 0, least=0), delay=30, backoff=Backoff.LINEAR
    ),
)
def run_shard(context: OpExecutionContext, meltano: MeltanoShards, index: int) -> dict:
    count = meltano.shards
    suffix = shard_suffix(index, count)
    where = meltano.run_dir() / suffix
    run = ShardRun(
        meltano=meltano.meltano,
        project=Path(meltano.project),
        environment=meltano.environment,
        target=meltano.target,
        index=index,
        count=count,
        env={**os.environ, **meltano.sys_dir_env(where)},
        log=where / f"{context.run_id}-{context.retry_number}.log",
    )
    context.log.info(f"shard {index}/{count}: {' '.join(run.command)}")
    result = run.execute()
    metadata = {
        "seconds": round(result.seconds, 1),
        "log": MetadataValue.path(str(run.log)),
        "last lines": MetadataValue.text("\n".join(result.tail)),
    }
    if result.returncode != 0:
        raise Failure(
            f"shard {index}/{count} failed (exit {result.returncode}): {result.summary}",
            metadata=metadata,
        )
    context.add_output_metadata(metadata)
    return {"shard": suffix, "seconds": result.seconds}


@job(
    resource_defs={"meltano": MeltanoShards()},
    # Two runs at once would merge and write the same state ids: with the daemon's run queue,
    # `tag_concurrency_limits: [{key: tap-leads/state, limit: 1}]` in dagster.yaml keeps one.
    tags={"tap-leads/state": "shards"},
    executor_def=multiprocess_executor.configured(
        {
            "max_concurrent": _count("LEADS_ORCH_MAX_CONCURRENT", 4),
            # Each step's process forks from one that has Dagster and this module loaded
            # already, instead of importing them again per shard.
            "start_method": {"forkserver": {"preload_modules": [__name__]}},
        }
    ),
    description="tap-leads in N shards, each its own `meltano run`, from merged shard states.",
)
def tap_leads_shards() -> None:
    merge_shard_states().map(run_shard)


every_hour = ScheduleDefinition(
    name="tap_leads_shards_schedule",
    job=tap_leads_shards,
    cron_schedule=_env("LEADS_ORCH_CRON", "0 * * * *"),
    default_status=DefaultScheduleStatus.STOPPED,
)

defs = Definitions(jobs=[tap_leads_shards], schedules=[every_hour])

"""Meltano's state of the shards: read, merged and written through `meltano state`.

Shard K of N keeps its state under `<environment>:tap-leads-to-<target>:shard-K-of-N`; the
last merge of all of them is kept under `...:shards`. Before the shards run, `reshard`
merges every shard's state (the contract's merge, `state_merge.merge_states`) and gives
each shard of the coming run the merged state, so a change of N starts no account over.
A shard state still equal to the last merge is one whose shard committed nothing since:
it holds copies of other shards' accounts and is left out of the merge.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.state_merge import MELTANO_KEY, State, merge_states, unwrap

MERGED_SUFFIX = "shards"
# meltano state calls at a time: each is a short process, mostly start-up.
PARALLEL_CALLS = 4


def shard_suffix(index: int, count: int) -> str:
    return f"shard-{index}-of-{count}"


@dataclass(frozen=True)
class Reshard:
    """What one merge writes and clears, given the states found."""

    merged: State
    writes: dict[str, State]
    clears: list[str]


def plan_reshard(states: Mapping[str, State], prefix: str, count: int) -> Reshard:
    """Merge the shard states under `prefix` and plan the writes for `count` shards."""
    merged_id = f"{prefix}:{MERGED_SUFFIX}"
    last = states.get(merged_id)
    fresh = [
        state
        for state_id, state in sorted(states.items())
        if state_id != merged_id and state != last
    ]
    merged = merge_states([last or {}, *fresh])
    if not merged:  # a first run: nothing to give the shards
        return Reshard(merged, {}, [])
    writes = {merged_id: merged}
    writes.update({f"{prefix}:{shard_suffix(k, count)}": merged for k in range(count)})
    return Reshard(
        merged, writes, sorted(state_id for state_id in states if state_id not in writes)
    )


@dataclass
class MeltanoState:
    """`meltano state` calls on one project, environment and pipeline."""

    meltano: str
    project: Path
    environment: str
    extractor: str
    loader: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"{self.environment}:{self.extractor}-to-{self.loader}"

    def _call(self, *args: str) -> str:
        command = [self.meltano, "--environment", self.environment, "state", *args]
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=self.project, env=self.env, check=False
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise RuntimeError(f"meltano state {args[0]} failed (exit {done.returncode}): {last}")
        return done.stdout

    def list(self) -> list[str]:
        """Every state id of the shards of this pipeline, the last merge's included."""
        output = self._call("list", "--pattern", f"{self.prefix}:shard*")
        return sorted(
            {line.strip() for line in output.splitlines() if line.startswith(self.prefix)}
        )

    def get(self, state_id: str) -> State:
        output = self._call("get", state_id).strip()
        return unwrap(json.loads(output)) if output else {}

    def set(self, state_id: str, state: State) -> None:
        self._call("set", "--force", state_id, json.dumps({MELTANO_KEY: state}))

    def clear(self, state_id: str) -> None:
        self._call("clear", "--force", state_id)

    def reshard(self, count: int) -> Reshard:
        """Merge every shard's state and give each of `count` shards the merged state."""
        with ThreadPoolExecutor(PARALLEL_CALLS) as pool:
            ids = self.list()
            states = dict(zip(ids, pool.map(self.get, ids), strict=True))
            plan = plan_reshard(states, self.prefix, count)
            list(pool.map(lambda item: self.set(*item), plan.writes.items()))
            list(pool.map(self.clear, plan.clears))
        return plan


def accounts_in(state: State) -> int:
    """Partition entries (accounts, or Teli organisations) in a state, over every stream."""
    bookmarks = state.get("bookmarks")
    if not isinstance(bookmarks, dict):
        return 0
    return sum(len(b.get("partitions") or []) for b in bookmarks.values() if isinstance(b, dict))

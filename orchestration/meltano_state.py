"""Meltano's state of the shards: read, merged and written back through `meltano state`.

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
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.state_merge import MELTANO_KEY, State, merge_states, unwrap

MERGED_SUFFIX = "shards"


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
    # The ids of other shard counts are emptied (those emptied before stay as they are).
    stale = [state_id for state_id, state in states.items() if state and state_id not in writes]
    return Reshard(merged, writes, sorted(stale))


def effective(entry: State) -> State:
    """The Singer state a run starts from, given an exported `{"completed", "partial"}`:
    Meltano lays the partial state of a failed run over the completed one (objects deeply,
    any other value, lists included, replaced)."""

    def lay(update: State, base: State) -> State:
        result = dict(base)
        for key, value in update.items():
            old = result.get(key)
            result[key] = (
                lay(value, old if isinstance(old, dict) else {})
                if isinstance(value, dict)
                else value
            )
        return result

    return unwrap(lay(entry.get("partial") or {}, entry.get("completed") or {}))


@dataclass
class MeltanoState:
    """`meltano state export` and `import` on one project, environment and pipeline: two
    short Meltano processes per merge, whatever the number of shards."""

    meltano: str
    project: Path
    environment: str
    extractor: str
    loader: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"{self.environment}:{self.extractor}-to-{self.loader}"

    def _call(self, *args: str, stdin: str | None = None) -> str:
        command = [self.meltano, "--environment", self.environment, "state", *args]
        done = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.project,
            env=self.env,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise RuntimeError(f"meltano state {args[0]} failed (exit {done.returncode}): {last}")
        return done.stdout

    def shard_states(self) -> dict[str, State]:
        """Every state of the shards of this pipeline, the last merge's included."""
        exported = json.loads(self._call("export").strip() or "{}")
        mine = f"{self.prefix}:shard"
        return {
            state_id: effective(entry)
            for state_id, entry in exported.items()
            if state_id.startswith(mine)
        }

    def write(self, states: dict[str, State]) -> None:
        """Replace these states (completed, with no partial state); {} clears one."""
        document = {
            state_id: {"completed": {MELTANO_KEY: state} if state else {}, "partial": {}}
            for state_id, state in states.items()
        }
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as file:
            json.dump(document, file)
            file.flush()
            self._call("import", file.name)

    def reshard(self, count: int) -> Reshard:
        """Merge every shard's state and give each of `count` shards the merged state."""
        plan = plan_reshard(self.shard_states(), self.prefix, count)
        if plan.writes or plan.clears:
            self.write({**{state_id: {} for state_id in plan.clears}, **plan.writes})
        return plan


def accounts_in(state: State) -> int:
    """Partition entries (accounts, or Teli organisations) in a state, over every stream."""
    bookmarks = state.get("bookmarks")
    if not isinstance(bookmarks, dict):
        return 0
    return sum(len(b.get("partitions") or []) for b in bookmarks.values() if isinstance(b, dict))

"""Merge the final states of several tap-leads runs (shards) into one, as the contract says.

Objects merge deeply; a `partitions` list is concatenated with one entry per `context`, the
later state's entry winning; any other value, lists included, is replaced by the later
state's. Pure Python, no dependency: run it wherever the states are.

    python -m orchestration.state_merge shard-0.json shard-1.json > merged.json

Each file holds a Singer state, or Meltano's form of it (`{"singer_state": {...}}`, as
`meltano state get` prints it); the output has the first file's form.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing as t
from collections.abc import Iterable
from pathlib import Path

State = dict[str, t.Any]
MELTANO_KEY = "singer_state"


def merge_states(states: Iterable[State]) -> State:
    """One state from several, later ones winning; the inputs are left unchanged."""
    merged: State = {}
    for state in states:
        merged = _merge_objects(merged, state)
    return merged


def _merge_objects(base: State, update: State) -> State:
    result = dict(base)
    for key, value in update.items():
        old = result.get(key)
        if key == "partitions" and isinstance(old, list) and isinstance(value, list):
            result[key] = _merge_partitions(old, value)
        elif isinstance(old, dict) and isinstance(value, dict):
            result[key] = _merge_objects(old, value)
        else:
            result[key] = _copy(value)
    return result


def _merge_partitions(base: list[t.Any], update: list[t.Any]) -> list[t.Any]:
    """One entry per context, in first-seen order; the later entry replaces the earlier."""
    merged: dict[str, t.Any] = {}
    for entry in [*base, *update]:
        merged[_context_key(entry)] = _copy(entry)
    return list(merged.values())


def _context_key(entry: t.Any) -> str:
    context = entry.get("context") if isinstance(entry, dict) else entry
    return json.dumps(context, sort_keys=True, separators=(",", ":"))


def _copy(value: t.Any) -> t.Any:
    return json.loads(json.dumps(value))


def unwrap(document: State) -> State:
    """The Singer state of a document that may be in Meltano's form."""
    if set(document) == {MELTANO_KEY} and isinstance(document[MELTANO_KEY], dict):
        return document[MELTANO_KEY]
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.state_merge",
        description="Merge tap-leads shard states: objects deeply, `partitions` lists by "
        "context (the later file's entry wins). Prints the merged state.",
    )
    parser.add_argument("files", nargs="+", type=Path, help="state files, earliest first")
    args = parser.parse_args(argv)
    documents = []
    for path in args.files:
        try:
            document = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError) as exc:
            print(f"state_merge: cannot read a state from {path}: {exc}", file=sys.stderr)
            return 1
        if not isinstance(document, dict):
            print(f"state_merge: {path} holds no JSON object", file=sys.stderr)
            return 1
        documents.append(document)
    merged = merge_states(unwrap(document) for document in documents)
    wrapped = documents and set(documents[0]) == {MELTANO_KEY}
    json.dump({MELTANO_KEY: merged} if wrapped else merged, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

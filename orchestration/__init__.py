"""Running tap-leads shards on Dagster, and merging the shards' states (docs/scaling-out.md)."""

"""The provider emulator in a process of its own, for the benchmark.

Usage: python benchmarks/serve_emulator.py SPEC_JSON CONFIG_PATH

SPEC_JSON: {"latency_ms": 50, "leads": {"teli": 20000, ...}, "accounts": {"teli": 100},
"page_cache": false, "timing_log": PATH, "quota": {"flextell": "25/s"}} ("accounts",
"page_cache", "timing_log" and "quota", an enforced quota per provider, optional).
Without the page cache every page is rendered afresh, as a real API does; the timing log
gets each request's start, end and status (emulator/timing.py).

The providers named in "leads" are served at that size (per named account with
"accounts": names teli-000, teli-001, ...), the others with one lead. Once listening, it
writes CONFIG_PATH: {"config": <the tap config of those providers, in the accounts form
with "accounts">} or, when this emulator cannot serve several accounts per
provider, {"unsupported": "<why>"} and exits.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator.server import LeadsEmulator
from emulator.store import Dataset
from emulator.timing import TimingLog


def write(path: Path, payload: dict[str, Any]) -> None:
    # Renamed into place: whoever polls for the file never reads half of it.
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(orjson.dumps(payload))
    partial.replace(path)


def accounts_missing(config: dict[str, Any], accounts: dict[str, int]) -> str | None:
    for provider, count in accounts.items():
        listed = (config.get(provider) or {}).get("accounts")
        if not isinstance(listed, list) or len(listed) != count:
            return (
                f"the emulator took accounts= but its tap_config() has no {count}-account "
                f"'accounts' list for {provider}"
            )
    return None


def main() -> int:
    spec = orjson.loads(sys.argv[1])
    config_path = Path(sys.argv[2])
    sizes: dict[str, int] = spec["leads"]
    accounts: dict[str, int] | None = spec.get("accounts")
    options: dict[str, Any] = {"leads_per_provider": 1, "latency_ms": spec["latency_ms"]}
    options["leads"] = sizes
    if accounts:
        # Named accounts only: the default account of each provider stays at one lead, and
        # the accounts form of the config lists only the named ones.
        options["leads"] = dict.fromkeys(sizes, 1)
        options["accounts"] = {
            provider: {f"{provider}-{index:03d}": sizes[provider] for index in range(count)}
            for provider, count in accounts.items()
        }
    try:
        emulator = LeadsEmulator(**options)
    except (TypeError, ValueError) as exc:
        if not accounts:
            raise
        write(config_path, {"unsupported": f"the emulator takes no accounts= yet ({exc})"})
        return 0
    Dataset.page_cache = bool(spec.get("page_cache", True))
    for provider, quota in (spec.get("quota") or {}).items():
        emulator.set_quota(provider, quota)
    timing = TimingLog(Path(spec["timing_log"])) if spec.get("timing_log") else None
    if timing is not None:
        # Before start(): the listener takes the (timed) dispatch function then.
        emulator.dispatch = timing.wrap(emulator.dispatch)
    emulator.start()
    try:
        if accounts:
            config = emulator.tap_config(list(sizes), accounts=True)
        else:
            config = emulator.tap_config(list(sizes))
    except TypeError as exc:
        emulator.stop()
        write(config_path, {"unsupported": f"the emulator has no accounts config yet ({exc})"})
        return 0
    if accounts and (why := accounts_missing(config, accounts)):
        emulator.stop()
        write(config_path, {"unsupported": why})
        return 0
    write(config_path, {"config": config, "url": emulator.url})

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopped.set())
    stopped.wait()
    emulator.stop()
    if timing is not None:
        timing.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""python -m emulator: serve the five providers in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import orjson

from .providers import PROVIDERS
from .server import LeadsEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--leads", type=int, default=1000, help="leads per provider")
    parser.add_argument(
        "--provider-leads",
        action="append",
        default=[],
        metavar="PROVIDER=N",
        help="a different size for one provider, e.g. autocalls=100000 (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--write-config", type=Path, metavar="PATH", help="also write the config")
    args = parser.parse_args(argv)

    sizes = {}
    for item in args.provider_leads:
        name, _, count = item.partition("=")
        if name not in PROVIDERS or not count.isdigit():
            parser.error(f"--provider-leads wants PROVIDER=N with PROVIDER in {list(PROVIDERS)}")
        sizes[name] = int(count)

    emulator = LeadsEmulator(
        leads_per_provider=args.leads,
        seed=args.seed,
        latency_ms=args.latency_ms,
        leads=sizes,
        host=args.host,
        port=args.port,
    ).start()
    config = orjson.dumps(emulator.tap_config(), option=orjson.OPT_INDENT_2).decode()
    if args.write_config:
        # Written once the port listens, and renamed into place: whoever polls for the file
        # never reads half of it, and can connect as soon as it exists.
        partial = args.write_config.with_name(args.write_config.name + ".partial")
        partial.write_text(config + "\n")
        partial.replace(args.write_config)
    print(f"Leads emulator listening on {emulator.url}", flush=True)
    print(config, flush=True)

    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stopped.wait()
    emulator.stop()
    print("Leads emulator stopped.", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

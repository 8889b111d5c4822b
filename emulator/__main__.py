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
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="PROVIDER=NAME[:N]",
        help="a named account beside the default one, with N leads, e.g. sela=acme:500 "
        "(repeatable); a Teli account's key sees one organisation",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--write-config", type=Path, metavar="PATH", help="also write the config")
    parser.add_argument(
        "--write-accounts-config",
        type=Path,
        metavar="PATH",
        help="also write the config in the accounts form",
    )
    args = parser.parse_args(argv)

    sizes = {}
    for item in args.provider_leads:
        name, _, count = item.partition("=")
        if name not in PROVIDERS or not count.isdigit():
            parser.error(f"--provider-leads wants PROVIDER=N with PROVIDER in {list(PROVIDERS)}")
        sizes[name] = int(count)
    accounts: dict[str, dict[str, int | None]] = {}
    for item in args.account:
        name, _, account = item.partition("=")
        account, _, count = account.partition(":")
        if name not in PROVIDERS or not account or (count and not count.isdigit()):
            parser.error(f"--account wants PROVIDER=NAME[:N] with PROVIDER in {list(PROVIDERS)}")
        accounts.setdefault(name, {})[account] = int(count) if count else None

    emulator = LeadsEmulator(
        leads_per_provider=args.leads,
        seed=args.seed,
        latency_ms=args.latency_ms,
        leads=sizes,
        host=args.host,
        port=args.port,
        accounts=accounts,
    ).start()
    config = orjson.dumps(emulator.tap_config(), option=orjson.OPT_INDENT_2).decode()
    if args.write_accounts_config:
        # Before the plain config, whose appearance tells a poller that everything is ready.
        partial = args.write_accounts_config.with_name(args.write_accounts_config.name + ".partial")
        partial.write_bytes(orjson.dumps(emulator.accounts_config(), option=orjson.OPT_INDENT_2))
        partial.replace(args.write_accounts_config)
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

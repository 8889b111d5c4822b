"""python -m emulator: serve the five providers in the foreground until Ctrl-C or SIGTERM.

The data is healthy by default; --fault switches on a provider's documented quirk or a
failure, on every request (e.g. sela=malformed_next_call_time, autocalls=string_ids), and
--quota enforces a request quota where the provider announces one (flextell=25/s)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import orjson

from .faults import KINDS
from .providers import APIS, PROVIDERS
from .quota import DEFAULT_QUOTA, parse_quota
from .server import LeadsEmulator

#: The providers whose docs announce a quota on every answer.
ANNOUNCING = [name for name, api in APIS.items() if api.announces_quota]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description=__doc__,
        epilog="Stop it with Ctrl-C, or with kill PID when started in the background (&).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port to listen on (8765); 0 picks a free one"
    )
    parser.add_argument("--leads", type=int, default=1000, help="leads per provider (1000)")
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
    parser.add_argument(
        "--seed", type=int, default=7, help="seed of the generated leads and credentials (7)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0, help="delay added to every answer, in ms (0)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="PROVIDER=KIND",
        help=f"switch a fault on for every request (repeatable); KIND is one of {sorted(KINDS)}",
    )
    parser.add_argument(
        "--quota",
        action="append",
        default=[],
        metavar="PROVIDER=N/WINDOW",
        help="enforce a request quota on each account of PROVIDER, e.g. flextell=25/s "
        "(WINDOW: s, min, h or <seconds>s; repeatable): every answer announces it in "
        "X-RateLimit-Limit, -Remaining and -Reset (Unix time), and a request past it is "
        "answered 429 with Retry-After until the window resets. Only for providers whose "
        f"docs announce these headers ({', '.join(ANNOUNCING)}); without it they announce "
        f"{DEFAULT_QUOTA} and do not enforce it",
    )
    parser.add_argument(
        "--write-config",
        type=Path,
        metavar="PATH",
        help="also write the tap config (one block per provider) to PATH",
    )
    parser.add_argument(
        "--write-accounts-config",
        type=Path,
        metavar="PATH",
        help="also write the tap config in the accounts form: every provider's default "
        "account and its --account accounts",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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

    faults = []
    for item in args.fault:
        name, _, kind = item.partition("=")
        if name not in PROVIDERS or kind not in KINDS or name not in KINDS[kind][1]:
            parser.error(f"--fault wants PROVIDER=KIND, a kind that applies to PROVIDER: {item!r}")
        faults.append((name, kind))

    quotas = []
    for item in args.quota:
        name, _, spec = item.partition("=")
        if name not in ANNOUNCING:
            parser.error(f"--quota wants PROVIDER=N/WINDOW with PROVIDER in {ANNOUNCING}: {item!r}")
        try:
            parse_quota(spec)
        except ValueError as exc:
            parser.error(f"--quota {item!r}: {exc}")
        quotas.append((name, spec))

    emulator = LeadsEmulator(
        leads_per_provider=args.leads,
        seed=args.seed,
        latency_ms=args.latency_ms,
        leads=sizes,
        host=args.host,
        port=args.port,
        accounts=accounts,
    ).start()
    for name, kind in faults:
        emulator.faults(name).add(kind, times=None)
    for name, spec in quotas:
        emulator.set_quota(name, spec)
    config = orjson.dumps(emulator.tap_config(), option=orjson.OPT_INDENT_2).decode()
    if args.write_accounts_config:
        # Before the plain config, whose appearance tells a poller that everything is ready.
        partial = args.write_accounts_config.with_name(args.write_accounts_config.name + ".partial")
        accounts = emulator.accounts_config(include_default=True)
        partial.write_bytes(orjson.dumps(accounts, option=orjson.OPT_INDENT_2))
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

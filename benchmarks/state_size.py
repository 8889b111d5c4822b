"""What membership costs in the Singer state: bytes per lead and STATE bytes per run.

    .venv/bin/python benchmarks/state_size.py            # 100,000 leads; 2,000 accounts
    .venv/bin/python benchmarks/state_size.py --leads 20000 --accounts 200

First, in this process, the CPU of membership itself at --leads keys of each id kind
(random ids, the hardest to compress): the ledger taking every key as a walk does, the
encoding of its snapshot, and the decoding, with the bytes per lead. Then, for 100,000
leads of one list (integer ids: Autocalls; string ids: Teli's unique_id and Nexus ERP's
ObjectIds, as the emulator makes them) it prints the final state's size and its bytes per
lead. For 2,000 accounts it prints, for a first run and for the run after it, the final
state's size and the bytes of every STATE message the run wrote together. Runs the real tap
against the emulator, over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from emulator import LeadsEmulator  # noqa: E402
from tap_leads.replication.membership import KeyLedger, decode, encode  # noqa: E402

ID_KINDS = {
    "integer": lambda rng, n: rng.randrange(1, 3 * n),
    "ObjectId": lambda rng, n: (
        f"{1_700_000_000 + rng.randrange(10**7):08x}{rng.getrandbits(64):016x}"
    ),
    "Teli unique_id": lambda rng, n: (
        f"{1_700_000_000_000 + rng.randrange(10**10)}x{10**17 + rng.randrange(9 * 10**17)}"
    ),
}


def codec_cpu(leads: int, rounds: int = 3) -> None:
    """The best of a few rounds of the ledger, encode and decode, in CPU seconds."""
    for kind, make in ID_KINDS.items():
        rng = random.Random(5)
        keys = [make(rng, leads) for _ in range(leads)]
        best = [float("inf")] * 3
        for _ in range(rounds):
            start = time.process_time()
            ledger = KeyLedger()
            for key in keys:
                ledger.first_time(key)
            walked = time.process_time()
            stored = encode(ledger.snapshot())
            encoded = time.process_time()
            back = decode(stored)
            decoded = time.process_time()
            best = [
                min(a, b)
                for a, b in zip(
                    best, (walked - start, encoded - walked, decoded - encoded), strict=True
                )
            ]
        assert len(back) == ledger.count
        print(
            f"{kind:<15} {ledger.count:>7} keys: ledger {best[0] * 1000:6.1f} ms, encode "
            f"{best[1] * 1000:6.1f} ms, decode {best[2] * 1000:6.1f} ms CPU; "
            f"{len(stored):>9,} bytes = {len(stored) / ledger.count:5.2f} bytes per lead"
        )


def run_tap(config: dict, state: dict | None, workdir: Path) -> tuple[dict, int]:
    """The final state of one run, and the bytes of all its STATE messages together."""
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(config))
    command = [sys.executable, "-m", "tap_leads", "--config", str(config_path)]
    if state is not None:
        state_path = workdir / "state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    final, total = None, 0
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as tap:
        assert tap.stdout is not None
        for line in tap.stdout:
            if line.startswith(b'{"type":"STATE"'):
                message = json.loads(line)
                total += len(json.dumps(message["value"], separators=(",", ":")))
                final = message["value"]
    if tap.returncode != 0 or final is None:
        raise SystemExit(f"tap-leads exited {tap.returncode}")
    return final, total


def size(state: dict) -> int:
    return len(json.dumps(state, separators=(",", ":")))


def one_list(provider: str, leads: int, workdir: Path) -> None:
    with LeadsEmulator(leads_per_provider=0, accounts={provider: {"big": leads}}) as emu:
        config = emu.accounts_config([provider])
        final, _ = run_tap(config, None, workdir)
        (entry,) = final["bookmarks"][f"{provider}_leads"]["partitions"]
        ids = len(entry["membership"]["ids"])
        print(
            f"{provider:<10} {leads:>7} leads: final state {size(final):>9,} bytes, "
            f"membership {ids:>9,} bytes = {ids / leads:5.2f} bytes per lead"
        )


def many_accounts(accounts: int, leads: int, workdir: Path) -> None:
    names = {f"client-{n:04d}": leads for n in range(accounts)}
    with LeadsEmulator(leads_per_provider=0, accounts={"autocalls": names}) as emu:
        config = emu.accounts_config(["autocalls"])
        state = None
        for label in ("first run", "next run"):
            state, total = run_tap(config, state, workdir)
            print(
                f"{accounts} accounts x {leads} leads, {label}: final state "
                f"{size(state):>10,} bytes; all STATE messages {total:>10,} bytes "
                f"= {total / size(state):4.2f}x the final state"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--leads-per-account", type=int, default=25)
    args = parser.parse_args()
    codec_cpu(args.leads)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for provider in ("autocalls", "teli", "nexus_erp"):
            one_list(provider, args.leads, workdir)
        many_accounts(args.accounts, args.leads_per_account, workdir)


if __name__ == "__main__":
    main()

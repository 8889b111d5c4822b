"""What membership costs in the Singer state: bytes per lead and STATE bytes per run.

    .venv/bin/python benchmarks/state_size.py            # 100,000 leads; 2,000 accounts
    .venv/bin/python benchmarks/state_size.py --leads 20000 --accounts 200

For 100,000 leads of one list (integer ids: Autocalls; string ids: Teli's unique_id and
Nexus ERP's ObjectIds) it prints the final state's size and its bytes per lead. For 2,000
accounts it prints, for a first run and for the run after it, the final state's size and
the bytes of every STATE message the run wrote together. Runs the real tap against the
emulator, over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from emulator import LeadsEmulator  # noqa: E402


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
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for provider in ("autocalls", "teli", "nexus_erp"):
            one_list(provider, args.leads, workdir)
        many_accounts(args.accounts, args.leads_per_account, workdir)


if __name__ == "__main__":
    main()

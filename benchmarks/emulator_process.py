"""The provider emulator in a process of its own, and the log of the requests it answered."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from common import BENCH, PAGE_SIZES, ROOT, Case, Deadline, Unsupported

EMULATOR_START_SECONDS = 300


class Emulator:
    """The provider emulator in its own process (its CPU is never the client's)."""

    def __init__(self, case: Case, workdir: Path) -> None:
        self.case = case
        self.workdir = workdir
        self.config_path = workdir / f"emulator-{case.key}.json"
        self.log_path = workdir / f"emulator-{case.key}.log"
        #: Each request's start and end, as the emulator answered it (emulator/timing.py).
        self.timing_path = workdir / f"requests-{case.key}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.config: dict[str, Any] = {}

    def start(self, deadline: Deadline) -> Emulator:
        spec: dict[str, Any] = {"latency_ms": self.case.latency_ms, "leads": self.case.leads}
        spec["page_cache"] = self.case.page_cache
        spec["timing_log"] = str(self.timing_path)
        if self.case.accounts:
            spec["accounts"] = self.case.accounts
        if self.case.quota:
            spec["quota"] = self.case.quota
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(BENCH / "serve_emulator.py"),
                orjson.dumps(spec).decode(),
                str(self.config_path),
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        give_up = time.monotonic() + deadline.bound(EMULATOR_START_SECONDS)
        while time.monotonic() < give_up:
            with contextlib.suppress(OSError, ValueError):
                written = orjson.loads(self.config_path.read_bytes())
                if "unsupported" in written:
                    raise Unsupported(written["unsupported"])
                self.config = written["config"]
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited at start:\n{self._log_tail()}")
            time.sleep(0.1)
        raise TimeoutError(f"the emulator did not start in {EMULATOR_START_SECONDS} s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        return ""

    def cpu_seconds(self) -> float | None:
        """CPU time the emulator has used so far, from /proc (None where there is none)."""
        if self.process is None:
            return None
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        # Fields 14 and 15 of stat(5) (utime, stime), counted after the ")" of the name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def write_client_configs(self) -> tuple[Path, Path | None]:
        """The tap's config (also the raw clients'), and the stock tap's flat Teli one."""
        config = {}
        for provider in self.case.leads:
            config[provider] = {**self.config[provider], "page_size": PAGE_SIZES[provider]}
        tap_config = self.workdir / f"tap-{self.case.key}.json"
        tap_config.write_bytes(orjson.dumps(config))
        stock_config = None
        if "teli" in config and "accounts" not in config["teli"]:
            stock_config = self.workdir / f"stock-{self.case.key}.json"
            stock_config.write_bytes(orjson.dumps(config["teli"]))
        return tap_config, stock_config

    def log_offset(self) -> int:
        """Where the next request's line will start in the timing log."""
        try:
            return self.timing_path.stat().st_size
        except OSError:
            return 0

    def spans(self, start: int, end: int | None = None) -> list[tuple[float, float]]:
        """(start, end) of each request logged between two offsets of the timing log."""
        return [(float(fields[0]), float(fields[1])) for fields in self._logged(start, end)]

    def refused(self, start: int, end: int | None = None) -> int:
        """How many of the requests logged between two offsets were answered 429."""
        return sum(1 for fields in self._logged(start, end) if fields[2] == b"429")

    def _logged(self, start: int, end: int | None) -> list[list[bytes]]:
        """Each line of the timing log between two offsets: start, end, status, path."""
        try:
            with self.timing_path.open("rb") as log:
                log.seek(start)
                data = log.read() if end is None else log.read(end - start)
        except OSError:
            return []
        return [fields for line in data.splitlines() if len(fields := line.split()) >= 3]


def kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def mean_in_flight(spans: list[tuple[float, float]]) -> float | None:
    """Requests in flight on average from the first answer to the last request's start."""
    if len(spans) < 2:
        return None
    first_answer = min(end for _, end in spans)
    last_start = max(start for start, _ in spans)
    if last_start <= first_answer:
        return None
    busy = sum(max(0.0, min(end, last_start) - max(start, first_answer)) for start, end in spans)
    return busy / (last_start - first_answer)

"""One shard's `meltano run`: its command, environment, log and outcome."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

EXTRACTOR = "tap-leads"
TAIL_LINES = 20


@dataclass
class Outcome:
    returncode: int
    seconds: float
    tail: list[str]

    @property
    def summary(self) -> str:
        """The line that says why, when the tap or Meltano wrote one."""
        for line in reversed(self.tail):
            if "failed" in line or "error" in line.lower():
                return line.strip()[-500:]
        return self.tail[-1].strip()[-500:] if self.tail else "(no output)"


@dataclass
class ShardRun:
    meltano: str
    project: Path
    environment: str
    target: str
    index: int
    count: int
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def command(self) -> list[str]:
        return [
            self.meltano,
            "--environment",
            self.environment,
            "run",
            # The plugins are installed beforehand: shards never install side by side.
            "--no-install",
            "--state-id-suffix",
            f"shard-{self.index}-of-{self.count}",
            EXTRACTOR,
            self.target,
        ]

    def execute(self) -> Outcome:
        """Run to the end with the output in the log; a stopped step stops the whole run."""
        env = {**self.env, "TAP_LEADS_SHARD": f"{self.index}/{self.count}"}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.log.open("w", encoding="utf-8") as out:
            process = subprocess.Popen(
                self.command,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.project,
                env=env,
                start_new_session=True,
            )
            try:
                returncode = process.wait()
            except BaseException:
                # Meltano starts the tap and the target as children: end the whole session.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                process.wait()
                raise
        with self.log.open(encoding="utf-8", errors="replace") as lines:
            tail = list(deque(lines, maxlen=TAIL_LINES))
        return Outcome(returncode, time.monotonic() - started, [line.rstrip() for line in tail])

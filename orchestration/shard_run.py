"""One shard's `meltano run`: its command, environment, log and outcome."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

EXTRACTOR = "tap-leads"
TAIL_LINES = 20
# The end of the log searched for the lines that say why a shard failed.
SCANNED_LINES = 400


@dataclass
class Outcome:
    returncode: int
    seconds: float
    tail: list[str]
    #: The tap's, the target's and Meltano's own error lines, oldest first.
    errors: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """Why the shard failed, in the words of the plugin and of Meltano that said so."""
        found = self.errors or [line for line in self.tail[-1:] if line.strip()]
        return " | ".join(line[-500:] for line in found) or "(no output)"


# A Meltano log line: `<timestamp> [<level>] <name> <message>`.
LOG_LINE = re.compile(r"^\S+\s+\[(?P<level>[a-z]+)\s*\]\s+(?P<name>\S+)\s+(?P<message>.*)$")
SAYS_WHY = re.compile(r"fail|error|exception|critical|traceback|timed? ?out", re.IGNORECASE)
# Meltano's closing line says nothing of the cause.
NO_CAUSE = ("Block run completed",)
PLUGIN_ERRORS = 3


def error_lines(lines: list[str]) -> list[str]:
    """The plugins' last few lines that give a cause, then Meltano's error lines."""
    plugins: list[str] = []
    meltano: list[str] = []
    for line in lines:
        match = LOG_LINE.match(line.strip())
        if match is None:
            continue
        name, message = match["name"], match["message"].strip()
        if name == "meltano":
            if match["level"] in {"error", "critical"} and message not in NO_CAUSE:
                meltano.append(f"meltano: {message}")
        elif SAYS_WHY.search(message):
            plugins.append(f"{name}: {message}")
    return [*plugins[-PLUGIN_ERRORS:], *meltano[-PLUGIN_ERRORS:]]


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
        seconds = time.monotonic() - started
        with self.log.open(encoding="utf-8", errors="replace") as lines:
            tail = [line.rstrip() for line in deque(lines, maxlen=SCANNED_LINES)]
        errors = error_lines(tail) if returncode != 0 else []
        return Outcome(returncode, seconds, tail[-TAIL_LINES:], errors)

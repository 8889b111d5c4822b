"""The loader's schema and tables, made by one process before the shards run side by side.

A Singer target checks whether a table (or a column) exists and creates it if not: N
loaders starting together on a fresh warehouse race between the check and the CREATE, and
all but one can fail (PostgreSQL: `duplicate key value violates unique constraint
"pg_type_typname_nsp_index"`). So before the shards start, the tap's SCHEMA messages alone
(`tap-leads --test=schema`: no request to any provider, no record, no state) go through
the loader once, which creates or alters its tables; the shards then find them in place.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.shard_run import EXTRACTOR, Outcome, error_lines

TIMEOUT = 600


@dataclass
class LoaderTables:
    meltano: str
    project: Path
    environment: str
    target: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def _invoke(self, *args: str) -> list[str]:
        base = [self.meltano, "--environment", self.environment, "invoke", "--no-install"]
        return [*base, *args]

    @property
    def commands(self) -> tuple[list[str], list[str]]:
        return self._invoke(EXTRACTOR, "--test=schema"), self._invoke(self.target)

    def execute(self) -> Outcome:
        """`meltano invoke tap-leads --test=schema | meltano invoke <target>`."""
        tap_command, target_command = self.commands
        self.log.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.log.open("w", encoding="utf-8") as out:
            options = {"cwd": self.project, "env": self.env, "start_new_session": True}
            tap = subprocess.Popen(tap_command, stdout=subprocess.PIPE, stderr=out, **options)
            try:
                target = subprocess.Popen(
                    target_command, stdin=tap.stdout, stdout=out, stderr=out, **options
                )
            except BaseException:
                _stop(tap)
                raise
            assert tap.stdout is not None
            tap.stdout.close()  # the target holds the pipe now
            try:
                returncodes = [tap.wait(timeout=TIMEOUT), target.wait(timeout=TIMEOUT)]
            except BaseException:
                _stop(tap)
                _stop(target)
                raise
        with self.log.open(encoding="utf-8", errors="replace") as lines:
            tail = [line.rstrip() for line in lines][-400:]
        returncode = next((code for code in returncodes if code != 0), 0)
        # `meltano invoke` passes the plugins' own output through: a traceback ends the log.
        said = [line for line in tail if line.strip()]
        errors = (error_lines(tail) or said[-3:]) if returncode != 0 else []
        return Outcome(returncode, time.monotonic() - started, tail[-20:], errors)


def _stop(process: subprocess.Popen) -> None:
    # Meltano starts the plugin as a child: end the whole session.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    process.wait()

"""End-to-end fixtures: Meltano installed once per session, the emulator, and runners.

Meltano lives in .venv-meltano and its plugins in .meltano/ (both kept between
sessions, so only the first session pays for the installation). Every test gets a
Meltano system directory of its own (run files, logs, system database and state) that
shares only the installed plugins: Meltano writes a plugin's config, catalog and state
to fixed paths in .meltano/run/, so two runs of one project would otherwise collide.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator import LeadsEmulator
from tap_leads.timestamps import parse_timestamp

REPO = Path(__file__).resolve().parents[2]
MELTANO = REPO / ".venv-meltano" / "bin" / "meltano"
# The tap as installed in the virtualenv that runs the tests.
TAP = Path(sys.executable).with_name("tap-leads")
LOADERS = REPO / ".meltano" / "loaders"
PROVIDERS = ("teli", "nexus_erp", "flextell", "sela", "autocalls")
STREAMS = {provider: f"{provider}_leads" for provider in PROVIDERS}
KEYS = {
    "teli": ("unique_id", "updated_at"),
    "nexus_erp": ("id", "updatedAt"),
    "flextell": ("id", "updated_at"),
    "sela": ("id", "modified_time"),
    "autocalls": ("id", "updated_at"),
}
# Enough leads for several pages per provider (page sizes are 100 to 200).
LEADS_PER_PROVIDER = 250
INSTALL_TIMEOUT = 1800
RUN_TIMEOUT = 600


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


meltano_env = _load_script("meltano_env")


def primary_key(provider: str) -> str:
    return KEYS[provider][0]


def replication_key(provider: str) -> str:
    return KEYS[provider][1]


def lead_ids(emu: LeadsEmulator, provider: str) -> set:
    return {lead[primary_key(provider)] for lead in emu.leads(provider)}


def changed_since(emu: LeadsEmulator, provider: str, bookmark) -> set:
    """Ids the tap emits on a run after `bookmark`: changed at or after it, or unreadable."""
    ids = set()
    for lead in emu.leads(provider):
        moment = parse_timestamp(lead.get(replication_key(provider)))
        if moment is None or moment >= bookmark:
            ids.add(lead[primary_key(provider)])
    return ids


def latest_change(emu: LeadsEmulator, provider: str):
    moments = (parse_timestamp(lead.get(replication_key(provider))) for lead in emu.leads(provider))
    return max(moment for moment in moments if moment is not None)


@dataclass
class Completed:
    returncode: int
    log: Path
    seconds: float

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def check(self) -> Completed:
        assert self.returncode == 0, (
            f"exit {self.returncode}; last lines of {self.log}:\n{self.tail()}"
        )
        return self


def run_logged(
    command: list[str], log: Path, *, env: dict[str, str], timeout: float, cwd: Path = REPO
) -> Completed:
    """Run a command with its output in `log`; on timeout, kill it and fail."""
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            pytest.fail(f"{' '.join(command)} ran over {timeout} s; log: {log}")
        except BaseException:
            _kill_group(process)
            raise
    return Completed(returncode, log, time.monotonic() - started)


def _kill_group(process: subprocess.Popen) -> None:
    # Meltano starts the tap and the target as children: end the whole session.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def clean_environ() -> dict[str, str]:
    """This process's environment without anything that would configure a plugin."""
    prefixes = ("TAP_LEADS_", "TARGET_", "MELTANO_", "VIRTUAL_ENV")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextlib.contextmanager
def plugins_lock(*, exclusive: bool = False) -> Iterator[None]:
    """Shared while plugins run, exclusive while they are installed (parallel workers)."""
    (REPO / ".meltano").mkdir(exist_ok=True)
    with (REPO / ".meltano" / ".e2e-plugins.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


def meltano_environ(workdir: Path) -> dict[str, str]:
    """A clean environment whose Meltano system directory is private to `workdir`."""
    sys_dir = workdir / ".meltano"
    if not sys_dir.exists():
        sys_dir.mkdir()
        for kind in ("extractors", "loaders"):
            (sys_dir / kind).symlink_to(REPO / ".meltano" / kind, target_is_directory=True)
    return {**clean_environ(), "MELTANO_SYS_DIR_ROOT": str(sys_dir)}


@pytest.fixture(scope="session")
def meltano_installed(tmp_path_factory) -> float:
    """Meltano and every plugin of meltano.yml installed; returns the seconds it took."""
    log = tmp_path_factory.mktemp("install") / "meltano-install.log"
    env = {**clean_environ(), "PYTHON": sys.executable}
    with plugins_lock(exclusive=True):
        result = run_logged(
            [str(REPO / "scripts" / "meltano-install")], log, env=env, timeout=INSTALL_TIMEOUT
        )
    result.check()
    print(f"\nmeltano install: {result.seconds:.1f} s")
    return result.seconds


@pytest.fixture(scope="session")
def emu():
    """The provider emulator, shared by the tests that only read from it."""
    with LeadsEmulator(leads_per_provider=LEADS_PER_PROVIDER, seed=7) as emulator:
        yield emulator


class MeltanoProject:
    """`meltano` calls on the repository's project, with a private system directory."""

    def __init__(self, workdir: Path, emulator: LeadsEmulator, **tap_overrides) -> None:
        self.workdir = workdir
        self.calls = 0
        self.env = meltano_environ(workdir)
        self.configure_tap(emulator, **tap_overrides)

    def configure_tap(self, emulator: LeadsEmulator, providers=None, **overrides) -> None:
        for key in [key for key in self.env if key.startswith("TAP_LEADS_")]:
            del self.env[key]
        config = emulator.tap_config(providers=providers, **overrides)
        self.env.update(meltano_env.tap_env(config))

    def __call__(self, *args: str, timeout: float = RUN_TIMEOUT, **env: str) -> Completed:
        self.calls += 1
        log = self.workdir / f"meltano-{self.calls}-{args[0]}.log"
        project = (REPO / "meltano.yml").read_bytes()
        with plugins_lock():
            result = run_logged(
                [str(MELTANO), *args], log, env={**self.env, **env}, timeout=timeout
            )
        assert (REPO / "meltano.yml").read_bytes() == project, "meltano rewrote meltano.yml"
        return result

    def output(self, *args: str, timeout: float = 300) -> str:
        """Standard output of a quick command such as `meltano state get`."""
        with plugins_lock():
            completed = subprocess.run(
                [str(MELTANO), *args],
                capture_output=True,
                text=True,
                env=self.env,
                cwd=REPO,
                timeout=timeout,
                check=False,
            )
        assert completed.returncode == 0, completed.stderr[-3000:]
        return completed.stdout


@pytest.fixture
def meltano(meltano_installed, emu, tmp_path) -> MeltanoProject:
    return MeltanoProject(tmp_path, emu)


def read_jsonl(directory: Path) -> dict[str, list[dict]]:
    """Records per stream from target-jsonl's {stream}.jsonl files."""
    return {
        path.stem: [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for path in sorted(directory.glob("*.jsonl"))
    }

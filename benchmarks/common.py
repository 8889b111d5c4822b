"""What every part of the benchmark shares: the clients, a case, a run and its output."""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS_DIR = BENCH / "results"
# The raw shared-pool client's threads: the tap's default max_concurrent_requests.
POOL = 8
# Each provider's largest page, which every client asks for; Flextell, read only in the
# quota scenario, in pages of 10, so that 1,000 leads take 100 requests.
PAGE_SIZES = {"teli": 200, "nexus_erp": 100, "autocalls": 100, "flextell": 10}
RECORD_MARK = b'{"type":"RECORD"'
STATE_MARK = b'{"type":"STATE"'
STDERR_TAIL_LINES = 15
MIB = 1024 * 1024


class Where:
    """Where the tap's package is read from: the work tree, or a revision (--tap-rev)."""

    tap_root = ROOT


@dataclass(frozen=True)
class Client:
    key: str
    label: str

    def command(self, config: Path, stock_config: Path | None) -> list[str]:
        python = sys.executable
        if self.key == "tap":
            script = Path(python).parent / "tap-leads"
            launcher = [str(script)] if script.exists() else [python, "-m", "tap_leads"]
            return [*launcher, "--config", str(config)]
        if self.key == "raw_seq":
            return [python, str(BENCH / "raw_client.py"), "--config", str(config)]
        if self.key == "raw_pool":
            raw = [python, str(BENCH / "raw_client.py"), "--config", str(config)]
            return [*raw, "--pool", str(POOL)]
        if self.key == "sdk_import":
            return [python, "-c", "import singer_sdk"]
        if self.key == "stock":
            assert stock_config is not None
            return [python, str(BENCH / "stock_tap.py"), "--config", str(stock_config)]
        raise ValueError(self.key)


SDK_IMPORT = Client("sdk_import", "python -c 'import singer_sdk'")
TAP = Client("tap", "tap-leads")
RAW_SEQ = Client("raw_seq", "raw client, sequential")
RAW_POOL = Client("raw_pool", f"raw client, shared pool of {POOL}")
STOCK = Client("stock", "stock singer-sdk tap (Teli)")
LABELS = {client.key: client.label for client in (TAP, RAW_SEQ, RAW_POOL, STOCK, SDK_IMPORT)}


@dataclass(frozen=True)
class Case:
    """One emulator set-up and the clients measured against it."""

    key: str
    scenario: str
    latency_ms: float
    # Leads per provider (per account, in the accounts form).
    leads: dict[str, int]
    clients: tuple[tuple[Client, int], ...]
    accounts: dict[str, int] | None = None
    # An enforced quota per provider, e.g. {"flextell": "25/s"} (emulator/quota.py).
    quota: dict[str, str] | None = None

    # Whether the emulator renders every page afresh (False) or keeps rendered pages.
    page_cache: bool = False

    @property
    def total_leads(self) -> int:
        per = self.accounts or {}
        return sum(count * per.get(provider, 1) for provider, count in self.leads.items())

    @property
    def account_count(self) -> int:
        return sum((self.accounts or {}).values())

    @property
    def pages(self) -> int:
        per = self.accounts or {}
        return sum(
            -(-count // PAGE_SIZES[provider]) * per.get(provider, 1)
            for provider, count in self.leads.items()
        )

    def describe(self) -> str:
        sizes = ", ".join(f"{provider} {count:,}" for provider, count in self.leads.items())
        if self.accounts:
            counts = ", ".join(f"{count} {provider}" for provider, count in self.accounts.items())
            sizes = f"{self.account_count} accounts ({counts}), {sizes} leads each"
        else:
            sizes += " leads"
        return f"{sizes}, {self.latency_ms:g} ms per request"


@dataclass
class Run:
    case: str
    scenario: str
    client: str
    leads: int
    wall_s: float = 0.0
    tree_wall_s: float = 0.0
    cpu_user_s: float = 0.0
    cpu_system_s: float = 0.0
    peak_rss_mib: float = 0.0
    max_single_rss_mib: float = 0.0
    processes: int = 0
    peak_processes: int = 0
    records: int = 0
    lines: int = 0
    stdout_mb: float = 0.0
    state_bytes: int | None = None
    first_record_s: float | None = None
    # From the client's start to its first request reaching the emulator.
    first_request_s: float | None = None
    # Requests in flight on average, from the first answer to the last request's start.
    mean_in_flight: float | None = None
    requests: int | None = None
    # Answers of 429 (Too Many Requests) the client drew.
    refused: int | None = None
    emulator_cpu_s: float | None = None
    measurer_cpu_s: float | None = None
    subreaper: bool | None = None
    exit_code: int | None = None
    # Digest of tap_leads/ when the run started (tap runs only).
    tap_source: str | None = None
    warm_up: bool = False
    error: str | None = None
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_system_s


class Deadline:
    """The whole benchmark's time budget, so that no step can run unbounded."""

    def __init__(self, minutes: float) -> None:
        self.end = time.monotonic() + minutes * 60

    def bound(self, seconds: float) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the benchmark ran past --max-minutes")
        return min(seconds, remaining)


class Unsupported(Exception):
    """A scenario the tap or the emulator cannot run yet."""


class OutputCounter:
    """Counts complete RECORD lines, and keeps the last STATE line, of a stream fed in chunks."""

    def __init__(self) -> None:
        self.records = 0
        self.lines = 0
        self.bytes = 0
        self.last_state: bytes | None = None
        self._partial = b""

    def feed(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        data = self._partial + chunk if self._partial else chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            self._partial = data
            return
        complete, self._partial = data[:cut], data[cut:]
        self.lines += complete.count(b"\n")
        # Every line of `complete` starts at 0 or right after a newline inside it.
        self.records += complete.count(b"\n" + RECORD_MARK) + complete.startswith(RECORD_MARK)
        state = complete.rfind(b"\n" + STATE_MARK) + 1
        if state == 0 and not complete.startswith(STATE_MARK):
            return
        self.last_state = complete[state : complete.index(b"\n", state)]


def say(message: str) -> None:
    print(message, flush=True)


def median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator

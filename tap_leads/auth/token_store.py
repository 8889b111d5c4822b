"""The token store: the latest OAuth tokens per account, in a JSON file only the owner reads.

It is written atomically (a temporary file, fsync, rename) and under a file lock, so
that a crash never loses the only valid refresh token and two runs never spend one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import threading
import time
import typing as t
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tap_leads.errors import ProviderError
from tap_leads.redaction import MASK
from tap_leads.values import as_number, is_text

#: The account of the single-block form: its token store entry (and its partition).
DEFAULT_KEY = "default"
STORE_VERSION = 1
_LOCK_POLL_SECONDS = 0.02


class TokenStoreError(ProviderError):
    """The token store cannot be read or written; retrying cannot help."""


@dataclass(frozen=True, repr=False)
class Tokens:
    """One store entry. expires_at is epoch seconds; None when unknown (a configured token)."""

    refresh_token: str
    access_token: str | None = None
    expires_at: float | None = None
    lifetime: float | None = None

    def as_json(self) -> dict[str, t.Any]:
        return {
            "refresh_token": self.refresh_token,
            "access_token": self.access_token,
            "expires_at": self.expires_at,
            "lifetime": self.lifetime,
        }

    @classmethod
    def from_json(cls, value: t.Any) -> Tokens | None:
        if not isinstance(value, dict) or not is_text(value.get("refresh_token")):
            return None
        access = value.get("access_token")
        return cls(
            refresh_token=str(value["refresh_token"]),
            access_token=str(access) if is_text(access) else None,
            expires_at=as_number(value.get("expires_at")),
            lifetime=as_number(value.get("lifetime")),
        )

    def secrets(self) -> list[str]:
        return [value for value in (self.refresh_token, self.access_token) if value]

    def __repr__(self) -> str:
        access = MASK if self.access_token else None
        return (
            f"Tokens(refresh_token={MASK!r}, access_token={access!r}, "
            f"expires_at={self.expires_at!r}, lifetime={self.lifetime!r})"
        )


class TokenStore:
    """A JSON file of tokens per key (the account name, or "default"), mode 0600.

    `{"version": 1, "entries": {"<key>": {"refresh_token", "access_token", "expires_at",
    "lifetime"}}}`. Writes replace the file atomically; `locked()` takes an flock on the
    sidecar `<store>.lock` so that runs and processes take turns on read-refresh-write.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        setting: str = "flextell.token_store",
        lock_timeout: float = 300.0,
    ) -> None:
        self.path = Path(path).expanduser()
        self.lock_timeout = lock_timeout
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.setting = setting
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._lock_fd: int | None = None

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock: other threads and processes wait. Re-entrant per thread."""
        with self._thread_lock:
            if self._depth == 0:
                try:
                    fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                except OSError as exc:
                    raise TokenStoreError(
                        self._problem("cannot create its lock file", exc)
                    ) from exc
                try:
                    self._flock(fd)
                except BaseException:
                    os.close(fd)
                    raise
                self._lock_fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._lock_fd is not None:
                    fd, self._lock_fd = self._lock_fd, None
                    # Closing the descriptor releases the flock.
                    os.close(fd)

    def _flock(self, fd: int) -> None:
        # Polled rather than blocking, so that a hung run holding it cannot stall this one
        # for ever; a run that dies releases it at once.
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TokenStoreError(
                        f"{self.setting}: another run has held the lock {self.lock_path} for "
                        f"{self.lock_timeout:g} s. Stop that run if it hangs, then start "
                        "this one again."
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)
            except OSError as exc:
                raise TokenStoreError(self._problem("cannot be locked", exc)) from exc

    def read(self, key: str = DEFAULT_KEY) -> Tokens | None:
        return self.read_all().get(key)

    def read_all(self) -> dict[str, Tokens]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise TokenStoreError(self._problem("cannot be read", exc)) from exc
        entries = self._parse(raw)
        if entries is None:
            raise TokenStoreError(
                f"{self.setting}: {self.path} is not a token store of this tap (expected JSON "
                '{"version": 1, "entries": {…}}). Point the setting at another file, or move '
                "this one aside."
            )
        return entries

    def write(self, key: str, tokens: Tokens) -> None:
        """Replace this key's entry, keeping the others; durable when it returns."""
        with self.locked():
            entries = self.read_all()
            entries[key] = tokens
            self._write_all(entries)

    def check_writable(self) -> str | None:
        """Why the tap could not keep tokens here, naming the setting and path; None when fine."""
        directory = self.path.parent
        if not directory.is_dir():
            return (
                f"{self.setting}: the directory {directory} does not exist. Create it, or point "
                f"{self.setting} at a file in a directory that exists and that the tap may write."
            )
        if not os.access(directory, os.W_OK | os.X_OK):
            return (
                f"{self.setting}: the tap cannot write to the directory {directory}, where it "
                f"replaces {self.path.name} atomically. Make it writable, or move "
                f"{self.setting} elsewhere."
            )
        if self.path.is_dir():
            return f"{self.setting}: {self.path} is a directory; set the path of a file in it."
        if self.path.exists():
            if not os.access(self.path, os.R_OK | os.W_OK):
                return (
                    f"{self.setting}: the tap cannot read and write {self.path}. Give it read "
                    "and write access to the file."
                )
            try:
                self.read_all()
            except TokenStoreError as exc:
                return str(exc)
        if self.lock_path.exists() and not os.access(self.lock_path, os.R_OK | os.W_OK):
            return (
                f"{self.setting}: the tap cannot open the lock file {self.lock_path}. Give it "
                "read and write access, or delete it."
            )
        return None

    def _parse(self, raw: bytes) -> dict[str, Tokens] | None:
        try:
            document = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(document, dict) or not isinstance(document.get("entries"), dict):
            return None
        entries = {}
        for key, value in document["entries"].items():
            tokens = Tokens.from_json(value)
            if tokens is not None:
                entries[str(key)] = tokens
        return entries

    def _write_all(self, entries: dict[str, Tokens]) -> None:
        document = {
            "version": STORE_VERSION,
            "entries": {key: tokens.as_json() for key, tokens in sorted(entries.items())},
        }
        data = json.dumps(document, indent=2).encode() + b"\n"
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise TokenStoreError(self._problem("cannot be written", exc)) from exc
        # The rename itself is durable only once the directory is.
        with contextlib.suppress(OSError):
            directory = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def _problem(self, what: str, exc: OSError) -> str:
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        if exc.errno == errno.ENOENT:
            reason = f"{reason}: does the directory {self.path.parent} exist?"
        return f"{self.setting}: the token store {self.path} {what} ({reason})."

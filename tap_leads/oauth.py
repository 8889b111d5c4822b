"""Request-time credentials: fixed headers, or Flextell's OAuth tokens that rotate.

Flextell offers only the authorization-code flow, so a headless tap lives on a refresh
token obtained once, outside the tap. Flextell may rotate it on every refresh: the old
one is then dead, and losing the new one would mean authorising again by hand. The
tokens therefore live in a token store, a small JSON file that every run (and every
forked page fetcher) reads and writes under a file lock, and that is written before a
rotated token is used.
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
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tap_leads.errors import AuthError, ProviderError, TransientError
from tap_leads.fetch import StaticAuth
from tap_leads.redaction import MASK, redact

#: Refresh this long before the access token expires ...
DEFAULT_MARGIN_SECONDS = 60.0
#: ... or within the last quarter of its lifetime, for tokens that live only minutes.
_MARGIN_SHARE = 0.25
#: What OAuth servers assume, and Flextell documents as typical, when expires_in is absent.
DEFAULT_LIFETIME_SECONDS = 3600.0
DEFAULT_KEY = "default"
STORE_VERSION = 1
# Quick tries of the token endpoint when the connection fails or it answers 5xx/429. Few,
# because the page fetcher retries the whole request under its own policy anyway.
_TOKEN_TRIES = 3
_TOKEN_PAUSES = (0.3, 1.0)
# A 401 for the token that a refresh after a 401 produced, this soon after it, ends the run:
# a third token would be refused as well. Later, the token may have been revoked meanwhile.
_RECENT_REFRESH_SECONDS = 60.0
_LOCK_POLL_SECONDS = 0.02


class TokenStoreError(ProviderError):
    """The token store cannot be read or written; retrying cannot help."""


class TokenRefusedError(AuthError):
    """The token endpoint refused the refresh: authorising again is the only way on."""


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
        if not isinstance(value, dict) or not _text(value.get("refresh_token")):
            return None
        access = value.get("access_token")
        return cls(
            refresh_token=str(value["refresh_token"]),
            access_token=str(access) if _text(access) else None,
            expires_at=_number(value.get("expires_at")),
            lifetime=_number(value.get("lifetime")),
        )

    def secrets(self) -> list[str]:
        return [value for value in (self.refresh_token, self.access_token) if value]

    def __repr__(self) -> str:
        access = MASK if self.access_token else None
        return (
            f"Tokens(refresh_token={MASK!r}, access_token={access!r}, "
            f"expires_at={self.expires_at!r}, lifetime={self.lifetime!r})"
        )


# Locks copied into a forked child may be held by a thread that does not exist there.
_STORES: weakref.WeakSet[TokenStore] = weakref.WeakSet()
_AUTHS: weakref.WeakSet[FlextellOAuth] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for store in list(_STORES):
        store._after_fork()
    for auth in list(_AUTHS):
        auth._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


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
        self._reset_locks()
        _STORES.add(self)

    def _reset_locks(self) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._lock_fd: int | None = None

    def _after_fork(self) -> None:
        # A copy of a descriptor holding the flock would keep the parent's lock held for as
        # long as this child lives; closing it (never LOCK_UN) leaves the parent's lock alone.
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
        self._reset_locks()

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    # Picklable, for page fetchers in spawned processes: locks are per process.
    def __getstate__(self) -> dict[str, t.Any]:
        return {"path": self.path, "setting": self.setting, "lock_timeout": self.lock_timeout}

    def __setstate__(self, state: dict[str, t.Any]) -> None:
        self.__init__(state["path"], state["setting"], state["lock_timeout"])  # type: ignore[misc]

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

    def exists(self) -> bool:
        return self.path.exists()

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

    def delete(self, key: str = DEFAULT_KEY) -> None:
        with self.locked():
            entries = self.read_all()
            if entries.pop(key, None) is not None:
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


class FlextellOAuth:
    """Bearer access tokens that refresh themselves through Flextell's token endpoint.

    Thread-safe and single-flight: however many threads find the token expired, one
    refresh is made, and a 401 for headers already replaced only asks for a retry. Across
    processes the store's lock does the same: whoever gets it second finds the newer tokens
    in the store and uses them instead of spending the refresh token again.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str | None,
        access_token: str | None,
        store: TokenStore,
        key: str = DEFAULT_KEY,
        margin_seconds: float = DEFAULT_MARGIN_SECONDS,
        timeout: float = 60.0,
        label: str = "Flextell",
        setting: str = "flextell",
        extra_headers: Mapping[str, str] | None = None,
        on_new_secret: Callable[[str], None] | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._config_refresh_token = refresh_token or None
        self._config_access_token = access_token or None
        self.store = store
        self.key = key
        self.margin_seconds = margin_seconds
        self.timeout = timeout
        self.label = label
        self.setting = setting
        self.extra_headers = dict(extra_headers or {})
        self.on_new_secret = on_new_secret
        self._lock = threading.Lock()
        self._tokens: Tokens | None = None
        self._headers: Mapping[str, str] = {}
        self._generation = 0
        # The access token that a refresh after a 401 produced: a 401 for it ends the run.
        self._refreshed_after_401: str | None = None
        self._refreshed_after_401_at = 0.0
        self._known_secrets: list[str] = [s for s in (client_secret, refresh_token) if s]
        self.refreshes = 0  # token requests that this object (this process) made
        _AUTHS.add(self)

    def __repr__(self) -> str:
        return (
            f"FlextellOAuth(setting={self.setting!r}, key={self.key!r}, "
            f"token_url={self.token_url!r}, store={str(self.store.path)!r}, "
            f"generation={self._generation})"
        )

    def __getstate__(self) -> dict[str, t.Any]:
        # The lock is per process, and the redaction hook belongs to the parent's loggers.
        state = self.__dict__.copy()
        del state["_lock"]
        state["on_new_secret"] = None
        return state

    def __setstate__(self, state: dict[str, t.Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        _AUTHS.add(self)

    # Auth

    def headers(self) -> Mapping[str, str]:
        tokens = self._tokens
        if tokens is not None and not self._due(tokens):
            return self._headers
        with self._lock:
            current = self._current()
            if self._due(current):
                self._renew(stale=current.access_token)
            return self._headers

    def after_unauthorized(self, sent: Mapping[str, str]) -> bool:
        token = _bearer(sent)
        with self._lock:
            current = self._current()
            if token is None or token != current.access_token:
                # Headers from before a refresh that has already happened: retry with the new.
                return True
            if (
                token == self._refreshed_after_401
                and time.monotonic() - self._refreshed_after_401_at < _RECENT_REFRESH_SECONDS
                and not self._due(current)
            ):
                return False
            self._renew(stale=token)
            self._refreshed_after_401 = self._current().access_token
            self._refreshed_after_401_at = time.monotonic()
            return True

    def auth_advice(self) -> str:
        """The message for a 401 that a refresh did not cure."""
        s = self.setting
        return (
            f"{self.label} rejected a freshly refreshed access token. Check {s}.client_id, "
            f"{s}.client_secret and {s}.refresh_token (they must belong to one OAuth client), "
            f"and that the user who authorised the tap may read the tenant in {s}.tenant_id."
        )

    def secret_values(self) -> list[str]:
        """Every token and secret known so far, for the log redaction."""
        return list(self._known_secrets)

    @property
    def generation(self) -> int:
        """How many times the access token has changed in this process."""
        return self._generation

    # Internals; the caller holds self._lock.

    def _current(self) -> Tokens:
        if self._tokens is None:
            stored = self.store.read(self.key)
            if stored is not None:
                self._use(stored)
            elif self._config_refresh_token is not None:
                self._use(Tokens(self._config_refresh_token, self._config_access_token))
            else:
                raise TokenRefusedError(self._no_refresh_token_message())
        assert self._tokens is not None
        return self._tokens

    def _due(self, tokens: Tokens) -> bool:
        if tokens.access_token is None:
            return True
        if tokens.expires_at is None:
            return False
        margin = self.margin_seconds
        if tokens.lifetime:
            margin = min(margin, tokens.lifetime * _MARGIN_SHARE)
        return time.time() >= tokens.expires_at - margin

    def _renew(self, stale: str | None) -> None:
        with self.store.locked():
            stored = self.store.read(self.key)
            if (
                stored is not None
                and stored.access_token is not None
                and stored.access_token != stale
                and not self._due(stored)
            ):
                # Another run or process refreshed while this one waited for the lock.
                self._use(stored)
                return
            current = stored or self._current()
            try:
                fresh = self._refresh(current.refresh_token)
            except TokenRefusedError:
                # A refresh token set after authorising again, not yet in the store.
                config_token = self._config_refresh_token
                if config_token is None or config_token == current.refresh_token:
                    raise
                fresh = self._refresh(config_token)
            # Durable before use: if the run dies now, the next one finds the new token.
            try:
                self.store.write(self.key, fresh)
            except TokenStoreError as exc:
                raise TokenStoreError(
                    f"{exc} Flextell has already replaced the refresh token, and the new one "
                    "could not be kept: once the store is fixed, authorise the tap again and "
                    f"set {self.setting}.refresh_token."
                ) from None
            self._use(fresh)

    def _use(self, tokens: Tokens) -> None:
        for value in tokens.secrets():
            if value not in self._known_secrets:
                self._known_secrets.append(value)
                if self.on_new_secret is not None:
                    self.on_new_secret(value)
        if self._tokens is None or tokens.access_token != self._tokens.access_token:
            self._generation += 1
        self._tokens = tokens
        headers = dict(self.extra_headers)
        if tokens.access_token is not None:
            headers["Authorization"] = f"Bearer {tokens.access_token}"
        self._headers = headers

    def _refresh(self, refresh_token: str) -> Tokens:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        host = urlsplit(self.token_url).netloc
        failure = ""
        response: requests.Response | None = None
        for attempt in range(_TOKEN_TRIES):
            if attempt:
                time.sleep(_TOKEN_PAUSES[min(attempt - 1, len(_TOKEN_PAUSES) - 1)])
            self.refreshes += 1
            try:
                response = requests.post(
                    self.token_url,
                    data=form,
                    headers={"Accept": "application/json"},
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.ConnectionError as exc:
                # Also a connect timeout: nothing reached the server, so trying again is safe.
                failure = f"the connection to {host} failed ({type(exc).__name__})"
                response = None
                continue
            except requests.RequestException as exc:
                # A read timeout is not retried here: the server may have rotated the token.
                raise TransientError(
                    f"{self.label}: the token endpoint {self.token_url} did not answer "
                    f"within {self.timeout:g} s ({type(exc).__name__})."
                ) from None
            if response.status_code >= 500 or response.status_code == 429:
                failure = f"HTTP {response.status_code}"
                continue
            break
        if response is None or response.status_code >= 500 or response.status_code == 429:
            raise TransientError(
                f"{self.label}: the token endpoint {self.token_url} failed {_TOKEN_TRIES} times "
                f"({failure}); the access token could not be refreshed."
            )
        return self._read_grant(response, refresh_token)

    def _read_grant(self, response: requests.Response, spent: str) -> Tokens:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        error = body.get("error")
        if status in (400, 401, 403) or (error and status != 200):
            raise TokenRefusedError(self._refused_message(status, body))
        access = body.get("access_token")
        if status != 200 or not _text(access):
            raise ProviderError(
                f"{self.label}: the token endpoint {self.token_url} answered HTTP {status} "
                f"without an access_token. Check {self.setting}.token_url."
            )
        lifetime = _number(body.get("expires_in"))
        if lifetime is None or lifetime <= 0:
            lifetime = DEFAULT_LIFETIME_SECONDS
        rotated = body.get("refresh_token")
        return Tokens(
            refresh_token=str(rotated) if _text(rotated) else spent,
            access_token=str(access),
            expires_at=time.time() + lifetime,
            lifetime=lifetime,
        )

    def _refused_message(self, status: int, body: Mapping[str, t.Any]) -> str:
        s = self.setting
        error = str(body.get("error") or f"HTTP {status}")
        described = body.get("error_description") or body.get("message")
        detail = error
        if _text(described):
            detail = f"{error}: {described}"
        detail = redact(detail, sorted(self._known_secrets, key=len, reverse=True))
        if error == "invalid_client":
            return (
                f"{self.label} refused the OAuth client ({detail}). Check {s}.client_id and "
                f"{s}.client_secret: they must be those of the client that the refresh token "
                "was issued to."
            )
        return (
            f"{self.label} refused the refresh token ({detail}). It has been used already or "
            "was revoked: each refresh returns a new refresh token and the old one stops "
            "working. Authorise the tap again with the one-time authorization-code step, set "
            f"{s}.refresh_token to the new refresh token, and delete the {self.key!r} entry "
            f"of {s}.token_store ({self.store.path}) or the whole file if it holds no other "
            "entry."
        )

    def _no_refresh_token_message(self) -> str:
        s = self.setting
        return (
            f"{self.label}: no refresh token: {s}.token_store ({self.store.path}) has no "
            f"{self.key!r} entry and {s}.refresh_token is not set. Authorise the tap with the "
            f"one-time authorization-code step and set {s}.refresh_token."
        )


def default_token_url(api_url: str) -> str:
    """`/oauth/token` on api_url's host, where Flextell serves it beside `/api`."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}/oauth/token"


FLEXTELL_API_URL = "https://dev.flextell.ai/api"


def uses_refresh(block: Mapping[str, t.Any], key: str = DEFAULT_KEY) -> bool:
    """Whether this Flextell block (or account, defaults merged) authenticates by refresh:
    a refresh token is set, or client credentials are and the store holds this key's tokens."""
    if _text(block.get("refresh_token")):
        return True
    path = block.get("token_store")
    if not _text(path) or not (_text(block.get("client_id")) or _text(block.get("client_secret"))):
        return False
    try:
        return TokenStore(str(path).strip()).read(key) is not None
    except TokenStoreError:
        return True  # the validation reports the unreadable store


def flextell_auth(
    block: Mapping[str, t.Any],
    *,
    key: str = DEFAULT_KEY,
    setting: str = "flextell",
    timeout: float = 60.0,
    margin_seconds: float = DEFAULT_MARGIN_SECONDS,
    on_new_secret: Callable[[str], None] | None = None,
) -> StaticAuth | FlextellOAuth:
    """The Auth for a validated Flextell block, or one account with the block's defaults merged.

    key is the account's name, or "default" for the single-block form; setting is what
    messages call the block, e.g. "flextell" or "flextell.accounts[acme]".
    """
    tenant = str(block.get("tenant_id") or "").strip()
    extra = {"X-Tenant": tenant} if tenant else {}
    if not uses_refresh(block, key):
        token = str(block.get("access_token") or "").strip()
        advice = f"Check {setting}.access_token and {setting}.tenant_id."
        return StaticAuth({"Authorization": f"Bearer {token}", **extra}, advice)
    api_url = str(block.get("api_url") or FLEXTELL_API_URL).strip()
    token_store_setting = f"{setting}.token_store"
    if not _text(block.get("token_store")):
        raise TokenStoreError(
            f"{setting}: refresh_token is set but token_store is missing; set "
            f"{token_store_setting}."
        )
    return FlextellOAuth(
        token_url=str(block.get("token_url") or "").strip() or default_token_url(api_url),
        client_id=str(block.get("client_id") or "").strip(),
        client_secret=str(block.get("client_secret") or "").strip(),
        refresh_token=str(block.get("refresh_token") or "").strip() or None,
        access_token=str(block.get("access_token") or "").strip() or None,
        store=TokenStore(str(block["token_store"]).strip(), setting=token_store_setting),
        key=key,
        margin_seconds=margin_seconds,
        timeout=timeout,
        label="Flextell",
        setting=setting,
        extra_headers=extra,
        on_new_secret=on_new_secret,
    )


def flextell_auth_problems(
    block: Mapping[str, t.Any], *, setting: str = "flextell", key: str = DEFAULT_KEY
) -> list[str]:
    """What is missing for the way this Flextell block authenticates, each naming the setting."""
    s = setting
    has = {name: _text(block.get(name)) for name in _AUTH_SETTINGS}
    problems = [
        f"{s}.{name} contains a line break or tab: paste the value alone."
        for name in ("access_token", "refresh_token", "client_id", "client_secret")
        if has[name] and any(ch in str(block[name]).strip() for ch in "\r\n\t")
    ]
    store_entry = False
    if has["token_store"]:
        store = TokenStore(str(block["token_store"]).strip(), setting=f"{s}.token_store")
        unusable = store.check_writable()
        if unusable:
            problems.append(unusable)
        else:
            store_entry = store.read(key) is not None
    refreshing = has["refresh_token"] or (
        store_entry and (has["client_id"] or has["client_secret"])
    )
    if not refreshing:
        if not has["access_token"]:
            problems.append(
                f"{s}: neither access_token nor refresh_token is set; set {s}.access_token, "
                f"or {s}.refresh_token with {s}.client_id, {s}.client_secret and "
                f"{s}.token_store."
            )
        return problems
    why = "refresh_token is set" if has["refresh_token"] else "token_store holds tokens"
    for name in ("client_id", "client_secret"):
        if not has[name]:
            problems.append(f"{s}: {why} but {name} is missing; set {s}.{name}.")
    if not has["token_store"]:
        problems.append(
            f"{s}: refresh_token is set but token_store is missing; set {s}.token_store to "
            "the path of a file where the tap keeps the rotated tokens, on storage that "
            "outlives the run."
        )
    token_url = block.get("token_url")
    if _text(token_url):
        parts = urlsplit(str(token_url).strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"{s}.token_url {token_url!r} is not an http(s) URL like https://host.")
    return problems


_AUTH_SETTINGS = (
    "access_token",
    "refresh_token",
    "client_id",
    "client_secret",
    "token_store",
    "token_url",
)


def _bearer(headers: Mapping[str, str]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme, _, token = str(value).partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def _text(value: t.Any) -> bool:
    return (
        isinstance(value, (str, int)) and not isinstance(value, bool) and bool(str(value).strip())
    )


def _number(value: t.Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None

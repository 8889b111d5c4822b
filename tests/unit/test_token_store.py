"""The Flextell token store on disk: its mode, atomic writes, the checks that name the
setting, and its lock."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tap_leads.auth.token_store import Tokens, TokenStore, TokenStoreError


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "tokens" / "flextell.json"


def test_store_is_created_0600_and_written_without_leftovers(store_path: Path):
    store_path.parent.mkdir()
    store = TokenStore(store_path)
    previous = os.umask(0)  # even a permissive umask must not widen the file
    try:
        store.write("default", Tokens("r-1", "a-1", 1000.0, 3600.0))
        store.write("acme", Tokens("r-2"))
        store.write("default", Tokens("r-3", "a-3", 2000.0, 3600.0))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.lock_path.stat().st_mode) == 0o600
    assert sorted(p.name for p in store_path.parent.iterdir()) == [
        "flextell.json",
        "flextell.json.lock",
    ]
    assert json.loads(store_path.read_text()) == {
        "version": 1,
        "entries": {
            "acme": {
                "refresh_token": "r-2",
                "access_token": None,
                "expires_at": None,
                "lifetime": None,
            },
            "default": {
                "refresh_token": "r-3",
                "access_token": "a-3",
                "expires_at": 2000.0,
                "lifetime": 3600.0,
            },
        },
    }
    assert store.read("default").refresh_token == "r-3"
    assert store.read("missing") is None


def test_store_checks_name_the_setting_and_the_path(tmp_path: Path):
    missing = TokenStore(tmp_path / "nowhere" / "t.json", setting="flextell.token_store")
    assert missing.check_writable() == (
        f"flextell.token_store: the directory {tmp_path / 'nowhere'} does not exist. Create it, "
        "or point flextell.token_store at a file in a directory that exists and that the tap "
        "may write."
    )
    assert TokenStore(tmp_path).check_writable() == (
        f"flextell.token_store: {tmp_path} is a directory; set the path of a file in it."
    )
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    message = (
        f"flextell.token_store: {garbage} is not a token store of this tap (expected JSON "
        '{"version": 1, "entries": {…}}). Point the setting at another file, or move this '
        "one aside."
    )
    assert TokenStore(garbage).check_writable() == message
    with pytest.raises(TokenStoreError) as caught:
        TokenStore(garbage).read()
    assert str(caught.value) == message
    assert TokenStore(tmp_path / "new.json").check_writable() is None


def test_store_in_a_read_only_directory_is_reported():
    # Root may write anywhere, so the check runs as an unprivileged user when the tests
    # run as root (as they do in CI), in a directory that user may enter but not write.
    base = Path(tempfile.mkdtemp(prefix="tap-leads-ro-"))
    try:
        base.chmod(0o755)
        locked = base / "ro"
        locked.mkdir(mode=0o555)
        drop = "os.setuid(65534); " if os.geteuid() == 0 else ""
        check = (
            "import os, sys; from tap_leads.auth.token_store import TokenStore; "
            f"{drop}print(TokenStore(sys.argv[1]).check_writable())"
        )
        result = subprocess.run(
            [sys.executable, "-c", check, str(locked / "t.json")],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        shutil.rmtree(base)
    assert result.stdout.strip() == (
        f"flextell.token_store: the tap cannot write to the directory {locked}, where it "
        "replaces t.json atomically. Make it writable, or move flextell.token_store elsewhere."
    )


def test_a_lock_held_too_long_is_reported(tmp_path: Path):
    store = TokenStore(tmp_path / "t.json", lock_timeout=0.3)
    fd = os.open(tmp_path / "t.json.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as another run would
        started = time.monotonic()
        with pytest.raises(TokenStoreError) as caught, store.locked():
            pass
        assert 0.3 <= time.monotonic() - started < 3
    finally:
        os.close(fd)
    assert str(caught.value) == (
        f"flextell.token_store: another run has held the lock {tmp_path / 't.json.lock'} for "
        "0.3 s. Stop that run if it hangs, then start this one again."
    )
    with store.locked():  # released: taken at once
        pass

"""The fetch threads share two malloc arenas (engine/arenas.py); the memory it saves is
measured by scripts/benchmark (peak memory, 200 / 20 accounts)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from tap_leads.engine.arenas import limit_arenas

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt")
def test_the_arenas_are_capped_on_glibc() -> None:
    # In a child, so that this test process keeps its own malloc settings.
    code = "from tap_leads.engine.arenas import limit_arenas; print(limit_arenas())"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"


def test_an_arena_count_in_the_environment_is_left_to_glibc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_arenas() is False

"""The tap's own process ends without the interpreter's teardown (tap_leads/ending.py),
after writing everything out; anything else that calls the CLI ends as usual."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

PROGRAM = textwrap.dedent(
    """
    import atexit, sys, threading, time
    from tap_leads import ending

    if {own}:
        class Spec:
            name = "tap_leads.__main__"
        sys.modules["__main__"].__spec__ = Spec()
    if {thread}:
        threading.Thread(target=time.sleep, args=(0.3,)).start()

    class TornDown:
        def __del__(self):
            sys.stdout.write("torn down\\n")

    kept = TornDown()
    atexit.register(lambda: sys.stdout.write("exit functions ran\\n"))
    sys.stdout.write("written\\n")  # still in stdout's buffer
    ending.end_now({code!r})
    sys.stdout.write("went on\\n")
    sys.exit(4)
    """
)


def run(*, own: bool, thread: bool = False, code: object = 3) -> subprocess.CompletedProcess[str]:
    code = PROGRAM.format(own=own, thread=thread, code=code)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )


def test_the_own_program_ends_at_once_with_its_output_and_exit_functions() -> None:
    done = run(own=True)
    assert (done.returncode, done.stdout, done.stderr) == (
        3,
        "written\nexit functions ran\n",
        "",
    )


def test_another_program_ends_as_usual() -> None:
    done = run(own=False)
    assert done.returncode == 4
    assert done.stdout == "written\nwent on\nexit functions ran\ntorn down\n"


def test_a_thread_that_is_not_a_daemon_is_waited_for_as_usual() -> None:
    done = run(own=True, thread=True)
    assert done.returncode == 4
    assert done.stdout.startswith("written\nwent on\n")


@pytest.mark.parametrize("code", ["a message", 3.5])
def test_an_exit_that_is_not_a_status_ends_as_usual(code: object) -> None:
    done = run(own=True, code=code)
    assert done.returncode == 4
    assert done.stdout == "written\nwent on\nexit functions ran\ntorn down\n"


@pytest.mark.parametrize(
    ("main", "own"),
    [
        ("__spec__ = None; __file__ = '/venv/bin/tap-leads'", True),
        ("__spec__ = None; __file__ = '/venv/bin/other'", False),
        ("__spec__ = type('S', (), {'name': 'tap_leads.__main__'})()", True),
        ("__spec__ = type('S', (), {'name': 'pytest.__main__'})()", False),
    ],
)
def test_the_command_and_the_module_are_the_own_program(main: str, own: bool) -> None:
    code = f"{main}\nfrom tap_leads import ending\nprint(ending.is_own_program())"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout == f"{own}\n"


def test_python_m_tap_leads_ends_at_once_with_its_whole_output() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tap_leads", "--about", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "tap-leads"

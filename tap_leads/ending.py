"""How the tap's own process ends: at once, once everything it wrote is out.

A normal exit tears the interpreter down: every module, class and object is freed one by
one, about 0.1 s of CPU after a run (a tenth of what 100,000 leads cost to read), spent
after the last message is written. When the process runs the tap as its program (the
`tap-leads` command, or `python -m tap_leads`), it ends instead as a normal exit ends,
minus that teardown: stdout and stderr are flushed, the exit functions run (logging's
flush among them), then os._exit with the run's status. Anything else that calls the CLI
(another program, a test) ends as usual, and so does a process with a thread that is not
a daemon (a normal exit would wait for it).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from pathlib import Path

#: The names of the command that runs the tap (console scripts on POSIX and Windows).
COMMANDS = frozenset({"tap-leads", "tap-leads.exe", "tap-leads-script.py"})


def is_own_program() -> bool:
    """Whether this process was started to run the tap."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None:
        return spec.name == "tap_leads.__main__"
    return Path(getattr(main, "__file__", None) or "").name in COMMANDS


def end_now(code: object) -> None:
    """End the process with `code` (as sys.exit takes it) without the interpreter's
    teardown, where that is safe; otherwise return, and the caller exits as usual."""
    status = 0 if code is None else code
    if type(status) is not int or not is_own_program():
        return
    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_functions is None:  # pragma: no cover - not CPython
        return
    main = threading.main_thread()
    if any(t is not main and not t.daemon for t in threading.enumerate()):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # a closed stream: the usual exit reports it as it always does
    run_exit_functions()
    os._exit(status)

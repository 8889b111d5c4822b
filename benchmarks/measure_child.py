"""Run one command and write its own wall time and resource usage as JSON.

Usage: python benchmarks/measure_child.py REPORT_PATH COMMAND [ARG ...]

Linux counts into a process's peak RSS (ru_maxrss) the peak of the memory image it ran in
before exec: for a child started straight from the harness, that is the harness's own
peak. Starting clients from this small process instead keeps that floor at a few MB, far
below any client's own peak. The child inherits stdin, stdout and stderr as they are.
"""

import json
import os
import sys
import time


def main() -> int:
    report, command = sys.argv[1], sys.argv[2:]
    started = time.monotonic()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    ended = time.monotonic()
    with open(report, "w") as out:
        json.dump(
            {
                "started": started,
                "wall_s": ended - started,
                "exit_code": os.waitstatus_to_exitcode(status),
                "cpu_user_s": usage.ru_utime,
                "cpu_system_s": usage.ru_stime,
                # KiB on Linux.
                "max_rss_kb": usage.ru_maxrss,
            },
            out,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

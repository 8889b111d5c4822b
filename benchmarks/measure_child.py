"""Run one command and write, as JSON, what its whole process tree cost.

Usage: python benchmarks/measure_child.py REPORT_PATH COMMAND [ARG ...]

- CPU: this process marks itself a child subreaper, so that descendants orphaned by their
  parent are handed to it rather than to init. Once the command has exited, it reaps every
  remaining descendant; getrusage(RUSAGE_CHILDREN) then holds user + system time of every
  process of the tree, children of children included (Linux adds a reaped child's own
  reaped children into its usage).
- Memory: every SAMPLE_SECONDS it walks /proc for the processes below it and sums their
  resident set sizes; the peak of that sum is reported. Forked processes share pages
  copy-on-write, and each counts them again: the sum is an upper bound of what the tree
  holds, which is what a host running the tap has to provision for.
- Processes: every process seen in the tree while sampling, or reaped here. One that lives
  and dies between two samples under a parent that reaps it goes unseen.

This process stays small and separate from the harness, because Linux counts into a
child's peak RSS (ru_maxrss) the image it was forked from.
"""

import contextlib
import ctypes
import json
import os
import resource
import select
import signal
import sys
import time

SAMPLE_SECONDS = 0.02
# After the command exits, how long descendants it left behind may take to finish.
ORPHAN_GRACE_SECONDS = 20
PR_SET_CHILD_SUBREAPER = 36
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def become_subreaper() -> bool:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    return False


def read_stat(pid: int) -> tuple[int, int, int] | None:
    """(parent pid, start time in clock ticks, resident pages) from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields follow the last ")".
    fields = text[text.rfind(b")") + 2 :].split()
    # stat(5): ppid is field 4, starttime 22, rss 24; fields[0] is field 3.
    return int(fields[1]), int(fields[19]), int(fields[21])


class Sampler:
    """The tree below this process, found by the parent pid of every process in /proc.

    A process outside the tree never enters it (only the tree's own orphans are handed to
    this process), so each other process is read once, which keeps a sample cheap.
    """

    def __init__(self) -> None:
        self.me = os.getpid()
        self.foreign: set[int] = {self.me}
        self.seen: set[tuple[int, int]] = set()
        self.peak_kb = 0
        self.peak_processes = 0
        self.samples = 0

    def sample(self) -> list[int]:
        """The live descendants, after adding this moment's RSS sum to the peak."""
        try:
            listed = {int(name) for name in os.listdir("/proc") if name.isdigit()}
        except OSError:
            listed = set()
        self.foreign &= listed
        stats = {}
        for pid in listed - self.foreign:
            stat = read_stat(pid)
            if stat is not None:
                stats[pid] = stat
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in stats.items():
            children.setdefault(ppid, []).append(pid)
        tree, queue = [], [self.me]
        while queue:
            for child in children.get(queue.pop(), ()):
                tree.append(child)
                queue.append(child)
        self.foreign |= stats.keys() - set(tree)
        total = 0
        for pid in tree:
            _, started, rss = stats[pid]
            self.seen.add((pid, started))
            total += rss
        self.peak_kb = max(self.peak_kb, total * PAGE_KB)
        self.peak_processes = max(self.peak_processes, len(tree))
        self.samples += 1
        return tree


def main() -> int:
    report, command = sys.argv[1], sys.argv[2:]
    subreaper = become_subreaper()
    sampler = Sampler()
    reaped: set[int] = set()
    started = time.monotonic()
    pid = os.posix_spawnp(command[0], command, os.environ)
    # Readable once the command exits, so that its wall time is not rounded up to a sample.
    exited = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    status = None
    ended = None
    while status is None:
        sampler.sample()
        if exited is None:
            time.sleep(SAMPLE_SECONDS)
        else:
            select.select([exited], [], [], SAMPLE_SECONDS)
        # Reap whatever has ended: the command itself, or orphans handed to this process.
        while True:
            try:
                done, code = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if done == 0:
                break
            reaped.add(done)
            if done == pid:
                status, ended = code, time.monotonic()
    # What the command left running still counts, until it ends (or is ended).
    give_up = time.monotonic() + ORPHAN_GRACE_SECONDS
    orphans_killed = 0
    while True:
        tree = sampler.sample()
        try:
            done, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            done = -1
        if done > 0:
            reaped.add(done)
            continue
        if not tree:
            break
        if time.monotonic() > give_up:
            for orphan in tree:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(orphan, signal.SIGKILL)
                    orphans_killed += 1
            give_up = float("inf")
        time.sleep(SAMPLE_SECONDS)
    tree_ended = time.monotonic()
    if exited is not None:
        os.close(exited)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    pids_seen = {pid for pid, _ in sampler.seen} | reaped
    with open(report, "w") as out:
        json.dump(
            {
                "started": started,
                "wall_s": ended - started,
                "tree_wall_s": tree_ended - started,
                "exit_code": os.waitstatus_to_exitcode(status),
                "cpu_user_s": children.ru_utime,
                "cpu_system_s": children.ru_stime,
                # KiB on Linux: the largest single process of the tree.
                "max_single_rss_kb": children.ru_maxrss,
                "peak_tree_rss_kb": sampler.peak_kb,
                "processes": len(pids_seen),
                "peak_processes": sampler.peak_processes,
                "samples": sampler.samples,
                "subreaper": subreaper,
                "orphans_killed": orphans_killed,
                "measurer_cpu_s": own.ru_utime + own.ru_stime,
            },
            out,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CPU time spent by the processes under test, read from /proc (Linux only).

On a shared 2-core machine throughput moves with whatever else runs; the CPU time the
server's workers and its database backends spend per request moves much less, so the
benchmark prints both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK = 1 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    # After "pid (comm)": state ppid ... utime is the 12th field, stime the 13th.
    return int(fields[1]), (int(fields[11]) + int(fields[12])) * TICK


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode("utf-8", "replace")
        )
    except OSError:
        return ""


@dataclass
class Snapshot:
    workers: dict[int, float]
    backends: dict[int, float]


def _delta(before: dict[int, float], after: dict[int, float]) -> float:
    # A process that appeared in between counts from zero; one that ended is lost.
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


class CpuMeter:
    """CPU seconds of a gunicorn master's workers and of one database's backends."""

    def __init__(self, master_pid: int, database: str) -> None:
        self.master_pid = master_pid
        self.marker = f" {database} "

    def snapshot(self) -> Snapshot:
        workers: dict[int, float] = {}
        backends: dict[int, float] = {}
        for pid in _pids():
            stat = _stat(pid)
            if stat is None:
                continue
            parent, seconds = stat
            if parent == self.master_pid:
                workers[pid] = seconds
                continue
            command = _cmdline(pid)
            if command.startswith("postgres:") and self.marker in command:
                backends[pid] = seconds
        return Snapshot(workers, backends)

    @staticmethod
    def used(before: Snapshot, after: Snapshot) -> tuple[float, float]:
        """(worker seconds, database backend seconds) used between two snapshots."""
        return _delta(before.workers, after.workers), _delta(before.backends, after.backends)

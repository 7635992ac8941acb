"""What the bench and reliability harnesses both measure: a child process while it runs,
and the machine the figures come from."""

from __future__ import annotations

import os
import subprocess
import time


def wait_with_rusage(proc: subprocess.Popen, timeout: float, poll_s: float = 0.02):
    """Wait for `proc` (killing it past `timeout` seconds); return (exit code, its rusage).

    wait4 gives the child's own peak RSS, which `resource.getrusage(RUSAGE_CHILDREN)`
    would mix with every other child of this process."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(poll_s)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or "" where there is none."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def memory_gib() -> float | None:
    """Total memory in GiB from /proc/meminfo, or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal"):
                    return int(line.split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None

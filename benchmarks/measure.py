"""What the bench and reliability harnesses both measure: a child process while it runs,
and the machine the figures come from."""

from __future__ import annotations

import os
import subprocess
import time


def wait_with_rusage(proc: subprocess.Popen, timeout: float, poll_s: float = 0.02, on_poll=None):
    """Wait for `proc` (killing it past `timeout` seconds); return (exit code, its rusage).
    `on_poll(pid)`, if given, is called before each poll while the child runs.

    wait4 gives the child's own peak RSS, which `resource.getrusage(RUSAGE_CHILDREN)`
    would mix with every other child of this process."""
    deadline = time.monotonic() + timeout
    while True:
        if on_poll is not None:
            on_poll(proc.pid)
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


def _cpu_of(pid: int) -> float | None:
    """User + system CPU seconds of a running process, from /proc (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def wait_sampling_cpu(proc: subprocess.Popen, timeout: float, poll_s: float = 0.02):
    """`wait_with_rusage`, sampling the child's CPU while it runs: (exit code, rusage,
    [(time.monotonic(), CPU seconds so far)])."""
    samples: list[tuple[float, float]] = []

    def sample(pid: int) -> None:
        cpu = _cpu_of(pid)
        if cpu is not None:
            samples.append((time.monotonic(), cpu))

    code, usage = wait_with_rusage(proc, timeout, poll_s, on_poll=sample)
    return code, usage, samples


def cpu_at(samples: list[tuple[float, float]], when: float | None) -> float | None:
    """The sampled CPU seconds at monotonic time `when` (the last sample before it)."""
    if when is None or not samples:
        return None
    before = [cpu for t, cpu in samples if t <= when]
    return before[-1] if before else 0.0

"""Waiting for a child process while measuring it (shared by the bench and reliability harnesses)."""

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

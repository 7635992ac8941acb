"""A `jira-etl deliver` process killed with SIGKILL mid-delivery loses nothing and
re-sends at most the one finding in flight."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from receivers import HttpReceiver

SCRIPT = Path(sys.executable).parent / "jira-etl"


def run_deliver(env, cwd) -> subprocess.Popen:
    return subprocess.Popen([str(SCRIPT), "deliver"], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


@pytest.mark.parametrize("kill_after", [1, 3])
def test_sigkill_mid_pass_loses_nothing(findings_site, tmp_path, kill_after):
    wanted = findings_site.wanted("medium")
    assert len(wanted) > kill_after + 1
    arrived: list[str] = []

    # Each body is noted on arrival, then the answer is held back: the kill lands while
    # the sender waits for the acknowledgement of the one in flight.
    with HttpReceiver(delay_s=0.4) as rx:
        handler = rx.server.RequestHandlerClass
        original = handler.do_POST

        def noting(self):
            arrived.append(self.path)
            original(self)

        handler.do_POST = noting
        env = dict(os.environ, JIRA_ETL_WEBHOOK_URL=rx.url("/hook/secret"), JIRA_ETL_DELIVERY_BACKOFF_SECONDS="0")
        proc = run_deliver(env, tmp_path)
        deadline = time.monotonic() + 60
        while len(arrived) < kill_after + 1 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        assert proc.poll() is None, proc.stdout.read().decode()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        time.sleep(0.5)  # the in-flight request's handler finishes
        before = len(rx.received)
        assert before >= kill_after
        again = run_deliver(env, tmp_path)
        out = again.communicate(timeout=120)[0].decode()
        assert again.returncode == 0, out
    ids = [b["id"] for _, b in rx.received]
    assert set(ids) == wanted  # nothing lost
    assert len(ids) - len(wanted) <= 1, sorted(ids)  # at most the one in flight again

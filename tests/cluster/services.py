"""Real services on loopback for the cluster tests: an S3-compatible server (moto),
PostgreSQL (Debian's binaries, a private cluster in a temp dir), Redis, and the
deploy/ scripts' processes. Each is stopped by its own process group."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(os.environ.get("JIRA_ETL_VENV", REPO / ".venv")) / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


class Proc:
    """A process in a group of its own, its output in a log file."""

    def __init__(self, args: list[str], log: Path, env: dict | None = None, **kw):
        self.log = log
        self._fh = open(log, "wb")
        self.popen = subprocess.Popen(args, stdout=self._fh, stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True, **kw)

    def kill(self, sig=signal.SIGKILL) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.popen.wait(10)
        self.kill(signal.SIGKILL)  # children left in the group
        self._fh.close()

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def start_moto(tmp: Path) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], tmp / "moto.log")
    wait_port(port, proc=proc.popen)
    return proc, f"http://127.0.0.1:{port}"


def start_redis(tmp: Path) -> tuple[Proc, int]:
    port = free_port()
    proc = Proc(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(tmp)], tmp / "redis.log")
    wait_port(port, proc=proc.popen)
    return proc, port


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/" + name))
    if not versions:
        raise RuntimeError(f"{name} not found: apt-get install postgresql")
    return str(versions[-1])


class Postgres:
    """A private PostgreSQL cluster: initdb in a temp dir, password auth on loopback.
    As root, it runs as the `postgres` user (the server refuses root)."""

    def __init__(self, password: str):
        self.password = password
        self.dir = Path(tempfile.mkdtemp(prefix="jira-etl-pg-"))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    def _run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(args, check=True, capture_output=True, user=self.user, cwd=self.dir, **kw)

    def start(self) -> str:
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password + "\n")
        if self.user:
            shutil.chown(pwfile, self.user)
        self._run([_pg_bin("initdb"), "-D", str(self.dir / "db"), "-U", "dagster", "-A", "scram-sha-256",
                   f"--pwfile={pwfile}", "--no-sync"])
        pwfile.unlink()
        self._run([_pg_bin("pg_ctl"), "-D", str(self.dir / "db"), "-l", str(self.dir / "pg.log"), "-w", "-t", "60",
                   "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
        return f"postgresql://dagster:{self.password}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run([_pg_bin("pg_ctl"), "-D", str(self.dir / "db"), "-m", "immediate", "-w", "stop"])
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

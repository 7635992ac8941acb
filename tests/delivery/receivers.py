"""Real receivers on loopback for the delivery tests: an HTTP webhook that can fail,
refuse or hang, and a syslog server (TCP or TLS) that parses RFC 6587 octet-counted
frames. A self-signed CA and a server certificate are made with Debian's openssl."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class HttpReceiver:
    """POSTs land in `received` (path, parsed JSON). The first `fail_first` answers are
    503; `status` forces every answer; `delay_s` holds each answer back."""

    def __init__(self, fail_first: int = 0, status: int = 200, delay_s: float = 0.0):
        self.fail_first, self.status, self.delay_s = fail_first, status, delay_s
        self.received: list[tuple[str, dict]] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                with receiver.lock:
                    if receiver.fail_first > 0:
                        receiver.fail_first -= 1
                        code = 503
                    else:
                        code = receiver.status
                    if code < 300:
                        receiver.received.append((self.path, json.loads(body)))
                    receiver.answers.append(code)
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def read_frames(conn: socket.socket):
    """Yield each message of an RFC 6587 octet-counted stream."""
    buf = b""
    while True:
        while b" " not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buf += chunk
        length, _, rest = buf.partition(b" ")
        assert length.isdigit(), f"frame does not start with an octet count: {buf[:40]!r}"
        n = int(length)
        while len(rest) < n:
            chunk = conn.recv(65536)
            if not chunk:
                raise AssertionError("stream ended inside a frame")
            rest += chunk
        yield rest[:n]
        buf = rest[n:]


class SyslogReceiver:
    def __init__(self, tls: ssl.SSLContext | None = None):
        self.tls = tls
        self.messages: list[bytes] = []
        self.lock = threading.Lock()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn):
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            for msg in read_frames(conn):
                with self.lock:
                    self.messages.append(msg)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.02)
        with self.lock:
            return list(self.messages)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop = True
        self.thread.join(timeout=2)
        self.sock.close()


def make_ca(tmp: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key): a CA made here and a server certificate it
    signed for 127.0.0.1 and localhost."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=tmp, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=jira_etl test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost")
    (tmp / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx

"""Senders: one finding to one destination, with a verdict the ledger can act on.

`Outcome.ok`: acknowledged (a 2xx, or the frame written to the socket). `permanent`:
the receiver refused it (a 4xx other than 408/425/429: the URL or the payload is wrong,
retrying will not help), reported and left alone. Anything else (5xx, 429, timeouts,
refused connections, TLS errors) is retried on a later pass.

A webhook URL is a secret, and requests and urllib3 put URLs in their exception texts
and debug logs. So an error text is built here from the exception's class and the
status code only, never from `str(exc)`, and urllib3's connection-pool logger gets a
filter that blanks the paths of the URLs sent to.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from jira_etl.delivery import payloads
from jira_etl.delivery.config import Destination
from jira_etl.settings import ConfigError

RETRYABLE_4XX = {408, 425, 429}


@dataclass
class Outcome:
    ok: bool
    permanent: bool = False
    error: str = ""
    retry_after_s: float | None = None


class _RedactPaths(logging.Filter):
    """Blanks registered URL paths and queries out of log records (urllib3 logs
    `"POST /services/T000/B000/XXXX HTTP/1.1" 200` at DEBUG)."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, url: str) -> None:
        parts = urlsplit(url)
        with self._lock:
            for s in (url, parts.path + ("?" + parts.query if parts.query else ""), parts.path, parts.query):
                if s and s != "/":
                    self._secrets.add(s)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._secrets
        if not secrets:
            return True
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is not ours to fix
            return True
        if any(s in text for s in secrets):
            for s in sorted(secrets, key=len, reverse=True):
                text = text.replace(s, "<redacted>")
            record.msg, record.args = text, None
        return True


_REDACT = _RedactPaths()
for _name in ("urllib3.connectionpool", "urllib3", "requests"):
    logging.getLogger(_name).addFilter(_REDACT)


def scrub(text: str, url: str) -> str:
    """`text` with the URL, its path and its query replaced (belt and braces)."""
    parts = urlsplit(url)
    for s in sorted({url, parts.path, parts.query, parts.netloc + parts.path}, key=len, reverse=True):
        if s and s != "/":
            text = text.replace(s, "<redacted>")
    return text


def _root_oserror(exc: BaseException) -> str | None:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and type(exc).__module__ == "builtins":
            return type(exc).__name__
        for arg in getattr(exc, "args", ()):
            if isinstance(arg, BaseException):
                inner = _root_oserror(arg)
                if inner:
                    return inner
        exc = exc.__cause__ or exc.__context__ or getattr(exc, "reason", None)
    return None


def describe_request_error(exc: BaseException, timeout_s: float) -> str:
    """A secret-free description of a requests failure."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"connect timed out after {timeout_s:g} s"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error (certificate or handshake)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        root = _root_oserror(exc)
        return f"connection failed ({root})" if root else "connection failed"
    return f"request failed ({type(exc).__name__})"


class HttpSender:
    """Generic webhook, Slack and Teams: one JSON POST per finding."""

    BODY = {"webhook": payloads.webhook_body, "slack": payloads.slack_body, "teams": payloads.teams_body}

    def __init__(self, dest: Destination):
        self.dest = dest
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"jira_etl/{payloads.VERSION}"

    def __repr__(self) -> str:
        return f"HttpSender({self.dest.name!r}, {self.dest.kind})"

    def send(self, finding: dict, update: bool) -> Outcome:
        try:
            url = self.dest.url()
        except ConfigError as exc:
            return Outcome(False, error=str(exc))
        _REDACT.add(url)
        body = json.dumps(self.BODY[self.dest.kind](finding, update), default=str).encode()
        t = self.dest.timeout_s
        try:
            # Connect and read timeouts both bounded: a receiver that accepts and never
            # answers costs one timeout, and the pass moves on. No redirects: a POST
            # bounced elsewhere is a configuration problem, not delivery.
            resp = self.session.post(url, data=body, timeout=(min(t, 5.0), t), allow_redirects=False,
                                     headers={"Content-Type": "application/json"})
        except requests.exceptions.RequestException as exc:
            return Outcome(False, error=describe_request_error(exc, t))
        except Exception as exc:  # noqa: BLE001 - anything else from the stack, still scrubbed
            return Outcome(False, error=scrub(f"request failed ({type(exc).__name__})", url))
        status = resp.status_code
        resp.close()
        if 200 <= status < 300:
            return Outcome(True)
        error = f"HTTP {status}"
        if status in RETRYABLE_4XX or status >= 500:
            retry_after = None
            try:
                retry_after = float(resp.headers.get("Retry-After", ""))
            except ValueError:
                pass
            return Outcome(False, error=error, retry_after_s=retry_after)
        if 300 <= status < 400:
            error += " (redirect not followed: check the URL)"
        return Outcome(False, permanent=True, error=error + " (refused: not retried)")

    def close(self) -> None:
        self.session.close()


class SyslogSender:
    """RFC 5424 over TCP or TLS (RFC 5425), framed by octet counting (RFC 6587). One
    connection per pass, opened on first use; a frame counts as delivered once written."""

    def __init__(self, dest: Destination):
        self.dest = dest
        parts = urlsplit(dest.url())
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.sock: socket.socket | None = None

    def __repr__(self) -> str:
        return f"SyslogSender({self.dest.name!r}, {self.scheme}://{self.host}:{self.port})"

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.dest.timeout_s)
        if self.scheme == "tls":
            ctx = ssl.create_default_context(cafile=self.dest.ca_file)
            try:
                sock = ctx.wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        sock.settimeout(self.dest.timeout_s)
        return sock

    def send(self, finding: dict, update: bool) -> Outcome:
        frame = payloads.octet_frame(payloads.rfc5424(finding, update))
        try:
            if self.sock is not None and self._peer_closed():
                self.close()
            if self.sock is None:
                self.sock = self._connect()
            self.sock.sendall(frame)
            return Outcome(True)
        except ssl.SSLError as exc:
            self.close()
            return Outcome(False, error=f"TLS error ({exc.reason or type(exc).__name__})")
        except socket.timeout:
            self.close()
            return Outcome(False, error=f"syslog receiver timed out after {self.dest.timeout_s:g} s")
        except OSError as exc:
            self.close()
            return Outcome(False, error=f"syslog connection failed ({type(exc).__name__})")

    def _peer_closed(self) -> bool:
        """A receiver that closed the connection still takes the next write (the reset
        comes after), which would count a lost frame as delivered: look first. Syslog
        receivers send nothing, so a readable socket means end of stream or an error."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if not readable:
                return False
            # Non-blocking: over TLS the readable bytes are often the server's session
            # tickets, which carry no data; a blocking read would wait for the timeout.
            self.sock.setblocking(False)
            try:
                return self.sock.recv(1) == b""
            except (ssl.SSLWantReadError, BlockingIOError):
                return False
            finally:
                self.sock.settimeout(self.dest.timeout_s)
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None


def sender_for(dest: Destination):
    return SyslogSender(dest) if dest.kind == "syslog" else HttpSender(dest)

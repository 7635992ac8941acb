"""Syslog delivery to real receivers on loopback: RFC 5424 messages in RFC 6587
octet-counted frames over TCP and over TLS (a CA made in the test), each with a CEF
payload; exactly once; an untrusted certificate is an error, retried, not a send."""

from __future__ import annotations

import re

import pytest
from receivers import SyslogReceiver, make_ca, read_frames, server_tls

from jira_etl import cli
from jira_etl.delivery import payloads

RFC5424 = re.compile(rb"^<(\d{1,3})>1 (\S+) (\S+) jira_etl (\d+) (finding|finding_update) - (CEF:0\|.*)$", re.S)


def split_cef(text: str) -> tuple[list[str], dict[str, str]]:
    """Parse a CEF line as a receiver does: 7 header fields split on unescaped pipes,
    then key=value pairs whose values end where the next unescaped ` key=` begins."""
    fields, cur, i = [], "", 0
    while len(fields) < 7:
        c = text[i]
        if c == "\\":
            cur += text[i + 1]
            i += 2
            continue
        if c == "|":
            fields.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    ext = text[i:]
    parts = re.split(r"(?<!\\) (?=[A-Za-z0-9]+=)", ext)
    values = {}
    for p in parts:
        key, _, value = p.partition("=")
        value = re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), value)
        values[key] = value
    return fields, values


def received_findings(messages: list[bytes]) -> list[dict]:
    out = []
    for msg in messages:
        m = RFC5424.match(msg)
        assert m, msg[:120]
        pri = int(m.group(1))
        assert pri // 8 == payloads.SYSLOG_FACILITY
        header, ext = split_cef(m.group(6).decode())
        assert header[:3] == ["CEF:0", "jira_etl", "jira_etl"]
        out.append({"detection_id": header[4], "title": header[5], "severity": int(header[6]), **ext})
    return out


def deliver(capsys) -> tuple[int, str]:
    code = cli.main(["deliver"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_cef_escaping_round_trips():
    f = {"finding_id": "f1", "detection_id": "x|y", "title": "a \\ b | c", "severity": "high", "connector": "acme",
         "actor_account_id": "a=b", "actor_name": "line1\nline2", "remote_address": "203.0.113.9",
         "message": "x=1 y=2 \\ back\r\nnext", "first_seen": None, "last_seen": None, "record_ids": [1, 2],
         "count": 2, "object": "GROUP a|b"}
    text = payloads.cef(f, update=False)
    assert "\n" not in text and "\r" not in text
    header, ext = split_cef(text)
    assert header[4] == "x|y" and header[5] == "a \\ b | c" and header[6] == "8"
    assert ext["suid"] == "a=b" and ext["suser"] == "line1\nline2" and ext["msg"] == "x=1 y=2 \\ back\nnext"
    assert ext["cs2"] == "GROUP a|b" and ext["cs3"] == "1,2" and ext["src"] == "203.0.113.9"
    assert payloads.octet_frame("é".encode()) == b"2 \xc3\xa9"


@pytest.mark.parametrize("tls", [False, True])
def test_syslog_receiver_gets_each_finding_once(findings_site, monkeypatch, capsys, tmp_path, tls):
    ctx = None
    if tls:
        ca, cert, key = make_ca(tmp_path)
        ctx = server_tls(cert, key)
    wanted = findings_site.wanted("medium")
    with SyslogReceiver(ctx) as rx:
        monkeypatch.setenv("JIRA_ETL_SYSLOG_URL", f"{'tls' if tls else 'tcp'}://127.0.0.1:{rx.port}")
        if tls:
            monkeypatch.setenv("JIRA_ETL_SYSLOG_CA_FILE", str(ca))
        code, out = deliver(capsys)
        assert code == 0, out
        got = received_findings(rx.wait_for(len(wanted)))
        assert sorted(g["externalId"] for g in got) == sorted(wanted)
        assert deliver(capsys)[0] == 0
        assert len(rx.wait_for(len(wanted) + 1, timeout=1)) == len(wanted)  # nothing sent again
    mass = next(g for g in got if g["detection_id"] == "mass_user_removal")
    assert mass["severity"] == 8 and mass["cnt"] == "12" and mass["act"] == "new" and mass["cs1"] == "acme"


def test_tls_without_the_ca_is_refused_and_retried_later(findings_site, monkeypatch, capsys, tmp_path):
    ca, cert, key = make_ca(tmp_path)
    with SyslogReceiver(server_tls(cert, key)) as rx:
        monkeypatch.setenv("JIRA_ETL_SYSLOG_URL", f"tls://127.0.0.1:{rx.port}")
        code, out = deliver(capsys)  # the system trust store does not know the test CA
        assert code == 1 and "TLS error" in out and "pending for syslog" in out
        assert rx.wait_for(1, timeout=0.5) == []
        monkeypatch.setenv("JIRA_ETL_SYSLOG_CA_FILE", str(ca))
        code, out = deliver(capsys)
        assert code == 0, out
        assert len(rx.wait_for(len(findings_site.wanted()))) == len(findings_site.wanted())


def test_frame_reader_rejects_unframed_input():
    import socket

    a, b = socket.socketpair()
    a.sendall(b"<13>1 - - - - - - no count here")
    a.close()
    with pytest.raises(AssertionError):
        list(read_frames(b))

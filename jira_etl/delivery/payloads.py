"""What a finding looks like on the wire: generic webhook JSON, Slack and Teams messages
for people (severity and actor first), CEF inside RFC 5424 syslog, octet-counted.

Plain functions of a finding (a row of table `findings` as a dict) and nothing else,
so each format is tested on its own.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import socket

from jira_etl.records import epoch_ms, iso_ms as iso


UTC = dt.timezone.utc


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jira_etl")
    except PackageNotFoundError:
        return "0"


VERSION = _version()
PAYLOAD_SCHEMA = "jira_etl.finding/1"
# CEF severity 0-10 and RFC 5424 severity (2 crit, 3 err, 4 warning, 5 notice).
CEF_SEVERITY = {"low": 3, "medium": 5, "high": 8, "critical": 10}
SYSLOG_SEVERITY = {"low": 5, "medium": 4, "high": 3, "critical": 2}
SYSLOG_FACILITY = 13  # log audit
SEVERITY_EMOJI = {"low": ":large_blue_circle:", "medium": ":large_yellow_circle:", "high": ":large_orange_circle:",
                  "critical": ":red_circle:"}
TEAMS_COLOR = {"low": "Accent", "medium": "Warning", "high": "Attention", "critical": "Attention"}


def actor_label(f: dict) -> str:
    name, acct = f.get("actor_name"), f.get("actor_account_id")
    if name and acct:
        return f"{name} ({acct})"
    return name or acct or "system"


def webhook_body(f: dict, update: bool) -> dict:
    """The generic JSON body: one POST per finding."""
    ids = [int(i) for i in (f.get("record_ids") or [])]
    return {
        "schema": PAYLOAD_SCHEMA,
        "id": f["finding_id"],
        "update": bool(update),
        "detection_id": f["detection_id"],
        "title": f.get("title") or f["detection_id"],
        "severity": f["severity"],
        "connector": f["connector"],
        "actor_id": f.get("actor_account_id"),
        "actor_name": f.get("actor_name"),
        "source_ip": f.get("remote_address"),
        "object": f.get("object"),
        "message": f.get("message"),
        "first_seen": iso(f.get("first_seen")),
        "last_seen": iso(f.get("last_seen")),
        "day": iso(f.get("day")),
        "record_ids": ids,
        "count": int(f.get("count") or len(ids)),
    }


def _slack_escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def summary_line(f: dict, update: bool) -> str:
    prefix = "UPDATE: " if update else ""
    return f"{prefix}[{f['severity'].upper()}] {actor_label(f)}: {f.get('title') or f['detection_id']}"


def slack_body(f: dict, update: bool) -> dict:
    """A Slack incoming-webhook message: `text` for notifications, blocks for the channel."""
    b = webhook_body(f, update)
    head = (f"{SEVERITY_EMOJI.get(b['severity'], '')} *{b['severity'].upper()}*"
            f"{'  (update: the group grew)' if update else ''}  ·  *{_slack_escape(actor_label(f))}*")
    fields = [("Detection", f"{b['title']} (`{b['detection_id']}`)"), ("Connector", b["connector"]),
              ("Source IP", b["source_ip"] or "-"), ("Object", b["object"] or "-"),
              ("First / last seen", f"{b['first_seen']} / {b['last_seen']}"), ("Records", str(b["count"]))]
    return {
        "text": _slack_escape(summary_line(f, update)),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": head}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(b["message"] or "")}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{_slack_escape(v)}"}
                                           for k, v in fields]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"finding `{b['id']}`"}]},
        ],
    }


def teams_body(f: dict, update: bool) -> dict:
    """A Teams Workflows message carrying an Adaptive Card (the Office 365 connectors'
    MessageCard is being retired)."""
    b = webhook_body(f, update)
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True,
             "color": TEAMS_COLOR.get(b["severity"], "Default"),
             "text": f"{b['severity'].upper()}{' (update)' if update else ''} · {actor_label(f)}"},
            {"type": "TextBlock", "weight": "Bolder", "wrap": True, "text": b["title"]},
            {"type": "TextBlock", "wrap": True, "text": b["message"] or ""},
            {"type": "FactSet", "facts": [
                {"title": "Detection", "value": b["detection_id"]}, {"title": "Connector", "value": b["connector"]},
                {"title": "Source IP", "value": b["source_ip"] or "-"}, {"title": "Object", "value": b["object"] or "-"},
                {"title": "First seen", "value": b["first_seen"] or "-"},
                {"title": "Last seen", "value": b["last_seen"] or "-"},
                {"title": "Records", "value": str(b["count"])}, {"title": "Finding", "value": b["id"]}]},
        ],
    }
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


# --- CEF and syslog --------------------------------------------------------------------


def cef_header_escape(value: object) -> str:
    """Header fields: backslash and pipe escaped; a header cannot hold a line break."""
    text = str(value if value is not None else "")
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return re.sub(r"[\r\n]+", " ", text)


def cef_ext_escape(value: object) -> str:
    """Extension values: backslash and equals escaped, line breaks as \\n and \\r."""
    text = str(value if value is not None else "")
    return (text.replace("\\", "\\\\").replace("=", "\\=")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r"))


def _valid_ip(value) -> str | None:
    try:
        return str(ipaddress.ip_address(str(value).strip())) if value else None
    except ValueError:
        return None


def cef(f: dict, update: bool) -> str:
    b = webhook_body(f, update)
    ext = [
        ("rt", epoch_ms(f.get("last_seen")) or epoch_ms(f.get("first_seen"))),
        ("start", epoch_ms(f.get("first_seen"))),
        ("end", epoch_ms(f.get("last_seen"))),
        ("suid", b["actor_id"]),
        ("suser", b["actor_name"]),
        ("src", _valid_ip(b["source_ip"])),
        ("cnt", b["count"]),
        ("msg", b["message"]),
        ("externalId", b["id"]),
        ("cat", b["detection_id"]),
        ("act", "update" if update else "new"),
        ("cs1Label", "connector"), ("cs1", b["connector"]),
        ("cs2Label", "object"), ("cs2", b["object"]),
        ("cs3Label", "recordIds"), ("cs3", ",".join(map(str, b["record_ids"]))),
    ]
    extension = " ".join(f"{k}={cef_ext_escape(v)}" for k, v in ext if v is not None and v != "")
    header = "|".join(cef_header_escape(x) for x in (
        "jira_etl", "jira_etl", VERSION, b["detection_id"], b["title"], CEF_SEVERITY.get(b["severity"], 5)))
    return f"CEF:0|{header}|{extension}"


def _hostname() -> str:
    name = re.sub(r"[^\x21-\x7e]", "", socket.gethostname())[:255]
    return name or "-"


def rfc5424(f: dict, update: bool, now: dt.datetime | None = None) -> bytes:
    """`<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG` with the CEF text as MSG."""
    now = now or dt.datetime.now(UTC)
    pri = SYSLOG_FACILITY * 8 + SYSLOG_SEVERITY.get(f["severity"], 4)
    msgid = "finding_update" if update else "finding"
    head = f"<{pri}>1 {iso(now)} {_hostname()} jira_etl {os.getpid()} {msgid} -"
    return f"{head} {cef(f, update)}".encode("utf-8")


def octet_frame(message: bytes) -> bytes:
    """RFC 6587 octet counting: `<length> <message>`, length in bytes."""
    return str(len(message)).encode("ascii") + b" " + message

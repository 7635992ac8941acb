"""What the bad-input families share: the token they use (registered with the secrets
scan, so a leak anywhere is found) and the result of one case."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

UTC = dt.timezone.utc
SECRET = "reltok-badinput-0123456789abcdef"


def _remember() -> None:
    from benchmarks.reliability.secrets_scan import remember

    for email in ("secops@acme.example", "a@b.example"):
        remember(email, SECRET)


_remember()


@dataclass
class CaseResult:
    name: str
    passed: bool
    problems: list[str]
    message: str

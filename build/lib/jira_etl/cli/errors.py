"""What every command shares: the error a command raises for bad input (printed as
`jira-etl: error: ...`, exit 2) and date parsing."""

from __future__ import annotations

import datetime as dt


class CliError(Exception):
    pass


def parse_date(value: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{flag}: {value!r} is not a date in the form YYYY-MM-DD") from None

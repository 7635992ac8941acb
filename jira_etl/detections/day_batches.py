"""Several days of one rule in one query.

A rule is written for one UTC day (`$window_start`, `$window_end`). Evaluated as a query
per rule and day, a quiet day cost more in DuckDB's planning than in reading the day
(21 rules x ~3 ms of binding and optimizing each). Here a rule runs once for a stretch of
days: its text, the window parameters replaced by the columns of a list of windows, is
joined LATERAL to that list, which DuckDB decorrelates into one plan computing every
window's rows at once (the day becomes one more grouping and partitioning key). Each
row carries its window, so the rows of a day are exactly the rows of that day's query.

Decorrelated, a rule reads its look-back once per window of the stretch: history rules
(30 days of an actor's habits) read it as many times as the stretch has days. So a
stretch is cut where that would cost more than the planning it saves (`plan`): measured
on the skewed window of `make bench` (DuckDB, one thread), its six quiet days took 0.33 s
for the 21 rules in one query each against 1.0 s in a query per day; the three days
after its 240k-record day 1.41 s against 0.95 s, so those run a query per day. Over
the whole month shape (30 days, 118k records): 2.12 s against 4.92 s.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from jira_etl.detections.catalogue import HISTORY_DAYS, Detection, bind

# A day with more events than this is evaluated alone: there the planning a stretch saves
# is small beside the reading, and its events would be read again for every later day
# of the stretch.
MAX_DAY_ROWS = 50_000
# A stretch's scope (its days and their look-back) of at most this many events: each
# further day of a stretch saves ~60 ms of planning (21 rules) and costs a read of the
# scope by the history rules. Measured (DuckDB, 21 rules): the three days after the
# skewed window's 240k-record day (a scope of 290k) cost more batched; the eight after
# the month's 60k-record day (118k) 2.12 s in all batched against 2.49 s without.
MAX_SCOPE_ROWS = 150_000
# And days x scope events, what the decorrelated history rules read at most (memory).
MAX_STRETCH_ROWS = 1_000_000
WINDOWS = "jira_etl_windows"
WINDOW_COLUMN = "jira_etl_window_start"
_WINDOW_PARAM = re.compile(r"\$window_(start|end)\b")


def plan(days: list[dt.date], rows_per_day: dict[dt.date, int]) -> list[list[dt.date]]:
    """`days` (sorted, distinct) cut into stretches evaluated together: consecutive days
    of at most MAX_DAY_ROWS events each, while the events of the stretch's scope (its
    days and HISTORY_DAYS before) stay within MAX_SCOPE_ROWS and, times its length,
    within MAX_STRETCH_ROWS. A day alone is a stretch of one (a query per rule)."""

    def scope_rows(first: dt.date, last: dt.date) -> int:
        lo = first - dt.timedelta(days=HISTORY_DAYS)
        return sum(n for d, n in rows_per_day.items() if lo <= d <= last)

    stretches: list[list[dt.date]] = []
    for day in days:
        current = stretches[-1] if stretches else None
        if (current is not None and (day - current[-1]).days == 1
                and rows_per_day.get(day, 0) <= MAX_DAY_ROWS and rows_per_day.get(current[-1], 0) <= MAX_DAY_ROWS
                and scope_rows(current[0], day) <= MAX_SCOPE_ROWS
                and (len(current) + 1) * scope_rows(current[0], day) <= MAX_STRETCH_ROWS):
            current.append(day)
        else:
            stretches.append([day])
    return stretches


def windows(days: list[dt.date]) -> tuple[list[dt.datetime], list[dt.datetime]]:
    """The UTC day windows of `days`: (starts, ends), each end exclusive."""
    starts = [dt.datetime.combine(d, dt.time(), dt.timezone.utc) for d in days]
    # Ends as values too: `start + INTERVAL 1 DAY` in SQL follows the session's time
    # zone, which is 23 or 25 hours on the days clocks change.
    return starts, [s + dt.timedelta(days=1) for s in starts]


def query(det: Detection) -> str:
    """The rule over a list of windows: its rows, each with WINDOW_COLUMN (its window's
    start), then the actor's name, as the one-day query orders them within a day."""
    body = _WINDOW_PARAM.sub(lambda m: f"{WINDOWS}.window_{m.group(1)}", det.sql)
    return (
        f"WITH {WINDOWS} AS (SELECT unnest($jira_etl_starts) AS window_start, unnest($jira_etl_ends) AS window_end)\n"
        f"SELECT {WINDOWS}.window_start AS {WINDOW_COLUMN}, f.*, u.display_name AS actor_name\n"
        f"FROM {WINDOWS}, LATERAL (\n{body}\n) f\n"
        "LEFT JOIN users u ON u.account_id = f.actor_account_id\n"
        f"ORDER BY {WINDOW_COLUMN}, f.first_seen, f.actor_account_id"
    )


def parameters(det: Detection, connector: str, days: list[dt.date],
               overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    starts, ends = windows(days)
    values = bind(det, connector, starts[0], ends[0], overrides)
    values.pop("window_start", None)
    values.pop("window_end", None)
    return {**values, "jira_etl_starts": starts, "jira_etl_ends": ends}

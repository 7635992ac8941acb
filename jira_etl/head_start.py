"""A backfill's walk begun before its Dagster run is ready, and handed to the run's step.

`jira-etl backfill` spends a second or more in Dagster before the first request: importing
it, opening the instance, creating the run (an event per asset and partition planned),
starting the steps. That work holds one core; the other is idle. Here the CLI starts the
walk of the range's complete days (`collect.walk_days`, the very walk the extract step
makes) as soon as it knows the range, and the extract step claims it: only a walk begun
for exactly what the step would fetch (connector, days, data directory, slices, threads,
and a client with the same site, credentials and retry policy) is handed over. The walk
only writes each day's temporary file (sealed as the day completes: all of publishing
but the rename): nothing is published before the step publishes it, so a run that
never reaches the step (a failed preflight, another run of the connector in progress)
leaves the lake as it was; the CLI discards an unclaimed walk.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from pathlib import Path
from typing import Callable, Iterator

from jira_etl import settings
from jira_etl.collect import OpenDays, walk_days
from jira_etl.connection import check_with
from jira_etl.connectors import Connector
from jira_etl.sources.client import Cancelled, JiraClient, RetryPolicy

_lock = threading.Lock()


class PrecheckFailed(Exception):
    """The head start's connection check failed: nothing was walked (the run's preflight
    step reports the problem)."""
_pending: dict[str, "WalkAhead"] = {}


class WalkAhead:
    """The walk of `days` in a thread of its own. Slices go into their days' temporary
    files as they come; days whose every slice is walked wait for `completed()`."""

    def __init__(self, client: JiraClient, connector: str, days: list[dt.date], data_dir: Path, *,
                 slices: int, concurrency: int, precheck: Callable[[], str | None] | None = None):
        self.client, self.connector, self.days = client, connector, list(days)
        self.data_dir, self.slices, self.concurrency = Path(data_dir).resolve(), slices, concurrency
        self._stop = threading.Event()  # also set by the walk itself as it ends
        self._stopped = False  # stop() was called
        self._precheck = precheck
        self.open_days = OpenDays(connector, self.days, self.data_dir)
        self._cond = threading.Condition()
        self._ready: deque[int] = deque()
        self._done = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"jira-walk-ahead-{connector}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        walks = None
        try:
            # Credentials and audit-log access first, as the run's preflight step checks
            # them: a bad token must not send the walk's requests.
            problem = self._precheck() if self._precheck is not None else None
            if problem is not None:
                raise PrecheckFailed(problem)
            walks = walk_days(self.client, self.open_days, slices=self.slices, concurrency=self.concurrency,
                              stop=self._stop)
            for item in walks:
                i = self.open_days.take(item)
                if i is not None:
                    # Its file finished here, while Dagster starts: the step's publish
                    # of it is then a rename, and loading begins as soon as it claims.
                    self.open_days.get(i).seal()
                    with self._cond:
                        self._ready.append(i)
                        self._cond.notify_all()
                if self._stopped:
                    break
        except Cancelled:
            pass
        except BaseException as exc:  # raised to whoever claimed the walk, or discarded with it
            self.error = exc
        finally:
            if walks is not None:
                walks.close()
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def matches(self, client: JiraClient, connector: str, days: list[dt.date], data_dir: Path,
                slices: int, concurrency: int) -> bool:
        return (connector == self.connector and list(days) == self.days
                and Path(data_dir).resolve() == self.data_dir
                and (slices, concurrency) == (self.slices, self.concurrency)
                and self.client.same_site_and_identity(client))

    def completed(self) -> Iterator[int]:
        """Indices of the days whose every slice is walked, as they complete; at the end
        of a failed walk, its error."""
        while True:
            with self._cond:
                while not self._ready and not self._done:
                    self._cond.wait()
                if self._ready:
                    i = self._ready.popleft()
                elif self.error is not None:
                    raise self.error
                elif self._stopped:
                    raise Cancelled
                else:
                    return
            yield i

    def stop(self) -> None:
        """End the walk (its threads stop within moments) and wait for it."""
        self._stopped = True
        self._stop.set()
        self._thread.join()

    def discard(self, reason: str = "discarded") -> None:
        self.stop()
        self.open_days.abandon(Cancelled(reason))


def start(client: JiraClient, connector: str, days: list[dt.date], data_dir: Path, *, slices: int,
          concurrency: int, precheck: Callable[[], str | None] | None = None) -> WalkAhead | None:
    """Begin the walk of `days` for the connector's next run (one per connector), after
    `precheck` (None: go on; else the problem) if given."""
    if not days:
        return None
    ahead = WalkAhead(client, connector, days, data_dir, slices=slices, concurrency=concurrency, precheck=precheck)
    with _lock:
        previous, _pending[connector] = _pending.get(connector), ahead
    if previous is not None:
        previous.discard("replaced")
    return ahead


def begin(connector: Connector, first: dt.date, last: dt.date) -> WalkAhead | None:
    """The CLI's head start for a run of `connector` over [first, last]: the walk of its
    complete days with the client the connector's resource builds by default (an API
    token on a Cloud site). None where the run's step would do anything else first
    (the simulator, OAuth, Data Center, no complete day) or the configuration is
    incomplete: the run reports that itself."""
    if connector.simulated or connector.deployment != "cloud" or connector.cloud_id or connector.cloud_id_env:
        return None
    today = dt.datetime.now(dt.timezone.utc).date()
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    days = [d for d in days if d < today]
    values = connector.resolved()
    try:
        site = settings.resolve_site(values["site"] or "")
        auth = {"email": settings.validate_email(values["email"] or ""),
                "api_token": settings.validate_token(values["api_token"] or "")}
        client = JiraClient(site, **auth)
    except (settings.ConfigError, ValueError):
        return None
    # The preflight's own check, with its quick retry policy (JiraResource.get_client(quick=True)).
    quick = RetryPolicy(max_retries=1, base_delay=1.0, max_delay=2.0, timeout=10.0, connect_timeout=3.0)

    def precheck() -> str | None:
        result = check_with(connector.name, lambda: JiraClient(site, **auth, retry=quick))
        return None if result.ok else result.message

    return start(client, connector.name, days, settings.data_dir(), slices=connector.slices,
                 concurrency=connector.concurrency, precheck=precheck)


def claim(client: JiraClient, connector: str, days: list[dt.date], data_dir: Path, *, slices: int,
          concurrency: int) -> WalkAhead | None:
    """The walk begun for exactly these arguments, now the caller's; None (and any other
    walk of the connector discarded) if there is none. A walk that already failed is
    not handed over: the caller walks afresh, as it would have without a head start."""
    with _lock:
        ahead = _pending.pop(connector, None)
    if ahead is None:
        return None
    if ahead.error is not None or not ahead.matches(client, connector, days, data_dir, slices, concurrency):
        ahead.discard("not claimed")
        return None
    return ahead


def discard(connector: str | None = None) -> None:
    """Drop unclaimed walks (of one connector, or all): their threads stopped, their
    temporary files removed."""
    with _lock:
        names = [connector] if connector is not None else list(_pending)
        left = [w for w in (_pending.pop(n, None) for n in names) if w is not None]
    for ahead in left:
        ahead.discard()

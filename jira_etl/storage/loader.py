"""Loading day files into DuckDB on a background thread while later days are fetched."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Callable

from jira_etl.storage.warehouse import Warehouse


class DayLoader:
    """Replaces connector-days in the warehouse as their Parquet files are published.

    While a backfill walks the next days, the collector leaves CPU idle (it waits on
    the API), so a day is loaded as soon as its file is in place instead of all days
    after the last one. One thread, one load at a time: each load takes every day
    published since the previous one began, in one transaction
    (`Warehouse.load_partitions`), so a long range costs a few loads, not one per day.
    A day in DuckDB is always exactly its published file. A failed load stops the
    loading, never the collection (the files are the source; loading them again is a
    DuckDB-only materialization); `finish` raises it.

    `on_loaded(counts)` is called on the loader's thread with the days loaded since its
    last call (the findings of a run are evaluated there, day by day, while the
    collection goes on); it must not raise: its failures are its own to report. It
    waits while more days are already published (up to DEFER_DAYS): the days are
    loaded first and evaluated together, instead of a day's findings keeping the next
    days out of DuckDB (on the skewed window the last four days were published within
    0.5 s; evaluating the heavy one alone first left the loader idle for 1.4 s and
    then a second evaluation over the same history)."""

    DEFER_DAYS = 31

    def __init__(self, warehouse: Warehouse, connector: str,
                 on_loaded: Callable[[dict[dt.date, int]], None] | None = None):
        self.warehouse, self.connector = warehouse, connector
        self.on_loaded = on_loaded
        self.counts: dict[dt.date, int] = {}
        self._pending: dict[dt.date, Path] = {}
        self._loading = False
        self._closed = False
        self._abandoned = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"load-{connector}", daemon=True)
        self._thread.start()

    def add(self, day: dt.date, path: Path) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the loader is closed")
            if self._error is None:
                self._pending[day] = path
                self._cond.notify_all()

    def finish(self) -> dict[dt.date, int]:
        """Wait until every added day is loaded and reported to `on_loaded`; their row counts."""
        self._close()
        if self._error is not None:
            raise self._error
        return dict(self.counts)

    def wait_loaded(self) -> dict[dt.date, int]:
        """Close to new days and wait until every added day is loaded, not for the
        `on_loaded` still running on them (finish() waits for that); their row counts."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            while (self._pending or self._loading) and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise self._error
            return dict(self.counts)

    def abandon(self) -> None:
        """After a failed extraction: days not yet begun are dropped (the next run loads
        them), the load in progress is let finish, so no transaction is cut short, and
        `on_loaded` is not called again."""
        with self._cond:
            self._pending.clear()
            self._abandoned = True
        self._close()

    def _close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()

    def _run(self) -> None:
        unreported: dict[dt.date, int] = {}
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending, {}
                self._loading = True
            try:
                loaded = self.warehouse.load_partitions(self.connector, batch)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                with self._cond:
                    self._error = exc
                    self._pending.clear()
                    self._loading = False
                    self._cond.notify_all()
                return
            with self._cond:
                self._loading = False
                self._cond.notify_all()
                self.counts.update(loaded)
                unreported.update(loaded)
                follow_up = (self.on_loaded is not None and not self._abandoned
                             and (not self._pending or len(unreported) >= self.DEFER_DAYS))
            if follow_up:
                report, unreported = unreported, {}
                self.on_loaded(report)

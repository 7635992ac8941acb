"""The findings half of a connector's assets: the findings of every detection over each
day of the run's range (table `findings`), its spec and check. Materialized with the
audit records in `assets/audit_records.py`, so a backfill evaluates each day as soon as
it is loaded, while later days are still being fetched."""


import collections
import contextlib
import datetime as dt

from typing import TYPE_CHECKING

import dagster as dg

from jira_etl.defs.assets.extract import jira_resource_key
from jira_etl.defs.assets.load import duckdb_asset_key
from jira_etl.defs.assets.metadata import markdown, selected_checks
from jira_etl.detections import catalogue
from jira_etl.detections import runner
from jira_etl.detections import overrides
from jira_etl.enrich.ip import addresses_to_classify, store_ip_info
from jira_etl.enrich.users import ids_to_refresh_on, refresh_users

if TYPE_CHECKING:
    import pandas as pd

SEVERITY_ORDER = {s: i for i, s in enumerate(catalogue.SEVERITIES)}
ALERT_SEVERITIES = ("high", "critical")
CHECK_NAME = "no_high_or_critical_findings"


def findings_asset_key(connector: str) -> dg.AssetKey:
    return dg.AssetKey([connector, "findings"])


def findings_frame(findings: list[dict]) -> "pd.DataFrame":
    import pandas as pd

    cols = ["day", "severity", "detection_id", "actor", "count", "first_seen", "last_seen", "object",
            "remote_address", "message"]
    if not findings:
        return pd.DataFrame(columns=cols)
    rows = [{**f, "actor": f["actor_name"] or f["actor_account_id"] or "", "count": f.get("count")} for f in findings]
    frame = pd.DataFrame(rows)[cols]
    frame["_rank"] = frame["severity"].map(SEVERITY_ORDER)
    return frame.sort_values(["_rank", "first_seen"], ascending=[False, True]).drop(columns="_rank")


def findings_spec(connector: str) -> dg.AssetSpec:
    # Validate the catalogue when definitions load: a broken rule stops `dagster dev` early.
    detections = catalogue.load_catalogue()
    return dg.AssetSpec(
        findings_asset_key(connector),
        deps=[duckdb_asset_key(connector)],
        group_name=connector,
        kinds={"duckdb", "sql"},
        description=(
            f"Findings of the {len(detections)} detections (jira_etl/detections/rules) over connector "
            f"`{connector}`, one evaluation per UTC day with as much history as each rule needs, "
            "each day as soon as it and the run's earlier days are loaded. "
            "Each day's rows of table `findings` are replaced as a whole. Authors are resolved to "
            "names (table `users`) and addresses classified (table `ip_info`) first; a failed "
            "look-up never fails the run."
        ),
    )


def findings_check_specs(connector: str) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(CHECK_NAME, asset=findings_asset_key(connector),
                              description="Warns when any high or critical finding exists in the run's days.")]


class FindingsRun:
    """The findings of a run's days, evaluated in batches of whole days.

    Each batch: context first (IP classes, user names; outside any write transaction
    of the findings), then every enabled rule over each day, then the days' rows of
    `findings` replaced in one transaction. Batches may run on the loader's thread, so
    nothing here logs through Dagster until `result`, on the op's own thread."""

    def __init__(self, context: dg.AssetExecutionContext, connector: str):
        self.connector = connector
        self.jira = getattr(context.resources, jira_resource_key(connector))
        self.warehouse = context.resources.storage.warehouse()
        self.detections = catalogue.load_catalogue()
        self.settings: overrides.Settings | None = None
        self.found: list[dict] = []
        self.days: list[dt.date] = []
        self.warnings: list[str] = []
        self.users_looked_up = self.users_not_found = self.ips_classified = 0

    def evaluate(self, days: list[dt.date]) -> None:
        days = sorted(days)
        if not days:
            return
        if self.settings is None:
            # Read here, not at construction: a broken detections.yaml fails the
            # findings, never the collection before them.
            self.settings = overrides.load_settings()
        start = dt.datetime.combine(days[0], dt.time(), dt.timezone.utc)
        end = dt.datetime.combine(days[-1], dt.time(), dt.timezone.utc) + dt.timedelta(days=1)
        # One reader finds what the context lacks and, when nothing is to be written
        # first (every address classified, every name fresh: the usual later batches of
        # a run), evaluates too: two connections fewer, each ~25 ms to open and close.
        with contextlib.ExitStack() as stack:
            con = stack.enter_context(self.warehouse.reader())
            try:
                addresses = addresses_to_classify(con, self.connector, start, end)
            except Exception as exc:  # noqa: BLE001 - context must never fail the run
                addresses = []
                self.warnings.append(f"IP classification skipped: {exc}")
            try:
                to_refresh = ids_to_refresh_on(con, self.connector, start, end)
            except Exception:  # noqa: BLE001 - refresh_users asks again and reports it
                to_refresh = None
            if addresses or to_refresh is None or to_refresh[1]:
                stack.close()  # the writes below: a process holds readers or a writer
                self._refresh_context(addresses, to_refresh, start, end)
                con = stack.enter_context(self.warehouse.reader())
            found = runner.evaluate(con, self.connector, days, self.settings, self.detections)
        with self.warehouse.writer() as con:
            runner.replace_findings(con, self.connector, days, found)
        self.found.extend(found)
        self.days.extend(days)

    def _refresh_context(self, addresses: list[str], to_refresh: tuple[int, list[str]] | None,
                         start: dt.datetime, end: dt.datetime) -> None:
        """Classify `addresses` and look up the names of `to_refresh` (None: find them)."""
        try:
            self.ips_classified += store_ip_info(self.warehouse, addresses)
        except Exception as exc:  # noqa: BLE001 - context must never fail the run
            self.warnings.append(f"IP classification skipped: {exc}")
        users = refresh_users(self.warehouse, self.jira.get_client, self.connector, start, end,
                              to_refresh=to_refresh)
        if users.error:
            self.warnings.append(f"user enrichment skipped: {users.error}")
        self.users_looked_up += users.looked_up
        self.users_not_found += users.not_found

    def log_warnings(self, context: dg.AssetExecutionContext) -> None:
        for warning in self.warnings:
            context.log.warning(warning)
        self.warnings.clear()

    def result(self, context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        self.log_warnings(context)
        found, detections, settings = self.found, self.detections, self.settings or overrides.Settings()
        by_detection = collections.Counter(f["detection_id"] for f in found)
        shown = [f for f in found if not f.get("suppressed")]
        suppressed = len(found) - len(shown)
        by_severity = collections.Counter(f["severity"] for f in shown)
        alerts = [f for f in shown if f["severity"] in ALERT_SEVERITIES]
        frame = findings_frame(shown)
        rule_rows = sum(int(f.get("rule_rows") or 1) for f in found)
        context.log.info(f"{self.connector}: {len(found)} finding(s) from {rule_rows} rule row(s) over "
                         f"{len(self.days)} day(s), {suppressed} suppressed: "
                         + (", ".join(f"{k}={v}" for k, v in sorted(by_detection.items())) or "none"))
        key = findings_asset_key(self.connector)
        check = dg.AssetCheckResult(
            asset_key=key,
            check_name=CHECK_NAME,
            passed=not alerts,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "high": by_severity.get("high", 0),
                "critical": by_severity.get("critical", 0),
                "alerts": markdown(findings_frame(alerts), max_rows=20),
            },
        )
        return dg.MaterializeResult(
            asset_key=key,
            metadata={
                "dagster/row_count": len(found),
                "dagster/table_name": "jira_audit.main.findings",
                "rule_rows_before_grouping": rule_rows,
                "findings_after_grouping": len(found),
                "suppressed": suppressed,
                "per_detection": per_detection_table(found, detections, settings),
                "days": len(self.days),
                "detections_run": sum(1 for d in detections if settings.is_enabled(d)),
                **{f"severity/{s}": dg.MetadataValue.int(by_severity.get(s, 0)) for s in catalogue.SEVERITIES},
                **{f"detection/{d.id}": dg.MetadataValue.int(by_detection.get(d.id, 0)) for d in detections},
                "findings": markdown(frame, max_rows=50),
                "users_looked_up": self.users_looked_up,
                "users_not_found": self.users_not_found,
                "ips_classified": self.ips_classified,
            },
            check_results=selected_checks(context, [check]),
        )


def per_detection_table(found: list[dict], detections, settings: overrides.Settings) -> dg.MetadataValue:
    """Per enabled detection: the rule's rows (before grouping), the findings they make
    (after grouping), how many of those an allow-list suppressed, and the records."""
    rows: dict[str, collections.Counter] = {d.id: collections.Counter() for d in detections if settings.is_enabled(d)}
    for f in found:
        c = rows.setdefault(f["detection_id"], collections.Counter())
        c["rule_rows"] += int(f.get("rule_rows") or 1)
        c["findings"] += 1
        c["suppressed"] += bool(f.get("suppressed"))
        c["records"] += len(f.get("record_ids") or [])
    cols = ("rule_rows", "findings", "suppressed", "records")
    return dg.MetadataValue.table(
        records=[dg.TableRecord({"detection": d, **{k: int(c[k]) for k in cols}})
                 for d, c in sorted(rows.items(), key=lambda kv: (-kv[1]["rule_rows"], kv[0]))],
        schema=dg.TableSchema(columns=[dg.TableColumn("detection", "string")]
                              + [dg.TableColumn(k, "int") for k in cols]))


class FindingsAsLoaded:
    """Feeds a FindingsRun from a DayLoader: a day is evaluated once it and every earlier
    day of the run are loaded (rules read the history before their day, never after it),
    so a backfill's findings are computed while its later days are fetched, and each
    day's findings equal those of an evaluation after the whole range is loaded.
    `on_loaded` runs on the loader's thread and never raises; `finish` evaluates what
    is left and raises the first failure."""

    def __init__(self, run: FindingsRun, days: list[dt.date]):
        self.run = run
        self.pending = sorted(days)
        self.loaded: set[dt.date] = set()
        self.error: BaseException | None = None

    def on_loaded(self, counts: dict[dt.date, int]) -> None:
        self.loaded.update(counts)
        if self.error is None:
            self._evaluate_ready()

    def finish(self) -> None:
        if self.error is None:
            self.loaded.update(self.pending)  # the loader has finished: every day is in
            self._evaluate_ready()
        if self.error is not None:
            raise self.error

    def _evaluate_ready(self) -> None:
        ready = []
        while self.pending and self.pending[0] in self.loaded:
            ready.append(self.pending.pop(0))
        try:
            self.run.evaluate(ready)
        except Exception as exc:  # noqa: BLE001 - raised by finish, after the collection
            self.error = exc

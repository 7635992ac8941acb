"""Asset: the findings of every detection over each day of the run's range (table `findings`)."""


import collections

import dagster as dg
import pandas as pd

from jira_etl.assets.extract import jira_resource_key
from jira_etl.assets.load import duckdb_asset_key
from jira_etl.assets.metadata import markdown
from jira_etl.collect import days_in_window
from jira_etl.detections import catalogue
from jira_etl.enrich.ip import refresh_ip_info
from jira_etl.enrich.users import refresh_users
from jira_etl.partitions import daily_partitions

SEVERITY_ORDER = {s: i for i, s in enumerate(catalogue.SEVERITIES)}
ALERT_SEVERITIES = ("high", "critical")


def findings_asset_key(connector: str) -> dg.AssetKey:
    return dg.AssetKey([connector, "findings"])


def findings_frame(findings: list[dict]) -> pd.DataFrame:
    cols = ["day", "severity", "detection_id", "actor", "first_seen", "object", "remote_address", "message"]
    if not findings:
        return pd.DataFrame(columns=cols)
    rows = [{**f, "actor": f["actor_name"] or f["actor_account_id"] or ""} for f in findings]
    frame = pd.DataFrame(rows)[cols]
    frame["_rank"] = frame["severity"].map(SEVERITY_ORDER)
    return frame.sort_values(["_rank", "first_seen"], ascending=[False, True]).drop(columns="_rank")


def build_findings_asset(connector: str) -> dg.AssetsDefinition:
    key = findings_asset_key(connector)
    jira_key = jira_resource_key(connector)
    # Validate the catalogue when definitions load: a broken rule stops `dagster dev` early.
    detections = catalogue.load_catalogue()

    @dg.asset(
        key=key,
        deps=[duckdb_asset_key(connector)],
        group_name=connector,
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        required_resource_keys={"storage", jira_key},
        kinds={"duckdb", "sql"},
        description=(
            f"Findings of the {len(detections)} detections (jira_etl/detections/rules) over connector "
            f"`{connector}`, one evaluation per UTC day with as much history as each rule needs. "
            "Each day's rows of table `findings` are replaced as a whole. Authors are resolved to "
            "names (table `users`) and addresses classified (table `ip_info`) first; a failed "
            "look-up never fails the run."
        ),
        check_specs=[
            dg.AssetCheckSpec("no_high_or_critical_findings", asset=key,
                              description="Warns when any high or critical finding exists in the run's days."),
        ],
    )
    def _findings(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        storage = context.resources.storage
        jira = getattr(context.resources, jira_key)
        window = context.partition_time_window
        days = days_in_window(window.start, window.end)
        warehouse = storage.warehouse()
        settings = catalogue.load_settings()

        # Context first (outside any write transaction of the findings).
        try:
            new_ips = refresh_ip_info(warehouse, connector, window.start, window.end)
        except Exception as exc:  # noqa: BLE001 - context must never fail the run
            context.log.warning(f"IP classification skipped: {exc}")
            new_ips = 0
        users = refresh_users(warehouse, jira.get_client, connector, window.start, window.end)
        if users.error:
            context.log.warning(f"user enrichment skipped: {users.error}")

        with warehouse.reader() as con:
            found = catalogue.evaluate(con, connector, days, settings, detections)
        with warehouse.writer() as con:
            catalogue.replace_findings(con, connector, days, found)

        by_detection = collections.Counter(f["detection_id"] for f in found)
        by_severity = collections.Counter(f["severity"] for f in found)
        alerts = [f for f in found if f["severity"] in ALERT_SEVERITIES]
        frame = findings_frame(found)
        context.log.info(f"{connector}: {len(found)} finding(s) over {len(days)} day(s): "
                         + (", ".join(f"{k}={v}" for k, v in sorted(by_detection.items())) or "none"))
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(found),
                "dagster/table_name": "jira_audit.main.findings",
                "days": len(days),
                "detections_run": sum(1 for d in detections if settings.is_enabled(d)),
                **{f"severity/{s}": dg.MetadataValue.int(by_severity.get(s, 0)) for s in catalogue.SEVERITIES},
                **{f"detection/{d.id}": dg.MetadataValue.int(by_detection.get(d.id, 0)) for d in detections},
                "findings": markdown(frame, max_rows=50),
                "users_looked_up": users.looked_up,
                "users_not_found": users.not_found,
                "ips_classified": new_ips,
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="no_high_or_critical_findings",
                    passed=not alerts,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={
                        "high": by_severity.get("high", 0),
                        "critical": by_severity.get("critical", 0),
                        "alerts": markdown(findings_frame(alerts), max_rows=20),
                    },
                ),
            ],
        )

    return _findings

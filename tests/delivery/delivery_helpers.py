"""Helpers of the delivery tests: findings made by the real detections over records loaded through the real Warehouse
(det_helpers.AuditSite, shared with the detection tests), for the delivery tests."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "detections"))

from det_helpers import ALICE, BOB, DAY, MALLORY, VICTIMS, AuditSite, at, days_before  # noqa: E402

from jira_etl.detections import catalogue, runner  # noqa: E402

DELIVERY_ENV = ("JIRA_ETL_WEBHOOK_URL", "JIRA_ETL_SLACK_WEBHOOK_URL", "JIRA_ETL_TEAMS_WEBHOOK_URL",
                "JIRA_ETL_SYSLOG_URL", "JIRA_ETL_SYSLOG_CA_FILE", "JIRA_ETL_ALERT_MIN_SEVERITY",
                "JIRA_ETL_DELIVERY_CONFIG", "JIRA_ETL_DELIVERY_BACKOFF_SECONDS", "JIRA_ETL_DELIVERY_TIMEOUT_SECONDS",
                "JIRA_ETL_DELIVERY_PASS_SECONDS")


class FindingsSite(AuditSite):
    """An AuditSite whose day is evaluated and written to `findings` as the asset does."""

    def evaluate(self, day=DAY) -> list[dict]:
        self.load()
        with self.warehouse.reader() as con:
            found = runner.evaluate(con, self.connector, [day])
        with self.warehouse.writer() as con:
            runner.replace_findings(con, self.connector, [day], found)
        return found

    def wanted(self, min_severity: str = "medium") -> set[str]:
        rank = catalogue.SEVERITIES.index(min_severity)
        with self.warehouse.reader() as con:
            rows = con.execute("SELECT finding_id, severity FROM findings WHERE NOT suppressed").fetchall()
        return {fid for fid, sev in rows if catalogue.SEVERITIES.index(sev) >= rank}


def plant(site: FindingsSite) -> None:
    """Quiet history, then on DAY: two admins made (high), a global permission (medium),
    a new user (low), a mass removal (high) that can grow later."""
    site.routine(days_before(DAY, 20), actor=ALICE)
    site.routine(days_before(DAY, 20), actor=MALLORY, summary="User removed from group",
                 category="group management", per_day=1)
    site.add_to_group(at(DAY, 10, 0), BOB, "site-admins")
    site.add_to_group(at(DAY, 10, 5), VICTIMS[0], "jira-administrators")
    site.add(at(DAY, 11), "Global permission added", "permissions",
             obj={"id": "ADMINISTER", "name": "Administer Jira", "typeName": "PERMISSION"},
             assoc=[{"name": "contractors", "typeName": "GROUP"}],
             changed=[{"fieldName": "Permission", "changedTo": "Administer Jira"}])
    site.create_user(at(DAY, 12), "acct-newbie")
    for i in range(12):
        site.remove_from_group(at(DAY, 14, i), VICTIMS[i + 1], actor=MALLORY)



"""The sensor `deliver_findings`: one delivery pass a minute, the code `jira-etl deliver`
runs. Shipped stopped, like the schedules (turn it on under Automation).

The pass runs inside the tick (no run is launched: it is short, bounded by
JIRA_ETL_DELIVERY_PASS_SECONDS, under the daemon's 60 s evaluation limit). A sensor's
cursor is saved only after its tick, so it is not relied on: the `deliveries` ledger
makes each acknowledged finding go out once whatever the ticks do. The tick's text
names destinations and finding ids, never a URL.
"""

from __future__ import annotations

import dagster as dg

from jira_etl import settings
from jira_etl.delivery.config import configured_destinations
from jira_etl.delivery.ledger import run_pass
from jira_etl.storage.warehouse import Warehouse


def deliver_once(log=None) -> str:
    destinations = configured_destinations()
    if not destinations:
        return "no destination configured"
    result = run_pass(Warehouse(settings.data_dir()), destinations, on_event=log.info if log else None)
    text = f"{result.sent} sent ({result.updates} update(s))"
    reasons = result.reasons()
    return text + ("; " + "; ".join(reasons) if reasons else "; nothing pending")


@dg.sensor(name="deliver_findings", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Every minute: send findings at or above each destination's minimum severity to the "
                       "configured webhooks, Slack, Teams and syslog (ledger: table `deliveries`).")
def deliver_findings(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    return dg.SkipReason(deliver_once(context.log))

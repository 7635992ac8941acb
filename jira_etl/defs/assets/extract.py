"""The Parquet half of a connector's audit records: its spec, checks and the extraction
(one file per day of the run's range). Materialized with the DuckDB half in
`assets/audit_records.py`."""


import datetime as dt
import itertools
from typing import Callable

import dagster as dg

from jira_etl.defs.assets.metadata import column_schema, markdown, selected_checks
from jira_etl import head_start
from jira_etl.collect import collect_day, collect_days, days_in_window
from jira_etl.records import ms_to_dt
from jira_etl.sources.stats import WalkStats
from jira_etl.defs.partitions import daily_partitions
from jira_etl.settings import refresh_overlap
from jira_etl.status import stale_after
from jira_etl.storage import lake


# Warn when the newest data is older than a connector may be before `jira-etl status` and
# the check collection_active call it Stale (JIRA_ETL_STALE_HOURS, 36 by default), fail
# two days on (or half a day after a longer stale window).
FRESHNESS_FAIL = max(dt.timedelta(hours=48), stale_after() + dt.timedelta(hours=12))
FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=FRESHNESS_FAIL, warn_window=stale_after())


# The run tag of a settle pass (schedule `<c>_settle_recent`, `jira-etl settle`).
TRIGGER_TAG, SETTLE = "jira_etl/trigger", "settle_recent"


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


def partition_key(day: dt.date) -> str:
    """The daily partition's key of `day` (the partitions' format)."""
    return day.strftime(daily_partitions.fmt)


def jira_resource_key(connector: str) -> str:
    return f"jira_{connector}"


def parquet_asset_key(connector: str) -> dg.AssetKey:
    return dg.AssetKey([connector, "audit_records_parquet"])


def connection_asset_key(connector: str) -> dg.AssetKey:
    """The preflight of every collection run (`assets/connection.py`)."""
    return dg.AssetKey([connector, "jira_connection"])


def parquet_spec(connector: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        parquet_asset_key(connector),
        # Collected after the preflight passed in the same run (a bad token fails there,
        # in seconds, with its remedy).
        deps=[connection_asset_key(connector)],
        group_name=connector,
        kinds={"python", "parquet"},
        # Not partition-aware: it flags a connector whose newest materialization is old,
        # the UI's view of a Stale connector (`jira-etl status` tells which days).
        freshness_policy=FRESHNESS,
        description=(
            f"Audit records of Jira connector `{connector}`, one Parquet file per UTC day "
            "(parquet/audit_records/connector=.../date=...), collected completely by a "
            "time-cursor walk and published atomically."
        ),
    )


def parquet_check_specs(connector: str) -> list[dg.AssetCheckSpec]:
    key = parquet_asset_key(connector)
    return [
        dg.AssetCheckSpec("ids_unique", asset=key, description="No audit record id appears twice in the written files."),
        dg.AssetCheckSpec("instants_listed_whole", asset=key,
                          description="No instant (millisecond) holds more records than Jira's offset cap lets "
                                      "any client list; when one does, records there may be missing "
                                      "(table capped_instants, `jira-etl status` shows Incomplete)."),
        dg.AssetCheckSpec("created_within_partition", asset=key,
                          description="Every record's `created` lies inside its day partition (UTC)."),
        dg.AssetCheckSpec("written_matches_received", asset=key,
                          description="Rows written equal the unique ids received (plus rows kept by an "
                                      "incremental refresh of the running day)."),
    ]


def extract(context: dg.AssetExecutionContext, connector: str,
            on_published: Callable[[dt.date, object], None] | None = None,
            deferred: list[Callable[[], None]] | None = None) -> dg.MaterializeResult:
    """Collect every day of the run's range into its Parquet file; `on_published(day,
    path)` is called as each file is in place (days complete in any order).

    After a complete walk the warehouse records the attempt and the capped instants;
    with `deferred`, those writes are appended to it for the caller to run, instead:
    a write waits while the run's findings are read on the loader's thread, and the
    result's events need not wait for them (a failed walk is recorded at once)."""
    jira = getattr(context.resources, jira_resource_key(connector))
    storage = context.resources.storage
    window = context.partition_time_window
    days = days_in_window(window.start, window.end)
    walk = WalkStats()
    per_day, previews = [], []
    dup_ids = outside = mismatched = 0
    capped: dict[dt.date, tuple[dt.datetime, list[tuple[dt.datetime, int]]]] = {}
    today = dt.datetime.now(dt.timezone.utc).date()
    settle = context.run.tags.get(TRIGGER_TAG) == SETTLE
    late = 0
    ahead = None
    try:
        client = jira.get_client()
        # Complete days are always fetched whole (so the after-midnight run finalizes
        # yesterday), the next one starting while a day's last slices finish; the
        # running day is refreshed incrementally, last.
        complete = [d for d in days if d < today]
        # The CLI may have begun this very walk while Dagster started (head_start.py).
        ahead = None if settle else head_start.claim(client, connector, complete, storage.path,
                                                     slices=jira.slices, concurrency=jira.concurrency)
        if ahead is not None:
            client = ahead.client  # its requests are the run's
            context.log.info(f"{connector}: the walk begun before the run started is this step's")
        results = itertools.chain(
            collect_days(client, connector, complete, storage.path,
                         slices=jira.slices, concurrency=jira.concurrency, settle=settle, ahead=ahead),
            (collect_day(client, connector, day, storage.path, slices=jira.slices,
                         concurrency=jira.concurrency, incremental=True, overlap=refresh_overlap())
             for day in days if day >= today),
        )
        for i, result in enumerate(results, 1):
            day = result.day
            walk.merge(result.walk)
            mismatched += abs(result.rows - result.unique_received - result.kept_from_previous)
            per_day.append({"date": day.isoformat(), "records": result.rows,
                            "fetched_from": result.fetched_from.strftime("%H:%M:%S"),
                            "kept": result.kept_from_previous}
                           | ({"late": result.late_records} if settle else {}))
            previews.append((day, result.preview))
            dup_ids += result.duplicate_ids
            capped[day] = (result.fetched_from, [(ms_to_dt(ms), n) for ms, n in sorted(result.walk.capped)])
            outside += result.outside_window
            # Each partition of a range run carries its own day's count (the run's
            # total would otherwise be stamped on every day in the UI).
            day_meta = {"dagster/row_count": result.rows, "records": result.rows}
            if result.late_records is not None:  # a settle pass: ids the day did not hold before
                day_meta["late_records"] = result.late_records
                late += result.late_records
            context.add_asset_metadata(day_meta, asset_key=parquet_asset_key(connector), partition_key=partition_key(day))
            context.log.info(f"[{i}/{len(days)}] {connector} {day}: {result.rows} records -> {result.path}"
                             + (f" ({result.late_records} late)" if result.late_records is not None else ""))
            if on_published is not None:
                on_published(day, result.path)
    except Exception as exc:
        if ahead is not None:  # stopped already if its days were being published; idempotent
            ahead.discard(one_line(exc))
        # Status shows the last error in one line; the run still fails loudly.
        try:
            storage.warehouse().record_attempt(connector, False, days[0], days[-1], one_line(exc))
        except Exception as record_exc:  # never hide the real failure behind this one
            context.log.warning(f"could not record the failed attempt: {one_line(record_exc)}")
        raise

    def record_outcome() -> None:
        storage.warehouse().record_collected(connector, capped, days[0], days[-1])

    if deferred is None:
        record_outcome()
    else:
        deferred.append(record_outcome)
    cut = [(d, t, n) for d, (_, ts) in sorted(capped.items()) for t, n in ts]
    if cut:
        context.log.error(
            f"{connector}: {len(cut)} instant(s) hold more records than Jira lets any client list "
            f"(offset cap); records there may be missing: "
            + ", ".join(f"{t.isoformat()} ({n} listed)" for _, t, n in cut[:5]))
    total = sum(d["records"] for d in per_day)
    per_day.sort(key=lambda d: d["date"])  # days complete in any order
    import pandas as pd

    preview = max(previews, key=lambda p: p[0])[1] if previews else pd.DataFrame()  # the newest day
    stats = walk.as_dict() | {"http_requests": client.stats.requests, "http_retries": client.stats.retries,
                              "records_written": total}
    key = parquet_asset_key(connector)
    checks = [
        dg.AssetCheckResult(asset_key=key, check_name="ids_unique", passed=dup_ids == 0,
                            metadata={"duplicate_ids": dup_ids}),
        dg.AssetCheckResult(asset_key=key, check_name="instants_listed_whole", passed=not cut,
                            severity=dg.AssetCheckSeverity.ERROR,
                            metadata={"capped_instants": len(cut),
                                      "instants": ", ".join(t.isoformat() for _, t, _ in cut[:20]) or "-"}),
        dg.AssetCheckResult(asset_key=key, check_name="created_within_partition", passed=outside == 0,
                            metadata={"records_outside": outside}),
        dg.AssetCheckResult(asset_key=key, check_name="written_matches_received", passed=mismatched == 0,
                            metadata={"mismatched_rows": mismatched,
                                      "unique_received": walk.records_received - walk.duplicates_dropped
                                      - walk.out_of_window_dropped - walk.without_id_dropped}),
    ]
    return dg.MaterializeResult(
        asset_key=key,
        metadata={
            "records_in_run": total,
            "dagster/column_schema": column_schema(),
            "path": dg.MetadataValue.path(f"{lake.dataset_location(storage.path)}/connector={connector}"),
            "days": len(days),
            **({"late_records": late} if settle else {}),
            "records_per_day": markdown(pd.DataFrame(per_day), max_rows=62),
            "preview": markdown(preview, max_rows=5),
            **{k: dg.MetadataValue.int(v) for k, v in stats.items()},
        },
        check_results=selected_checks(context, checks),
    )

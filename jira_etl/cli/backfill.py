"""`jira-etl backfill`: the Dagster assets of each connector over an inclusive range,
recorded in the instance the UI shows."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
from pathlib import Path

from jira_etl import settings
from jira_etl.cli.errors import CliError, parse_date
from jira_etl.cli.job_run import collect_job_name, open_instance, run_job

UTC = dt.timezone.utc
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def ensure_dagster_home() -> Path:
    """Use $DAGSTER_HOME, or the project's dagster_home/ (the one `make dev` uses)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(Path.cwd() / "dagster_home")
        os.environ["DAGSTER_HOME"] = home
    path = Path(home)
    path.mkdir(parents=True, exist_ok=True)
    cfg = path / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text("telemetry:\n  enabled: false\n")
    return path


def validate_range(start: dt.date, end: dt.date, today: dt.date | None = None) -> None:
    today = today or dt.datetime.now(UTC).date()
    first = settings.start_date()
    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    if start < first:
        raise CliError(
            f"--start {start} is before the first partition {first} (set JIRA_ETL_START_DATE to collect earlier days)"
        )
    if end > today:
        raise CliError(f"--end {end} is in the future (today is {today} UTC)")


def run_backfill(start: dt.date, end: dt.date, connectors: list[str] | None = None, quiet: bool = False,
                 settle: bool = False) -> dict:
    """Materialize every selected connector's collection assets over [start, end] in one
    run each of its job `collect_<c>`, recorded in the Dagster instance the UI shows. One failing connector
    does not stop the others; the result maps connector -> (success, run_id, error).
    With `settle`, the run is a settle pass (the tags of the schedule `<c>_settle_recent`).
    """
    validate_range(start, end)
    ensure_dagster_home()
    from jira_etl import head_start

    try:
        with _no_gc_while_loading():
            from jira_etl.detections.catalogue import load_catalogue_in_background

            load_catalogue_in_background()  # its dry run in DuckDB overlaps Dagster's imports
            if not settle:
                _walk_ahead(connectors, start, end)  # the first run's fetch overlaps them too
            import dagster as dg  # noqa: F401 - loaded here, with the cyclic GC off

            from jira_etl.defs import definitions
            from jira_etl.defs.assets.extract import SETTLE, TRIGGER_TAG

            names = [c.name for c in definitions.configured_connectors()]
            unknown = sorted(set(connectors or []) - set(names))
            if unknown:
                raise CliError(f"unknown connector(s) {', '.join(unknown)}; configured: {', '.join(names)}")
            instance = open_instance()
        outcome = {}
        for name in connectors or names:
            if not quiet:
                print(f"backfill {name}: {start} .. {end} ({(end - start).days + 1} day(s))", flush=True)

            def waiting(line: str, n: str = name) -> None:
                head_start.discard(n)  # another run of the connector goes first: no fetch alongside it
                if not quiet:
                    print(f"backfill {n}: {line}", flush=True)

            # The job the UI launches, `collect_<c>`, for the connector's collection assets
            # (not its report and exports), with the job's tags: listed under the job,
            # re-executable, counted by the run queue's per-connector limit.
            result = run_job(
                collect_job_name(name),
                instance=instance,
                asset_selection=definitions.collection_keys(name),
                tags={RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat(), "jira_etl/source": "cli",
                      **({TRIGGER_TAG: SETTLE} if settle else {})},
                # Progress lines (one per day) are INFO; Dagster's step events are DEBUG noise here.
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING" if quiet else "INFO"}}}},
                on_wait=waiting,
            )
            head_start.discard(name)  # a walk begun for a run whose step never claimed it
            error = None
            if not result.success:
                error = _run_failure(result)
            outcome[name] = {"success": result.success, "run_id": result.run_id, "error": error}
            if not quiet:
                state = "ok" if result.success else f"FAILED: {error}"
                print(f"backfill {name}: run {result.run_id} {state}", flush=True)
        return outcome
    finally:
        head_start.discard()  # nothing begun here outlives the command (an error, Ctrl-C)


def _walk_ahead(connectors: list[str] | None, start: dt.date, end: dt.date) -> None:
    """Begin the first run's walk while Dagster starts (head_start.py); the run's step
    claims it. Any configuration problem is left for the run to report."""
    from jira_etl import connectors as configured
    from jira_etl import head_start

    try:
        known = configured.configured_connectors()
    except settings.ConfigError:
        return
    first = connectors[0] if connectors else (known[0].name if known else None)
    for c in known:
        if c.name == first:
            head_start.begin(c, start, end)
            return


_frozen = False


@contextlib.contextmanager
def _no_gc_while_loading():
    """The cyclic GC off while Dagster, pandas, Arrow and SQLAlchemy are imported and the
    definitions built, then what they loaded frozen out of its walks (once a process).
    Loading makes ~250k objects that live as long as the process and almost no garbage,
    yet each full collection during it walked everything loaded so far: four of them,
    ~0.35 s of a backfill's start-up, before the first request."""
    global _frozen
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        if not _frozen:
            gc.freeze()
            _frozen = True
    finally:
        if was_enabled:
            gc.enable()


def _run_failure(result) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            err = event.step_failure_data.error
            while err.cause is not None and err.cls_name in ("DagsterExecutionStepExecutionError",):
                err = err.cause
            return err.message.strip().splitlines()[0] if err.message else err.cls_name
    return "run failed (see the Dagster UI)"


def cmd_backfill(args) -> int:
    start = parse_date(args.start, "--start")
    end = parse_date(args.end, "--end")
    outcome = run_backfill(start, end, args.connector, settle=getattr(args, "settle", False))
    return 0 if all(o["success"] for o in outcome.values()) else 1

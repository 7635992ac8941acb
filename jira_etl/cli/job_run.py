"""Run a job of the code location from the CLI the way the UI does, in this process.

`jira-etl backfill` and `jira-etl demo` run `collect_<c>` from the one dg.Definitions (a
subset of its assets), not an ephemeral `dg.materialize` job: the run is listed under the
job in the UI, carries the job's tags (`jira_etl/connector`, which the run queue limits to
one run per connector) and records the code location it came from, so the UI can
re-execute it. Steps run in this process (the in_process executor): no subprocess start-up.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from typing import Callable, Iterable

# The module of the code location (workspace.yaml, [tool.dagster], `dagster dev -m`).
CODE_LOCATION_MODULE = "jira_etl.definitions"
BUILD_MODULE = "jira_etl.defs.definitions"  # build_definitions(), what that module's `defs` is
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}
CONNECTOR_TAG = "jira_etl/connector"
PID_TAG, HOST_TAG = "jira_etl/cli_pid", "jira_etl/cli_host"


def collect_job_name(connector: str) -> str:
    return f"collect_{connector}"


def code_location_name() -> str:
    """The location name the webserver gives this code (the module's name unless a
    workspace.yaml names it otherwise: JIRA_ETL_CODE_LOCATION then)."""
    return os.environ.get("JIRA_ETL_CODE_LOCATION") or CODE_LOCATION_MODULE


def _origins(job_name: str):
    """The job to execute (definitions built afresh, from the environment as it is now:
    in-process callers may change it between runs) and the origin the UI re-executes
    from (the workspace's code location)."""
    from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository
    from dagster._core.remote_origin import (
        ManagedGrpcPythonEnvCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    cwd = os.getcwd()
    # A function target: Dagster calls it on each load (a module attribute would keep the
    # definitions of the first import). Its caches keep one job: drop the last run's.
    recon = ReconstructableRepository.for_module(BUILD_MODULE, "build_definitions", working_directory=cwd)
    ReconstructableJob.get_definition.cache_clear()
    ReconstructableJob.get_repository_definition.cache_clear()
    recon_job = recon.get_reconstructable_job(job_name)
    target = LoadableTargetOrigin(executable_path=sys.executable, module_name=CODE_LOCATION_MODULE,
                                  working_directory=cwd)
    location = ManagedGrpcPythonEnvCodeLocationOrigin(target, code_location_name())
    repo_name = recon_job.get_repository_definition().name  # "__repository__" for a dg.Definitions
    return recon_job, RemoteJobOrigin(RemoteRepositoryOrigin(location, repo_name), job_name)


def run_job(job_name: str, *, instance, tags: dict[str, str], asset_selection: Iterable | None = None,
            run_config: dict | None = None, on_wait: Callable[[str], None] | None = None):
    """Create and execute a run of `job_name` (only `asset_selection` of it, if given);
    returns Dagster's JobExecutionResult (`success`, `run_id`, `all_events`). Failures of
    steps do not raise: the result says so, as `dg.materialize(raise_on_error=False)`."""
    import dagster as dg
    from dagster._core.execution.api import execute_run

    recon_job, remote = _origins(job_name)
    job_def = recon_job.get_definition()
    run_tags = {**job_def.run_tags, **tags, PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    selection = frozenset(asset_selection) if asset_selection else None
    connector = run_tags.get(CONNECTOR_TAG)

    def create(status=None):
        return instance.create_run_for_job(
            job_def=job_def, run_config={**IN_PROCESS, **(run_config or {})}, tags=run_tags, status=status,
            asset_selection=selection, job_code_origin=recon_job.get_python_origin(), remote_job_origin=remote,
        )

    if not connector:
        run = create()
    else:
        # Check and claim at once: two CLI processes starting together must not both
        # see the connector idle. The run is created STARTING under the lock.
        import filelock

        with filelock.FileLock(str(_lock_path(connector))):
            wait_for_connector(instance, connector, on_wait=on_wait)
            run = create(dg.DagsterRunStatus.STARTING)
    return execute_run(recon_job, run, instance, raise_on_error=False)


def open_instance():
    """The Dagster instance of $DAGSTER_HOME, opened under a lock: on a fresh home the
    first opening creates the SQLite run, event and schedule storages, and two CLI
    processes doing that at once failed one of them (an SQLAlchemy error creating the
    schedule storage's tables)."""
    import dagster as dg
    import filelock

    with filelock.FileLock(str(_home_file(".jira_etl-instance.lock"))):
        return dg.DagsterInstance.get()


def _lock_path(connector: str):
    return _home_file(f".jira_etl-start-{connector}.lock")


def _home_file(name: str):
    from pathlib import Path

    home = Path(os.environ.get("DAGSTER_HOME") or ".")
    home.mkdir(parents=True, exist_ok=True)
    return home / name


def wait_for_connector(instance, connector: str, on_wait: Callable[[str], None] | None = None,
                       poll: float = 2.0, timeout: float | None = None) -> None:
    """The run queue's limit of one collection per connector, for a run that does not go
    through the queue: wait while another run of the connector is in progress. A run of
    a CLI process on this host that is gone (killed) is marked failed instead of waited for."""
    import dagster as dg

    busy = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
    told: set[str] = set()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        runs = [r for r in instance.get_runs(filters=dg.RunsFilter(tags={CONNECTOR_TAG: connector}, statuses=busy))
                if not _orphaned(instance, r)]
        if not runs:
            return
        for r in runs:
            if r.run_id not in told and on_wait is not None:
                on_wait(f"waiting for run {r.run_id} of {r.job_name} (one collection per connector at a time)")
            told.add(r.run_id)
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"runs of connector {connector} still in progress: {', '.join(told)}")
        time.sleep(poll)


def _orphaned(instance, run) -> bool:
    """A run started by a CLI process of this host that no longer exists: mark it failed.
    (A re-execution from the UI inherits the tags, but has a parent and its own process.)"""
    pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
    if not pid or run.parent_run_id or host != socket.gethostname() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
        return False
    except ProcessLookupError:
        pass
    except PermissionError:
        return False
    instance.report_run_failed(run, f"the CLI process {pid} that ran it is gone")
    return True

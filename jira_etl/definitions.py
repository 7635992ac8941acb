"""The code location's entry point (`workspace.yaml`, `[tool.dagster]`, `dagster -m
jira_etl.definitions`): the one dg.Definitions, built in the Dagster layer `jira_etl/defs/`."""

from jira_etl.defs.definitions import defs  # noqa: F401

__all__ = ["defs"]

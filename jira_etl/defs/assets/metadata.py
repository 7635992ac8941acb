"""Metadata shared by the assets: column schema and small markdown tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg
import pyarrow as pa

from jira_etl.records import SCHEMA

if TYPE_CHECKING:
    # Not imported at start-up: pandas cost every command ~0.4 s before its first
    # step (a backfill before its first request); it is imported where a frame is built.
    import pandas as pd


def column_schema(schema: pa.Schema = SCHEMA) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(f.name, str(f.type)) for f in schema])


def markdown(frame: pd.DataFrame, max_rows: int = 10) -> dg.MetadataValue:
    if frame.empty:
        return dg.MetadataValue.md("_no rows_")
    shown = frame.head(max_rows).astype(str)
    return dg.MetadataValue.md(shown.to_markdown(index=False))


def selected_checks(context: dg.AssetExecutionContext, checks: list[dg.AssetCheckResult]) -> list[dg.AssetCheckResult]:
    """The results of the checks this run selected (an op that can be subset must not
    report the others)."""
    return [c for c in checks if dg.AssetCheckKey(c.asset_key, c.check_name) in context.selected_asset_check_keys]

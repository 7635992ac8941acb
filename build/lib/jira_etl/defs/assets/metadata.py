"""Metadata shared by the assets: column schema and small markdown tables."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pyarrow as pa

from jira_etl.records import SCHEMA


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

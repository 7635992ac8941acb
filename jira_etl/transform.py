"""The pandas hook: where a user's own code may change records before they are stored.

`JIRA_ETL_TRANSFORM=package.module:function` names a function that takes the typed
DataFrame of a batch of records (the columns of `audit_records`, in Arrow-backed
dtypes) and returns one of the same shape: e.g. redact e-mail addresses in
`description`, or blank `remote_address` where policy forbids keeping IPs. It runs on
every batch before Parquet is written, so the lake, DuckDB, the findings and every
export see the transformed records. It may change values, never which records there
are: the result must keep every row and id (collection's accounting counts them), or
the run fails naming the function. With no hook set, batches go straight from Arrow to
Parquet without a DataFrame at all.
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from typing import TYPE_CHECKING, Callable

import pyarrow as pa

from jira_etl.normalize import from_dataframe, to_dataframe
from jira_etl.settings import ConfigError

if TYPE_CHECKING:
    import pandas as pd

ENV = "JIRA_ETL_TRANSFORM"


@cache
def _load(spec: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ConfigError(f"{ENV}: {spec!r} must look like package.module:function")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{ENV}: cannot load {spec!r} ({type(exc).__name__}: {exc})") from None
    if not callable(fn):
        raise ConfigError(f"{ENV}: {spec!r} is not a function")
    return fn


def user_transform() -> Callable[[pd.DataFrame], pd.DataFrame] | None:
    spec = (os.environ.get(ENV) or "").strip()
    return _load(spec) if spec else None


def apply(table: pa.Table) -> pa.Table:
    """The batch through the user's transform, if one is set; unchanged otherwise."""
    fn = user_transform()
    if fn is None or table.num_rows == 0:
        return table
    import pandas as pd

    out = fn(to_dataframe(table))
    if not isinstance(out, pd.DataFrame):
        raise ConfigError(f"{ENV}: {os.environ[ENV]} returned {type(out).__name__}, not a DataFrame")
    try:
        result = from_dataframe(out[list(table.schema.names)])
    except (KeyError, pa.ArrowException, ValueError, TypeError) as exc:
        raise ConfigError(f"{ENV}: {os.environ[ENV]} returned a frame that does not fit audit_records ({exc})") from None
    if result.num_rows != table.num_rows or not result.column("id").equals(table.column("id")):
        raise ConfigError(f"{ENV}: {os.environ[ENV]} must keep every record and its id "
                          f"(got {result.num_rows} rows for {table.num_rows})")
    return result

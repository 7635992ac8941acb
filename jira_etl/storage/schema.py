"""All DDL of the warehouse, in one place: the collector's tables (schema.sql), the
detections' tables and the view every rule reads (detections.sql), and the analysts'
hunting views (hunting/<name>.sql, created as `hunt_<name>`). Every statement is
idempotent and runs on a writer connection (or an in-memory one, for the catalogue's
dry run); readers never run DDL."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import yaml

from jira_etl.sqlfiles import split_header, statements

HERE = Path(__file__).parent
HUNTING_DIR = HERE / "hunting"
# Applied in this order; a later file may refer to tables of an earlier one.
SCHEMA_FILES = ("schema.sql", "detections.sql", "delivery.sql", "triage.sql")


class SchemaError(ValueError):
    """A DDL file or hunting view of the package is invalid."""


@dataclass(frozen=True)
class HuntingView:
    name: str
    title: str
    description: str
    sql: str
    path: Path

    @property
    def view_name(self) -> str:
        return f"hunt_{self.name}"


@cache
def load_hunting_views(hunting_dir: Path = HUNTING_DIR) -> tuple[HuntingView, ...]:
    views = []
    for path in sorted(Path(hunting_dir).glob("*.sql")):
        try:
            meta, body = split_header(path.read_text())
        except yaml.YAMLError as exc:
            raise SchemaError(f"{path.name}: header is not valid YAML ({exc})") from None
        views.append(HuntingView(name=path.stem, title=str(meta.get("title", path.stem)),
                                 description=str(meta.get("description", "")).strip(), sql=body, path=path))
    return tuple(views)


@cache
def sql_file(name: str) -> list[str]:
    """Statements of a SQL file beside this module."""
    return statements((HERE / name).read_text())


@cache
def schema_statements() -> tuple[str, ...]:
    stmts = [stmt for name in SCHEMA_FILES for stmt in sql_file(name)]
    for view in load_hunting_views():
        stmts.append(f"CREATE OR REPLACE VIEW {view.view_name} AS\n{view.sql}")
    return tuple(stmts)


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table and (re)create every view (idempotent)."""
    for stmt in schema_statements():
        con.execute(stmt)

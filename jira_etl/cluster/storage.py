"""Dagster's Postgres storage, taking DAGSTER_PG_URL as users write it.

dagster-postgres 0.29.27 with SQLAlchemy 2.1 needs the psycopg2 driver spelled out
(`postgresql+psycopg2://`): a plain `postgresql://` makes SQLAlchemy pick psycopg 3, on
which dagster-postgres' NOTIFY call fails. The URL (with its password) stays in the
environment: Dagster stores only the `env: DAGSTER_PG_URL` reference of the config.
"""

from __future__ import annotations

import re

from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config
from sqlalchemy.dialects import registry

# Storages Dagster rebuilds from this config under dagster_postgres' own class names
# (event log, runs, schedules) go through SQLAlchemy too: make its default PostgreSQL
# driver psycopg2 in every process that loads this instance.
registry.register("postgresql", "sqlalchemy.dialects.postgresql.psycopg2", "PGDialect_psycopg2")


def with_psycopg2(url: str) -> str:
    return re.sub(r"^(postgresql|postgres)(\+psycopg)?://", "postgresql+psycopg2://", url.strip())


class PostgresStorage(DagsterPostgresStorage):
    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, postgres_url=with_psycopg2(pg_url_from_config(config_value)),
                   should_autocreate_tables=config_value.get("should_autocreate_tables", True),
                   token_provider=get_token_provider_from_config(config_value))

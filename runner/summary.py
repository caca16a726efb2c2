"""What a user needs after a build: the marts with row counts and how Tableau connects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from runner.connection import ConnectionInfo
from runner.moodle_schema import validate_identifier

MART_SCHEMA = "mart"


@dataclass(frozen=True)
class MartTable:
    name: str
    rows: int


def mart_tables(info: ConnectionInfo, schema: str = MART_SCHEMA) -> list[MartTable]:
    """Every table and view in the mart schema with its exact row count, by name."""
    validate_identifier(schema, "mart schema")
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select table_name from information_schema.tables "
                "where table_schema = %s order by table_name",
                (schema,),
            )
            names = [row[0] for row in cursor.fetchall()]
            tables = []
            for name in names:
                cursor.execute(
                    sql.SQL("select count(*) from {}").format(sql.Identifier(schema, name))
                )
                tables.append(MartTable(name, int(cursor.fetchone()[0])))
    finally:
        connection.close()
    return tables


def tableau_connection(info: ConnectionInfo, schema: str = MART_SCHEMA) -> dict[str, Any]:
    """The fields of Tableau's PostgreSQL connector; the password is never included."""
    return {
        "server": info.host,
        "port": info.port,
        "database": info.dbname,
        "user": info.user,
        "schema": schema,
    }

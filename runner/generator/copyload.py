"""Bulk loading with COPY: text format for the small tables, CSV from pyarrow for the log."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg2 import sql

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text_field(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def copy_rows(cursor, schema: str, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY ``rows`` (tuples in ``columns`` order, None for NULL) into ``schema.table``."""
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(_text_field(v) for v in row))
        buffer.write("\n")
        count += 1
    buffer.seek(0)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    cursor.copy_expert(statement.as_string(cursor), buffer)
    return count


def copy_arrow(cursor, schema: str, table_name: str, table: pa.Table) -> int:
    """COPY a pyarrow table as CSV: strings are quoted (so '' stays ''), NULL is an empty field."""
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(schema, table_name),
        sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names),
    )
    cursor.copy_expert(statement.as_string(cursor), io.BytesIO(sink.getvalue().to_pybytes()))
    return table.num_rows

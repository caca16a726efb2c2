"""Tableau data sources (.tds) for the mart: a live PostgreSQL connection, documented fields.

Tableau's relationship model is a tree: a dimension can sit only once in a data source. So
each fact table of the mart gets a data source of its own (a star: the fact, the dimensions
its keys point to and the tables attached to it), written as ``<fact>.tds``. The pieces
come from what the project already states, never from a second list kept here:

* tables and field descriptions: dbt's manifest (``dbt parse`` writes it), i.e. the YAML;
* relationships: the project's ``relationships`` tests between mart models, plus a model's
  ``meta.tableau_relationships`` for keys of several columns;
* column types: the built tables in the database (``information_schema.columns``);
* the connection: server, port, database and user of the current connection. Never the
  password: Tableau asks for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.moodle.schema import validate_identifier
from runner.postgres.connection import ConnectionInfo
from runner.user_errors import UserError

DIMENSION_PREFIX = "dim_"
RELATIONSHIP_TESTS = frozenset({"relationships", "relationships_where"})
REF_ARGUMENT = re.compile(r"""ref\(\s*['"](?P<name>\w+)['"]\s*\)""")

# PostgreSQL udt names -> Tableau datatypes.
TABLEAU_TYPES = {
    "int2": "integer",
    "int4": "integer",
    "int8": "integer",
    "numeric": "real",
    "float4": "real",
    "float8": "real",
    "bool": "boolean",
    "date": "date",
    "timestamp": "datetime",
    "timestamptz": "datetime",
}
# Whole words in column names that read better spelled out or in capitals.
CAPTION_WORDS = {"id": "ID", "iso": "ISO", "pct": "%", "ok": "OK", "utc": "UTC"}
CAPTION_SUFFIXES = {"seconds": "(seconds)", "hours": "(hours)", "at": "Time"}
# Integer columns that label rather than measure, so Tableau never sums them: keys, numbers
# of a week or a year, levels, orders, ranks, Moodle's codes (edulevel, completion state and
# mode) and the parts of a date (day of week, month or year).
ORDINAL_INTEGER = re.compile(
    r"(_id|_number|_order|level|_index|_rank|_mode|_state)$|^iso_year$|^day_of_"
)
AVERAGED_MEASURE = re.compile(r"(_share|_share_to_date|days_since_last_action)$")


@dataclass(frozen=True)
class MartColumn:
    name: str
    database_type: str
    caption: str
    description: str

    @property
    def datatype(self) -> str:
        return TABLEAU_TYPES.get(self.database_type, "string")

    @property
    def role(self) -> str:
        if self.datatype in ("integer", "real") and not ORDINAL_INTEGER.search(self.name):
            return "measure"
        return "dimension"

    @property
    def field_type(self) -> str:
        if self.role == "measure":
            return "quantitative"
        return "ordinal" if self.datatype in ("integer", "date", "datetime") else "nominal"

    @property
    def aggregation(self) -> str:
        if self.role == "dimension":
            return "Year" if self.datatype in ("date", "datetime") else "Count"
        return "Avg" if AVERAGED_MEASURE.search(self.name) else "Sum"


@dataclass(frozen=True)
class MartTable:
    name: str
    description: str
    columns: tuple[MartColumn, ...]


@dataclass(frozen=True)
class Relationship:
    """``child`` refers to ``parent``: pairs of (child column, parent column)."""

    child: str
    parent: str
    keys: tuple[tuple[str, str], ...]


@dataclass
class DataSource:
    """One star: the root table first, then each table with the edge that brought it in."""

    root: str
    tables: list[str] = field(default_factory=list)
    edges: list[Relationship] = field(default_factory=list)


@dataclass(frozen=True)
class TableauReport:
    out_dir: Path
    files: tuple[Path, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"out_dir": str(self.out_dir), "files": [str(path) for path in self.files]}


# --- the model: from dbt's manifest --------------------------------------------------------


def load_manifest(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise UserError(f"no dbt manifest at {path}: run `dbt parse` (or `dbt build`) first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UserError(f"the dbt manifest at {path} is not valid JSON: {error.msg}") from None


def mart_models(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The manifest's models configured into the `mart` schema, by name."""
    return {
        node["name"]: node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model" and node.get("config", {}).get("schema") == "mart"
    }


def relationships(manifest: Mapping[str, Any], models: Mapping[str, Any]) -> list[Relationship]:
    """Edges between mart models: relationships tests, then meta.tableau_relationships."""
    found: list[Relationship] = []
    model_ids = {node["unique_id"]: name for name, node in models.items()}
    for node in manifest.get("nodes", {}).values():
        metadata = node.get("test_metadata") or {}
        if node.get("resource_type") != "test" or metadata.get("name") not in RELATIONSHIP_TESTS:
            continue
        child = model_ids.get(node.get("attached_node") or "")
        kwargs = metadata.get("kwargs") or {}
        target = REF_ARGUMENT.search(str(kwargs.get("to", "")))
        if child and target and target["name"] in models and kwargs.get("column_name"):
            keys = ((kwargs["column_name"], kwargs.get("field") or kwargs["column_name"]),)
            found.append(Relationship(child, target["name"], keys))
    for name, node in models.items():
        meta = node.get("config", {}).get("meta") or node.get("meta") or {}
        for declared in meta.get("tableau_relationships") or []:
            if declared.get("to") in models:
                columns = tuple((column, column) for column in declared.get("columns") or [])
                found.append(Relationship(name, declared["to"], columns))
    return sorted(set(found), key=lambda edge: (edge.child, edge.parent, edge.keys))


def data_sources(models: Iterable[str], edges: list[Relationship]) -> list[DataSource]:
    """One tree per fact: the fact, the tables attached to it, then the dimensions reached."""
    names = sorted(models)
    # A table joined to a fact on several columns hangs on that fact, not on its dimensions.
    hanging = [
        edge
        for edge in edges
        if not edge.parent.startswith(DIMENSION_PREFIX) and len(edge.keys) > 1
    ]
    attached = {edge.child for edge in hanging}
    roots = [name for name in names if not name.startswith(DIMENSION_PREFIX)]
    sources = []
    for root in (name for name in roots if name not in attached):
        source = DataSource(root, [root])
        frontier = [root]
        while frontier:
            table = frontier.pop(0)
            reachable = [(edge, edge.child) for edge in hanging if edge.parent == table] + [
                (edge, edge.parent) for edge in edges if edge.child == table
            ]
            for edge, new in reachable:
                if new not in source.tables:
                    source.tables.append(new)
                    source.edges.append(edge)
                    frontier.append(new)
        sources.append(source)
    return sources


# --- the columns: from the database and the docs -------------------------------------------


def business_caption(column: str) -> str:
    """A reader's name for a column: `dedication_seconds` -> `Dedication (seconds)`."""
    words = column.split("_")
    question = words[0] in ("is", "has") and len(words) > 1
    if words[0] == "is" and len(words) > 1:
        words = words[1:]
    suffix = CAPTION_SUFFIXES.get(words[-1]) if len(words) > 1 else None
    if suffix:
        words = words[:-1]
    text = " ".join(CAPTION_WORDS.get(word, word.capitalize()) for word in words)
    if suffix:
        text = f"{text} {suffix}"
    return f"{text}?" if question else text


def read_database_columns(info: ConnectionInfo, schema: str) -> dict[str, list[tuple[str, str]]]:
    """(column, udt name) of every table in ``schema``, in table order."""
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select table_name, column_name, udt_name from information_schema.columns"
                " where table_schema = %s order by table_name, ordinal_position",
                (schema,),
            )
            columns: dict[str, list[tuple[str, str]]] = {}
            for table, column, udt in cursor.fetchall():
                columns.setdefault(table, []).append((column, udt))
    finally:
        connection.close()
    return columns


def mart_tables(
    models: Mapping[str, Mapping[str, Any]], database_columns: Mapping[str, list[tuple[str, str]]]
) -> dict[str, MartTable]:
    """The mart models that are built, with their columns typed and documented."""
    tables = {}
    for name, node in models.items():
        if name not in database_columns:
            continue
        documented = {key.lower(): value for key, value in node.get("columns", {}).items()}
        columns = []
        for column, udt in database_columns[name]:
            doc = documented.get(column, {})
            meta = doc.get("meta") or doc.get("config", {}).get("meta") or {}
            columns.append(
                MartColumn(
                    column,
                    udt,
                    meta.get("caption") or business_caption(column),
                    " ".join((doc.get("description") or "").split()),
                )
            )
        tables[name] = MartTable(
            name, " ".join(node.get("description", "").split()), tuple(columns)
        )
    return tables


# --- the XML --------------------------------------------------------------------------------


def _object_id(table: str) -> str:
    return f"{table}_{hashlib.md5(table.encode()).hexdigest().upper()}"


def _local_names(source: DataSource, tables: Mapping[str, MartTable]) -> dict[tuple[str, str], str]:
    """Tableau field names, unique in the data source: `[name]`, then `[name (table)]`."""
    taken: set[str] = set()
    names = {}
    for table in source.tables:
        for column in tables[table].columns:
            name = column.name if column.name not in taken else f"{column.name} ({table})"
            taken.add(name)
            names[(table, column.name)] = f"[{name}]"
    return names


def render_tds(
    source: DataSource, tables: Mapping[str, MartTable], info: ConnectionInfo, schema: str
) -> str:
    """The .tds document of one star (the connection holds no password)."""
    connection_name = f"postgres.{hashlib.md5(info.describe().encode()).hexdigest()[:28]}"
    root = ET.Element(
        "datasource",
        {
            "formatted-name": f"Moodle analytics: {source.root}",
            "inline": "true",
            "source-platform": "linux",
            "version": "18.1",
            "xmlns:user": "http://www.tableausoftware.com/xml/user",
        },
    )
    federated = ET.SubElement(root, "connection", {"class": "federated"})
    named = ET.SubElement(
        ET.SubElement(federated, "named-connections"),
        "named-connection",
        {"caption": info.host, "name": connection_name},
    )
    ET.SubElement(
        named,
        "connection",
        {
            "authentication": "username-password",
            "class": "postgres",
            "dbname": info.dbname,
            "odbc-native-protocol": "",
            "one-time-sql": "",
            "port": str(info.port),
            "server": info.host,
            "sslmode": "",
            "username": info.user,
        },
    )
    collection = ET.SubElement(federated, "relation", {"type": "collection"})
    for table in source.tables:
        ET.SubElement(collection, "relation", _relation_attributes(table, connection_name, schema))
    local = _local_names(source, tables)
    records = ET.SubElement(federated, "metadata-records")
    for table in source.tables:
        for ordinal, column in enumerate(tables[table].columns):
            record = ET.SubElement(records, "metadata-record", {"class": "column"})
            for tag, text in (
                ("remote-name", column.name),
                ("local-name", local[(table, column.name)]),
                ("parent-name", f"[{table}]"),
                ("remote-alias", column.name),
                ("ordinal", str(ordinal)),
                ("local-type", column.datatype),
                ("aggregation", column.aggregation),
                ("object-id", f"[{_object_id(table)}]"),
            ):
                ET.SubElement(record, tag).text = text
    ET.SubElement(root, "aliases", {"enabled": "yes"})
    for table in source.tables:
        for column in tables[table].columns:
            element = ET.SubElement(
                root,
                "column",
                {
                    "caption": column.caption,
                    "datatype": column.datatype,
                    "name": local[(table, column.name)],
                    "role": column.role,
                    "type": column.field_type,
                },
            )
            if column.description:
                text = ET.SubElement(ET.SubElement(element, "desc"), "formatted-text")
                ET.SubElement(text, "run").text = column.description
    graph = ET.SubElement(root, "object-graph")
    objects = ET.SubElement(graph, "objects")
    for table in source.tables:
        caption = business_caption(table.removeprefix("fact_").removeprefix(DIMENSION_PREFIX))
        obj = ET.SubElement(objects, "object", {"caption": caption, "id": _object_id(table)})
        properties = ET.SubElement(obj, "properties", {"context": ""})
        ET.SubElement(properties, "relation", _relation_attributes(table, connection_name, schema))
    links = ET.SubElement(graph, "relationships")
    for edge in source.edges:
        # The end nearer the root comes first.
        near, far = (
            (edge.parent, edge.child)
            if source.tables.index(edge.parent) < source.tables.index(edge.child)
            else (edge.child, edge.parent)
        )
        link = ET.SubElement(links, "relationship")
        comparisons = [
            _equals(local[(edge.child, child_key)], local[(edge.parent, parent_key)])
            for child_key, parent_key in edge.keys
        ]
        if len(comparisons) == 1:
            link.append(comparisons[0])
        else:
            both = ET.SubElement(link, "expression", {"op": "AND"})
            both.extend(comparisons)
        ET.SubElement(link, "first-end-point", {"object-id": _object_id(near)})
        ET.SubElement(link, "second-end-point", {"object-id": _object_id(far)})
    ET.indent(root)
    return "<?xml version='1.0' encoding='utf-8' ?>\n" + ET.tostring(root, encoding="unicode")


def _relation_attributes(table: str, connection_name: str, schema: str) -> dict[str, str]:
    return {
        "connection": connection_name,
        "name": table,
        "table": f"[{schema}].[{table}]",
        "type": "table",
    }


def _equals(left: str, right: str) -> ET.Element:
    comparison = ET.Element("expression", {"op": "="})
    ET.SubElement(comparison, "expression", {"op": left})
    ET.SubElement(comparison, "expression", {"op": right})
    return comparison


# --- the command ----------------------------------------------------------------------------


def write_tableau_sources(
    info: ConnectionInfo, out_dir: Path, manifest_path: Path, schema: str = "mart"
) -> TableauReport:
    """Write one ``<fact>.tds`` per fact table of ``schema`` into ``out_dir``."""
    validate_identifier(schema, "mart schema")
    manifest = load_manifest(manifest_path)
    models = mart_models(manifest)
    tables = mart_tables(models, read_database_columns(info, schema))
    if not tables:
        raise UserError(f"no mart tables in schema {schema!r}: run `moodle-analytics build` first")
    edges = [
        edge
        for edge in relationships(manifest, models)
        if edge.child in tables and edge.parent in tables
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in data_sources(tables, edges):
        path = out_dir / f"{source.root}.tds"
        partial = out_dir / f".{source.root}.tds.{os.getpid()}.partial"
        partial.write_text(render_tds(source, tables, info, schema), encoding="utf-8")
        os.replace(partial, path)
        written.append(path)
    return TableauReport(out_dir, tuple(written))

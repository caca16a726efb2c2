"""The Tableau data sources, generated from a real build and parsed back with xml.etree."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from support.cli_helpers import password_marker

from runner.postgres.connection import ConnectionInfo
from runner.publishing.tableau import business_caption, write_tableau_sources

# A marker that must never reach a file (on the embedded server, its real password instead).
MARKER_PASSWORD = "tableau-must-not-see-this-7f3a"


@dataclass(frozen=True)
class Written:
    info: ConnectionInfo
    files: dict[str, Path]
    manifest: dict
    manifest_path: Path  # of the build the data sources describe
    work_dir: Path  # where this module writes


@pytest.fixture(scope="module")
def written(
    real_site_build: tuple[ConnectionInfo, Path], tmp_path_factory: pytest.TempPathFactory
) -> Written:
    info, build_dir = real_site_build
    work_dir = tmp_path_factory.mktemp("tableau")
    manifest_path = build_dir / "target" / "manifest.json"
    report = write_tableau_sources(
        replace(info, password=password_marker(info, MARKER_PASSWORD)),
        work_dir / "tds",
        manifest_path,
    )
    files = {path.stem: path for path in report.files}
    return Written(info, files, json.loads(manifest_path.read_text()), manifest_path, work_dir)


def parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def metadata_records(root: ET.Element) -> dict[str, tuple[str, str]]:
    """A data source's fields by local name: (the table, the column) each one reads."""
    return {
        record.findtext("local-name"): (
            record.findtext("parent-name").strip("[]"),
            record.findtext("remote-name"),
        )
        for record in root.iter("metadata-record")
    }


def mart_descriptions(manifest: dict) -> dict[tuple[str, str], str]:
    return {
        (node["name"], column): " ".join(doc["description"].split())
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "mart"
        for column, doc in node["columns"].items()
    }


def test_one_data_source_per_fact_and_none_per_dimension(written: Written) -> None:
    assert {"fact_learner_week", "fact_grade", "fact_completion", "fact_forum_post"} <= set(
        written.files
    )
    assert not any(name.startswith("dim_") for name in written.files)


def test_the_connection_is_live_postgres_without_a_password(written: Written) -> None:
    info = written.info
    for path in written.files.values():
        text = path.read_text(encoding="utf-8")
        assert password_marker(written.info, MARKER_PASSWORD) not in text
        root = ET.fromstring(text)
        (connection,) = root.iter("named-connection")
        inner = connection.find("connection")
        assert inner is not None
        assert inner.get("class") == "postgres"
        assert (inner.get("server"), inner.get("port")) == (info.host, str(info.port))
        assert (inner.get("dbname"), inner.get("username")) == (info.dbname, info.user)
        assert not any("password" in name for element in root.iter() for name in element.attrib)


def test_relations_name_mart_tables_and_the_star_of_each_fact(written: Written) -> None:
    root = parse(written.files["fact_learner_week"])
    relations = {
        relation.get("name"): relation.get("table")
        for relation in root.iter("relation")
        if relation.get("type") == "table"
    }
    assert relations == {
        name: f"[mart].[{name}]"
        for name in ("fact_learner_week", "dim_user", "dim_course", "learner_engagement_bands")
    }
    grade_tables = {
        relation.get("name")
        for relation in parse(written.files["fact_grade"]).iter("relation")
        if relation.get("type") == "table"
    }
    # dim_module also points to dim_course: the tree holds each table once.
    assert grade_tables == {"fact_grade", "dim_user", "dim_course", "dim_module"}


def test_relationships_join_declared_fields_of_objects_in_the_graph(written: Written) -> None:
    for name, path in written.files.items():
        root = parse(path)
        fields = {column.get("name") for column in root.findall("column")}
        objects = {obj.get("id") for obj in root.iter("object")}
        links = list(root.iter("relationship"))
        # A tree: one relationship fewer than its tables.
        assert len(links) == len(objects) - 1, name
        for link in links:
            operands = [
                expression.get("op")
                for expression in link.iter("expression")
                if expression.get("op", "").startswith("[")
            ]
            assert operands and set(operands) <= fields, name
            for end in ("first-end-point", "second-end-point"):
                end_point = link.find(end)
                assert end_point is not None and end_point.get("object-id") in objects
    bands_link = [
        link
        for link in parse(written.files["fact_learner_week"]).iter("relationship")
        if link.find("expression").get("op") == "AND"
    ]
    assert len(bands_link) == 1 and len(bands_link[0].findall("expression/expression")) == 3


def test_every_field_has_the_dbt_description_and_a_business_caption(written: Written) -> None:
    descriptions = mart_descriptions(written.manifest)
    for name, path in written.files.items():
        root = parse(path)
        records = metadata_records(root)
        for column in root.findall("column"):
            table, remote = records[column.get("name")]
            description = column.findtext("desc/formatted-text/run")
            assert description == descriptions[(table, remote)], (name, table, remote)
            assert column.get("caption") == business_caption(remote)
    week_columns = {
        column.get("name"): column
        for column in parse(written.files["fact_learner_week"]).iter("column")
    }
    dedication = week_columns["[dedication_seconds]"]
    assert dedication.get("caption") == "Dedication (seconds)"
    assert dedication.get("role") == "measure"
    assert week_columns["[user_id]"].get("role") == "dimension"
    assert week_columns["[week_start_date]"].get("datatype") == "date"


# Written independently of runner/publishing/tableau.py: what a column's name says it holds.
QUANTITY = re.compile(
    r"(_count|_seconds|_hours|_share|_points|_breadth|_streak)(_to_date)?$"
    r"|^(grade_max|grade_min|grade_pass|raw_grade|final_grade|metric_value"
    r"|days_since_last_action)$"
)
# Numbers that label rather than measure: keys, codes, ranks, parts of a date.
LABEL = re.compile(
    r"(_id|_number|_order|level|_rank|_state|_mode)$|^(iso_year|day_of_week|day_of_month"
    r"|day_of_year|edulevel)$"
)
TABLEAU_TYPE_OF = {
    "integer": {"int2", "int4", "int8"},
    "real": {"numeric", "float4", "float8"},
    "boolean": {"bool"},
    "date": {"date"},
    "datetime": {"timestamp", "timestamptz"},
    "string": {"text", "varchar", "bpchar"},
}


def test_every_field_has_the_role_and_type_of_what_it_holds(written: Written) -> None:
    """Quantities are measures; ids, codes, ranks and the parts of a date are dimensions."""
    connection = written.info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select table_name, column_name, udt_name from information_schema.columns"
                " where table_schema = 'mart'"
            )
            database_types = {(table, column): udt for table, column, udt in cursor.fetchall()}
    finally:
        connection.close()
    checked = 0
    for path in written.files.values():
        root = parse(path)
        records = metadata_records(root)
        for column in root.findall("column"):
            table, remote = records[column.get("name")]
            datatype, role = column.get("datatype"), column.get("role")
            assert database_types[(table, remote)] in TABLEAU_TYPE_OF[datatype], (table, remote)
            if datatype not in ("integer", "real") or LABEL.search(remote):
                assert role == "dimension", (table, remote, role)
            elif QUANTITY.search(remote):
                assert role == "measure", (table, remote, role)
            expected_type = (
                "quantitative"
                if role == "measure"
                else "ordinal"
                if datatype in ("integer", "date", "datetime")
                else "nominal"
            )
            assert column.get("type") == expected_type, (table, remote)
            assert column.get("semantic-role") is None  # no field is a place
            checked += 1
    assert checked >= 200
    day_of_week = [
        column
        for column in parse(written.files["fact_activity"]).findall("column")
        if column.get("caption") == "Day Of Week"
    ]
    assert day_of_week and all(column.get("role") == "dimension" for column in day_of_week)


def test_captions_read_as_business_names() -> None:
    assert business_caption("is_at_risk") == "At Risk?"
    assert business_caption("has_any_write_action") == "Has Any Write Action?"
    assert business_caption("course_module_id") == "Course Module ID"
    assert business_caption("event_at") == "Event Time"
    assert business_caption("dedication_hours") == "Dedication (hours)"


def test_the_cli_writes_the_files_and_refuses_a_bad_schema(written: Written) -> None:
    cli = Path(sys.executable).parent / "moodle-analytics"
    env = {**os.environ, **written.info.libpq_env()}
    manifest = written.manifest_path
    out = written.work_dir / "cli_tds"
    result = subprocess.run(
        [str(cli), "tableau", "--manifest", str(manifest), "--out", str(out), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    files = json.loads(result.stdout)["files"]
    assert sorted(Path(file).name for file in files) == sorted(
        f"{name}.tds" for name in written.files
    )
    bad = subprocess.run(
        [str(cli), "tableau", "--manifest", str(manifest), "--mart-schema", "mart; drop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr and "mart schema" in bad.stderr

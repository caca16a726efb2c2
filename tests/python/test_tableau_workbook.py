"""The Tableau workbook learner_progress.twb, written from a real build and checked two ways:
against Tableau's published schema (structure), and here against the mart (what the schema
cannot check: the fields exist with their type and role, zones name real sheets, the
connection is the current database's, no secret)."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import yaml
from lxml import etree
from support.cli_helpers import password_marker
from support.tableau_schema import schema_errors

from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionInfo
from runner.publishing.tableau import write_tableau_sources
from runner.publishing.tableau_layout import dashboard_layout_svg, dashboard_zones
from runner.publishing.tableau_workbook import DASHBOARD_NAME, WORKBOOK_NAME, write_learner_workbook

# Not the server's password (trust auth here): a marker that must never reach a file.
MARKER_PASSWORD = "tableau-must-not-see-this-5c1e"
# A field reference on a shelf, in a zone or a filter: [data source].[column instance].
REFERENCE = re.compile(r"\[(federated\.[0-9a-z]+)\]\.(\[[^\]]+\])")
# What a PostgreSQL type is in Tableau, stated here rather than read from
# runner/publishing/tableau.py.
EXPECTED_DATATYPE = {
    "int2": "integer",
    "int4": "integer",
    "int8": "integer",
    "numeric": "real",
    "float8": "real",
    "bool": "boolean",
    "date": "date",
    "timestamptz": "datetime",
    "text": "string",
}
MEASURE_DERIVATIONS = {"Sum", "Avg"}
DIMENSION_DERIVATIONS = {"None", "CountD", "Day-Trunc"}


@dataclass(frozen=True)
class Written:
    info: ConnectionInfo
    workbook: Path
    tds: list[Path]
    manifest_path: Path
    work_dir: Path

    def root(self) -> etree._Element:
        return etree.parse(str(self.workbook)).getroot()


@pytest.fixture(scope="module")
def written(
    real_site_build: tuple[ConnectionInfo, Path], tmp_path_factory: pytest.TempPathFactory
) -> Written:
    info, build_dir = real_site_build
    work_dir = tmp_path_factory.mktemp("tableau_workbook")
    manifest_path = build_dir / "target" / "manifest.json"
    secret = replace(info, password=password_marker(info, MARKER_PASSWORD))
    workbook = write_learner_workbook(secret, work_dir / "out", manifest_path)
    report = write_tableau_sources(secret, work_dir / "out", manifest_path)
    return Written(info, workbook, list(report.files), manifest_path, work_dir)


@pytest.fixture(scope="module")
def mart_columns(written: Written) -> dict[tuple[str, str], str]:
    """(table, column) -> PostgreSQL type of every column of the built mart."""
    connection = written.info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select table_name, column_name, udt_name from information_schema.columns"
                " where table_schema = 'mart'"
            )
            return {(table, column): udt for table, column, udt in cursor.fetchall()}
    finally:
        connection.close()


def datasource_records(root: etree._Element) -> dict[str, dict[str, tuple[str, str]]]:
    """Per workbook data source: its field name -> (mart table, mart column)."""
    return {
        source.get("name"): {
            record.findtext("local-name"): (
                record.findtext("parent-name").strip("[]"),
                record.findtext("remote-name"),
            )
            for record in source.iter("metadata-record")
        }
        for source in root.findall("datasources/datasource")
    }


def sheets_and_dashboard(root: etree._Element) -> list[etree._Element]:
    return [*root.findall("worksheets/worksheet"), *root.findall("dashboards/dashboard")]


def test_the_workbook_is_valid_against_tableaus_schema(written: Written) -> None:
    document = etree.parse(str(written.workbook))
    assert schema_errors(document) == []
    # What the schema requires beyond the obvious, and the checks would catch it missing.
    for path in ("worksheets/worksheet/simple-id", "explain-data"):
        broken = copy.deepcopy(document)
        element = broken.getroot().find(path)
        element.getparent().remove(element)
        assert schema_errors(broken), path
    broken = copy.deepcopy(document)
    del broken.getroot().attrib["source-build"]
    assert any("source-build" in error for error in schema_errors(broken))


def test_the_data_sources_are_valid_against_tableaus_schema(written: Written) -> None:
    assert len(written.tds) >= 4
    for path in written.tds:
        assert schema_errors(etree.parse(str(path)), root="datasource") == [], path.name


def test_the_dashboard_holds_the_four_sheets_and_its_filters(written: Written) -> None:
    root = written.root()
    sheets = {sheet.get("name"): sheet for sheet in root.findall("worksheets/worksheet")}
    assert set(sheets) == {
        "Engagement bands by week",
        "At-risk learners",
        "Top tiers",
        "Learner weekly trend",
    }
    (dashboard,) = root.findall("dashboards/dashboard")
    assert dashboard.get("name") == DASHBOARD_NAME
    zones = [zone for zone in dashboard.iter("zone") if zone.get("name")]
    # Every zone names a worksheet that exists, and every worksheet is on the dashboard.
    assert {zone.get("name") for zone in zones} == set(sheets)
    filters = [zone for zone in zones if zone.get("type-v2") == "filter"]
    assert {REFERENCE.search(zone.get("param"))[2] for zone in filters} == {
        "[none:course_short_name:nk]",
        "[none:user_id:ok]",
    }
    # A filter zone shows a filter its worksheet has.
    for zone in filters:
        sheet_filters = {f.get("column") for f in sheets[zone.get("name")].iter("filter")}
        assert zone.get("param") in sheet_filters
    # The dashboard opens first; the sheets it holds are hidden behind it.
    windows = {window.get("name"): window for window in root.iter("window")}
    assert windows[DASHBOARD_NAME].get("maximized") == "true"
    assert all(windows[name].get("hidden") == "true" for name in sheets)
    # Zone ids are unique, and each zone lies inside its container (Tableau's relative
    # units: 0-100000 across and down the dashboard).
    ids = [zone.get("id") for zone in dashboard.iter("zone")]
    assert len(ids) == len(set(ids))

    def box(zone: etree._Element) -> tuple[int, int, int, int]:
        x, y, w, h = (int(zone.get(key)) for key in ("x", "y", "w", "h"))
        return x, y, x + w, y + h

    for zone in dashboard.iter("zone"):
        parent = zone.getparent()
        outer = box(parent) if parent.tag == "zone" else (0, 0, 100000, 100000)
        inner = box(zone)
        assert outer[0] <= inner[0] and outer[1] <= inner[1], zone.get("id")
        assert inner[2] <= outer[2] and inner[3] <= outer[3], zone.get("id")


def test_every_field_a_sheet_uses_is_a_mart_column_of_that_type_and_role(
    written: Written, mart_columns: dict[tuple[str, str], str]
) -> None:
    root = written.root()
    records = datasource_records(root)
    declared = {
        (source.get("name"), column.get("name")): column
        for source in root.findall("datasources/datasource")
        for column in source.findall("column")
    }
    checked = 0
    for sheet in sheets_and_dashboard(root):
        instances: dict[tuple[str, str], etree._Element] = {}
        for dependencies in sheet.iter("datasource-dependencies"):
            source = dependencies.get("datasource")
            columns = {column.get("name"): column for column in dependencies.findall("column")}
            for name, column in columns.items():
                calculation = column.find("calculation")
                if calculation is not None:
                    # A calculated field: what it reads must be fields of the data source.
                    for field in re.findall(r"\[[^\]]+\]", calculation.get("formula")):
                        assert field in records[source], (sheet.get("name"), field)
                    continue
                table, remote = records[source][name]
                udt = mart_columns[(table, remote)]
                assert column.get("datatype") == EXPECTED_DATATYPE[udt], (table, remote)
                # The sheet declares the field as its data source does.
                source_column = declared[(source, name)]
                for attribute in ("caption", "datatype", "role", "type"):
                    assert column.get(attribute) == source_column.get(attribute), (name, attribute)
                if column.get("role") == "measure":
                    assert column.get("datatype") in ("integer", "real"), name
                checked += 1
            for instance in dependencies.findall("column-instance"):
                column = columns[instance.get("column")]
                derivation = instance.get("derivation")
                if column.get("role") == "measure":
                    assert derivation in MEASURE_DERIVATIONS, instance.get("name")
                else:
                    assert derivation in DIMENSION_DERIVATIONS, instance.get("name")
                if derivation == "Day-Trunc":
                    assert column.get("datatype") in ("date", "datetime"), instance.get("name")
                instances[(source, instance.get("name"))] = instance
        # Every shelf, mark, filter, colour and zone reference is a declared column instance.
        texts = [sheet.findtext("table/rows") or "", sheet.findtext("table/cols") or ""]
        texts += [
            element.get(attribute) or ""
            for element in sheet.iter()
            for attribute in ("column", "field", "param")
            if element.tag not in ("column-instance", "table-calc")
        ]
        texts += [column.text or "" for column in sheet.iter("column") if column.text]
        references = [match for text in texts for match in REFERENCE.findall(text)]
        assert references, sheet.get("name")
        for reference in references:
            assert reference in instances, (sheet.get("name"), reference)
    assert checked >= 15


def test_the_colours_and_filters_name_values_the_mart_holds(written: Written) -> None:
    root = written.root()
    connection = written.info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("select distinct engagement_band from mart.learner_engagement_bands")
            bands = {row[0] for row in cursor.fetchall()}
            cursor.execute(
                "select distinct top_tier from mart.learner_tiers where top_tier is not null"
            )
            tiers = {row[0] for row in cursor.fetchall()}
            # What the at-risk sheet shows: the latest week's at-risk learners.
            cursor.execute(
                "select count(*) from mart.learner_engagement_bands where is_at_risk"
                " and week_start_date = (select max(week_start_date)"
                " from mart.learner_engagement_bands)"
            )
            (at_risk,) = cursor.fetchone()
    finally:
        connection.close()
    colours = {
        encoding.get("field").rsplit(".", 1)[1]: {
            bucket.text.strip('"') for bucket in encoding.iter("bucket")
        }
        for encoding in root.iter("encoding")
    }
    assert colours["[none:engagement_band:nk]"] == bands == {"doing well", "doing OK", "struggling"}
    assert tiers and tiers <= colours["[none:top_tier:nk]"]
    assert at_risk > 0  # the real site has learners at risk in its last week


def test_the_connection_is_the_current_database_and_holds_no_secret(written: Written) -> None:
    text = written.workbook.read_text(encoding="utf-8")
    assert password_marker(written.info, MARKER_PASSWORD) not in text
    root = etree.fromstring(text.encode())
    assert not any("password" in name for element in root.iter() for name in element.attrib)
    connections = [named.find("connection") for named in root.iter("named-connection")]
    assert len(connections) == len(root.findall("datasources/datasource")) == 2
    info = written.info
    for connection in connections:
        assert connection.get("class") == "postgres"
        assert (connection.get("server"), connection.get("port")) == (info.host, str(info.port))
        assert (connection.get("dbname"), connection.get("username")) == (info.dbname, info.user)
    relations = {
        relation.get("table") for relation in root.iter("relation") if relation.get("table")
    }
    assert "[mart].[learner_engagement_bands]" in relations


def test_the_dbt_exposure_is_this_workbook(written: Written) -> None:
    manifest = json.loads(written.manifest_path.read_text())
    (exposure,) = (
        node
        for node in manifest["exposures"].values()
        if node["name"] == "learner_progress_dashboard"
    )
    assert exposure["url"] == f"exports/tableau/{WORKBOOK_NAME}"
    # The YAML says so too (the manifest is the build's; the file is what ships).
    declared = yaml.safe_load((PROJECT_ROOT / "models/marts/_exposures.yml").read_text())
    assert declared["exposures"][0]["url"] == exposure["url"]
    # Every table the workbook reads is one the exposure depends on.
    depends_on = {node.rsplit(".", 1)[1] for node in exposure["depends_on"]["nodes"]}
    relations = {
        relation.get("name")
        for relation in written.root().iter("relation")
        if relation.get("type") == "table"
    }
    assert relations and relations <= depends_on


def test_the_cli_writes_and_reports_the_workbook(written: Written) -> None:
    cli = Path(sys.executable).parent / "moodle-analytics"
    out = written.work_dir / "cli"
    result = subprocess.run(
        [
            str(cli),
            "tableau",
            "--manifest",
            str(written.manifest_path),
            "--out",
            str(out),
            "--json",
        ],
        env={**os.environ, **written.info.libpq_env()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    workbook = Path(json.loads(result.stdout)["workbook"])
    assert workbook == out / WORKBOOK_NAME
    assert schema_errors(etree.parse(str(workbook))) == []


def test_the_readme_picture_is_the_dashboards_layout_drawn_from_its_zones(
    written: Written,
) -> None:
    """docs/images/learner_progress_layout.svg is what the workbook's zones give today."""
    xml = written.workbook.read_text(encoding="utf-8")
    zones = dashboard_zones(xml, DASHBOARD_NAME)
    worksheets = {sheet.get("name") for sheet in written.root().iter("worksheet")}
    drawn = {zone.label for zone in zones if zone.kind == "worksheet"}
    assert drawn == worksheets and len(drawn) == 4
    assert {zone.kind for zone in zones} == {"worksheet", "filter", "color", "title"}
    # Every box inside the dashboard, none overlapping another.
    for zone in zones:
        assert zone.x >= 0 and zone.y >= 0
        assert zone.x + zone.w <= 100_000 and zone.y + zone.h <= 100_000
    for first in zones:
        for second in zones:
            if first is not second:
                apart = (
                    first.x + first.w <= second.x
                    or second.x + second.w <= first.x
                    or first.y + first.h <= second.y
                    or second.y + second.h <= first.y
                )
                assert apart, (first, second)
    picture = PROJECT_ROOT / "docs" / "images" / "learner_progress_layout.svg"
    assert picture.read_text(encoding="utf-8") == dashboard_layout_svg(xml, DASHBOARD_NAME), (
        "the dashboard changed: python -m runner.publishing.tableau_layout <workbook> "
        + str(picture)
    )

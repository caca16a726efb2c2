"""The Tableau workbook ``learner_progress.twb``: the progress dashboard, built and ready to open.

It embeds the same data sources ``runner.publishing.tableau`` writes as ``.tds`` files (same live
PostgreSQL connection, captions, descriptions and relationships; never a password) and adds
four worksheets and one dashboard, "Learner progress":

* the weekly share of learners doing well / doing OK / struggling, per course;
* the at-risk learners of the latest week, with the reason of each;
* the learners in the top tiers of each metric;
* a learner's own weekly trend, with a course and a learner filter.

The XML follows what Tableau Desktop writes and is valid against Tableau's published
workbook schema (``tests/data/tableau/twb_2024.1.0.xsd``); the tests check what that schema
cannot, such as every field a sheet uses being a column of the mart.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.moodle.schema import validate_identifier
from runner.postgres.connection import ConnectionInfo
from runner.publishing.tableau import (
    DataSource,
    MartTable,
    data_sources,
    load_manifest,
    mart_models,
    mart_tables,
    read_database_columns,
    relationships,
    render_tds,
)
from runner.user_errors import UserError

WORKBOOK_NAME = "learner_progress.twb"
DASHBOARD_NAME = "Learner progress"
# The document version Tableau 2018.1 to 2024.1 write (the .tds files carry it too), checked
# against Tableau's 2024.1 schema. The build is the placeholder Tableau's schema repository
# gives for workbooks written by hand or by tools: this file was not saved by Tableau.
WORKBOOK_VERSION = "18.1"
SOURCE_BUILD = "0.0.0 (0000.0.0.0)"
USER_NAMESPACE = "http://www.tableausoftware.com/xml/user"
# The data sources the dashboard reads: the learner-week star and the tiers.
LEARNER_WEEK = "fact_learner_week"
TIERS = "learner_tiers"
BANDS = "learner_engagement_bands"
# Tableau's column-instance prefixes, by derivation.
DERIVATION_PREFIX = {
    "None": "none",
    "Sum": "sum",
    "Avg": "avg",
    "Count": "cnt",
    "CountD": "ctd",
    "Day-Trunc": "tdy",
}
TYPE_SUFFIX = {"nominal": "nk", "ordinal": "ok", "quantitative": "qk"}
BAND_COLOURS = {"doing well": "#59a14f", "doing OK": "#f1ce63", "struggling": "#e15759"}
TIER_COLOURS = {
    "top 1%": "#1f4e79",
    "top 5%": "#2e75b6",
    "top 10%": "#6fa8dc",
    "top 25%": "#b4d4f0",
}
COURSE_FILTER_GROUP = "1"
LATEST_WEEK = "[Calculation_latest_band_week]"

ET.register_namespace("user", USER_NAMESPACE)


def _user(attribute: str) -> str:
    return f"{{{USER_NAMESPACE}}}{attribute}"


def _simple_id(parent: ET.Element, *key: str) -> None:
    """A stable ``{UUID}`` per sheet, so a regenerated workbook only differs where it changed."""
    value = uuid.uuid5(uuid.NAMESPACE_URL, "moodle-analytics/" + "/".join(key))
    ET.SubElement(parent, "simple-id", {"uuid": "{" + str(value).upper() + "}"})


@dataclass(frozen=True)
class Field:
    """A field of an embedded data source, as its ``<column>`` element declares it."""

    name: str  # the local name, with brackets: ``[user_id (learner_engagement_bands)]``
    table: str
    column: str
    caption: str
    datatype: str
    role: str
    field_type: str
    aggregation: str


def _declare_column(dependencies: ET.Element, field: Field) -> None:
    """A field a sheet or dashboard uses, as it declares it in its datasource-dependencies."""
    ET.SubElement(
        dependencies,
        "column",
        {
            "caption": field.caption,
            "datatype": field.datatype,
            "name": field.name,
            "role": field.role,
            "type": field.field_type,
        },
    )


@dataclass
class EmbeddedSource:
    """One ``.tds`` data source inside the workbook, with its fields by (table, column)."""

    name: str  # ``federated.<id>``
    caption: str
    element: ET.Element
    fields: dict[tuple[str, str], Field]

    def field(self, table: str, column: str) -> Field:
        try:
            return self.fields[(table, column)]
        except KeyError:
            raise UserError(
                f"the mart has no column {table}.{column}, which the Tableau workbook needs:"
                " rebuild the marts (`moodle-analytics build`) before `moodle-analytics tableau`"
            ) from None


def embed_source(
    source: DataSource, tables: Mapping[str, MartTable], info: ConnectionInfo, schema: str
) -> EmbeddedSource:
    """The ``.tds`` of ``source`` as a workbook data source (same XML, a workbook's name)."""
    element = ET.fromstring(render_tds(source, tables, info, schema))
    digest = hashlib.md5(f"{source.root}|{info.describe()}".encode()).hexdigest()[:28]
    name = f"federated.{digest}"
    caption = element.attrib.pop("formatted-name", source.root)
    element.attrib.pop("source-platform", None)
    element.set("caption", caption)
    element.set("name", name)
    records = {
        record.findtext("local-name"): (
            (record.findtext("parent-name") or "").strip("[]"),
            record.findtext("remote-name") or "",
            record.findtext("aggregation") or "Sum",
        )
        for record in element.iter("metadata-record")
    }
    fields = {}
    for column in element.findall("column"):
        table, remote, aggregation = records[column.get("name")]
        fields[(table, remote)] = Field(
            column.get("name", ""),
            table,
            remote,
            column.get("caption", remote),
            column.get("datatype", "string"),
            column.get("role", "dimension"),
            column.get("type", "nominal"),
            aggregation,
        )
    return EmbeddedSource(name, caption, element, fields)


# --- worksheets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """A field as a sheet uses it (Tableau's column-instance): a derivation and a type."""

    field: Field
    derivation: str
    field_type: str
    table_calc: dict[str, str] | None = None

    @property
    def name(self) -> str:
        inner = self.field.name[1:-1]
        prefix = DERIVATION_PREFIX[self.derivation]
        if self.table_calc:
            prefix = f"pcto:{prefix}"
        return f"[{prefix}:{inner}:{TYPE_SUFFIX[self.field_type]}]"


def dimension(field: Field) -> Instance:
    return Instance(field, "None", field.field_type)


def measure(field: Field) -> Instance:
    """Aggregated as its data source says (Sum or Avg); a field the source keeps as a
    dimension is shown as it is."""
    if field.role != "measure":
        return dimension(field)
    return Instance(field, field.aggregation, "quantitative")


def count_distinct(field: Field) -> Instance:
    return Instance(field, "CountD", "quantitative")


def day(field: Field) -> Instance:
    return Instance(field, "Day-Trunc", "quantitative")


class Sheet:
    """One worksheet being built: its data source, shelves, marks and filters."""

    def __init__(self, name: str, source: EmbeddedSource, title: str) -> None:
        self.name = name
        self.source = source
        self.title = title
        self.instances: dict[str, Instance] = {}
        self.extra_columns: list[ET.Element] = []
        self.filters: list[ET.Element] = []
        self.rows = ""
        self.cols = ""
        self.mark = "Automatic"
        self.encodings: list[tuple[str, Instance]] = []
        self.styles: list[ET.Element] = []

    def ref(self, instance: Instance) -> str:
        self.instances[instance.name] = instance
        return f"[{self.source.name}].{instance.name}"

    def shelf(self, operator: str, *instances: Instance) -> str:
        refs = [self.ref(instance) for instance in instances]
        return refs[0] if len(refs) == 1 else "(" + f" {operator} ".join(refs) + ")"

    def member_filter(self, instance: Instance, member: str, group: str | None = None) -> None:
        """Keep one member (``true``, a quoted string...) of a dimension."""
        element = ET.Element("filter", {"class": "categorical", "column": self.ref(instance)})
        if group:
            element.set("filter-group", group)
        ET.SubElement(
            element,
            "groupfilter",
            {
                "function": "member",
                "level": instance.name,
                "member": member,
                _user("ui-domain"): "database",
                _user("ui-enumeration"): "inclusive",
                _user("ui-marker"): "enumerate",
            },
        )
        self.filters.append(element)

    def all_filter(self, instance: Instance, group: str | None = None) -> None:
        """A filter keeping every member: a quick filter the dashboard shows."""
        element = ET.Element("filter", {"class": "categorical", "column": self.ref(instance)})
        if group:
            element.set("filter-group", group)
        ET.SubElement(
            element,
            "groupfilter",
            {
                "function": "level-members",
                "level": instance.name,
                _user("ui-enumeration"): "all",
                _user("ui-marker"): "enumerate",
            },
        )
        self.filters.append(element)

    def non_null_filter(self, instance: Instance) -> None:
        """Everything but Null, as Tableau writes "exclude Null"."""
        element = ET.Element("filter", {"class": "categorical", "column": self.ref(instance)})
        outer = ET.SubElement(
            element,
            "groupfilter",
            {
                "function": "except",
                _user("ui-domain"): "database",
                _user("ui-enumeration"): "exclusive",
                _user("ui-marker"): "enumerate",
            },
        )
        ET.SubElement(outer, "groupfilter", {"function": "level-members", "level": instance.name})
        ET.SubElement(
            outer,
            "groupfilter",
            {"function": "member", "level": instance.name, "member": "%null%"},
        )
        self.filters.append(element)

    def colour_map(self, instance: Instance, colours: Mapping[str, str]) -> None:
        rule = ET.Element("style-rule", {"element": "mark"})
        encoding = ET.SubElement(
            rule,
            "encoding",
            {"attr": "color", "field": self.ref(instance), "type": "palette"},
        )
        for value, colour in colours.items():
            ET.SubElement(
                ET.SubElement(encoding, "map", {"to": colour}), "bucket"
            ).text = f'"{value}"'
        self.styles.append(rule)

    def render(self) -> ET.Element:
        # Marks reference fields too: declare them before the dependencies are written.
        encoded = [(channel, self.ref(instance)) for channel, instance in self.encodings]
        worksheet = ET.Element("worksheet", {"name": self.name})
        title = ET.SubElement(ET.SubElement(worksheet, "layout-options"), "title")
        text = ET.SubElement(title, "formatted-text")
        ET.SubElement(text, "run").text = self.title
        table = ET.SubElement(worksheet, "table")
        view = ET.SubElement(table, "view")
        ET.SubElement(
            ET.SubElement(view, "datasources"),
            "datasource",
            {"caption": self.source.caption, "name": self.source.name},
        )
        dependencies = ET.SubElement(
            view, "datasource-dependencies", {"datasource": self.source.name}
        )
        # Calculated fields come with their formula; the others as the data source has them.
        calculated = {column.get("name") for column in self.extra_columns}
        used = {
            instance.field.name: instance.field
            for instance in self.instances.values()
            if instance.field.name not in calculated
        }
        dependencies.extend(self.extra_columns)
        for field in sorted(used.values(), key=lambda field: field.name):
            _declare_column(dependencies, field)
        for name, instance in sorted(self.instances.items()):
            element = ET.SubElement(
                dependencies,
                "column-instance",
                {
                    "column": instance.field.name,
                    "derivation": instance.derivation,
                    "name": name,
                    "pivot": "key",
                    "type": instance.field_type,
                },
            )
            if instance.table_calc:
                calculation = ET.SubElement(element, "table-calc", instance.table_calc)
                # Computed along that field, restarting for every value of the others.
                ET.SubElement(calculation, "order", {"field": instance.table_calc["level-address"]})
        view.extend(self.filters)
        if self.filters:
            slices = ET.SubElement(view, "slices")
            for element in self.filters:
                ET.SubElement(slices, "column").text = element.get("column")
        ET.SubElement(view, "aggregation", {"value": "true"})
        style = ET.SubElement(table, "style")
        style.extend(self.styles)
        pane = ET.SubElement(
            ET.SubElement(table, "panes"),
            "pane",
            {"selection-relaxation-option": "selection-relaxation-allow"},
        )
        ET.SubElement(ET.SubElement(pane, "view"), "breakdown", {"value": "auto"})
        ET.SubElement(pane, "mark", {"class": self.mark})
        if encoded:
            encodings = ET.SubElement(pane, "encodings")
            for channel, reference in encoded:
                ET.SubElement(encodings, channel, {"column": reference})
        ET.SubElement(table, "rows").text = self.rows or None
        ET.SubElement(table, "cols").text = self.cols or None
        _simple_id(worksheet, "worksheet", self.name)
        return worksheet


def band_share_sheet(week: EmbeddedSource) -> Sheet:
    """(a) Weekly share of learners in each band, one area chart per course."""
    sheet = Sheet(
        "Engagement bands by week", week, "Share of learners by engagement band, per week"
    )
    band = dimension(week.field(BANDS, "engagement_band"))
    course = dimension(week.field("dim_course", "course_short_name"))
    # Share within each course and week: a percent of total computed along the band.
    learners = Instance(
        week.field(BANDS, "user_id"),
        "CountD",
        "quantitative",
        {
            "level-address": f"[{week.name}].{band.name}",
            "ordering-type": "Field",
            "type": "PctTotal",
        },
    )
    sheet.cols = sheet.ref(day(week.field(BANDS, "week_start_date")))
    sheet.rows = sheet.shelf("/", course, learners)
    sheet.mark = "Area"
    sheet.encodings = [("color", band)]
    sheet.colour_map(band, BAND_COLOURS)
    sheet.all_filter(course, COURSE_FILTER_GROUP)
    return sheet


def latest_week_column(week: EmbeddedSource) -> ET.Element:
    """A calculated field: true on the rows of the data's latest observed week."""
    week_start = week.field(BANDS, "week_start_date").name
    column = ET.Element(
        "column",
        {
            "caption": "Latest Week?",
            "datatype": "boolean",
            "name": LATEST_WEEK,
            "role": "dimension",
            "type": "nominal",
        },
    )
    ET.SubElement(
        column,
        "calculation",
        {"class": "tableau", "formula": f"{week_start} = {{FIXED : MAX({week_start})}}"},
    )
    return column


def at_risk_sheet(week: EmbeddedSource, latest: Field) -> Sheet:
    """(b) The at-risk learners of the latest week, with the reason they struggle."""
    sheet = Sheet("At-risk learners", week, "At-risk learners of the latest week, and why")
    course = dimension(week.field("dim_course", "course_short_name"))
    learner = dimension(week.field(BANDS, "user_id"))
    reason = dimension(week.field(BANDS, "struggling_reason"))
    sheet.rows = sheet.shelf("/", course, learner, reason)
    sheet.mark = "Text"
    sheet.encodings = [("text", measure(week.field(BANDS, "struggling_week_streak")))]
    sheet.extra_columns.append(latest_week_column(week))
    sheet.member_filter(dimension(latest), "true")
    sheet.member_filter(dimension(week.field(BANDS, "is_at_risk")), "true")
    sheet.all_filter(course, COURSE_FILTER_GROUP)
    return sheet


def top_tiers_sheet(tiers: EmbeddedSource) -> Sheet:
    """(c) How many learners each metric puts in its top 1 / 5 / 10 / 25 %."""
    sheet = Sheet("Top tiers", tiers, "Learners in the top tiers of each metric")
    metric = dimension(tiers.field(TIERS, "metric"))
    tier = dimension(tiers.field(TIERS, "top_tier"))
    sheet.rows = sheet.ref(metric)
    sheet.cols = sheet.ref(count_distinct(tiers.field(TIERS, "user_id")))
    sheet.mark = "Bar"
    sheet.encodings = [("color", tier)]
    sheet.colour_map(tier, TIER_COLOURS)
    sheet.non_null_filter(tier)
    return sheet


def learner_trend_sheet(week: EmbeddedSource) -> Sheet:
    """(d) A learner's own week by week: actions, completion and grade to date."""
    sheet = Sheet("Learner weekly trend", week, "A learner's progress, week by week")
    course = dimension(week.field("dim_course", "course_short_name"))
    learner = dimension(week.field(LEARNER_WEEK, "user_id"))
    sheet.cols = sheet.ref(day(week.field(LEARNER_WEEK, "week_start_date")))
    sheet.rows = sheet.shelf(
        "+",
        measure(week.field(LEARNER_WEEK, "learner_action_count")),
        measure(week.field(LEARNER_WEEK, "completion_share_to_date")),
        measure(week.field(LEARNER_WEEK, "grade_share_to_date")),
    )
    sheet.mark = "Line"
    # One line per learner and course until a learner is picked.
    sheet.encodings = [("color", course), ("lod", learner)]
    sheet.member_filter(dimension(week.field(LEARNER_WEEK, "is_future_week")), "false")
    sheet.all_filter(course, COURSE_FILTER_GROUP)
    sheet.all_filter(learner)
    return sheet


# --- dashboard and windows ------------------------------------------------------------------


def _zone(
    parent: ET.Element, zone_id: int, box: tuple[int, int, int, int], **attrs: str
) -> ET.Element:
    x, y, w, h = box
    return ET.SubElement(
        parent,
        "zone",
        {"h": str(h), "id": str(zone_id), "w": str(w), "x": str(x), "y": str(y), **attrs},
    )


def _flow(
    parent: ET.Element, zone_id: int, box: tuple[int, int, int, int], direction: str
) -> ET.Element:
    """A tiled container, as Tableau nests them: ``horz`` side by side, ``vert`` stacked."""
    return _zone(parent, zone_id, box, param=direction, **{"type-v2": "layout-flow"})


def render_dashboard(sheets: Mapping[str, Sheet], week: EmbeddedSource) -> ET.Element:
    """The dashboard: bands and trend on the left, filters, at-risk list and tiers on the right.

    Zone positions are in Tableau's relative units (0-100000 across and down).
    """
    bands = sheets["bands"]
    trend = sheets["trend"]
    dashboard = ET.Element("dashboard", {"name": DASHBOARD_NAME})
    title = ET.SubElement(ET.SubElement(dashboard, "layout-options"), "title")
    ET.SubElement(
        ET.SubElement(title, "formatted-text"), "run"
    ).text = "Learner progress: engagement bands, learners at risk, top tiers and weekly trends"
    ET.SubElement(dashboard, "style")
    ET.SubElement(dashboard, "size", {"sizing-mode": "automatic"})
    # The fields its filter and legend zones show.
    course = trend.instances[dimension(week.field("dim_course", "course_short_name")).name]
    learner = trend.instances[dimension(week.field(LEARNER_WEEK, "user_id")).name]
    band = bands.instances[dimension(week.field(BANDS, "engagement_band")).name]
    ET.SubElement(
        ET.SubElement(dashboard, "datasources"),
        "datasource",
        {"caption": week.caption, "name": week.name},
    )
    dependencies = ET.SubElement(dashboard, "datasource-dependencies", {"datasource": week.name})
    for instance in (band, course, learner):
        _declare_column(dependencies, instance.field)
    for instance in (band, course, learner):
        ET.SubElement(
            dependencies,
            "column-instance",
            {
                "column": instance.field.name,
                "derivation": instance.derivation,
                "name": instance.name,
                "pivot": "key",
                "type": instance.field_type,
            },
        )
    zones = ET.SubElement(dashboard, "zones")
    root = _zone(zones, 1, (0, 0, 100000, 100000), **{"type-v2": "layout-basic"})
    page = _flow(root, 2, (0, 0, 100000, 100000), "vert")
    _zone(page, 3, (0, 0, 100000, 6000), **{"type-v2": "title"})
    body = _flow(page, 4, (0, 6000, 100000, 94000), "horz")
    # Left: the bands over time above a learner's trend.
    charts = _flow(body, 5, (0, 6000, 68000, 94000), "vert")
    _zone(charts, 6, (0, 6000, 68000, 47000), name=bands.name)
    _zone(charts, 7, (0, 53000, 68000, 47000), name=trend.name)
    # Right: the filters and the band legend, the at-risk list, the tiers.
    side = _flow(body, 8, (68000, 6000, 32000, 94000), "vert")
    quick_filter = {"type-v2": "filter", "mode": "dropdown", "values": "relevant"}
    _zone(
        side,
        9,
        (68000, 6000, 32000, 7000),
        name=trend.name,
        param=trend.ref(course),
        **quick_filter,
    )
    _zone(
        side,
        10,
        (68000, 13000, 32000, 7000),
        name=trend.name,
        param=trend.ref(learner),
        **quick_filter,
    )
    legend = {"type-v2": "color", "pane-specification-id": "0"}
    _zone(side, 11, (68000, 20000, 32000, 9000), name=bands.name, param=bands.ref(band), **legend)
    _zone(side, 12, (68000, 29000, 32000, 41000), name=sheets["at_risk"].name)
    _zone(side, 13, (68000, 70000, 32000, 30000), name=sheets["tiers"].name)
    _simple_id(dashboard, "dashboard", DASHBOARD_NAME)
    return dashboard


def render_windows(sheets: Iterable[Sheet]) -> ET.Element:
    """Windows as Tableau saves them: sheets hidden behind the dashboard, which opens first."""
    windows = ET.Element("windows", {"source-height": "30"})
    for sheet in sheets:
        window = ET.SubElement(
            windows, "window", {"class": "worksheet", "hidden": "true", "name": sheet.name}
        )
        cards = ET.SubElement(window, "cards")
        left = ET.SubElement(
            ET.SubElement(cards, "edge", {"name": "left"}), "strip", {"size": "160"}
        )
        for card in ("pages", "filters", "marks"):
            ET.SubElement(left, "card", {"type": card})
        top = ET.SubElement(cards, "edge", {"name": "top"})
        for card, size in (("columns", "2147483647"), ("rows", "2147483647"), ("title", "31")):
            ET.SubElement(ET.SubElement(top, "strip", {"size": size}), "card", {"type": card})
        _simple_id(window, "window", sheet.name)
    window = ET.SubElement(
        windows, "window", {"class": "dashboard", "maximized": "true", "name": DASHBOARD_NAME}
    )
    viewpoints = ET.SubElement(window, "viewpoints")
    for sheet in sheets:
        ET.SubElement(viewpoints, "viewpoint", {"name": sheet.name})
    ET.SubElement(window, "active", {"id": "-1"})
    _simple_id(window, "window", DASHBOARD_NAME)
    return windows


def render_workbook(week: EmbeddedSource, tiers: EmbeddedSource) -> str:
    """The whole .twb document."""
    latest = latest_week_column(week)
    week.element.insert(_after_last_column(week.element), latest)
    latest_field = Field(
        LATEST_WEEK, BANDS, "", "Latest Week?", "boolean", "dimension", "nominal", "None"
    )
    sheets = {
        "bands": band_share_sheet(week),
        "at_risk": at_risk_sheet(week, latest_field),
        "tiers": top_tiers_sheet(tiers),
        "trend": learner_trend_sheet(week),
    }
    workbook = ET.Element(
        "workbook",
        {
            "original-version": WORKBOOK_VERSION,
            "source-build": SOURCE_BUILD,
            "source-platform": "linux",
            "version": WORKBOOK_VERSION,
        },
    )
    preferences = ET.SubElement(workbook, "preferences")
    ET.SubElement(preferences, "preference", {"name": "ui.encoding.shelf.height", "value": "24"})
    ET.SubElement(preferences, "preference", {"name": "ui.shelf.height", "value": "26"})
    datasources = ET.SubElement(workbook, "datasources")
    datasources.extend([week.element, tiers.element])
    worksheets = ET.SubElement(workbook, "worksheets")
    worksheets.extend(sheet.render() for sheet in sheets.values())
    ET.SubElement(workbook, "dashboards").append(render_dashboard(sheets, week))
    workbook.append(render_windows(sheets.values()))
    # Explain Data settings (the schema requires the element); Tableau's defaults.
    explain = ET.SubElement(
        workbook,
        "explain-data",
        {"enabled-for-viewer": "true", "extreme-values-enabled-for-all": "true"},
    )
    ET.SubElement(explain, "explanation-types")
    ET.indent(workbook)
    return "<?xml version='1.0' encoding='utf-8' ?>\n" + ET.tostring(workbook, encoding="unicode")


def _after_last_column(datasource: ET.Element) -> int:
    children = list(datasource)
    last = max(index for index, child in enumerate(children) if child.tag == "column")
    return last + 1


# --- the command ----------------------------------------------------------------------------


def write_learner_workbook(
    info: ConnectionInfo, out_dir: Path, manifest_path: Path, schema: str = "mart"
) -> Path:
    """Write ``learner_progress.twb`` into ``out_dir`` (atomically) and return its path."""
    validate_identifier(schema, "mart schema")
    manifest = load_manifest(manifest_path)
    models = mart_models(manifest)
    tables = mart_tables(models, read_database_columns(info, schema))
    missing = [name for name in (LEARNER_WEEK, BANDS, TIERS, "dim_course") if name not in tables]
    if missing:
        raise UserError(
            f"the Tableau workbook needs the mart tables {', '.join(missing)} in schema"
            f" {schema!r}: run `moodle-analytics build` first"
        )
    edges = [
        edge
        for edge in relationships(manifest, models)
        if edge.child in tables and edge.parent in tables
    ]
    stars = {source.root: source for source in data_sources(tables, edges)}
    week = embed_source(stars[LEARNER_WEEK], tables, info, schema)
    tiers = embed_source(stars[TIERS], tables, info, schema)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / WORKBOOK_NAME
    partial = out_dir / f".{WORKBOOK_NAME}.{os.getpid()}.partial"
    partial.write_text(render_workbook(week, tiers), encoding="utf-8")
    os.replace(partial, path)
    return path

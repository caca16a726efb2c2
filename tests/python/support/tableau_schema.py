"""Tableau's published workbook schema (tests/data/tableau), ready for lxml to validate with.

The schema imports Tableau's ``user`` namespace and the W3C ``xml`` namespace without saying
where their schemas are; libxml2 needs one, so the imports are pointed at the two small stubs
beside it (in memory: the saved schema stays as published). A ``.tds`` file is a data source
on its own: the schema has no global ``datasource`` element, so one of the schema's own type
``DataSource-CT`` is declared for it.
"""

from __future__ import annotations

from functools import cache

from lxml import etree

from runner.paths import PROJECT_ROOT

SCHEMA_DIR = PROJECT_ROOT / "tests" / "data" / "tableau"
WORKBOOK_SCHEMA = SCHEMA_DIR / "twb_2024.1.0.xsd"
XS = "http://www.w3.org/2001/XMLSchema"
NAMESPACE_STUBS = {
    "http://www.tableausoftware.com/xml/user": "user_namespace_stub.xsd",
    "http://www.w3.org/XML/1998/namespace": "xml_namespace_stub.xsd",
}


@cache
def tableau_schema(root: str = "workbook") -> etree.XMLSchema:
    """The schema for a ``workbook`` (.twb) or a ``datasource`` (.tds) document."""
    tree = etree.parse(str(WORKBOOK_SCHEMA))
    for imported in tree.getroot().iter(f"{{{XS}}}import"):
        stub = SCHEMA_DIR / NAMESPACE_STUBS[imported.get("namespace")]
        imported.set("schemaLocation", stub.as_uri())
    if root == "datasource":
        etree.SubElement(
            tree.getroot(), f"{{{XS}}}element", name="datasource", type="DataSource-CT"
        )
    return etree.XMLSchema(tree)


def schema_errors(document: etree._ElementTree, root: str = "workbook") -> list[str]:
    """What the schema finds wrong with ``document``, line by line (empty when valid)."""
    schema = tableau_schema(root)
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]

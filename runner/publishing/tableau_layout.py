"""A picture of a Tableau dashboard's layout, drawn from the workbook's own zones.

Without Tableau, the honest picture of the dashboard is its layout: each leaf zone of the
``.twb`` (a worksheet, a filter, a colour legend, the title) as a labelled box where Tableau
places it. The picture says what it is (the layout, not a screenshot); it is plain SVG, made
with the standard library only.

    python -m runner.publishing.tableau_layout \
        exports/tableau/learner_progress.twb docs/images/x.svg
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

# Tableau places zones in relative units, 0 to 100000 across and down.
UNITS = 100_000
WIDTH, HEIGHT = 960, 600
CAPTION_HEIGHT = 28
FILLS = {"worksheet": "#e8eef7", "filter": "#fdf3dc", "color": "#e6f4ea", "title": "#f1f1f1"}
_FIELD = re.compile(r"\[[a-z]+:([A-Za-z0-9_]+):[a-z]+\]\s*$")


@dataclass(frozen=True)
class Zone:
    kind: str  # worksheet, filter, color (legend) or title
    label: str
    x: int
    y: int
    w: int
    h: int


def _field_name(param: str) -> str:
    match = _FIELD.search(param)
    return match.group(1) if match else param


def dashboard_zones(workbook_xml: str, dashboard: str) -> list[Zone]:
    """The leaf zones of ``dashboard`` in the workbook, in document order."""
    root = ET.fromstring(workbook_xml)
    found = root.find(f"./dashboards/dashboard[@name='{dashboard}']")
    if found is None:
        raise ValueError(f"the workbook has no dashboard named {dashboard!r}")
    zones = []
    for zone in found.iter("zone"):
        if zone.find("zone") is not None:
            continue  # a container: its children are drawn
        kind = zone.get("type-v2") or "worksheet"
        name = zone.get("name", "")
        if kind == "worksheet":
            label = name
        elif kind == "filter":
            label = f"filter: {_field_name(zone.get('param', ''))}"
        elif kind == "color":
            label = f"colour legend: {_field_name(zone.get('param', ''))}"
        else:
            label = "dashboard title"
        box = (int(zone.get(key, "0")) for key in ("x", "y", "w", "h"))
        zones.append(Zone(kind, label, *box))
    return zones


def layout_svg(zones: list[Zone], caption: str) -> str:
    """An SVG of the zones, scaled to WIDTH x HEIGHT, under a caption."""
    scale_x, scale_y = WIDTH / UNITS, HEIGHT / UNITS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT + CAPTION_HEIGHT}" font-family="Helvetica, Arial, sans-serif">',
        f'<text x="4" y="18" font-size="14" fill="#333">{escape(caption)}</text>',
    ]
    for zone in zones:
        x, y = zone.x * scale_x, CAPTION_HEIGHT + zone.y * scale_y
        w, h = zone.w * scale_x, zone.h * scale_y
        parts.append(
            f'<rect x="{x + 2:.0f}" y="{y + 2:.0f}" width="{w - 4:.0f}" height="{h - 4:.0f}" '
            f'rx="4" fill="{FILLS.get(zone.kind, "#ffffff")}" stroke="#667"/>'
        )
        parts.append(
            f'<text x="{x + w / 2:.0f}" y="{y + h / 2 + 5:.0f}" font-size="14" '
            f'text-anchor="middle" fill="#223">{escape(zone.label)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def dashboard_layout_svg(workbook_xml: str, dashboard: str) -> str:
    return layout_svg(
        dashboard_zones(workbook_xml, dashboard),
        f"Layout of the dashboard “{dashboard}”, drawn from the workbook's zones"
        " (not a screenshot)",
    )


def main(arguments: list[str]) -> int:
    from runner.publishing.tableau_workbook import DASHBOARD_NAME

    if len(arguments) != 2:
        print(
            "usage: python -m runner.publishing.tableau_layout WORKBOOK.twb OUT.svg",
            file=sys.stderr,
        )
        return 2
    workbook, out = (Path(argument) for argument in arguments)
    out.write_text(dashboard_layout_svg(workbook.read_text(encoding="utf-8"), DASHBOARD_NAME))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

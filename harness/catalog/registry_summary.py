"""The registry as a report: per type, how many properties are judged and how many neutral (catalog, traceability).

Kept apart from :mod:`harness.catalog.registry` (reading and checking the registry) so each stays a
module of one job.
"""

from __future__ import annotations

from typing import Any

from harness.catalog.registry import SEPARATOR, Registry, schema_property_names
from harness.markdown import natural_key


def summary(registry: Registry) -> list[dict[str, Any]]:
    """Per reviewed type: properties judged and neutral, attributes, the policies that judge it, and how many
    of the schema's settable top-level properties the registry leaves unreviewed (for the catalog and
    traceability)."""
    rows = []
    for resource_type, reviewed in sorted(registry.types.items()):
        schema = [] if resource_type.startswith("Custom::") else schema_property_names(resource_type)
        top_level = {path.split(SEPARATOR, 1)[0] for path in reviewed.properties}
        rows.append(
            {
                "type": resource_type,
                "file": reviewed.source.relative_to(registry.directory.parent.parent).as_posix()
                if reviewed.source.is_relative_to(registry.directory.parent.parent)
                else reviewed.source.as_posix(),
                "summary": reviewed.summary,
                "judged": reviewed.judged,
                "neutral": reviewed.neutral,
                "attributes": len(reviewed.attributes),
                "schema_properties": len(schema),
                "unreviewed_schema_properties": len([name for name in schema if name not in top_level]),
                "policies": sorted(
                    {rule for r in reviewed.properties.values() for rule in r.judged_by}, key=natural_key
                ),
                "entries": [
                    {"path": r.path, "judged_by": sorted(r.judged_by), "neutral": r.neutral}
                    for r in sorted(reviewed.properties.values(), key=lambda r: r.path)
                ]
                + [
                    {"path": f"Fn::GetAtt {r.path}", "judged_by": sorted(r.judged_by), "neutral": r.neutral}
                    for r in sorted(reviewed.attributes.values(), key=lambda r: r.path)
                ],
            }
        )
    return rows


def render_markdown(rows: list[dict[str, Any]], *, details: bool) -> list[str]:
    """The reviewed types as Markdown lines: a summary table, and each entry when ``details``."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    judged, neutral = sum(r["judged"] for r in rows), sum(r["neutral"] for r in rows)
    lines = [
        "## Reviewed resource types (policies/registry: deny by default)",
        "",
        f"{len(rows)} resource types reviewed: {judged} properties judged by named policies, {neutral} reviewed "
        "neutral. A type, property, Fn::GetAtt attribute or template key the registry does not list is NOT "
        "EVALUATED (`gate:unreviewed-*`). 'Not in the registry' counts the settable top-level properties of the "
        "type's CloudFormation schema that no entry covers: using one is NOT EVALUATED until someone reviews it.",
        "",
        "| Type | Judged | Neutral | Attributes | Not in the registry (of the schema's) | Judged by |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        schema = (
            f"{row['unreviewed_schema_properties']} of {row['schema_properties']}" if row["schema_properties"] else "-"
        )
        lines.append(
            f"| `{row['type']}` | {row['judged']} | {row['neutral']} | {row['attributes']} | {schema} | "
            f"{cell(', '.join(row['policies']) or '-')} |"
        )
    if details:
        for row in rows:
            lines += ["", f"### `{row['type']}`", "", f"{cell(row['summary'])} (`{row['file']}`)", ""]
            lines += ["| Property | Review |", "|---|---|"]
            lines += [
                f"| `{e['path']}` | {cell('judged by ' + ', '.join(e['judged_by']) if e['judged_by'] else 'neutral: ' + e['neutral'])} |"
                for e in row["entries"]
            ]
    return lines

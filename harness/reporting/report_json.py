"""compliance.json: the verdict machines read, every finding in its one record shape."""

from __future__ import annotations

import json

from harness.reporting.reports import ReportInput, counts_record


def render_json(data: ReportInput) -> str:
    document = {
        "schema": "staging-rds-compliance-gate/1",
        "verdict": data.verdict,
        "exit_code": int(data.exit_code),
        "mode": data.mode,
        "error": data.error,
        "counts": counts_record(data.findings),
        "assemblies": [{k: v for k, v in a.items() if k != "abs_path"} for a in data.assemblies],
        "tools": list(data.tools),
        "waivers": list(data.waivers),
        "coverage": list(data.coverage),
        "registry": [{k: v for k, v in row.items() if k != "entries"} for row in data.registry],
        "controls": list(data.controls),
        "delta": data.delta,
        "changes": list(data.changes),
        "rules": dict(data.rules) if data.rules is not None else None,
        "findings": [f.to_record() for f in data.findings],
    }
    if data.shard is not None:
        document["shard"] = dict(data.shard)
    if data.shards:
        document["shards"] = [dict(s) for s in data.shards]
    return json.dumps(document, indent=2, sort_keys=True) + "\n"

#!/usr/bin/env python3
"""Writes src/connectors/exact_globe/fields.json from the Exact Globe entity reference.

Usage: python3 tools/gen_globe_fields.py ../shared/reference/exact-globe-schema.json \
           > src/connectors/exact_globe/fields.json

Keeps only what the client needs (no descriptions): per entity its REST name and key, and per
property [REST name, type, length, right_aligned, mandatory]. The build never reads the
reference itself; this file is committed.
"""
import json
import sys

src = json.load(open(sys.argv[1], encoding="utf-8"))
out = {}
for name, entity in src["entities"].items():
    props = []
    for p in entity["properties"]:
        props.append([
            p.get("rest_name") or p["name"],
            p["type"],
            p["length"],
            bool(p["right_aligned"]),
            bool(p["mandatory"]),
        ])
    out[entity.get("rest_name") or name] = {"key": entity["key"], "properties": props}

lines = ["{"]
entities = list(out.items())
for i, (name, entity) in enumerate(entities):
    lines.append(f'  {json.dumps(name)}: {{"key": {json.dumps(entity["key"])}, "properties": [')
    rows = entity["properties"]
    for j, row in enumerate(rows):
        comma = "," if j + 1 < len(rows) else ""
        lines.append("    " + json.dumps(row) + comma)
    lines.append("  ]}" + ("," if i + 1 < len(entities) else ""))
lines.append("}")
print("\n".join(lines))

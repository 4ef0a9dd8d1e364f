"""Writes a BigQuery table schema (the JSON `bq mk --schema` takes) for vidlabel's
records, generated from Schemas/report.schema.json: one table holds both scan reports
and error records (every field NULLABLE unless the schema requires it of both).
Label-to-score maps (a frame's `moderation`) have open keys, so they become JSON columns.
Usage: python bigquery_schema.py [report.schema.json] > vidlabel.bq.json (nothing is sent anywhere)."""
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCALARS = {"string": "STRING", "integer": "INTEGER", "number": "FLOAT", "boolean": "BOOLEAN"}


def resolve(node, defs):
    while "$ref" in node:
        node = defs[node["$ref"].split("/")[-1]]
    if "allOf" in node:
        # A shared shape narrowed by the others (a label summary whose label is one of
        # a list): its properties, each narrowed where another part says more.
        merged = {}
        for part in node["allOf"]:
            part = resolve(part, defs)
            for k, v in part.items():
                if k == "properties":
                    merged.setdefault("properties", {})
                    for name, prop in v.items():
                        merged["properties"][name] = {**merged["properties"].get(name, {}), **resolve(prop, defs)}
                else:
                    merged.setdefault(k, v)
        return merged
    return node


def field(name, node, defs, required):
    node = resolve(node, defs)
    mode = "REQUIRED" if required else "NULLABLE"
    kind = node.get("type")
    if "const" in node and not isinstance(node["const"], str):
        return {"name": name, "type": "BOOLEAN" if isinstance(node["const"], bool) else "INTEGER" if isinstance(node["const"], int) else "FLOAT", "mode": mode}
    if "enum" in node:
        return {"name": name, "type": "STRING", "mode": mode}
    if kind == "array":
        inner = field(name, node.get("items", {}), defs, True)
        inner["mode"] = "REPEATED"
        return inner
    if kind == "object" and "properties" in node:
        req = set(node.get("required", []))
        return {"name": name, "type": "RECORD", "mode": mode,
                "fields": [field(k, v, defs, k in req) for k, v in node["properties"].items()]}
    if kind == "object":
        return {"name": name, "type": "JSON", "mode": mode}
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return {"name": name, "type": SCALARS.get(kind, "STRING"), "mode": mode}


def merge(a, b):
    """Fields of a and b; a field both have is merged (records field by field)."""
    out = {f["name"]: dict(f) for f in a}
    for f in b:
        if f["name"] in out and f.get("type") == "RECORD" and out[f["name"]].get("type") == "RECORD":
            out[f["name"]]["fields"] = merge(out[f["name"]]["fields"], f["fields"])
        elif f["name"] not in out:
            out[f["name"]] = dict(f)
    return list(out.values())


def schema(path):
    with open(path) as f:
        s = json.load(f)
    defs = s["$defs"]
    shapes = [field("record", resolve(choice, defs), defs, True)["fields"] for choice in s["oneOf"]]
    fields = shapes[0]
    for other in shapes[1:]:
        fields = merge(fields, other)
    required_by_all = set.intersection(*[set(resolve(c, defs).get("required", [])) for c in s["oneOf"]])

    def relax(fs, top):
        for f in fs:
            if top and f["name"] not in required_by_all and f["mode"] == "REQUIRED":
                f["mode"] = "NULLABLE"
            if f.get("type") == "RECORD":
                relax(f["fields"], False)
        return fs
    return relax(fields, True)


if __name__ == "__main__":
    json.dump(schema(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Schemas", "report.schema.json")), sys.stdout, indent=1)
    sys.stdout.write("\n")

"""Google's own walletobjects schema (from google-api-python-client), as strict JSON Schema.

The discovery document's `schemas` become JSON Schema definitions with unknown keys
rejected, so a misspelt or invented field in anything the service sends fails the test.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import googleapiclient
from jsonschema import Draft7Validator

DOCUMENT = (Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
            / "walletobjects.v1.json")


def _convert(node: dict[str, Any]) -> dict[str, Any]:
    """One discovery schema node as JSON Schema."""
    if "$ref" in node:
        return {"$ref": f"#/definitions/{node['$ref']}"}
    kind = node.get("type")
    out: dict[str, Any] = {}
    if kind == "object":
        out["type"] = "object"
        if "properties" in node:
            out["properties"] = {k: _convert(v) for k, v in node["properties"].items()}
            out["additionalProperties"] = False
        elif "additionalProperties" in node:
            out["additionalProperties"] = _convert(node["additionalProperties"])
    elif kind == "array":
        out = {"type": "array", "items": _convert(node.get("items", {}))}
    elif kind in {"string", "boolean", "number", "integer"}:
        out["type"] = kind
        if kind == "string" and node.get("format") in {"int64", "uint64"}:
            out["type"] = ["string", "integer"]
        if "enum" in node:
            out["enum"] = node["enum"]
    return out


@functools.cache
def definitions() -> dict[str, Any]:
    """Every schema of the document, converted."""
    doc = json.loads(DOCUMENT.read_text())
    return {name: _convert(schema) for name, schema in doc["schemas"].items()}


def validate(kind: str, body: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless `body` is a valid Google `kind`."""
    schema = {"definitions": definitions(), "$ref": f"#/definitions/{kind}"}
    errors = sorted(Draft7Validator(schema).iter_errors(body), key=str)
    if errors:
        raise errors[0]

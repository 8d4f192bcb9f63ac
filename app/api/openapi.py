"""The OpenAPI 3 document, assembled from the OPENAPI_PATHS of each API module."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from typing import Any

from app.api import bp

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "details": {"type": "object"}}}},
}


def ref(name: str) -> dict[str, str]:
    """A $ref to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    """An application/json content block."""
    return {"application/json": {"schema": schema}}


def ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A success response."""
    out: dict[str, Any] = {"description": description}
    if schema is not None:
        out["content"] = json_content(schema)
    return out


def errors(*statuses: int) -> dict[str, Any]:
    """Error responses, all in the common error shape."""
    return {str(s): {"description": "Error", "content": json_content(ref("Error"))}
            for s in statuses}


def id_param(name: str) -> dict[str, Any]:
    """An integer path parameter."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    import app.api as api_pkg

    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": ERROR}
    for info in sorted(pkgutil.iter_modules(api_pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"app.api.{info.name}")
        for path, ops in getattr(module, "OPENAPI_PATHS", {}).items():
            paths.setdefault(path, {}).update(ops)
        schemas.update(getattr(module, "OPENAPI_SCHEMAS", {}))
    return {
        "openapi": "3.0.3",
        "info": {"title": "walletpass API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    """The OpenAPI 3 document of this API."""
    return document()

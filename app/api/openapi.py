"""The OpenAPI 3.1 document, generated from the routes' declared contracts (contract.py)
and the pydantic models they name: each shape is written once."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from flask import current_app
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from app.api import bp
from app.api.contract import CSV_UPLOAD, UPLOAD, Operation
from app.api.idempotency import HEADER, MAX_KEY
from app.api.schemas import Error
from app.validation import MAX_ID

REF = "#/components/schemas/{model}"
WRITES = {"post", "put", "patch", "delete"}
PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
IMAGE_BODY = {
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}

CSV_BODY = {
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"},
        "consent_basis": {"type": "string"}, "mapping": {"type": "string"},
        "encoding": {"type": "string"}, "dry_run": {"type": "boolean"}}}},
}


def camel(name: str) -> str:
    """create_program -> createProgram."""
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _routes() -> list[tuple[str, str, str, Operation]]:
    """(OpenAPI path, method, endpoint, contract) of every documented API route."""
    out = []
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith(f"{bp.name}.") or rule.endpoint == "api.openapi":
            continue
        spec = getattr(current_app.view_functions[rule.endpoint], "openapi", None)
        if spec is None:
            raise RuntimeError(f"API route {rule.endpoint} declares no contract (@operation).")
        path = PARAM.sub(r"{\2}", rule.rule.removeprefix(bp.url_prefix or ""))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((path, method.lower(), rule.endpoint, spec))
    return sorted(out)


def _components(routes: list[tuple[str, str, str, Operation]]) -> tuple[
        dict[Any, dict[str, Any]], dict[str, Any]]:
    """The $ref of every model the routes name, and the component schemas."""
    wanted: set[tuple[type[BaseModel], JsonSchemaMode]] = {(Error, "serialization")}
    for *_, spec in routes:
        if isinstance(spec.body, type):
            wanted.add((spec.body, "validation"))
        if spec.response is not None:
            wanted.add((spec.response, "serialization"))
        wanted.update((model, "serialization") for _, model in spec.also)
    refs, defs = models_json_schema(sorted(wanted, key=lambda m: (m[0].__name__, m[1])),
                                    ref_template=REF)
    return refs, defs.get("$defs", {})


def _parameters(rule_path: str, spec: Operation, method: str) -> list[dict[str, Any]]:
    """Path, query and header parameters of an operation."""
    params: list[dict[str, Any]] = []
    for name in re.findall(r"{(\w+)}", rule_path):
        schema = spec.path.get(name, {"type": "integer", "minimum": 1, "maximum": MAX_ID})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    params.extend(spec.query)
    if method in WRITES:
        params.append({"name": HEADER, "in": "header", "required": False,
                       "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY,
                                  "pattern": "^[!-~]([ -~]*[!-~])?$"},
                       "description": "Repeats with the same key and request get the first "
                                      "answer and change nothing; the same key with another "
                                      "request is refused (422)."})
    return params


def _errors(path: str, spec: Operation) -> list[int]:
    """The error statuses an operation may answer."""
    statuses = {401, *spec.errors}
    if "{" in path:
        statuses.add(404)
    if spec.query or spec.body is not None:
        statuses.add(422)
    if isinstance(spec.body, type):
        statuses |= {400, 413, 415}
    if spec.body in (UPLOAD, CSV_UPLOAD):
        statuses |= {400, 413, 415, 422}
    return sorted(statuses)


def _operation(path: str, method: str, endpoint: str, spec: Operation,
               refs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    """One operation object."""
    error = {"description": "Error", "content": {"application/json": {
        "schema": refs[(Error, "serialization")]}}}
    success: dict[str, Any] = {"description": spec.summary}
    if spec.response is not None:
        success["content"] = {"application/json": {
            "schema": refs[(spec.response, "serialization")]}}
    elif spec.media:
        success["content"] = {m: {"schema": {"type": "string", "format": "binary"}}
                              for m in spec.media}
    out: dict[str, Any] = {
        "summary": spec.summary, "operationId": camel(endpoint.split(".", 1)[1]),
        "parameters": _parameters(path, spec, method),
        "responses": {str(spec.status): success,
                      **{str(status): {"description": model.__doc__ or spec.summary,
                                       "content": {"application/json": {
                                           "schema": refs[(model, "serialization")]}}}
                         for status, model in spec.also},
                      **{str(s): error for s in _errors(path, spec)}, "default": error}}
    if spec.description:
        out["description"] = spec.description
    if spec.body == UPLOAD:
        out["requestBody"] = {"required": True, "content": IMAGE_BODY}
    elif spec.body == CSV_UPLOAD:
        out["requestBody"] = {"required": True, "content": CSV_BODY}
    elif isinstance(spec.body, type):
        out["requestBody"] = {"required": spec.body_required, "content": {
            "application/json": {"schema": refs[(spec.body, "validation")]}}}
    return out


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    """The whole OpenAPI document (built once per process: every app has the same routes)."""
    routes = _routes()
    refs, schemas = _components(routes)
    paths: dict[str, Any] = {}
    for path, method, endpoint, spec in routes:
        paths.setdefault(path, {})[method] = _operation(path, method, endpoint, spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "walletpass API", "version": "1"},
        "servers": [{"url": bp.url_prefix}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    }


def document() -> dict[str, Any]:
    """The OpenAPI document of the current app's API."""
    return _document()


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    """The OpenAPI 3.1 document of this API."""
    return document()

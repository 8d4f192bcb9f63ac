"""Each API route declares its contract once: its request and answer models, its query
parameters and the errors it may answer. The route's JSON body is parsed through the
request model (the view gets the model instance as `body`), and the OpenAPI document
(app/api/openapi.py) is generated from the same declarations."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import current_app, request
from pydantic import BaseModel

from app.errors import DomainError
from app.validation import M, parse_json

V = TypeVar("V", bound=Callable[..., Any])
UPLOAD = "upload"
"""`body=UPLOAD`: the route takes an image as the raw body or a multipart field 'file'."""
CSV_UPLOAD = "csv"
"""`body=CSV_UPLOAD`: the route takes a CSV file as the raw body or a multipart field 'file'."""


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one route."""

    summary: str
    body: type[BaseModel] | str | None = None
    body_required: bool = True
    response: type[BaseModel] | None = None
    media: tuple[str, ...] = ()
    """Media types of a binary answer (e.g. image/png), instead of a JSON response model."""
    status: int = 200
    also: tuple[tuple[int, type[BaseModel]], ...] = ()
    """Other success answers: (status, model), e.g. a dry run's 200 beside a 202."""
    errors: tuple[int, ...] = ()
    query: tuple[dict[str, Any], ...] = ()
    path: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""


def operation(summary: str, **details: Any) -> Callable[[V], V]:
    """Declare a route's contract; a model `body` is parsed and passed as `body=`."""
    spec = Operation(summary, **details)

    def decorate(view: V) -> V:
        model = spec.body if isinstance(spec.body, type) else None

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if model is not None:
                kwargs["body"] = read_json(model, required=spec.body_required)
            return view(*args, **kwargs)

        wrapper.openapi = spec  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def read_json(model: type[M], *, required: bool = True) -> M:
    """The request's JSON object parsed into `model`, with clear errors for a wrong type,
    size or syntax (an empty body is an empty object when the body is optional)."""
    limit = current_app.config["SETTINGS"].MAX_JSON_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    raw = request.get_data(cache=True)
    if not raw and not required:
        return model()
    if not request.is_json:
        raise DomainError("Send a JSON body with 'Content-Type: application/json'.",
                          code="unsupported_media_type", status=415)
    if len(raw) > limit:
        raise _too_large(limit)
    return parse_json(model, raw)


def _too_large(limit: int) -> DomainError:
    """The error for a JSON body over the limit."""
    return DomainError(f"JSON bodies are limited to {limit} bytes.", code="too_large",
                       status=413)


def uploaded_image() -> bytes:
    """An image sent as the raw body or as the multipart field 'file'."""
    upload = request.files.get("file")
    if upload is not None:
        data = upload.read()
    elif request.mimetype.startswith("multipart/"):
        raise DomainError("Send the image in the multipart field 'file'.",
                          code="missing_image")
    else:
        data = request.get_data()
    if not data:
        raise DomainError("Send the image as the request body (Content-Type: image/png or "
                          "image/jpeg) or as a multipart field 'file'.", code="missing_image")
    if upload is None and not request.mimetype:
        raise DomainError("Say what the body is: send 'Content-Type: image/png' or "
                          "'image/jpeg' (or a multipart/form-data field 'file').",
                          code="unsupported_media_type", status=415)
    return data

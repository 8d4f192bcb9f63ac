"""Domain errors and the one place that turns them into error answers (JSON or HTML)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response as BaseResponse

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A failure the caller can act on; carries an HTTP status, a code and a clear message.

    A message with `values` is a template ("There is no API key {key}."): `message` is it
    filled in (English, as the API answers), and the dashboard and the command line look
    the template up in the catalogs (app.i18n.error_message) and fill in the same values.
    A counted message is a (singular, plural) pair with the `count` that picks the form.
    """

    status = 400
    code = "bad_request"

    def __init__(self, message: str | tuple[str, str], *, code: str | None = None,
                 status: int | None = None, details: dict[str, Any] | None = None,
                 values: dict[str, Any] | None = None, count: int | None = None) -> None:
        self.template: str = message[0] if isinstance(message, tuple) else message
        self.plural: str | None = message[1] if isinstance(message, tuple) else None
        self.values, self.count = dict(values or {}), count
        english = self.plural if self.plural is not None and count != 1 else self.template
        self.message = english.format(**self.values) if self.values else english
        super().__init__(self.message)
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details


class ValidationError(DomainError):
    """The request is well-formed JSON but a field is missing or wrong."""

    status = 422
    code = "validation_error"


class NotFound(DomainError):
    """The object does not exist, or belongs to another merchant (we do not say which)."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request conflicts with the current state."""

    status = 409
    code = "conflict"


class RateLimited(DomainError):
    """Too many requests: try again after `retry_after` seconds (sent as Retry-After)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unauthorized(DomainError):
    """Missing or invalid credentials."""

    status = 401
    code = "unauthorized"


JSON_PREFIXES = ("/api/", "/wallet/")
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                 sa_exc.TimeoutError)
"""Errors meaning the database cannot be reached or answer now (down, restarting, the
connection lost mid-request, the pool exhausted): a 503 the caller may retry, not a 500."""
DATABASE_RETRY_AFTER = 2


def error_response(status: int, code: str, message: str,
                   details: dict[str, Any] | None = None) -> tuple[Response, int]:
    """The JSON error shape every API answer uses: {"error": {"code", "message"}}."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return jsonify({"error": body}), status


def wants_html() -> bool:
    """Whether this error goes to a person: a page outside /api and /wallet, asked by a browser."""
    path = request.path.rstrip("/") + "/"
    if path.startswith(JSON_PREFIXES):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def error_answer(status: int, code: str, message: str,
                 details: dict[str, Any] | None = None) -> tuple[Response, int]:
    """An error as an HTML page for people, as JSON for programs."""
    if wants_html():
        title = HTTP_STATUS_CODES.get(status, "Error")
        page = render_template("error.html", status=status, title=title, message=message)
        return Response(page, mimetype="text/html"), status
    return error_response(status, code, message, details)


def register_error_handlers(app: Flask) -> None:
    """Map domain errors and HTTP errors to answers (JSON or an HTML page), in one place."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> tuple[Response, int]:
        response, status = error_answer(exc.status, exc.code, exc.message, exc.details)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response, status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int] | BaseResponse:
        if exc.response is not None:  # abort(response): the view chose the answer
            return exc.get_response()
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name
        if exc.code == 413:
            message = "The request body is too large."
        response, status = error_answer(exc.code or 500, code, message)
        for name, value in exc.get_headers():  # Allow on 405, WWW-Authenticate, Retry-After...
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    def _database_down(exc: Exception) -> tuple[Response, int]:
        log.warning("database unavailable: %s", type(exc).__name__)
        response, status = error_answer(
            503, "database_unavailable",
            "The database cannot be reached right now; nothing was changed that was not "
            "answered. Try again shortly (with the same Idempotency-Key).")
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response, status

    for kind in DATABASE_DOWN:
        app.register_error_handler(kind, _database_down)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return error_answer(500, "internal_error", "Something went wrong on our side.")

"""E-mail list imports: upload a CSV (dry run or for real) and follow its progress."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import IO, Any

from flask import current_app, g, request

from app.api import bp
from app.api.contract import CSV_UPLOAD, operation
from app.api.idempotency import Answer, write
from app.distribution import csvread
from app.distribution import imports as ops
from app.distribution.schemas import ImportOptions, ImportPreview, ImportStatus
from app.errors import DomainError, ValidationError
from app.programs.operations import get_program
from app.validation import parse

CSV_TYPES = ("text/csv", "text/plain", "application/csv", "text/comma-separated-values",
             "application/vnd.ms-excel")
OPTIONS = tuple(ImportOptions.model_fields)


def _csv_source() -> tuple[IO[bytes], str | None]:
    """The uploaded CSV as a stream (raw body or multipart 'file') and its declared charset."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise DomainError("Send the CSV in the multipart field 'file'.", code="missing_file")
        return upload.stream, upload.mimetype_params.get("charset")
    if request.mimetype not in CSV_TYPES:
        raise DomainError("Send the CSV as the body with 'Content-Type: text/csv' (or as a "
                          "multipart/form-data field 'file').", code="unsupported_media_type",
                          status=415)
    return request.stream, request.mimetype_params.get("charset")


def _options() -> ImportOptions:
    """The upload's options, from the query string or the multipart form."""
    given = {k: v for k, v in request.args.items() if k in OPTIONS}
    if request.mimetype == "multipart/form-data":
        given.update({k: v for k, v in request.form.items() if k in OPTIONS})
    return parse(ImportOptions, given)


def spooled_csv(view: Any) -> Any:
    """Stream the upload to a temporary file (up to IMPORT_MAX_BYTES) before the write
    wrapper runs, so that an Idempotency-Key hashes the file without reading it whole."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        limit = current_app.config["SETTINGS"].IMPORT_MAX_BYTES
        request.max_content_length = limit + 64 * 1024  # room for multipart framing
        source, charset = _csv_source()
        options = _options()
        spooled = csvread.spool(source, limit)
        g.upload_digest = hashlib.sha256(json.dumps(
            [spooled.sha256, charset, options.model_dump(mode="json")],
            sort_keys=True).encode()).hexdigest()
        try:
            return view(*args, spooled=spooled, options=options, charset=charset, **kwargs)
        finally:
            spooled.file.close()

    return wrapper


@bp.post("/programs/<int:program_id>/imports")
@spooled_csv
@write
@operation("Import an e-mail list (CSV)", body=CSV_UPLOAD, response=ImportStatus, status=202,
           also=((200, ImportPreview),), query=(
               {"name": "consent_basis", "in": "query", "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 2000},
                "description": "Required (here or as a form field): why these customers may "
                               "be mailed; recorded on every imported member."},
               {"name": "mapping", "in": "query", "required": False,
                "schema": {"type": "string", "maxLength": 10000},
                "description": 'JSON object of headers to fields: {"E-mail Address": '
                               '"email"}'},
               {"name": "encoding", "in": "query", "required": False,
                "schema": {"type": "string", "maxLength": 40},
                "description": "utf-8 (default), tis-620 or big5"},
               {"name": "dry_run", "in": "query", "required": False,
                "schema": {"type": "boolean"},
                "description": "Answer what the import would do (200), creating nothing"}),
           description="Columns email, name, birthday (YYYY-MM-DD), phone (international "
                       "form), external_id and language; other headers are ignored unless "
                       "mapped. Answers 202 and imports in the background; follow it at "
                       "GET /imports/{id}.")
def create_import(program_id: int, spooled: csvread.Spooled, options: ImportOptions,
                  charset: str | None) -> Answer:
    """Upload a CSV of customers: a dry run answers at once, else it is imported."""
    program = get_program(g.merchant, program_id)
    declared = csvread.encoding_name(options.encoding or charset)
    upload = ops.check_upload(spooled, declared, ops.parse_mapping(options.mapping))
    if options.dry_run:
        return ops.api_answer(ops.preview(program, upload)), 200
    if not options.consent_basis:
        raise ValidationError("Missing required field 'consent_basis': say why these "
                              "customers may be mailed (e.g. \"Customers who joined our paper "
                              "card program and agreed to receive e-mails\").",
                              details={"fields": [{"field": "consent_basis",
                                                   "message": "Missing required field."}]})
    return ops.api_answer(ops.import_json(ops.start_import(program, upload,
                                                           options.consent_basis))), 202


@bp.get("/imports/<int:import_id>")
@operation("Show an import's progress", response=ImportStatus)
def show_import(import_id: int):  # type: ignore[no-untyped-def]
    """An import's status and counts."""
    return ops.api_answer(ops.import_json(ops.get_import(g.merchant, import_id)))

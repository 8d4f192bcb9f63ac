"""Distribution: each card's signup link (with a copy button) and its QR posters per store
location, to download as PDF or PNG in the paper sizes the poster module draws."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request
from sqlalchemy import func, select
from werkzeug.wrappers import Response as BaseResponse

from app import links
from app.api.posters import poster_spec
from app.dashboard import bp, committed, counter, field_errors, page, security
from app.dashboard.i18n import error_message, rule_message, translate
from app.distribution import csvread, imports, posters
from app.errors import DomainError, NotFound, ValidationError
from app.extensions import db
from app.i18n import gettext_noop
from app.locations.operations import get_location, list_locations
from app.mail.channel import ENROLLED
from app.models import MailDelivery, Member, MemberImport, Merchant, Program
from app.programs.operations import get_program, list_programs
from app.validation import MAX_ID, whole_number


@bp.get("/distribution")
@security.role_required("manager")
def distribution() -> BaseResponse:
    """Signup links and posters of every card of the merchant."""
    return distribution_page()


def distribution_page(status: int = 200, errors: dict[str, str] | None = None) -> BaseResponse:
    """The distribution page (with the upload form's errors, if any)."""
    programs = list_programs(g.membership.merchant)
    cards = [{"program": p, "link": links.signup_link(p.id),
              "locations": [(loc, links.signup_link(p.id, loc.id))
                            for loc in list_locations(p)]} for p in programs]
    return page("distribution.html", status, cards=cards, sizes=tuple(posters.SIZES_MM),
                formats=posters.FORMATS, programs=programs, fields=FIELD_LABELS,
                imports=recent_imports(g.membership.merchant), key=counter.new_key(),
                errors=errors or {})


@bp.get("/distribution/programs/<int:program_id>/poster.<fmt>")
@security.role_required("manager")
def distribution_poster(program_id: int, fmt: str) -> Response:
    """The same printable poster as the API's, for a signed-in manager or owner."""
    program = get_program(g.membership.merchant, program_id)
    if fmt not in posters.FORMATS:
        raise NotFound(f"Posters come as poster.pdf or poster.png, not poster.{fmt[:20]}.")
    size = request.args.get("size", "a4")
    if size not in posters.SIZES_MM:
        raise ValidationError(f"size must be one of: {', '.join(posters.SIZES_MM)}.")
    location_id = whole_number(request.args.get("location"), "location", None, 1, MAX_ID)
    location = None if location_id is None else get_location(program, location_id)
    body = posters.cached_poster(poster_spec(program, location), fmt, size)
    response = Response(body, mimetype=posters.MIMETYPES[fmt])
    name = f"poster-{program.id}-{size}{f'-{location_id}' if location else ''}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- e-mail list uploads ------------------------------------------------------------------

RECENT_IMPORTS = 10


def import_mails(job: MemberImport) -> dict[str, int]:
    """The welcome mails of the members this import enrolled, by status (pending, sent,
    failed, bounced, suppressed): their enrollment's, not a later resend of the card link."""
    stmt = (select(MailDelivery.status, func.count()).join(Member)
            .where(Member.import_id == job.id, MailDelivery.kind == "welcome",
                   MailDelivery.event_key == ENROLLED)
            .group_by(MailDelivery.status))
    return {status: count for status, count in db.session.execute(stmt).all()}


def progress_json(job: MemberImport) -> dict[str, Any]:
    """An import's progress with its mails, for the page's polling (in the reader's words)."""
    return {**for_people(imports.import_json(job)), "mails": import_mails(job)}


FIELD_LABELS = {"email": gettext_noop("E-mail"), "name": gettext_noop("Name"),
                "birthday": gettext_noop("Birthday"), "phone": gettext_noop("Phone"),
                "external_id": gettext_noop("Customer number"),
                "language": gettext_noop("Language")}
"""How the column mapper and the row errors name each member field (imports.FIELDS)."""


def field_label(name: str | None) -> str:
    """A member field as the reader calls it ("" for a row error of no field)."""
    return translate(FIELD_LABELS[name]) if name in FIELD_LABELS else (name or "")


def for_people(answer: dict[str, Any]) -> dict[str, Any]:
    """A dry run's or an import's answer with its row errors and failure in the reader's
    language: each row error's field named as the mapper names it, its message as the
    dashboard words it next to a field."""
    errors = [{"row": e["row"], "field": field_label(e.get("field")), "message":
               rule_message(e["template"], e.get("values") or {}) if e.get("template")
               else translate(str(e.get("message", "")))} for e in answer["errors"]]
    failure = answer.get("failure")
    return {**answer, "errors": errors, **({"failure": translate(failure)} if failure else {})}


def recent_imports(merchant: Merchant) -> list[dict[str, Any]]:
    """The merchant's latest imports with their mail counts."""
    jobs = db.session.scalars(select(MemberImport).join(Program)
                              .where(Program.merchant_id == merchant.id,
                                     MemberImport.status != imports.CHECKED)
                              .order_by(MemberImport.id.desc()).limit(RECENT_IMPORTS))
    return [progress_json(job) for job in jobs]


@bp.post("/distribution/imports")
@security.role_required("manager")
@committed
def distribution_import() -> tuple[dict[str, Any], int]:
    """Upload an e-mail list: a dry run answers the report, else the import starts (JSON
    for the page's script; the key makes a resent upload harmless)."""
    try:
        return _upload()
    except DomainError as exc:
        db.session.rollback()
        return {"error": {"code": exc.code, "message": dashboard_message(exc),
                          "fields": field_errors(exc) if exc.details else {}}}, exc.status


NOT_CSV = gettext_noop(
    "This file is not a CSV text file. Save the list as CSV (comma-separated) and " \
    "upload that file.")
BINARY_STARTS = (b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff",
                 b"GIF8", b"{\\rtf")
"""How files that are no CSV begin: PDF, a zip (xlsx, docx, numbers), old Office, images, RTF."""
NO_EMAIL_COLUMN = gettext_noop(
    "The file has no e-mail column. Choose below which column holds the " \
    "e-mail addresses, or name that column \u201cemail\u201d in the file.")


def refuse_binary(spooled: csvread.Spooled) -> None:
    """Refuse a file that is not text (a PDF, a spreadsheet, a picture, NUL bytes) before its
    first line is read as a header."""
    spooled.file.seek(0)
    head = spooled.file.read(csvread.PIECE)
    spooled.file.seek(0)
    if head.startswith(BINARY_STARTS) or b"\x00" in head:
        raise ValidationError(NOT_CSV, code="not_csv", details={"fields": [
            {"field": "file", "message": NOT_CSV}]})


def dashboard_message(exc: DomainError) -> str:
    """A refusal in the dashboard's words (the API's names its `mapping` option), in the
    reader's language."""
    if exc.code == "missing_email_column":
        return translate(NO_EMAIL_COLUMN)
    return error_message(exc)


def spooled_upload() -> tuple[Program, csvread.Spooled]:
    """The form's card and its uploaded file, spooled (close it when done)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(gettext_noop("Choose a CSV file."), details={"fields": [
            {"field": "file", "message": gettext_noop("Choose a CSV file.")}]})
    program = get_program(g.membership.merchant,
                          whole_number(request.form.get("program"), "program", 0, 1, MAX_ID))
    spooled = csvread.spool(upload.stream, current_app.config["SETTINGS"].IMPORT_MAX_BYTES)
    try:
        refuse_binary(spooled)
    except ValidationError:
        spooled.file.close()
        raise
    return program, spooled


def _upload() -> tuple[dict[str, Any], int]:
    """The upload's work (see distribution_import)."""
    program, spooled = spooled_upload()
    try:
        form = {**request.form.to_dict(), "file": spooled.sha256}
        checked = imports.check_upload(spooled, csvread.encoding_name(
            request.form.get("encoding") or None), imports.parse_mapping(
            request.form.get("mapping")))
        if request.form.get("dry_run"):
            return {"dry_run": True, **for_people(imports.preview(program, checked))}, 200
        basis = request.form.get("consent_basis", "").strip()[:2000]
        if not basis:
            raise ValidationError(gettext_noop("Say why these customers may be mailed."), details={
                "fields": [{"field": "consent_basis", "message":
                            gettext_noop("Say why these customers may be mailed.")}]})
        answer = counter.once(request.form.get("key", ""), form, lambda: {
            "id": imports.start_import(program, checked, basis).id})
    finally:
        spooled.file.close()
    return progress_json(imports.get_import(g.membership.merchant, int(answer["id"]))), 202


@bp.get("/distribution/imports/<int:import_id>")
@security.role_required("manager")
def distribution_import_status(import_id: int) -> dict[str, Any]:
    """An import's progress and its mails (polled by the page)."""
    return progress_json(imports.get_import(g.membership.merchant, import_id))

"""E-mail list upload without JavaScript: plain forms that store the file, show its dry
run with a column mapper, start it, then a progress page that refreshes itself.

The same steps as the page's script (app/static/distribution.js), which sends the file
to the JSON route instead; both end in the same import (app/distribution/imports.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.dashboard import bp, committed, field_errors, page, security
from app.dashboard.distribution import (
    FIELD_LABELS,
    dashboard_message,
    distribution_page,
    for_people,
    progress_json,
    spooled_upload,
)
from app.dashboard.i18n import translate
from app.distribution import csvread, imports
from app.errors import DomainError, ValidationError
from app.extensions import db
from app.i18n import gettext_noop
from app.models import MemberImport
from app.models.base import utcnow
from app.programs.operations import get_program

REFRESH_SECONDS = 2
SETTLE_SECONDS = 60
"""After an import is done, its page refreshes this long for its welcome mails to queue
(the mail sweep turns the enrollments into deliveries) while none waits."""


def _translated(errors: dict[str, str]) -> dict[str, str]:
    """Field errors in the page's language."""
    return {name: translate(message) for name, message in errors.items()}


@bp.post("/distribution/uploads")
@security.role_required("manager")
@committed
def distribution_upload() -> BaseResponse:
    """Store an uploaded list as checked, and show its dry run (no JavaScript needed)."""
    try:
        program, spooled = spooled_upload()
        try:
            upload = imports.read_header(spooled, csvread.encoding_name(
                request.form.get("encoding") or None))
            job = imports.store_upload(program, upload)
        finally:
            spooled.file.close()
    except DomainError as exc:
        db.session.rollback()
        return distribution_page(exc.status, _translated(field_errors(exc)))
    return redirect(url_for("dashboard.distribution_upload_check", import_id=job.id))


def _check_page(job: MemberImport, columns: dict[str, str], status: int = 200,
                errors: dict[str, str] | None = None, basis: str = "") -> BaseResponse:
    """The checked upload: its columns to map, its dry run (when it has an email column)."""
    errors = dict(errors or {})
    report: dict[str, Any] | None = None
    try:
        imports.resolve_columns(job.header or [], {k.casefold(): v for k, v in columns.items()})
        report = for_people(imports.preview_stored(
            get_program(g.membership.merchant, job.program_id), job, columns))
    except DomainError as exc:
        errors.setdefault("mapping", dashboard_message(exc))
    return page("import_check.html", status, job=job, columns=columns, report=report,
                fields=FIELD_LABELS, errors=_translated(errors), basis=basis)


@bp.get("/distribution/uploads/<int:import_id>")
@security.role_required("manager")
def distribution_upload_check(import_id: int) -> BaseResponse:
    """A checked upload's dry run and column mapper (a started one: its progress)."""
    job = imports.get_import(g.membership.merchant, import_id)
    if job.status != imports.CHECKED:
        return redirect(url_for("dashboard.distribution_import_page", import_id=job.id))
    return _check_page(job, job.columns)


def _mapping(job: MemberImport) -> dict[str, str]:
    """The mapper's choices: {header: field} (select `map-<n>` for the n-th header)."""
    chosen = {}
    for n, header in enumerate(job.header or []):
        value = request.form.get(f"map-{n}", "")
        if value:
            if value not in imports.FIELDS:
                raise ValidationError(f"Unknown field {value[:40]!r}.", code="invalid_mapping")
            chosen[header] = value
    imports.named_columns(job.header or [], {k.casefold(): v for k, v in chosen.items()})
    return chosen


@bp.post("/distribution/uploads/<int:import_id>")
@security.role_required("manager")
@committed
def distribution_upload_start(import_id: int) -> BaseResponse:
    """Check again with the columns mapped, or start the import."""
    job = imports.get_import(g.membership.merchant, import_id)
    if job.status != imports.CHECKED:
        return redirect(url_for("dashboard.distribution_import_page", import_id=job.id))
    basis = request.form.get("consent_basis", "").strip()[:2000]
    try:
        columns = _mapping(job)
    except DomainError as exc:
        return _check_page(job, job.columns, exc.status, {"mapping": dashboard_message(exc)}, basis)
    job.columns = columns
    if "start" not in request.form:
        return redirect(url_for("dashboard.distribution_upload_check", import_id=job.id))
    if not basis:
        return _check_page(job, columns, 422, {
            "consent_basis": gettext_noop("Say why these customers may be mailed.")}, basis)
    try:
        imports.resolve_columns(job.header or [], {k.casefold(): v for k, v in columns.items()})
    except DomainError as exc:
        return _check_page(job, columns, exc.status, {"mapping": dashboard_message(exc)}, basis)
    imports.start_checked(job, columns, basis)
    return redirect(url_for("dashboard.distribution_import_page", import_id=job.id))


@bp.get("/distribution/imports/<int:import_id>/progress")
@security.role_required("manager")
def distribution_import_page(import_id: int) -> BaseResponse:
    """An import's progress and its mails; the page reloads itself until both are done."""
    job = imports.get_import(g.membership.merchant, import_id)
    progress = progress_json(job)
    settling = job.finished_at is not None and \
        utcnow() - job.finished_at < timedelta(seconds=SETTLE_SECONDS)
    busy = job.status == "running" or settling or bool(progress["mails"].get("pending"))
    return page("import_progress.html", job=progress,
                refresh=REFRESH_SECONDS if busy else None)

"""The card designer: start from a template, edit a draft with a live preview, publish."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.dashboard import bp, checks, committed, drafts, field_errors, page, preview, security
from app.errors import ValidationError
from app.i18n import gettext_noop
from app.models import Program
from app.programs.operations import create_program, get_program, list_programs
from app.programs.schemas import ProgramCreate
from app.validation import parse
from app.wallet import i18n, templates
from app.wallet.templates import TEMPLATES_DIR

TEMPLATE_IMAGE_KINDS = ("logo", "strip")


def _program(program_id: int) -> Program:
    """The current merchant's program (404 for another merchant's)."""
    return get_program(g.membership.merchant, program_id)


STARTER_NAMES = {"cafe": gettext_noop("Cafe"), "laundromat": gettext_noop("Laundromat"),
                 "retail": gettext_noop("Retail")}
"""How the chooser names each starter template (pass_templates/<key>)."""


def _starter_designs() -> list[dict[str, Any]]:
    """The starter templates with their colours and names, for the chooser."""
    out = []
    for name in templates.list_templates():
        design = templates.load_template(name)
        out.append({"key": name, "label": STARTER_NAMES.get(name, name.capitalize()),
                    "name": design["name"], "bg": design["background_color"],
                    "fg": design["foreground_color"], "logo_text": design["logo_text"]})
    return out


def _list_page(status: int = 200, **context: Any) -> BaseResponse:
    """The designer's start page: the cards and the starter templates."""
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return page("design_list.html", status, programs=list_programs(g.membership.merchant),
                starters=_starter_designs(), **context)


@bp.get("/design")
@security.role_required("manager")
def design_list() -> BaseResponse:
    """The merchant's cards and the starter templates to begin a new one."""
    return _list_page()


@bp.post("/design")
@committed
@security.role_required("manager")
def design_create() -> BaseResponse:
    """A new card from a starter template (the API's create operation)."""
    values = {"name": request.form.get("name", ""), "template": request.form.get("template", "")}
    try:
        program = create_program(g.membership.merchant, parse(ProgramCreate, values))
    except ValidationError as exc:
        return _list_page(422, errors=field_errors(exc), values=values)
    return redirect(url_for("dashboard.designer", program_id=program.id))


@bp.get("/design/templates/<name>/<kind>.png")
@security.role_required("manager")
def template_image(name: str, kind: str) -> Response:
    """A starter template's artwork, for the chooser."""
    if name not in templates.list_templates() or kind not in TEMPLATE_IMAGE_KINDS:
        abort(404)
    return Response((TEMPLATES_DIR / name / f"{kind}.png").read_bytes(), mimetype="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})


def _context(program: Program, design: dict[str, Any], errors: dict[str, str] | None = None,
             form: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the designer page and its preview show for a design (`form`: the values to show
    in the fields when they differ from the design, after a refused post)."""
    languages = drafts.languages_of(design)
    sources = {kind: drafts.source_size(program, kind) for kind in drafts.IMAGE_KINDS}
    present = {img.kind for img in program.images}
    return {"program": program, "design": design, "card_langs": languages,
            "views": preview.views(program, design, languages),
            "checks": checks.design_checks(design, sources, present),
            "errors": errors or {}, "image_tag": drafts.image_tag(program),
            "form": {**design, **(form or {})},
            "card_languages": i18n.LANGUAGES, "translated": drafts.TRANSLATED,
            "barcodes": ("qr", "pdf417", "aztec", "code128"),
            "currencies": drafts.CURRENCIES, "min_sizes": checks.MIN_SOURCE,
            "has_draft": bool(program.draft), "tr": lambda text, lang: i18n.translate(
                text, lang, design.get("translations") or {})}


@bp.get("/design/<int:program_id>")
@security.role_required("manager")
def designer(program_id: int) -> BaseResponse:
    """The designer of one card: the draft's form, the live preview and the checks."""
    program = _program(program_id)
    return page("designer.html", **_context(program, drafts.current_design(program)))


def _edited(program: Program) -> dict[str, Any]:
    """The posted form as a design dict (raises ValidationError naming the fields)."""
    base = drafts.current_design(program)
    parsed = drafts.design_from_form(request.form, base)
    return {**base, **parsed.model_dump(mode="json", exclude_unset=True)}


@bp.post("/design/<int:program_id>/preview")
@security.role_required("manager")
def design_preview(program_id: int) -> Response:
    """The preview and checks of the posted (unsaved) form, for the page's script."""
    program = _program(program_id)
    try:
        design = _edited(program)
    except ValidationError as exc:
        return jsonify({"errors": field_errors(exc)})
    context = _context(program, design)
    return jsonify({"errors": {}, "preview": page("preview.html", **context).get_data(True),
                    "checks": page("checks.html", **context).get_data(True)})


@bp.post("/design/<int:program_id>")
@committed
@security.role_required("manager")
def design_save(program_id: int) -> BaseResponse:
    """Save the form as the draft (installed cards do not change), or say what is wrong."""
    program = _program(program_id)
    try:
        drafts.save_draft(program, drafts.design_from_form(request.form,
                                                           drafts.current_design(program)))
    except ValidationError as exc:
        return page("designer.html", 422, **_context(
            program, drafts.current_design(program), field_errors(exc),
            form=request.form.to_dict()))
    if request.form.get("then") == "publish":
        return redirect(url_for("dashboard.design_review", program_id=program.id))
    return redirect(url_for("dashboard.designer", program_id=program.id, saved=1))


@bp.post("/design/<int:program_id>/images/<kind>")
@committed
@security.role_required("manager")
def design_image(program_id: int, kind: str) -> BaseResponse:
    """Upload a logo, strip or icon into the draft (shown in the preview, fit and crop)."""
    program = _program(program_id)
    upload = request.files.get("image")
    data = upload.read() if upload is not None else b""
    try:
        drafts.save_draft_image(program, kind, data)
    except ValidationError as exc:
        if request.headers.get("X-Requested-With") == "fetch":
            return jsonify({"errors": {kind: exc.message}}), 422  # type: ignore[return-value]
        return page("designer.html", 422, **_context(
            program, drafts.current_design(program), {kind: exc.message}))
    if request.headers.get("X-Requested-With") == "fetch":
        return jsonify({"errors": {}, "tag": drafts.image_tag(program)})
    return redirect(url_for("dashboard.designer", program_id=program.id))


@bp.get("/design/<int:program_id>/images/<kind>.png")
@security.role_required("manager")
def design_image_file(program_id: int, kind: str) -> Response:
    """An image of the draft (as it will be published) for the preview."""
    program = _program(program_id)
    if kind not in drafts.IMAGE_KINDS:
        abort(404)
    data = drafts.image_bytes(program, kind)
    if data is None:
        abort(404)
    return Response(data, mimetype="image/png", headers={"Cache-Control": "private, no-cache"})


@bp.post("/design/<int:program_id>/discard")
@committed
@security.role_required("manager")
def design_discard(program_id: int) -> BaseResponse:
    """Forget the draft: the designer shows the published card again."""
    drafts.discard(_program(program_id))
    return redirect(url_for("dashboard.designer", program_id=program_id))


@bp.get("/design/<int:program_id>/publish")
@security.role_required("manager")
def design_review(program_id: int) -> BaseResponse:
    """Before publishing: what changes, the checks, and the cards it will update."""
    program = _program(program_id)
    design = drafts.current_design(program)
    return page("publish.html", changed=drafts.changes(program), progress=drafts.progress(program),
                **_context(program, design))


@bp.post("/design/<int:program_id>/publish")
@committed
@security.role_required("manager")
def design_publish(program_id: int) -> BaseResponse:
    """Publish the draft to every installed card through the update pipeline."""
    program = _program(program_id)
    if not program.draft:
        return redirect(url_for("dashboard.design_progress", program_id=program.id))
    drafts.publish(program)
    return redirect(url_for("dashboard.design_progress", program_id=program.id))


@bp.get("/design/<int:program_id>/progress")
@security.role_required("manager")
def design_progress(program_id: int) -> BaseResponse:
    """How far the published design has reached installed cards (JSON for the script)."""
    program = _program(program_id)
    done = drafts.progress(program)
    if request.accept_mimetypes.best == "application/json" or request.args.get("format") == "json":
        return jsonify({"design_version": program.design_version,
                        "apple": {"done": done.apple_done, "total": done.apple_total},
                        "google": {"done": done.google_done, "total": done.google_total},
                        "finished": done.finished})
    return page("progress.html", program=program, progress=done)

"""The designer's draft of a card and publishing it.

A draft lives in `Program.draft` as {"design": {ProgramDesign fields}, "images": {kind:
base64 of the uploaded source}}; editing it touches no installed card. Publishing applies
it through `update_program` (the operation of the API's PATCH /programs/{id}) and
`set_image`, which bump every member's pass version and wake the update pipeline; the
progress of that push is `progress(program)`.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image
from sqlalchemy import func, select

from app.errors import ValidationError
from app.extensions import db
from app.i18n import gettext_noop
from app.models import AppleRegistration, GoogleObject, Member, Program, ProgramImage
from app.programs.operations import set_image, update_program
from app.programs.schemas import ProgramDesign
from app.validation import parse
from app.wallet import i18n, images

EDITED = ("name", "organization_name", "description", "logo_text", "background_color",
          "foreground_color", "label_color", "points_label", "barcode_format", "currency",
          "language", "back_text", "terms", "translations")
"""The design fields the designer edits (the rest keep their values)."""
TRANSLATED = ("points_label", "back_text", "terms")
"""The merchant's texts the card shows and translates (labels and back of the card)."""
IMAGE_KINDS = ("logo", "strip", "icon")
CURRENCIES = ("THB", "MYR", "VND", "TWD", "HKD", "SGD", "IDR", "PHP", "USD", "EUR", "GBP",
              "AUD", "JPY", "CNY")
"""The currencies the designer offers first (the program's own is always offered too)."""


def published_design(program: Program) -> dict[str, Any]:
    """The design fields as installed cards show them now."""
    return {key: getattr(program, key) for key in EDITED}


def current_design(program: Program) -> dict[str, Any]:
    """The design being edited: the draft over the published design."""
    return {**published_design(program), **((program.draft or {}).get("design") or {})}


LABELS = {"name": gettext_noop("Card name"), "organization_name": gettext_noop("Business name"),
          "description": gettext_noop("Description (for screen readers)"),
          "logo_text": gettext_noop("Text beside the logo"),
          "background_color": gettext_noop("Background"), "foreground_color": gettext_noop("Text"),
          "label_color": gettext_noop("Labels"),
          "points_label": gettext_noop("Points label"), "barcode_format": "Barcode type",
          "currency": "Currency",
          "language": "Language you write the card in", "back_text": gettext_noop(
              "About the program"),
          "terms": gettext_noop("Terms and conditions"), "translations": "Languages",
          "logo": "Logo",
          "strip": gettext_noop("Strip picture"), "icon": gettext_noop("Icon")}
"""The designer's own label of each field and image (English; the page translates it)."""


def _as_shown(design: dict[str, Any]) -> tuple[list[str], dict[tuple[str, str], str]]:
    """What the translations make the card show: its languages and each text in each."""
    languages = languages_of(design)
    overrides = design.get("translations") or {}
    return languages, {(lang, key): i18n.translate(str(design.get(key) or "").strip(), lang,
                                                   overrides)
                       for lang in languages[1:] for key in TRANSLATED}


def changes(program: Program) -> list[str]:
    """The fields and images the draft really changes, as the designer's labels (English)."""
    design, published = current_design(program), published_design(program)
    changed = [key for key in EDITED if key != "translations"
               and design.get(key) != published.get(key)]
    if _as_shown(design) != _as_shown(published):
        changed.append("translations")
    changed += [kind for kind in IMAGE_KINDS if kind in ((program.draft or {}).get("images") or {})]
    return [LABELS[key] for key in changed]


def languages_of(design: dict[str, Any]) -> list[str]:
    """The card's languages: its source language first, then those it has translations for."""
    source = design.get("language") or "en"
    return [source] + [lang for lang in i18n.LANGUAGES
                       if lang != source and lang in (design.get("translations") or {})]


def design_from_form(form: Any, base: dict[str, Any]) -> ProgramDesign:
    """The designer's form parsed with the API's own input model (one rule, checked once).

    Translations come as `tr-<lang>-<field>` inputs for each language ticked in `languages`;
    they map the field's source text to its translation. Other translations of `base`
    (the design before this edit) are kept.
    """
    values: dict[str, Any] = {key: form.get(key) for key in EDITED
                              if key != "translations" and form.get(key) is not None}
    source = values.get("language") or base.get("language") or "en"
    old_sources = {str(base.get(key) or "").strip() for key in TRANSLATED}
    kept = base.get("translations") or {}
    translations: dict[str, dict[str, str]] = {}
    for lang in form.getlist("languages"):
        if lang == source or lang not in i18n.LANGUAGES:
            continue
        table = {k: v for k, v in (kept.get(lang) or {}).items() if k not in old_sources}
        for key in TRANSLATED:
            original = str(values.get(key, base.get(key)) or "").strip()
            translated = (form.get(f"tr-{lang}-{key}") or "").strip()
            if original and translated and translated != original:
                table[original] = translated
        translations[lang] = table
    values["translations"] = translations
    return parse(ProgramDesign, values)


def save_draft(program: Program, design: ProgramDesign) -> None:
    """Keep the edited design as the program's draft (installed cards do not change)."""
    draft = dict(program.draft or {})
    draft["design"] = design.model_dump(mode="json", exclude_unset=True)
    program.draft = draft
    db.session.flush()


def save_draft_image(program: Program, kind: str, data: bytes) -> None:
    """Keep an uploaded image in the draft, once it is known to process cleanly."""
    if kind not in IMAGE_KINDS:
        raise ValidationError(f"Unknown image kind {kind!r}.")
    try:
        images.process_image(kind, data)
    except images.ImageError as exc:
        raise ValidationError(exc.message, code=exc.code, status=exc.status,
                              details={"fields": [{"field": kind, "message": exc.message}]}
                              ) from None
    draft = dict(program.draft or {})
    draft["images"] = {**(draft.get("images") or {}), kind: base64.b64encode(data).decode()}
    program.draft = draft
    db.session.flush()


def draft_image_source(program: Program, kind: str) -> bytes | None:
    """The uploaded source of a draft image, or None."""
    encoded = ((program.draft or {}).get("images") or {}).get(kind)
    return base64.b64decode(encoded) if encoded else None


def image_bytes(program: Program, kind: str) -> bytes | None:
    """The @2x file of an image as the draft would publish it (the upload, processed), else
    as published."""
    source = draft_image_source(program, kind)
    if source is not None:
        return images.process_image(kind, source).get(f"{kind}@2x.png")
    row = db.session.scalar(select(ProgramImage).where(
        ProgramImage.program_id == program.id, ProgramImage.filename == f"{kind}@2x.png"))
    return row.data if row is not None else None


def source_size(program: Program, kind: str) -> tuple[int, int] | None:
    """Pixel size of the draft's uploaded source (None: the published image is used)."""
    source = draft_image_source(program, kind)
    if source is None:
        return None
    with Image.open(io.BytesIO(source)) as im:
        return im.size


def image_tag(program: Program) -> str:
    """A cache key of the images the preview shows (changes with each upload or publish)."""
    draft_images = (program.draft or {}).get("images") or {}
    raw = f"{program.design_version}:" + ",".join(f"{k}{len(v)}{v[-16:]}"
                                                  for k, v in sorted(draft_images.items()))
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def discard(program: Program) -> None:
    """Forget the draft."""
    program.draft = None
    db.session.flush()


def publish(program: Program) -> int:
    """Apply the draft to every installed card (the API's PATCH operation); returns the new
    design version."""
    draft = program.draft or {}
    design = {k: v for k, v in (draft.get("design") or {}).items()
              if v != getattr(program, k, None)}
    if design:
        update_program(program, parse(ProgramDesign, design))
    for kind, encoded in (draft.get("images") or {}).items():
        set_image(program, kind, base64.b64decode(encoded))
    program.draft = None
    db.session.flush()
    db.session.refresh(program)
    return int(program.design_version)


@dataclass(frozen=True)
class Progress:
    """How far a design change has reached installed cards."""

    apple_done: int
    apple_total: int
    google_done: int
    google_total: int

    @property
    def finished(self) -> bool:
        """Every device pushed and every Google object updated."""
        return self.apple_done >= self.apple_total and self.google_done >= self.google_total


def progress(program: Program) -> Progress:
    """Apple devices pushed the latest pass version, and Google objects updated, of all."""
    apple = db.session.execute(
        select(func.count(), func.count().filter(
            AppleRegistration.pushed_version >= Member.pass_version))
        .select_from(AppleRegistration).join(Member, AppleRegistration.member_id == Member.id)
        .where(Member.program_id == program.id)).one()
    google = db.session.execute(
        select(func.count(), func.count().filter(
            GoogleObject.delivered_version >= Member.pass_version))
        .select_from(GoogleObject).join(Member, GoogleObject.member_id == Member.id)
        .where(Member.program_id == program.id)).one()
    return Progress(int(apple[1]), int(apple[0]), int(google[1]), int(google[0]))

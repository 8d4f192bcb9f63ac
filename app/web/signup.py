"""The public signup page of a program (/join/<program_id>): the fields the merchant
chose, in the customer's language, held off from bots (a honeypot field) and floods
(a rate limit per client address), landing on the new card's page.

Every post runs in one transaction, committed once at its end. What the signup creates
is decided by app/distribution/signup.py (through enroll_member).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from flask import Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from app import links
from app.distribution import signup as ops
from app.errors import ValidationError
from app.extensions import db
from app.i18n import LANGUAGE_NAMES, gettext, gettext_noop, pgettext
from app.members.schemas import MemberCreate
from app.models import Program
from app.programs.schemas import signup_fields
from app.validation import normalize_phone, parse
from app.wallet import i18n
from app.web import bp
from app.web.pages import brand_of, logo_url, message, page, page_language

MAX_FORM_BYTES = 16 * 1024
"""A signup form is a few hundred bytes; anything past this is refused with a 413 page."""
MAX_FIELD_CHARS = 400
FIELD_ERRORS = {
    "email": gettext_noop("Enter an e-mail address such as name@example.com."),
    "name": gettext_noop("Enter your name (at most 200 characters)."),
    "phone": gettext_noop("Enter a mobile number, such as {example}."),
    "birthday": gettext_noop("Enter a past date."),
}
NOT_VALID = gettext_noop("This value is not valid.")


@dataclass(frozen=True)
class Field:
    """One input of the form."""

    name: str
    label: str
    required: bool
    type: str = "text"
    autocomplete: str = "off"
    inputmode: str = ""
    placeholder: str = ""
    maxlength: int = 200


def form_fields(program: Program, lang: str) -> list[Field]:
    """The e-mail address, then the fields the merchant chose, in a fixed order."""
    chosen = signup_fields(program)
    example = phone_example(program)
    catalog = {
        "name": Field("name", pgettext(lang, "page", "Name"), False, "text", "name", maxlength=200),
        "email": Field("email", gettext(lang, "E-mail"), True, "email", "email", "email",
                       "name@example.com", 320),
        "phone": Field("phone", gettext(lang, "Mobile phone"), False, "tel", "tel", "tel",
                       example, 32),
        "birthday": Field("birthday", gettext(lang, "Birthday"), False, "date", "bday",
                          maxlength=10),
        "marketing_consent": Field("marketing_consent", "", False, "checkbox"),
    }
    order = ["name", "email", "phone", "birthday", "marketing_consent"]
    return [_required(catalog[n], n == "email" or chosen.get(n) == "required")
            for n in order if n == "email" or n in chosen]


def _required(field: Field, required: bool) -> Field:
    """The field, required or not."""
    return Field(**{**field.__dict__, "required": required})


def phone_example(program: Program) -> str:
    """A local mobile number as customers of the program's region write it."""
    region = ops.phone_region(program)
    number = phonenumbers.example_number_for_type(region or "TH",
                                                  phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        return "+66 81 234 5678"
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if region
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, fmt)


def consent_sentence(program: Program, lang: str) -> str:
    """The exact marketing consent sentence the page shows (and records)."""
    return gettext(lang, "Send me news and offers from {organization} by e-mail. "
                   "I can unsubscribe at any time.", organization=program.organization_name)


def _program(program_id: int) -> Program | None:
    """The program of a signup page."""
    return db.session.get(Program, program_id)


def _query(lang: str | None = None, **extra: str | None) -> str:
    """The page's query string: its location, referral and language kept across posts."""
    values = {"loc": request.args.get("loc"), "ref": request.args.get("ref"),
              "lang": lang, **extra}
    clean = {k: v[:40] for k, v in values.items() if v}
    return ("?" + urlencode(clean)) if clean else ""


def render_form(program: Program, lang: str, *, values: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Response:
    """The signup form, with what was typed and an error next to each field at fault."""
    location = ops.location_of(program, request.args.get("loc"))
    path = f"/join/{program.id}"
    return page(
        "pages/join.html", status, lang=lang, program=program, brand=brand_of(program),
        logo=logo_url(program), location=location, fields=form_fields(program, lang),
        values=values or {}, errors=errors or {}, consent_text=consent_sentence(program, lang),
        referred=ops.known_referral(program, request.args.get("ref")) is not None,
        action=path + _query(lang),
        switch_url=lambda code: path + _query(code),
        languages=[(code, LANGUAGE_NAMES[code]) for code in i18n.LANGUAGES],
        google=links.google_enabled())


@bp.get("/join/<int:program_id>")
def join(program_id: int) -> Response:
    """A program's signup page."""
    program = _program(program_id)
    if program is None:
        lang = page_language(request.args.get("lang"))
        return message(lang, 404, gettext(lang, "Not found"),
                       gettext(lang, "This signup page does not exist."))
    lang = page_language(request.args.get("lang"), fallback=program.language)
    return render_form(program, lang)


@bp.post("/join/<int:program_id>")
def join_post(program_id: int) -> Response:
    """Sign up: a new card (303 to its page), or a link mailed to a known address."""
    program = _program(program_id)
    lang = page_language(request.args.get("lang"),
                         fallback=program.language if program else i18n.DEFAULT_LANGUAGE)
    if program is None:
        return message(lang, 404, gettext(lang, "Not found"),
                       gettext(lang, "This signup page does not exist."))
    try:
        form = _read_form()
    except RequestEntityTooLarge:
        return message(lang, 413, gettext(lang, "Please check the fields marked below."),
                       gettext(lang, "What you sent is far too long. "
                               "Please fill in the form again."),
                       program=program, back=f"/join/{program.id}" + _query(lang))
    lang = page_language(form.get("lang"), request.args.get("lang"), fallback=program.language)
    try:
        answer = _sign_up(program, form, lang)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return answer


def _read_form() -> dict[str, str]:
    """The posted form's fields as text (a body past MAX_FORM_BYTES is refused)."""
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        raise RequestEntityTooLarge()
    request.max_form_memory_size = MAX_FORM_BYTES  # chunked bodies stop here too
    return {k: v for k, v in request.form.items()}


def _sign_up(program: Program, form: dict[str, str], lang: str) -> Response:
    """Check the honeypot and the rate limit, validate, and sign up (no commit)."""
    if form.get("website"):  # a bot filled the hidden field: answer as if all went well
        return _link_sent(program, lang, form.get("email", "")[:320])
    limit = current_app.config["SETTINGS"].SIGNUP_RATE_LIMIT
    if not ops.allow_attempt(program.id, request.remote_addr or "unknown", limit):
        response = message(lang, 429, gettext(lang, "Please check the fields marked below."),
                           gettext(lang, "Too many sign-ups from your network just now. "
                                   "Please wait a few minutes and try again."),
                           program=program)
        response.headers["Retry-After"] = str(int(ops.RATE_WINDOW.total_seconds()))
        return response
    location = ops.location_of(program, request.args.get("loc"))
    values, errors = _values(program, form, lang)
    try:
        request_model = parse(MemberCreate, values)
    except ValidationError as exc:
        errors = {**_field_errors(exc, program, lang), **errors}
    if errors:  # every field at fault is marked at once
        return render_form(program, lang, values=form, errors=errors, status=422)
    consent = consent_sentence(program, lang) if "marketing_consent" in signup_fields(
        program) else None
    done = ops.sign_up(program, request_model, language=lang, location=location,
                       consent_text=consent)
    if done.member is None:
        return _link_sent(program, lang, request_model.email)
    db.session.flush()
    response = Response(status=303, headers={"Location": links.card_page_link(done.member),
                                             "Cache-Control": "no-store"})
    return response


def _values(program: Program, form: dict[str, str], lang: str
            ) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's fields the page asked, ready for MemberCreate, and errors found before it
    (required fields left empty, absurd lengths, a local phone number)."""
    values: dict[str, Any] = {"language": lang}
    errors: dict[str, str] = {}
    for field in form_fields(program, lang):
        raw = form.get(field.name, "")
        if field.name == "marketing_consent":
            values["marketing_consent"] = raw == "on"
            continue
        raw = raw.strip()
        if len(raw) > MAX_FIELD_CHARS:
            errors[field.name] = gettext(lang, FIELD_ERRORS.get(field.name, NOT_VALID),
                                     example=phone_example(program))
        elif not raw:
            if field.required:
                errors[field.name] = gettext(lang, "Please fill this in.")
        elif field.name == "phone":
            values["phone"] = _phone(raw, program)
        else:
            values[field.name] = raw
    code = ops.known_referral(program, request.args.get("ref") or form.get("ref"))
    if code:
        values["referral_code"] = code
    return values, errors


def _phone(raw: str, program: Program) -> str:
    """A typed phone number in E.164 where it reads as one (MemberCreate then says if not)."""
    try:
        return normalize_phone(raw, ops.phone_region(program))
    except ValueError:
        return raw


def _field_errors(exc: ValidationError, program: Program, lang: str) -> dict[str, str]:
    """MemberCreate's problems as localized sentences by field."""
    out: dict[str, str] = {}
    for problem in (exc.details or {}).get("fields", []):
        name = str(problem.get("field", "")).split(".")[0].split("[")[0]
        out.setdefault(name, gettext(lang, FIELD_ERRORS.get(name, NOT_VALID),
                                 example=phone_example(program)))
    return out or {"email": gettext(lang, "This value is not valid.")}


def _link_sent(program: Program, lang: str, email: str) -> Response:
    """The same answer whether the address had a card or not: a link is on its way."""
    return message(lang, 200, gettext(lang, "Check your inbox"),
                   gettext(lang, "We've sent your card link to {email}.", email=email),
                   gettext(lang, "Open the e-mail on your phone to add the card. "
                                 "Nothing there? Look in the spam folder."), program=program)



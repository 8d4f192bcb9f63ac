"""The shapes of a program: its design as sent (create, change) and as answered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from app.models.program import BARCODE_FORMATS
from app.validation import (
    COLOR,
    CURRENCY_CODE,
    LATITUDE,
    LONGITUDE,
    OMIT,
    TIMEZONE,
    Input,
    Rule,
    one_of,
    storable,
    text,
)
from app.wallet import i18n

MAX_LOCATIONS = 10
MAX_TRANSLATION = 2000


class Location(Input):
    """A store location: the card shows relevant_text when the phone is near it."""

    latitude: Annotated[float, LATITUDE]
    longitude: Annotated[float, LONGITUDE]
    relevant_text: Annotated[str, text(200, required=False)] = OMIT


def _translations(value: Any) -> dict[str, dict[str, str]]:
    """{language: {source text: translation}} for the supported card languages."""
    if not isinstance(value, dict):
        raise ValueError("must be an object of languages.")
    for lang, mapping in value.items():
        if lang not in i18n.LANGUAGES:
            raise ValueError(f"has unsupported language {lang!r}; supported: "
                             f"{', '.join(i18n.LANGUAGES)}.")
        if not isinstance(mapping, dict) or not all(
                isinstance(k, str) and isinstance(t, str) and len(t) <= MAX_TRANSLATION
                for k, t in mapping.items()):
            raise ValueError(f"({lang}) must map texts to translated texts.")
        if not all(storable(k) and storable(t) for k, t in mapping.items()):
            raise ValueError(f"({lang}) contains characters that are not allowed.")
    try:
        i18n.validate_overrides(value)  # the same check the pass builder makes
    except ValueError as exc:
        raise ValueError(f": {exc}") from None
    return value


TRANSLATIONS = Rule(_translations, {
    "type": "object", "description": "{language: {English text: translation}}",
    "propertyNames": {"enum": list(i18n.LANGUAGES)},
    "additionalProperties": {"type": "object", "additionalProperties": {
        "type": "string", "maxLength": MAX_TRANSLATION}}})


SIGNUP_FIELDS = ("name", "phone", "birthday", "marketing_consent")
"""Fields a merchant may ask on the public signup page (the e-mail address is always asked)."""
DEFAULT_SIGNUP_FIELDS = {"name": "optional", "marketing_consent": "optional"}


def _signup_fields(value: Any) -> dict[str, str]:
    """{field: "required" or "optional"} of the signup page (a field not named is not asked)."""
    if not isinstance(value, dict):
        raise ValueError('must be an object such as {"name": "required", "phone": "optional"}.')
    for name, need in value.items():
        if name not in SIGNUP_FIELDS:
            raise ValueError(f"names unknown field {str(name)[:40]!r}; the signup page can ask "
                             f"for: {', '.join(SIGNUP_FIELDS)} (the e-mail always).")
        if need not in ("required", "optional"):
            raise ValueError(f"({name}) must be \"required\" or \"optional\".")
        if name == "marketing_consent" and need != "optional":
            raise ValueError("(marketing_consent) must be \"optional\": consent is never a "
                             "condition of the card.")
    return dict(value)


def signup_fields(program: Any) -> dict[str, str]:
    """The fields a program's signup page asks (its setting, else the default set)."""
    return dict(program.signup_fields if program.signup_fields is not None
                else DEFAULT_SIGNUP_FIELDS)


SIGNUP_FIELDS_RULE = Rule(_signup_fields, {
    "type": "object", "description": "The signup page's fields: {field: required|optional}",
    "propertyNames": {"enum": list(SIGNUP_FIELDS)},
    "additionalProperties": {"type": "string", "enum": ["required", "optional"]},
    "examples": [{"name": "required", "phone": "optional", "marketing_consent": "optional"}]})


class ProgramDesign(Input):
    """A change of a program's design: only the fields sent change."""

    name: Annotated[str, text(200)] = OMIT
    organization_name: Annotated[str, text(200)] = OMIT
    description: Annotated[str, text(500)] = OMIT
    logo_text: Annotated[str, text(100, required=False)] = OMIT
    background_color: Annotated[str, COLOR] = OMIT
    foreground_color: Annotated[str, COLOR] = OMIT
    label_color: Annotated[str, COLOR] = OMIT
    points_label: Annotated[str, text(50)] = OMIT
    barcode_format: Annotated[str, one_of(*BARCODE_FORMATS)] = OMIT
    currency: Annotated[str, CURRENCY_CODE] = OMIT
    language: Annotated[str, one_of(*i18n.LANGUAGES)] = OMIT
    timezone: Annotated[str, TIMEZONE] = OMIT
    back_text: Annotated[str, text(4000, required=False)] = OMIT
    terms: Annotated[str, text(4000, required=False)] = OMIT
    locations: Annotated[list[Location], Field(
        max_length=MAX_LOCATIONS, deprecated=True,
        description="Deprecated: replaces the program's store locations; use "
                    "/programs/{id}/locations")] = OMIT
    translations: Annotated[dict[str, dict[str, str]], TRANSLATIONS] = OMIT
    signup_fields: Annotated[dict[str, str], SIGNUP_FIELDS_RULE] = OMIT


class ProgramCreate(ProgramDesign):
    """A new program: a starter template, a name, and any design fields to override."""

    name: Annotated[str, text(200)]
    template: Annotated[str, text(64)]


DESIGN_FIELDS = tuple(f for f in ProgramDesign.model_fields if f != "timezone")


class LocationOut(BaseModel):
    """A store location as the wallets carry it (see /programs/{id}/locations for all)."""

    id: int | None = None
    name: str | None = None
    latitude: float
    longitude: float
    relevant_text: str | None = None


class ProgramLinks(BaseModel):
    """Public links of a program: its signup page and its printable posters."""

    signup: str
    poster_pdf: str
    poster_png: str


class Program(BaseModel):
    """A program and its design, as the API answers it."""

    id: int
    template: str
    name: str
    organization_name: str
    description: str
    logo_text: str
    background_color: str
    foreground_color: str
    label_color: str
    points_label: str
    barcode_format: str
    currency: str
    language: str
    timezone: str
    back_text: str
    terms: str
    locations: list[LocationOut]
    translations: dict[str, dict[str, str]]
    signup_fields: dict[str, str]
    design_version: int
    images: list[str]
    created_at: datetime
    updated_at: datetime
    links: ProgramLinks


class ProgramList(BaseModel):
    """The merchant's programs."""

    programs: list[Program]


class ImageResult(BaseModel):
    """The files an uploaded image was processed into, and the new design version."""

    kind: str
    files: dict[str, int]
    design_version: int

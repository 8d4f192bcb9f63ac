"""Small field validators shared by the JSON API: each returns the clean value or raises."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, overload

from app.errors import ValidationError

Validator = Callable[[str, Any], Any]

HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def text(max_len: int, *, required: bool = True) -> Validator:
    """A string of at most max_len characters (non-empty when required), storable as UTF-8."""

    def check(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"'{name}' must be a string.")
        if not storable(value):
            raise ValidationError(f"'{name}' contains characters that are not allowed "
                                  "(NUL or unpaired surrogates).")
        value = value.strip()
        if required and not value:
            raise ValidationError(f"'{name}' must not be empty.")
        if len(value) > max_len:
            raise ValidationError(f"'{name}' must be at most {max_len} characters.")
        return value

    return check


def storable(value: str) -> bool:
    """Whether a string can be stored and sent as UTF-8 (no NUL, no lone surrogates)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@overload
def whole_number(raw: str | None, name: str, default: int, low: int, high: int) -> int: ...
@overload
def whole_number(raw: str | None, name: str, default: None, low: int,
                 high: int) -> int | None: ...
def whole_number(raw: str | None, name: str, default: int | None, low: int,
                 high: int) -> int | None:
    """A query parameter as a whole number within [low, high] (ASCII digits only)."""
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20) or not low <= int(raw) <= high:
        raise ValidationError(f"Query parameter '{name}' must be a whole number from {low} "
                              f"to {high}.")
    return int(raw)


def color(name: str, value: Any) -> str:
    """A colour written '#RRGGBB'."""
    if not isinstance(value, str) or not HEX_COLOR.match(value):
        raise ValidationError(f"'{name}' must be a colour written like \"#4B2E1E\".")
    return value.upper()


def email(name: str, value: Any) -> str:
    """An email address (lower-cased)."""
    value = text(320)(name, value)
    if not EMAIL.match(value):
        raise ValidationError(f"'{name}' is not a valid email address.")
    return value.lower()


def one_of(*choices: str) -> Validator:
    """One of a fixed set of strings."""

    def check(name: str, value: Any) -> str:
        if value not in choices:
            raise ValidationError(f"'{name}' must be one of: {', '.join(choices)}.")
        return str(value)

    return check


def currency(name: str, value: Any) -> str:
    """An ISO 4217 currency code such as THB."""
    if not isinstance(value, str) or not CURRENCY.match(value):
        raise ValidationError(f"'{name}' must be a 3-letter currency code such as \"THB\".")
    return value


def validate(body: Mapping[str, Any], rules: Mapping[str, Validator],
             required: tuple[str, ...] = (), nullable: tuple[str, ...] = ()) -> dict[str, Any]:
    """Check a JSON object against per-field rules: unknown, missing and null fields are errors
    (null is allowed only for the fields named in nullable)."""
    unknown = sorted(set(body) - set(rules))
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(unknown)}. "
                              f"Allowed: {', '.join(sorted(rules))}.")
    missing = [f for f in required if body.get(f) is None]
    if missing:
        raise ValidationError(f"Missing required field(s): {', '.join(missing)}.")
    nulls = sorted(k for k, v in body.items() if v is None and k not in nullable)
    if nulls:
        raise ValidationError(f"Field(s) must not be null: {', '.join(nulls)}.")
    return {k: None if v is None else rules[k](k, v) for k, v in body.items()}

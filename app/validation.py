"""Field types shared by the input models, and turning their failures into clear errors.

Each input shape is a pydantic model (see the `schemas.py` of each feature); the field
types here carry the checks and the JSON Schema of a field in one place. They take plain
values (strings, numbers), so the same models can parse JSON, form and CSV input: JSON is
parsed strictly (`parse_json`: "5" is not a number), form and CSV input later leniently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import pydantic
from pydantic import BaseModel, ConfigDict
from pydantic_core import core_schema

from app.errors import DomainError, ValidationError
from app.i18n import gettext_noop

HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CURRENCY = re.compile(r"^[A-Z]{3}$")

M = TypeVar("M", bound=BaseModel)
MAX_ID = 2**31 - 1
"""The largest id: ids are 32-bit integers on every database (a larger one finds nothing)."""
OMIT: Any = None
"""The default of an optional field that may not be null: omit it, or send a value."""


def no_null_default(schema: dict[str, Any]) -> None:
    """Optional fields that may not be null have no default in the schema (omit them)."""
    for prop in schema.get("properties", {}).values():
        nullable = {"type": "null"} in prop.get("anyOf", []) or prop.get("type") == "null"
        if "default" in prop and prop["default"] is None and not nullable:
            del prop["default"]


class Input(BaseModel):
    """An input shape: unknown fields are refused; an omitted field is not in
    `model_fields_set` (PATCH bodies change only what they name)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=no_null_default)

    def given(self) -> dict[str, Any]:
        """The fields the caller sent, as plain Python values."""
        return self.model_dump(exclude_unset=True)


class RuleError(ValueError):
    """A failed field check: the end of a sentence ("must be at most {max_len} characters.")
    with {names} and their values, so a page can say it in the reader's language; `field`
    names the field at fault when a model-level check fails."""

    def __init__(self, template: str, field: str | None = None, **values: Any) -> None:
        super().__init__(template.format(**values))
        self.template, self.values, self.field = template, values, field


@dataclass(frozen=True)
class FieldProblem:
    """One field's problem, as a template with values (for translated messages)."""

    field: str
    template: str
    values: Mapping[str, Any]


class FieldErrors(ValidationError):
    """A validation error that also keeps each problem's template and values."""

    def __init__(self, message: str, problems: list[FieldProblem], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.problems = problems


def rule_failure(exc: RuleError) -> FieldErrors:
    """A RuleError raised outside parsing (a domain check) as a validation error naming its
    field."""
    field_name = exc.field or ""
    return FieldErrors(str(exc), [FieldProblem(field_name, exc.template, exc.values)],
                       details={"fields": [{"field": field_name, "message": str(exc)}]})


@dataclass(frozen=True)
class Rule:
    """A field check with its JSON Schema: `check` gets the raw value and returns the clean
    one or raises ValueError with the end of a sentence ("must be ...")."""

    check: Callable[[Any], Any]
    schema: dict[str, Any] = field(hash=False)
    null_ok: bool = False
    from_text: Callable[[str], Any] | None = None
    """How a form or CSV value (always text) becomes what `check` takes, if not as is."""

    def or_null(self) -> Rule:
        """The same check on a field that may also be null."""
        return Rule(self.check, self.schema, null_ok=True, from_text=self.from_text)

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(self._run)

    def _run(self, value: Any, info: core_schema.ValidationInfo) -> Any:
        """Null only where the field's type allows it (`X | None`); text converted only when
        the input is not JSON (JSON says what is a number)."""
        if value is None:
            if self.null_ok:
                return None
            raise RuleError(gettext_noop("must not be null."))
        if isinstance(value, str) and self.from_text is not None and info.mode == "python":
            try:
                value = self.from_text(value.strip())
            except ValueError:
                pass  # the check says what is wrong
        return self.check(value)

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        if self.null_ok:
            return {"anyOf": [dict(self.schema), {"type": "null"}]}
        return dict(self.schema)


def storable(value: str) -> bool:
    """Whether a string can be stored and sent as UTF-8 (no NUL, no lone surrogates)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text(max_len: int, *, required: bool = True) -> Rule:
    """A string of at most max_len characters (non-empty when required), stripped."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise RuleError(gettext_noop("must be a string."))
        if not storable(value):
            raise RuleError(gettext_noop(
                "contains characters that are not allowed (NUL or unpaired "
                "surrogates)."))
        value = value.strip()
        if required and not value:
            raise RuleError(gettext_noop("must not be empty."))
        if len(value) > max_len:
            raise RuleError(gettext_noop("must be at most {max_len} characters."), max_len=max_len)
        return value

    schema: dict[str, Any] = {"type": "string", "maxLength": max_len}
    if required:
        schema["minLength"] = 1
    return Rule(check, schema)


def _color(value: Any) -> str:
    """A colour written '#RRGGBB', upper-cased."""
    if not isinstance(value, str) or not HEX_COLOR.match(value):
        raise RuleError(gettext_noop('must be a colour written like "#4B2E1E".'))
    return value.upper()


def _email(value: Any) -> str:
    """An email address, lower-cased."""
    value = text(320).check(value)
    if not EMAIL.match(value):
        raise RuleError(gettext_noop("is not a valid email address."))
    return value.lower()


def _currency(value: Any) -> str:
    """An ISO 4217 currency code."""
    if not isinstance(value, str) or not CURRENCY.match(value):
        raise RuleError(gettext_noop('must be a 3-letter currency code such as "THB".'))
    return value


def _timezone(value: Any) -> str:
    """An IANA time zone name known to this machine's tz database."""
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise RuleError(gettext_noop('must be a time zone name such as "Asia/Bangkok".'))
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleError(gettext_noop('is not a known time zone ({value}); use an IANA name such as '
                                     '"Asia/Bangkok" or "UTC".'), value=repr(value)) from None
    return value


COLOR = Rule(_color, {"type": "string", "pattern": HEX_COLOR.pattern})
EMAIL_ADDRESS = Rule(_email, {"type": "string", "format": "email", "maxLength": 320})
CURRENCY_CODE = Rule(_currency, {"type": "string", "pattern": CURRENCY.pattern})
TIMEZONE = Rule(_timezone, {"type": "string", "maxLength": 64, "examples": ["Asia/Bangkok"],
                            "description": "An IANA time zone name"})


def one_of(*choices: str) -> Rule:
    """One of a fixed set of strings."""

    def check(value: Any) -> str:
        if value not in choices:
            raise RuleError(gettext_noop("must be one of: {choices}."), choices=", ".join(choices))
        return str(value)

    return Rule(check, {"type": "string", "enum": list(choices)})


def decimal(low: Decimal, high: Decimal, places: int = 2, *, low_inclusive: bool = False
            ) -> Rule:
    """A decimal number written plainly as a string ("12.50": no exponent, at most `places`
    decimals) or a JSON integer, with low < value <= high (low <= value when low_inclusive).
    JSON fractions are refused: 0.1 is not exact in binary, and 1e5 is no amount."""
    digits = len(str(int(max(abs(low), abs(high)))))
    sign = "-?" if low < 0 else ""
    pattern = f"^{sign}[0-9]{{1,{digits}}}(\\.[0-9]{{1,{places}}})?$"
    bound = f"{'at least' if low_inclusive else 'more than'} {low} and at most {high}"
    out_of_bounds = (gettext_noop("must be at least {low} and at most {high}.") if low_inclusive
                     else gettext_noop("must be more than {low} and at most {high}."))

    def check(value: Any) -> Decimal:
        if isinstance(value, int) and not isinstance(value, bool):
            number = Decimal(value)
        elif isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,40}(\.[0-9]{1,40})?",
                                                     value.strip()):
            number = Decimal(value.strip())
        else:
            raise RuleError('must be a number written as a string such as "12.50".')
        if -number.as_tuple().exponent > places:  # type: ignore[operator]
            raise RuleError(gettext_noop("has more than {places} decimal places."), places=places)
        if not (low <= number if low_inclusive else low < number) or number > high:
            raise RuleError(out_of_bounds, low=low, high=high)
        return number

    whole_low = int(low) if low_inclusive or low != int(low) else int(low) + 1
    return Rule(check, {"anyOf": [
        {"type": "string", "pattern": pattern},
        {"type": "integer", "minimum": whole_low, "maximum": int(high)}],
        "description": f"A decimal number written as a string, e.g. \"12.50\" ({bound})"})


def integer(low: int, high: int) -> Rule:
    """A whole number from low to high (JSON integers; digits in forms)."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise RuleError(gettext_noop("must be a whole number from {low} to {high}."), low=low,
                            high=high)
        return value

    return Rule(check, {"type": "integer", "minimum": low, "maximum": high},
                from_text=_whole)


def _whole(value: str) -> int:
    """Digits as an int (a bounded length: no huge-number parsing)."""
    if not re.fullmatch(r"-?[0-9]{1,19}", value):
        raise ValueError(value)
    return int(value)


def _flag(value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise RuleError(gettext_noop("must be true or false."))
    return value


def _flag_text(value: str) -> bool:
    """A form's checkbox or a CSV cell as true or false."""
    lowered = value.lower()
    if lowered in ("true", "on", "yes", "1"):
        return True
    if lowered in ("false", "off", "no", "0", ""):
        return False
    raise ValueError(value)


FLAG = Rule(_flag, {"type": "boolean"}, from_text=_flag_text)


def _number(low: float, high: float) -> Rule:
    """A number between low and high."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                low <= value <= high):
            raise RuleError(gettext_noop("must be a number from {low} to {high}."), low=low,
                            high=high)
        return float(value)

    return Rule(check, {"type": "number", "minimum": low, "maximum": high},
                from_text=_real)


def _real(value: str) -> float:
    """A form's decimal number as a float (a bounded length; no exponents or 'nan')."""
    if not re.fullmatch(r"-?[0-9]{1,3}(\.[0-9]{1,15})?", value):
        raise ValueError(value)
    return float(value)


LATITUDE = _number(-90, 90)
LONGITUDE = _number(-180, 180)


# --- parsing -----------------------------------------------------------------------------


def normalize_phone(value: Any, region: str | None = None) -> str:
    """A phone number in international E.164 form (+66812345678); a local number needs the
    region it is dialled in (e.g. "TH")."""
    if not isinstance(value, str) or len(value) > 40:
        raise RuleError(gettext_noop("must be a phone number such as +66 81 234 5678."))
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise RuleError(gettext_noop("must be a valid phone number, such as +66 81 234 5678.")
                        if region else gettext_noop("must be a valid phone number in "
                                                    "international form, such as +66 81 234 "
                                                    "5678."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_json(model: type[M], raw: bytes | str) -> M:
    """Parse a JSON document into `model`, strictly; failures become clear 4xx errors."""
    try:
        return model.model_validate_json(raw, strict=True)
    except pydantic.ValidationError as exc:
        raise from_pydantic(exc, model) from None


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    """Parse plain values (a form, a CSV row, a Python dict) into `model`."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise from_pydantic(exc, model) from None


def from_pydantic(exc: pydantic.ValidationError, model: type[BaseModel]) -> DomainError:
    """The first problem as a sentence naming the field; every problem in details."""
    problems = exc.errors(include_url=False, include_input=False)
    first = problems[0]
    if first["type"] == "json_invalid":
        return DomainError("The body is not valid JSON.", code="invalid_json")
    if first["type"] == "model_type" or not first["loc"] and first["type"].endswith("_type"):
        return DomainError("The body must be a JSON object.", code="invalid_json")
    fields = [{"field": _path(p["loc"]), "message": _sentence(p, model)} for p in problems]
    return FieldErrors(fields[0]["message"], [_problem(p) for p in problems],
                       details={"fields": fields})


def _problem(problem: Any) -> FieldProblem:
    """A problem as a template and values: a RuleError's own, else the English sentence."""
    name = _path(problem["loc"])
    error = (problem.get("ctx") or {}).get("error")
    if isinstance(error, RuleError):
        return FieldProblem(name or error.field or "", error.template, error.values)
    if problem["type"] == "missing":
        return FieldProblem(name, "is required.", {})
    text = str(problem["msg"]).removeprefix("Value error, ")
    return FieldProblem(name, "{text}", {"text": text[:1].upper() + text[1:]})


def _path(loc: tuple[int | str, ...]) -> str:
    """A field's path as people write it: locations[0].latitude."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _sentence(problem: Any, model: type[BaseModel]) -> str:
    """One problem as a sentence."""
    name, kind = _path(problem["loc"]), problem["type"]
    if kind == "missing":
        return f"Missing required field '{name}'."
    if kind == "extra_forbidden":
        allowed = ", ".join(model.model_fields) if len(problem["loc"]) == 1 else ""
        return f"Unknown field '{name}'." + (f" Allowed: {allowed}." if allowed else "")
    msg = str(problem["msg"])
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        return f"'{name}' {msg}" if name else msg
    return f"'{name}': {msg[0].lower()}{msg[1:]}." if name else f"{msg}."


# --- query parameters --------------------------------------------------------------------


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

"""A program's earning rules and settings, and the points a purchase earns."""

from __future__ import annotations

import calendar
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app import validation as v
from app.errors import ValidationError
from app.extensions import db
from app.models import LoyaltyRules, Program
from app.models.base import utcnow

ROUNDING = {"floor": ROUND_FLOOR, "round": ROUND_HALF_UP, "ceil": ROUND_CEILING}
MODES = ("points", "stamps")
MAX_POINTS = 1_000_000_000
MAX_AMOUNT = Decimal("9999999999.99")


def integer(low: int, high: int) -> v.Validator:
    """An integer from low to high (booleans and floats refused)."""

    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(f"'{name}' must be a whole number from {low} to {high}.")
        return value

    return check


def decimal(low: Decimal, high: Decimal, places: int = 2) -> v.Validator:
    """A decimal number given as a string ("12.50") or a JSON number, low < value <= high."""

    def check(name: str, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationError(f"'{name}' must be a number such as \"12.50\".")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError(f"'{name}' must be a number such as \"12.50\".") from None
        if not number.is_finite() or not low < number <= high:
            raise ValidationError(f"'{name}' must be more than {low} and at most {high}.")
        if -number.as_tuple().exponent > places:  # type: ignore[operator]
            raise ValidationError(f"'{name}' has more than {places} decimal places.")
        return number

    return check


RULES: dict[str, v.Validator] = {
    "mode": v.one_of(*MODES),
    "points_per_unit": decimal(Decimal("-0.0001"), Decimal("100000"), places=4),
    "rounding": v.one_of(*ROUNDING),
    "points_per_purchase": integer(0, 1_000_000),
    "welcome_bonus": integer(0, 1_000_000),
    "referral_bonus": integer(0, 1_000_000),
    "birthday_bonus": integer(0, 1_000_000),
    "expiry_days": integer(1, 36500),
    "expiring_soon_days": integer(1, 3650),
    "tier_basis": v.one_of("points", "spend"),
    "tier_window_months": integer(1, 120),
    "stamps_required": integer(2, 20),
}
CARD_RULES = ("mode", "stamps_required", "expiry_days")


def rules_of(program: Program) -> LoyaltyRules:
    """The program's rules, or (not saved) the defaults when nobody configured them."""
    return program.rules or LoyaltyRules(**defaults())


def defaults() -> dict[str, Any]:
    """The rules of a program nobody configured: 1 point per currency unit, floored."""
    return {"mode": "points", "points_per_unit": Decimal("1"), "rounding": "floor",
            "points_per_purchase": 0, "welcome_bonus": 0, "referral_bonus": 0,
            "birthday_bonus": 0, "expiry_days": None, "expiring_soon_days": 30,
            "tier_basis": "points", "tier_window_months": None, "stamps_required": 10}


def update_rules(program: Program, body: dict[str, Any]) -> tuple[LoyaltyRules, bool]:
    """Change the rules; returns them and whether the card's look changed."""
    data = v.validate(body, RULES, nullable=("expiry_days", "tier_window_months"))
    if program.rules is None:
        program.rules = LoyaltyRules(program_id=program.id, **defaults())
    rules = program.rules
    card_changed = any(k in CARD_RULES and getattr(rules, k) != val for k, val in data.items())
    for key, value in data.items():
        setattr(rules, key, value)
    rules.updated_at = utcnow()
    db.session.flush()
    return rules, card_changed


def purchase_points(rules: LoyaltyRules, amount: Decimal, multiplier: Decimal) -> int:
    """Points for a purchase: amount x rate x tier multiplier, rounded by the program's rule,
    plus the fixed points per purchase."""
    raw = amount * Decimal(rules.points_per_unit) * Decimal(multiplier)
    earned = int(raw.to_integral_value(rounding=ROUNDING[rules.rounding]))
    return earned + rules.points_per_purchase


def add_months(when: datetime, months: int) -> datetime:
    """The same moment `months` later (or earlier), clamped to the month's last day."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def rules_json(rules: LoyaltyRules) -> dict[str, Any]:
    """The rules as JSON (decimals as strings)."""
    out = {k: getattr(rules, k) for k in RULES}
    out["points_per_unit"] = plain(rules.points_per_unit)
    return out


def plain(number: Decimal | int) -> str:
    """A decimal written plainly, without trailing zeros or exponent ("1.5", "100")."""
    text = format(Decimal(number).normalize(), "f")
    return text

"""A program's earning rules and settings, and the points a purchase earns."""

from __future__ import annotations

import calendar
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from app.extensions import db
from app.loyalty.schemas import Rules, RulesUpdate
from app.models import LoyaltyRules, Program
from app.models.base import utcnow

ROUNDING = {"floor": ROUND_FLOOR, "round": ROUND_HALF_UP, "ceil": ROUND_CEILING}


CARD_RULES = ("mode", "stamps_required", "expiry_days")


DEFAULT_RULES = "_walletpass_default_rules"


def rules_of(program: Program) -> LoyaltyRules:
    """The program's rules, or (not saved) the defaults when nobody configured them, made
    once per loaded program (a request asks several times)."""
    if program.rules is not None:
        return program.rules
    made: LoyaltyRules | None = program.__dict__.get(DEFAULT_RULES)
    if made is None:
        made = program.__dict__[DEFAULT_RULES] = LoyaltyRules(**defaults())
    return made


def defaults() -> dict[str, Any]:
    """The rules of a program nobody configured: 1 point per currency unit, floored."""
    return {"mode": "points", "points_per_unit": Decimal("1"), "rounding": "floor",
            "points_per_purchase": 0, "welcome_bonus": 0, "referral_bonus": 0,
            "birthday_bonus": 0, "expiry_days": None, "expiring_soon_days": 30,
            "tier_basis": "points", "tier_window_months": None, "stamps_required": 10,
            "earn_cooldown_minutes": 0, "earns_per_day": 0,
            "point_value": None}


def update_rules(program: Program, changes: RulesUpdate) -> tuple[LoyaltyRules, bool]:
    """Change the rules; returns them and whether the card's look changed."""
    data = changes.given()
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
    out = {k: getattr(rules, k) for k in Rules.model_fields}
    out["points_per_unit"] = plain(rules.points_per_unit)
    out["point_value"] = None if rules.point_value is None else plain(rules.point_value)
    return out


def plain(number: Decimal | int) -> str:
    """A decimal written plainly, without trailing zeros or exponent ("1.5", "100")."""
    text = format(Decimal(number).normalize(), "f")
    return text

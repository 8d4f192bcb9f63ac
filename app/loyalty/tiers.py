"""Tiers: qualifying totals, promotion as soon as a threshold is crossed, review at the end
of the qualifying window.

A member reaching a tier holds it for one window (tier_window_months) from that moment;
when it ends the review sweep re-qualifies them on the last window's totals (keeping,
lowering or removing the tier, and starting a new window). Lifetime programs (no window)
never demote.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.loyalty.cards import members_changed
from app.loyalty.ledger import known
from app.loyalty.rules import add_months, plain, rules_of
from app.loyalty.schemas import TierCreate, TierUpdate
from app.models import LedgerEntry, Member, Merchant, Program, Tier
from app.models.base import utcnow
from app.outbox import record
from app.updates.changes import touch_pass

COLORS = ("background_color", "foreground_color", "label_color")


def create_tier(program: Program, request: TierCreate) -> Tier:
    """Add a tier to a program (members reach it at their next earn or review)."""
    data = request.given()
    _unique_name(program.id, data["name"])
    tier = Tier(program_id=program.id, **data)
    db.session.add(tier)
    db.session.flush()
    return tier


def _unique_name(program_id: int, name: str, tier_id: int | None = None) -> None:
    """Conflict when another tier of the program has this name."""
    clash = db.session.scalar(select(Tier.id).where(Tier.program_id == program_id,
                                                    Tier.name == name))
    if clash is not None and clash != tier_id:
        raise Conflict(f"The program already has a tier named {name!r}.", code="duplicate_name")


def get_tier(merchant: Merchant, tier_id: int) -> Tier:
    """The merchant's tier, or NotFound."""
    tier = db.session.scalar(select(Tier).join(Program, Program.id == Tier.program_id)
                             .where(Tier.id == tier_id, Program.merchant_id == merchant.id))
    if tier is None:
        raise NotFound(f"Tier {tier_id} not found.")
    return tier


def update_tier(tier: Tier, changes: TierUpdate) -> Tier:
    """Change a tier (members keep it until their next promotion or review)."""
    data = changes.given()
    if "name" in data:
        _unique_name(tier.program_id, data["name"], tier.id)
    for key, value in data.items():
        setattr(tier, key, value)
    members_changed(Member.tier_id == tier.id)
    db.session.flush()
    return tier


def delete_tier(tier: Tier) -> None:
    """Delete a tier nobody holds."""
    holders = db.session.scalar(select(func.count()).where(Member.tier_id == tier.id))
    if holders:
        raise Conflict(f"{holders} member(s) hold this tier; they move at their next review.",
                       code="tier_in_use")
    db.session.delete(tier)
    db.session.flush()


def tiers_of(program: Program) -> list[Tier]:
    """The program's tiers, lowest threshold first."""
    return list(program.tiers)


def qualifying_total(member: Member, now: datetime | None = None) -> Decimal:
    """Points earned (or amount spent) within the qualifying window, voids deducted (summed
    once per posting while this transaction holds the member locked: promotion and the
    answer's next tier share it)."""
    rules = rules_of(member.program)
    held = known(member.id)
    key = (rules.tier_basis, rules.tier_window_months)
    if held is not None and key in held.totals:
        return held.totals[key]
    column = (LedgerEntry.qualifying_amount if rules.tier_basis == "spend"
              else LedgerEntry.qualifying_points)
    stmt = select(func.coalesce(func.sum(column), 0)).where(LedgerEntry.member_id == member.id)
    if rules.tier_window_months:
        since = add_months(now or utcnow(), -rules.tier_window_months)
        stmt = stmt.where(LedgerEntry.created_at >= since)
    total = Decimal(db.session.scalar(stmt) or 0)
    if held is not None:
        held.totals[key] = total
    return total


def tier_for(tiers: list[Tier], total: Decimal) -> Tier | None:
    """The highest tier whose threshold the total reaches."""
    reached = [t for t in tiers if Decimal(t.threshold) <= total]
    return reached[-1] if reached else None


def promote(member: Member, now: datetime | None = None) -> bool:
    """Move the (locked) member up at once if their total reached a higher tier."""
    tiers = tiers_of(member.program)
    if not tiers:
        return False
    target = tier_for(tiers, qualifying_total(member, now))
    current = member.tier
    if target is None or (current is not None and target.threshold <= current.threshold):
        return False
    _set_tier(member, target, now or utcnow())
    return True


def review(member: Member, now: datetime | None = None) -> bool:
    """At the end of a window: re-qualify the (locked) member on the last window's total."""
    now = now or utcnow()
    target = tier_for(tiers_of(member.program), qualifying_total(member, now))
    if target is not None and target.id == member.tier_id:
        member.tier_expires_at = _window_end(member, now)
        return False
    _set_tier(member, target, now)
    return True


def _set_tier(member: Member, tier: Tier | None, now: datetime) -> None:
    """Give the member a tier (or none), start its window, redraw the card, tell webhooks."""
    previous = member.tier
    member.tier = tier
    member.tier_expires_at = _window_end(member, now) if tier is not None else None
    touch_pass(member)
    record(member.program.merchant_id, "tier.changed", {
        "member_id": member.id, "program_id": member.program_id,
        "from": previous.name if previous else None, "to": tier.name if tier else None},
        member_id=member.id)


def _window_end(member: Member, now: datetime) -> datetime | None:
    """When a tier reached now comes up for review (None: lifetime programs)."""
    months = rules_of(member.program).tier_window_months
    return add_months(now, months) if months else None


def next_tier(member: Member, total: Decimal | None = None) -> dict[str, Any] | None:
    """The next tier above the member's and what they still need to reach it."""
    tiers = tiers_of(member.program)
    floor = Decimal(member.tier.threshold) if member.tier else Decimal("-1")
    above = [t for t in tiers if Decimal(t.threshold) > floor]
    if not above:
        return None
    total = qualifying_total(member) if total is None else total
    needed = max(Decimal(above[0].threshold) - total, Decimal("0"))
    if rules_of(member.program).tier_basis == "spend":
        return {"name": above[0].name, "amount_needed": str(needed)}
    return {"name": above[0].name, "points_needed": int(needed)}


def tier_json(tier: Tier) -> dict[str, Any]:
    """A tier as JSON."""
    return {"id": tier.id, "program_id": tier.program_id, "name": tier.name,
            "threshold": plain(tier.threshold), "multiplier": plain(tier.multiplier),
            "perks": tier.perks,
            **{c: getattr(tier, c) for c in COLORS}}


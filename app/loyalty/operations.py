"""Point transactions the POS API makes: earn, redeem, adjust, donate, void."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.analytics.rollups import entry_undone
from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.loyalty import bonuses, rules, tiers
from app.loyalty.ledger import VOIDABLE, Posting, lock_member, post, replay
from app.loyalty.rules import purchase_points, rules_of
from app.loyalty.schemas import (
    Adjust,
    Donate,
    Earn,
    Redeem,
    RulesUpdate,
    TransactionDetails,
    Void,
)
from app.models import Cause, LedgerEntry, LoyaltyRules, Member, Merchant, Program, Reward
from app.outbox import record
from app.programs.operations import design_changed


def change_rules(program: Program, changes: RulesUpdate) -> LoyaltyRules:
    """Change a program's rules; every card is redrawn when mode, stamps or expiry change."""
    updated, card_changed = rules.update_rules(program, changes)
    if card_changed:
        design_changed(program)
    return updated


def _details(request: TransactionDetails, key: str | None) -> dict[str, Any]:
    """The entry fields every transaction takes from the request."""
    return {"reason": request.reason or "", "source": request.source or "api",
            "actor": request.actor or "", "idempotency_key": key}


def _usable(member: Member) -> Member:
    """The member, unless staff voided their card (409 card_voided)."""
    if member.voided_at is not None:
        raise Conflict("This card was voided; it can no longer earn or redeem.",
                       code="card_voided")
    return member


def earn(member: Member, request: Earn, key: str | None = None) -> LedgerEntry:
    """Credit points for a purchase amount (by the earning rules) or a fixed number."""
    member = _usable(lock_member(member.id))
    amount: Decimal | None = request.amount
    if amount is not None:
        multiplier = Decimal(member.tier.multiplier) if member.tier else Decimal(1)
        points = purchase_points(rules_of(member.program), amount, multiplier)
    else:
        points = request.points
    entry = post(member, Posting("earn", points, amount=amount, qualifying_points=points,
                                 qualifying_amount=amount or Decimal("0"),
                                 **_details(request, key)))
    bonuses.credit_referrer(member)
    tiers.promote(member)
    return entry


def redeem(member: Member, request: Redeem, key: str | None = None) -> LedgerEntry:
    """Spend points on a catalog reward or a number of points; never below zero."""
    reward = _reward(member.program, request.reward_id) if request.reward_id else None
    points = reward.points_cost if reward else request.points
    member = _usable(lock_member(member.id))
    entry = post(member, Posting("redeem", -points, reward_id=reward.id if reward else None,
                                 **_details(request, key)))
    if reward is not None:
        record(member.program.merchant_id, "reward.redeemed", {
            "member_id": member.id, "program_id": member.program_id, "reward_id": reward.id,
            "reward": reward.name, "points": points, "transaction_id": entry.id},
            member_id=member.id)
    return entry


def _reward(program: Program, reward_id: int) -> Reward:
    """An active reward of this program (422 otherwise: the body names a bad reward)."""
    reward = db.session.scalar(select(Reward).where(Reward.id == reward_id,
                                                    Reward.program_id == program.id,
                                                    Reward.active.is_(True)))
    if reward is None:
        raise ValidationError(f"Reward {reward_id} is not an active reward of this program.",
                              code="unknown_reward")
    return reward


def adjust(member: Member, request: Adjust, key: str | None = None) -> LedgerEntry:
    """A manual correction (positive or negative, never zero) with a required reason."""
    member = lock_member(member.id)
    return post(member, Posting("adjust", request.points, **_details(request, key)))


def donate(member: Member, request: Donate, key: str | None = None) -> LedgerEntry:
    """Give points to one of the program's active causes."""
    cause = db.session.scalar(select(Cause).where(Cause.id == request.cause_id,
                                                  Cause.program_id == member.program_id,
                                                  Cause.active.is_(True)))
    if cause is None:
        raise ValidationError(f"Cause {request.cause_id} is not an active cause of this "
                              "program.", code="unknown_cause")
    member = lock_member(member.id)
    return post(member, Posting("donate", -request.points, cause_id=cause.id,
                                **_details(request, key)))


def get_entry(merchant: Merchant, entry_id: int) -> LedgerEntry:
    """The merchant's ledger entry, or NotFound."""
    entry = db.session.scalar(
        select(LedgerEntry).join(Member, Member.id == LedgerEntry.member_id)
        .join(Program, Program.id == Member.program_id)
        .where(LedgerEntry.id == entry_id, Program.merchant_id == merchant.id))
    if entry is None:
        raise NotFound(f"Transaction {entry_id} not found.")
    return entry


def void(entry: LedgerEntry, request: Void, key: str | None = None) -> LedgerEntry:
    """Reverse a transaction once.

    A voided redemption, donation or negative adjustment gives its points back to the lots
    it took them from, so they keep the expiry they had (points whose lot has expired
    meanwhile come back already due and leave again at the next expiry run).

    A voided earn (bonus, positive adjustment) takes back its points, except those that
    already expired: the expiry took them once. What is still in its lot comes out of
    that lot; what was spent (redeemed, donated, adjusted away) comes out of the member's
    other points. If the member has fewer points than that, the void is refused with
    409 insufficient_points and changes nothing, as before: it never leaves the balance
    below zero nor silently writes off the difference, and the merchant can void once the
    points are back or record what they agree with the member as an adjustment.
    The void's amount and qualifying figures always reverse the whole transaction."""
    if entry.kind not in VOIDABLE:
        raise Conflict(f"A {entry.kind} transaction cannot be voided.", code="not_voidable")
    member = lock_member(entry.member_id)
    if db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.voids_entry_id == entry.id)):
        raise Conflict(f"Transaction {entry.id} is already voided.", code="already_voided")
    details = _details(request, key)
    details["reason"] = details["reason"] or f"void of transaction {entry.id}"
    return_to: list[tuple[LedgerEntry, int]] | None = None
    if entry.points > 0:
        taken_back, expired = _take_back(member, entry)
        points = -taken_back
        if expired and not request.reason:
            details["reason"] += f" ({expired} of its points had already expired)"
    else:
        points = -entry.points
        return_to = _taken_from(member, entry)
    done = post(member, Posting(
        "void", points,
        amount=-entry.amount if entry.amount is not None else None,
        qualifying_points=-entry.qualifying_points,
        qualifying_amount=-Decimal(entry.qualifying_amount or 0), reward_id=entry.reward_id,
        cause_id=entry.cause_id, voids_entry_id=entry.id, take_first=entry,
        return_to=return_to, **details))
    entry_undone(entry)  # the analytics funnel no longer counts it as a first earn/redemption
    return done


def _take_back(member: Member, credit: LedgerEntry) -> tuple[int, int]:
    """(points a void of this credit takes back, points of it that already expired), with
    the member locked; refuses (409) when the member cannot give the spent part back."""
    lots = replay(member.id)
    expired = lots.expired.get(credit.id, 0)
    left = lots.remaining.get(credit.id, 0)
    spent = credit.points - left - expired
    if spent > member.points - left:
        raise Conflict(
            f"Transaction {credit.id} credited {credit.points} points: {left} are left, "
            f"{expired} expired and {spent} were spent; the member has {member.points} "
            f"points, {left + spent} are needed.", code="insufficient_points",
            details={"balance": member.points, "needed": left + spent, "expired": expired})
    return left + spent, expired


def _taken_from(member: Member, debit: LedgerEntry) -> list[tuple[LedgerEntry, int]]:
    """The lots this debit took its points from and how many from each (member locked)."""
    taken = replay(member.id).taken.get(debit.id, {})
    lots = {lot.id: lot for lot in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.id.in_(list(taken)))
        .execution_options(populate_existing=True))}
    return [(lots[lot_id], points) for lot_id, points in sorted(taken.items())]

"""The mail channel of the outbox: which mails each event calls for.

- member.enrolled: the welcome mail (any enrollment: the API, a signup page, an import).
- member.card_link_requested: the welcome mail again, with the card link, at most once an
  hour per member (a signup with an address already enrolled, or a resend).
- points.changed that credits points: "reward now available" when the balance crossed a
  reward's price with this change (one mail per event, naming the dearest such reward;
  none for a void, which only gives back points a redemption or deduction took),
  and "close to the next tier" when the member is within NEAR_FRACTION of the gap to the
  next tier (once per next tier and held-tier window).
- "points expiring soon" comes from the expiry data, not an event (queue_expiring, run
  by the mail_expiring sweep): once per member and expiry day.

Each mail is one MailDelivery row, unique per (member, kind, event_key), added with
INSERT ... ON CONFLICT DO NOTHING: an event handed out twice, or two sweeps finding the
same expiring points, still make one mail. Members without an address get none, and a
program can switch each kind off (Program.mail_switches).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.jobs import wake
from app.loyalty.rules import rules_of
from app.loyalty.tiers import qualifying_total, tiers_of
from app.mail import KINDS
from app.models import LedgerEntry, LoyaltyRules, MailDelivery, Member, OutboxEvent, Program
from app.models.base import utcnow
from app.rows import insert_ignore

SWEEP = "mail"
NEAR_FRACTION = Decimal("0.2")
"""'Close to the next tier': what is still needed is at most this share of the way there."""
DEFAULT_SOON_DAYS = 30
ENROLLED = "enrolled"
"""The event_key of the welcome mail of an enrollment (a resend's key starts 'resend-')."""


def enabled(program: Program, kind: str) -> bool:
    """Whether the program sends this kind of mail (every kind is on unless switched off)."""
    return bool((program.mail_switches or {}).get(kind, True))


def switches(program: Program) -> dict[str, bool]:
    """Every mail kind and whether the program sends it."""
    return {kind: enabled(program, kind) for kind in KINDS}


def program_zone(program: Program) -> tzinfo:
    """The program's time zone (Program.timezone when there is one), else UTC."""
    name = getattr(program, "timezone", None)
    if not name:
        return UTC
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def delivery(member: Member, kind: str, key: str, **params: Any) -> dict[str, Any]:
    """The row of one mail to queue."""
    now = utcnow()
    return {"member_id": member.id, "kind": kind, "event_key": key, "params": params,
            "status": "pending", "attempts": 0, "next_attempt_at": now, "last_error": "",
            "created_at": now}


def queue(rows: Sequence[dict[str, Any]]) -> int:
    """Add mails that do not exist yet and wake the sending sweep; returns how many."""
    count = insert_ignore(MailDelivery, rows)
    if count:
        wake(db.session(), SWEEP)
    return count


MAIL_EVENTS = ("member.enrolled", "member.card_link_requested", "points.changed")


class MailChannel:
    """The outbox channel of e-mail: welcome and lifecycle mails to members."""

    name = "mail"

    def fan_out(self, events: Sequence[OutboxEvent]) -> int:
        """Queue the mails these events call for; returns how many were new."""
        wanted = [e for e in events if e.member_id is not None
                  and e.event_type in MAIL_EVENTS]
        if not wanted:
            return 0
        members = {m.id: m for m in db.session.scalars(
            select(Member).options(joinedload(Member.program))
            .where(Member.id.in_({e.member_id for e in wanted}), Member.email.is_not(None)))}
        rows: list[dict[str, Any]] = []
        for event in wanted:
            member = members.get(event.member_id or 0)
            if member is not None:
                rows += mails_for(event, member)
        return queue(rows)


def mails_for(event: OutboxEvent, member: Member) -> list[dict[str, Any]]:
    """The mails one event calls for, for one member with an address."""
    program = member.program
    if event.event_type == "member.enrolled":
        return [delivery(member, "welcome", ENROLLED)] if enabled(program, "welcome") else []
    if event.event_type == "member.card_link_requested":
        # The customer asked for their card again (a signup with a known address, or the
        # merchant's resend): the welcome mail with the card link, at most once an hour.
        return [delivery(member, "welcome", f"resend-{event.created_at:%Y%m%d%H}")]
    transaction = event.payload.get("transaction") or {}
    credited = int(transaction.get("points") or 0)
    if credited <= 0:
        return []
    if transaction.get("kind") == "void":
        # An undone redemption (donation, deduction) gives back points the member had:
        # no reward becomes available and they are no closer to a tier than before.
        return []
    rows = []
    if enabled(program, "reward_available"):
        rows += reward_available(event, member, credited)
    if enabled(program, "tier_near") and program.tiers:
        rows += tier_near(member)
    return rows


def reward_available(event: OutboxEvent, member: Member, credited: int) -> list[dict[str, Any]]:
    """A mail when this credit took the balance across a reward's price."""
    after = int(event.payload.get("points", member.points))
    before = after - credited
    crossed = [r for r in member.program.rewards if before < r.points_cost <= after]
    if not crossed:
        return []
    best = max(crossed, key=lambda r: (r.points_cost, r.id))
    return [delivery(member, "reward_available", f"event:{event.id}", reward=best.name,
                     points=after)]


def tier_near(member: Member) -> list[dict[str, Any]]:
    """A mail when the member is close to the next tier (once per tier and window)."""
    ladder = tiers_of(member.program)
    floor = Decimal(member.tier.threshold) if member.tier else Decimal("0")
    above = [t for t in ladder if Decimal(t.threshold) > floor]
    if not above:
        return []
    target = above[0]
    needed = Decimal(target.threshold) - qualifying_total(member)
    if needed <= 0 or needed > (Decimal(target.threshold) - floor) * NEAR_FRACTION:
        return []
    window = member.tier_expires_at.date().isoformat() if member.tier_expires_at else "-"
    basis = rules_of(member.program).tier_basis
    return [delivery(member, "tier_near", f"tier:{target.id}:{member.tier_id or 0}:{window}",
                     tier=target.name, needed=str(needed), basis=basis)]


def expiring_candidates(now: datetime, after_member: int, limit: int) -> list[int]:
    """Members (by id, after `after_member`) holding points that expire in the widest
    'soon' window of any program."""
    widest = db.session.scalar(select(func.max(LoyaltyRules.expiring_soon_days)))
    horizon = now + timedelta(days=max(widest or 0, DEFAULT_SOON_DAYS))
    return list(db.session.scalars(
        select(LedgerEntry.member_id).where(LedgerEntry.remaining > 0,
                                            LedgerEntry.expires_at > now,
                                            LedgerEntry.expires_at <= horizon,
                                            LedgerEntry.member_id > after_member)
        .group_by(LedgerEntry.member_id).order_by(LedgerEntry.member_id).limit(limit)))


def queue_expiring(member_ids: Sequence[int], now: datetime) -> int:
    """Queue 'points expiring soon' for these members: their next expiry day (in the
    program's time zone) within the program's window, once per member and day."""
    members = db.session.scalars(select(Member).options(joinedload(Member.program))
                                 .where(Member.id.in_(member_ids), Member.email.is_not(None)))
    rows = []
    for member in members:
        if enabled(member.program, "points_expiring"):
            rows += points_expiring(member, now)
    return queue(rows)


def points_expiring(member: Member, now: datetime) -> list[dict[str, Any]]:
    """The mail about the member's next expiring points, if they expire soon."""
    soon = now + timedelta(days=rules_of(member.program).expiring_soon_days)
    first = db.session.scalar(select(func.min(LedgerEntry.expires_at)).where(
        LedgerEntry.member_id == member.id, LedgerEntry.remaining > 0,
        LedgerEntry.expires_at > now))
    if first is None or first > soon:
        return []
    zone = program_zone(member.program)
    day = first.astimezone(zone).date()
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    points = db.session.scalar(select(func.sum(LedgerEntry.remaining)).where(
        LedgerEntry.member_id == member.id, LedgerEntry.remaining > 0,
        LedgerEntry.expires_at > now, LedgerEntry.expires_at < day_end))
    if not points:
        return []
    return [delivery(member, "points_expiring", f"expiring:{day.isoformat()}",
                     points=int(points), date=day.isoformat())]

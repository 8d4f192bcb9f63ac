"""What staff do to a member's points from the dashboard (scanner and member page).

Every action carries an idempotency key made when its form was rendered: the first answer
is stored as an IdempotencyRecord of the merchant (as the API does, under a "dashboard:"
prefix) in the same transaction as the change, so a double tap or a resent form replays
that answer and never earns twice. Entries record the staff user as `actor` ("user:<id>")
and "dashboard" as their source. The merchant's limits (one earn per N minutes, N earns per
day in the program's time zone) are checked here, on the scanner's path.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import g
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app.dashboard.i18n import error_message
from app.dashboard.security import RANKS
from app.errors import Conflict, DomainError, ValidationError
from app.extensions import db
from app.i18n import gettext_noop, ngettext_noop
from app.loyalty import operations
from app.loyalty.rules import defaults, rules_of
from app.loyalty.schemas import Void
from app.models import IdempotencyRecord, LedgerEntry, LoyaltyRules, Member, Program, User
from app.models.base import utcnow

PREFIX = "dashboard:"
UNDO_MINUTES = 5
SOURCE = "dashboard"
T = TypeVar("T", bound=BaseModel)


class TooSoon(DomainError):
    """A limit the merchant set refuses this earn."""

    status = 409
    code = "earn_limit"


def new_key() -> str:
    """A fresh idempotency key for one rendered form."""
    return secrets.token_urlsafe(18)


def actor() -> str:
    """How ledger entries name the signed-in staff user."""
    return f"user:{g.user.id}"


def staffed(request: T) -> T:
    """The transaction request, marked as made by this staff user from the dashboard."""
    return request.model_copy(update={"source": SOURCE, "actor": actor()})


def _digest(form: Mapping[str, str]) -> str:
    """SHA-256 of the form's fields (without the CSRF token and the key itself)."""
    fields = sorted((k, v) for k, v in form.items() if k not in ("csrf_token", "key"))
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


def once(key: str, form: Mapping[str, str], action: Callable[[], dict[str, Any]]
         ) -> dict[str, Any]:
    """Run `action` once for this merchant and key; a repeat replays its first answer."""
    key = key.strip()
    if not key or len(key) > 150 or not key.isprintable():
        raise ValidationError(gettext_noop("This form has no valid key; reload the page."))
    digest, merchant_id = _digest(form), g.membership.merchant_id
    stored = _find(merchant_id, key)
    if stored is None:
        record = IdempotencyRecord(merchant_id=merchant_id, key=PREFIX + key,
                                   request_hash=digest)
        try:
            with db.session.begin_nested():
                db.session.add(record)
        except IntegrityError:  # a concurrent tap with the same key got there first
            stored = _find(merchant_id, key)
        else:
            result = action()
            record.status, record.response = 201, result
            return result
    if stored is None or stored.request_hash != digest:
        raise ValidationError(gettext_noop(
            "This form was already sent with other values; reload the page."))
    return dict(stored.response or {})


def _find(merchant_id: int, key: str) -> IdempotencyRecord | None:
    """The stored answer of this merchant's dashboard key."""
    return db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.merchant_id == merchant_id, IdempotencyRecord.key == PREFIX + key))


# --- limits ------------------------------------------------------------------------


def _live_earns(member_id: int) -> Any:
    """The member's earns that were not undone."""
    undo = aliased(LedgerEntry)
    undone = select(undo.id).where(undo.voids_entry_id == LedgerEntry.id).exists()
    return select(LedgerEntry).where(LedgerEntry.member_id == member_id,
                                     LedgerEntry.kind == "earn", ~undone)


def start_of_day(program: Program, now: datetime) -> datetime:
    """Midnight of today in the program's time zone, as a UTC-aware time."""
    local = now.astimezone(program.zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def check_limits(member: Member, now: datetime | None = None) -> None:
    """Refuse an earn the merchant's limits forbid, saying when the next one is allowed."""
    now = now or utcnow()
    rules = rules_of(member.program)
    if rules.earn_cooldown_minutes:
        window = timedelta(minutes=rules.earn_cooldown_minutes)
        last = db.session.scalar(_live_earns(member.id).with_only_columns(
            func.max(LedgerEntry.created_at)))
        if last is not None and last > now - window:
            at = (last + window).astimezone(member.program.zone).strftime("%H:%M")
            minutes = rules.earn_cooldown_minutes
            raise TooSoon(ngettext_noop(
                "This member already earned in the last {minutes} minute; the next earn is "
                "allowed at {time}.",
                "This member already earned in the last {minutes} minutes; the next earn is "
                "allowed at {time}."), count=minutes, values={"minutes": minutes, "time": at},
                details={"minutes": minutes, "time": at})
    if rules.earns_per_day:
        today = db.session.scalar(_live_earns(member.id).with_only_columns(func.count())
                                  .where(LedgerEntry.created_at >=
                                         start_of_day(member.program, now)))
        if (today or 0) >= rules.earns_per_day:
            raise TooSoon(ngettext_noop("This member reached today's limit of {count} earn.",
                                        "This member reached today's limit of {count} earns."),
                          count=rules.earns_per_day, values={"count": rules.earns_per_day},
                          details={"count": rules.earns_per_day})


def set_limits(program: Program, cooldown_minutes: int, per_day: int) -> LoyaltyRules:
    """Save the scanner's limits of a program (0 turns a limit off)."""
    if not (0 <= cooldown_minutes <= 7 * 24 * 60) or not (0 <= per_day <= 1000):
        raise ValidationError("Limits must be between 0 and a week (minutes) or 1000 (earns).")
    rules = program.rules
    if rules is None:
        rules = LoyaltyRules(program_id=program.id, **defaults())
        db.session.add(rules)
    rules.earn_cooldown_minutes, rules.earns_per_day = cooldown_minutes, per_day
    db.session.flush()
    return rules


# --- undo --------------------------------------------------------------------------


def undoable(entry: LedgerEntry, now: datetime | None = None) -> bool:
    """Whether the signed-in user may undo this entry now (their own, or any entry for a
    manager or owner, made within UNDO_MINUTES, not voided)."""
    now = now or utcnow()
    mine = entry.actor == actor() or RANKS[g.membership.role] >= RANKS["manager"]
    fresh = entry.created_at > now - timedelta(minutes=UNDO_MINUTES)
    return (mine and fresh and entry.kind in ("earn", "redeem", "adjust")
            and db.session.scalar(select(LedgerEntry.id).where(
                LedgerEntry.voids_entry_id == entry.id)) is None)


def undo(entry: LedgerEntry) -> LedgerEntry:
    """Void the entry as an undo by this user, within the rules of `undoable`."""
    if not undoable(entry):
        raise Conflict(ngettext_noop(
            "Only your own last action of the last {minutes} minute can be undone here.",
            "Only your own last action of the last {minutes} minutes can be undone here."),
            code="not_undoable", count=UNDO_MINUTES, values={"minutes": UNDO_MINUTES},
            details={"minutes": UNDO_MINUTES})
    return operations.void(entry, staffed(Void(reason="undo at the counter")))


def staff_names(entries: list[LedgerEntry]) -> dict[str, str]:
    """{actor: e-mail} of the staff users who made these entries (one query)."""
    ids = {int(e.actor[5:]) for e in entries
           if e.actor.startswith("user:") and e.actor[5:].isdigit()}
    if not ids:
        return {}
    return {f"user:{uid}": email for uid, email in db.session.execute(
        select(User.id, User.email).where(User.id.in_(ids))).all()}


def message_of(exc: DomainError, lang: str | None = None) -> str:
    """A domain error's message for a person, in the request's (or the given) language."""
    try:
        return error_message(exc, lang)
    except (KeyError, IndexError, ValueError):
        return exc.message

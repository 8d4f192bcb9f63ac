"""The points ledger: append-only entries, FIFO lots and the cached balance.

Every change of points goes through `post`, which runs with the member row locked
(`lock_member`), appends one entry, moves `Member.points` by the same amount, takes debits
from the open lots soonest-expiring first, bumps the pass version and records the
points.changed event (app.outbox), all in the caller's transaction. So at every commit:
`Member.points == sum(entry.points) == sum(entry.remaining)` and the balance is never < 0.

Which lots a debit took its points from is not stored: the rules above are deterministic,
so `replay` works it out again from the member's entries when a void needs it (how much of
a credited lot expired rather than was spent; which lots a voided debit drew on).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, event, func, inspect, select
from sqlalchemy.orm import Session, SessionTransaction, defaultload, defer, joinedload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from app.errors import Conflict, ValidationError
from app.extensions import db
from app.jobs import PASS_UPDATES, wake
from app.loyalty.rules import rules_of
from app.models import LedgerEntry, Member, Program
from app.models.base import utcnow
from app.outbox import record
from app.rows import insert_now, update_now
from app.updates.changes import next_pass, touch_pass

SOURCES = ("pos", "api", "system")
VOIDABLE = ("earn", "redeem", "adjust", "donate", "bonus_welcome", "bonus_referral",
            "bonus_birthday")


@dataclass
class Posting:
    """What to append: kind, signed points, and the entry's optional details."""

    kind: str
    points: int
    amount: Decimal | None = None
    qualifying_points: int = 0
    qualifying_amount: Decimal = Decimal("0")
    reason: str = ""
    source: str = "api"
    actor: str = ""
    reward_id: int | None = None
    cause_id: int | None = None
    voids_entry_id: int | None = None
    idempotency_key: str | None = None
    take_first: LedgerEntry | None = None
    return_to: list[tuple[LedgerEntry, int]] | None = None


def standing_loads(program: _AbstractLoad | None = None, *, tiers: bool = True,
                   rewards: bool = False) -> list[_AbstractLoad]:
    """Loader options that bring a member's tier and program (its rules, and its tiers or
    active rewards as asked) in the member's own query: answers and cards then make no
    lazy loads. `program` continues a given loader (e.g. contains_eager of a join). With the
    program's tiers, the member's tier is not joined again: it is one of them, and a
    many-to-one by key resolves from the session's identity map without a query."""
    program = program if program is not None else joinedload(Member.program)
    loads = [program.joinedload(Program.rules),
             program.joinedload(Program.tiers) if tiers else joinedload(Member.tier)]
    if rewards:
        loads.append(program.joinedload(Program.rewards))
    return loads


def lock_member(member_id: int) -> Member:
    """The member row, re-read under a write lock (PostgreSQL FOR UPDATE; on SQLite every
    write transaction already holds the write lock from BEGIN IMMEDIATE), with its standing
    (program, rules, tiers, tier, the soonest expiry of its open lots) in the same query; no
    query when this transaction has locked the member already."""
    if member_id in db.session.info.get(LOCKED, ()):
        held = db.session.get(Member, member_id)
        if held is not None:
            return held
    row = db.session.execute(locking(select(Member).where(Member.id == member_id)
                                     .options(*standing_loads()))).unique().one_or_none()
    assert row is not None
    return held_locked(*row)


LOCKED = "walletpass_locked_members"
"""Session.info key: the members the current transaction holds locked and fresh, each with
what it knows of their lots and totals (`Known`)."""


@dataclass
class Known:
    """What a transaction holding a member locked knows beyond the row: the soonest expiry
    among their open lots (`expiry_known` False: not known) and qualifying totals it
    summed since the member's last posting, by (basis, window in months). No other
    transaction can add entries meanwhile; `post` keeps both up to date."""

    first_expiry: datetime | None = None
    expiry_known: bool = True
    totals: dict[tuple[str, int | None], Decimal] = field(default_factory=dict)

    def posted(self, entry: LedgerEntry, reopened: bool) -> None:
        """An entry was appended: totals change; a new lot may expire sooner, and lots a
        voided debit took from reopen with expiries unknown here (spent lots only shrink,
        so the soonest expiry known stays a safe lower bound)."""
        self.totals.clear()
        if reopened:
            self.expiry_known = False
        elif entry.remaining and entry.expires_at is not None and (
                self.first_expiry is None or entry.expires_at < self.first_expiry):
            self.first_expiry = entry.expires_at


def known(member_id: int) -> Known | None:
    """What this transaction knows of a member it holds locked (None: not locked)."""
    held: dict[int, Known] = db.session.info.get(LOCKED, {})
    return held.get(member_id)


def first_expiry_column() -> Any:
    """The soonest expiry among the queried member's open lots (a column of the lock query)."""
    return (select(func.min(LedgerEntry.expires_at))
            .where(LedgerEntry.member_id == Member.id, LedgerEntry.remaining > 0,
                   LedgerEntry.expires_at.is_not(None))
            .correlate(Member).scalar_subquery())


def locking(stmt: Select[Any]) -> Select[Any]:
    """A member query that locks and re-reads its rows for a point transaction, adding the
    soonest expiry of their open lots as a second column (pass both to held_locked). The
    program's columns no point transaction reads are not read (UNUSED_WHEN_LOCKED): fewer
    columns to describe and decode on every row of the join."""
    return (stmt.add_columns(first_expiry_column()).with_for_update(of=Member)
            .options(defaultload(Member.program).options(*_UNREAD))
            .execution_options(populate_existing=True))


UNUSED_WHEN_LOCKED = (Program.description, Program.back_text, Program.terms,
                      Program.locations, Program.translations, Program.signup_fields,
                      Program.mail_switches, Program.draft)
"""The program's columns a point transaction does not read (loaded on first use if one
does, at the cost of a query)."""

_UNREAD = tuple(defer(column) for column in UNUSED_WHEN_LOCKED)


def held_locked(member: Member, first_expiry: datetime | None) -> Member:
    """Note that this transaction holds the member locked and fresh (a later `lock_member`
    then runs no query) until it ends, and the soonest expiry of their open lots."""
    db.session.info.setdefault(LOCKED, {})[member.id] = Known(first_expiry)
    return member


@event.listens_for(Session, "after_transaction_end")
def _forget_locked(session: Session, transaction: SessionTransaction) -> None:
    """Locks end with the transaction (and may with a savepoint): forget them (a flush's
    inner transaction ends nothing)."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(LOCKED, None)


MAX_BALANCE = 2_000_000_000
"""The largest balance a member can hold (points columns are 32-bit integers)."""


def post(member: Member, posting: Posting, now: datetime | None = None) -> LedgerEntry:
    """Append one entry and apply it to the (locked) member's balance and lots."""
    now = now or utcnow()
    if posting.points > MAX_BALANCE - member.points:  # 32-bit columns on every database
        raise ValidationError(f"A balance may not exceed {MAX_BALANCE} points; this change "
                              f"of {posting.points} would take it past that.",
                              code="balance_limit")
    if member.points + posting.points < 0:
        raise Conflict(f"The member has {member.points} points; {-posting.points} are needed.",
                       code="insufficient_points",
                       details={"balance": member.points, "needed": -posting.points})
    fields = {k: v for k, v in posting.__dict__.items() if k not in ("take_first", "return_to")}
    entry = LedgerEntry(member_id=member.id, created_at=now, **fields)
    if posting.return_to is not None:  # points go back to the lots a voided debit took
        assert posting.points == sum(points for _, points in posting.return_to) > 0
        entry.remaining, entry.expires_at = 0, None  # `replay` tells such voids by this
        for lot, points in posting.return_to:
            lot.remaining += points
    elif posting.points > 0:
        entry.remaining = posting.points
        entry.expires_at = _expiry(member, now)
    elif posting.points < 0:
        _take_from_lots(member, -posting.points, posting.take_first)
    _write(entry, member, posting.points)
    held = known(member.id)
    if held is not None:
        held.posted(entry, reopened=posting.return_to is not None)
    record(member.program.merchant_id, "points.changed", _event(member, entry),
           member_id=member.id)
    return entry


def _write(entry: LedgerEntry, member: Member, points: int) -> None:
    """Write the new entry and move the member's balance (and pass version, when points
    move): on the hot path (a member already in the database) one INSERT and one UPDATE of
    their own, which leave nothing for the commit's flush; else through the session."""
    if not inspect(member).persistent:
        member.points += points
        if points:
            touch_pass(member)
        db.session.add(entry)
    else:
        values: dict[str, Any] = {"points": member.points + points}
        if points:
            values["pass_version"], values["pass_updated_at"] = next_pass(member)
            wake(db.session(), PASS_UPDATES)
        insert_now(entry)
        update_now(member, values)
    db.session.flush()  # the lots a debit took from, and the slow path's rows


def _expiry(member: Member, now: datetime) -> datetime | None:
    """When points credited now expire under the program's rules (None: never)."""
    days = rules_of(member.program).expiry_days
    return now + timedelta(days=days) if days else None


def _take_from_lots(member: Member, points: int, first: LedgerEntry | None) -> None:
    """Consume `points` from open lots: `first` (if given), then soonest expiry, oldest."""
    lots = list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.member_id == member.id, LedgerEntry.remaining > 0)
        .order_by(LedgerEntry.expires_at.is_(None), LedgerEntry.expires_at, LedgerEntry.id)
        .execution_options(populate_existing=True)))  # fresh: read under the member's lock
    if first is not None and first in lots:
        lots.remove(first)
        lots.insert(0, first)
    for lot in lots:
        if points == 0:
            break
        taken = min(lot.remaining, points)
        lot.remaining -= taken
        points -= taken
    if points:
        raise Conflict("The member's lots do not cover the balance.", code="ledger_mismatch",
                       status=500)


@dataclass
class Replay:
    """Where a member's debits took their points from, worked out again from the ledger.

    `taken[debit id][lot id]` is how many points that debit took from that lot; `expired`
    is, per lot, how many of its points expire entries took (the rest of what the lot lost
    went to redemptions, donations, negative adjustments and voids of other credits).
    """

    taken: dict[int, dict[int, int]] = field(default_factory=dict)
    expired: dict[int, int] = field(default_factory=dict)
    remaining: dict[int, int] = field(default_factory=dict)


def replay(member_id: int) -> Replay:
    """Replay the member's entries in order with `post`'s rules: a credit opens its own lot
    (except a void of a debit stored with remaining 0 and no expiry, whose points went back
    to the lots that debit took them from); a debit takes from the entry it voids first,
    then from open lots soonest expiry, then oldest. An expire entry takes from the
    soonest-expiring open lot, which is the lot the expiry job named (it expires lots in
    that order). Checks the result against the stored `remaining` of every lot: a mismatch
    (the ledger was edited, or written by other rules) raises rather than guesses.

    Call with the member locked (`lock_member`) so no entry is added meanwhile."""
    rows = db.session.execute(
        select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.points, LedgerEntry.remaining,
               LedgerEntry.expires_at, LedgerEntry.voids_entry_id)
        .where(LedgerEntry.member_id == member_id).order_by(LedgerEntry.id)).all()
    out = Replay()
    left = out.remaining
    heap: list[tuple[bool, datetime | None, int]] = []
    queued: set[int] = set()
    keys: dict[int, tuple[bool, datetime | None, int]] = {}

    def credit(lot_id: int, points: int) -> None:
        left[lot_id] = left.get(lot_id, 0) + points
        if lot_id not in queued:
            heapq.heappush(heap, keys[lot_id])
            queued.add(lot_id)

    def take(debit_id: int, kind: str, lot_id: int, points: int) -> None:
        left[lot_id] -= points
        got = out.taken.setdefault(debit_id, {})
        got[lot_id] = got.get(lot_id, 0) + points
        if kind == "expire":
            out.expired[lot_id] = out.expired.get(lot_id, 0) + points

    for entry_id, kind, points, remaining, expires_at, voids in rows:
        keys[entry_id] = (expires_at is None, expires_at, entry_id)
        if points > 0:
            if (kind == "void" and voids is not None and remaining == 0
                    and expires_at is None and voids in out.taken):
                for lot_id, back in out.taken[voids].items():
                    credit(lot_id, back)
            else:
                credit(entry_id, points)
        elif points < 0:
            need = -points
            if kind == "void" and voids is not None and left.get(voids, 0) > 0:
                first = min(left[voids], need)
                take(entry_id, kind, voids, first)
                need -= first
            while need and heap:
                lot_id = heap[0][2]
                if left.get(lot_id, 0) == 0:
                    heapq.heappop(heap)
                    queued.discard(lot_id)
                    continue
                got = min(left[lot_id], need)
                take(entry_id, kind, lot_id, got)
                need -= got
            if need:
                _mismatch(member_id)
    stored = {entry_id: remaining for entry_id, _, _, remaining, _, _ in rows}
    if any(left.get(entry_id, 0) != remaining for entry_id, remaining in stored.items()):
        _mismatch(member_id)
    return out


def _mismatch(member_id: int) -> None:
    """The ledger does not replay to the lots stored: refuse rather than guess."""
    raise Conflict(f"Member {member_id}'s lots do not match a replay of the ledger.",
                   code="ledger_mismatch", status=500)


def _event(member: Member, entry: LedgerEntry) -> dict[str, Any]:
    """The points.changed webhook data."""
    return {"member_id": member.id, "program_id": member.program_id,
            "transaction": entry_json(entry), "points": member.points}


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    """A ledger entry as JSON."""
    return {
        "id": entry.id, "member_id": entry.member_id, "kind": entry.kind,
        "points": entry.points,
        "amount": None if entry.amount is None else str(entry.amount),
        "reason": entry.reason, "source": entry.source, "actor": entry.actor,
        "reward_id": entry.reward_id, "cause_id": entry.cause_id,
        "voids_transaction_id": entry.voids_entry_id,
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "created_at": entry.created_at.isoformat(),
    }


def ledger_balance(member_id: int) -> tuple[int, int]:
    """(sum of entry points, sum of open lot remainders) straight from the ledger."""
    row = db.session.execute(
        select(func.coalesce(func.sum(LedgerEntry.points), 0),
               func.coalesce(func.sum(LedgerEntry.remaining), 0))
        .where(LedgerEntry.member_id == member_id)).one()
    return int(row[0]), int(row[1])


def list_entries(member: Member, limit: int = 50,
                 before_id: int | None = None) -> list[LedgerEntry]:
    """A member's entries, newest first, `limit` at a time before an id (cursor paging)."""
    stmt = select(LedgerEntry).where(LedgerEntry.member_id == member.id)
    if before_id is not None:
        stmt = stmt.where(LedgerEntry.id < before_id)
    return list(db.session.scalars(stmt.order_by(LedgerEntry.id.desc()).limit(limit)))


def voided_ids(entry_ids: list[int]) -> set[int]:
    """Which of these entries have been voided."""
    if not entry_ids:
        return set()
    return set(db.session.scalars(select(LedgerEntry.voids_entry_id)
                                  .where(LedgerEntry.voids_entry_id.in_(entry_ids))))

"""The rollup sweep: closes a program's finished local days into the analytics tables.

A day is closed once `CLOSE_AFTER` has passed since it ended in the program's zone, and
every figure of it is written at once (so distinct counts are exact), a chunk of days per
transaction. Run twice it finds nothing left to close; two workers at once serialise on
the program's state row. The first run backfills every day since the program's first data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update

from app.analytics import queries as q
from app.analytics.period import Period, day_of, local_day, local_midnight
from app.extensions import db
from app.models import (
    CardEvent,
    DailyActive,
    DailyCards,
    DailyDonations,
    DailyPoints,
    DailySignups,
    LedgerEntry,
    Member,
    MemberMilestones,
    Program,
    RollupState,
)
from app.models.analytics import GAP_NONE
from app.models.base import utcnow

CLOSE_AFTER = timedelta(minutes=15)
"""How long after a day ends it is closed (writes dated in it have long committed)."""
CHUNK_DAYS = 31
MAX_GAP = 400
"""Longer than any range the page shows (period.MAX_DAYS): older activity counts as none."""
MILESTONES = {"installed_day": None, "earned_day": "earn", "redeemed_day": "redeem"}


def roll_up_all(now: datetime | None = None) -> int:
    """Close the finished days of every program; returns how many days were closed."""
    ids = list(db.session.scalars(select(Program.id).order_by(Program.id)))
    db.session.commit()
    return sum(roll_up(program_id, now) for program_id in ids)


def roll_up(program_id: int, now: datetime | None = None) -> int:
    """Close the program's finished days, a chunk per transaction; returns days closed."""
    closed = 0
    while True:
        done = _close_chunk(program_id, now or utcnow())
        db.session.commit()
        if not done:
            return closed
        closed += done


def _close_chunk(program_id: int, now: datetime) -> int:
    """Close up to CHUNK_DAYS days after the state's; the number closed."""
    program = db.session.get(Program, program_id)
    if program is None:
        return 0
    target = q.number(local_day(now - CLOSE_AFTER, program.zone)) - 1
    state = db.session.scalar(select(RollupState).where(RollupState.program_id == program_id)
                              .with_for_update().execution_options(populate_existing=True))
    if state is None:
        state = RollupState(program_id=program_id,
                            closed_through=min(_first_day(program) - 1, target))
        db.session.add(state)
        db.session.flush()
    if state.closed_through >= target:
        return 0
    first = state.closed_through + 1
    last = min(target, first + CHUNK_DAYS - 1)
    close_days(program, Period(program.zone, day_of(first), day_of(last)))
    state.closed_through = last
    db.session.flush()
    return last - first + 1


def _first_day(program: Program) -> int:
    """The day of the program's earliest member, ledger entry or card event (today if none)."""
    firsts = [db.session.scalar(select(func.min(Member.created_at))
                                .where(Member.program_id == program.id)),
              db.session.scalar(select(func.min(LedgerEntry.created_at))
                                .where(q.of_program(program.id))),
              db.session.scalar(select(func.min(CardEvent.created_at))
                                .where(CardEvent.program_id == program.id))]
    known = [at for at in firsts if at is not None]
    return q.number(local_day(min(known) if known else utcnow(), program.zone))


def close_days(program: Program, period: Period) -> None:
    """Write every rollup row of the period's days (which no rollup holds yet)."""
    pid = program.id
    _write(DailyPoints, ({"program_id": pid, "day": q.number(day), "category": cat,
                          "points": points}
                         for day, cats in q.points_live(pid, period).items()
                         for cat, points in cats.items() if points))
    _write(DailySignups, ({"program_id": pid, "day": q.number(day), "source": source,
                           "location_id": location or 0, "members": n}
                          for day, source, location, n in q.signups_live(pid, period)))
    _write(DailyCards, ({"program_id": pid, "day": q.number(day), "wallet": k[0],
                         "event": k[1], "cards": n}
                        for day, keys in q.card_events_live(pid, period).items()
                        for k, n in ((key.split("_", 1), n) for key, n in keys.items())))
    _write(DailyDonations, ({"program_id": pid, "day": q.number(day), "cause_id": cause,
                             "points": points}
                            for day, cause, points in q.donations_live(pid, period)))
    _milestones(pid, period)


def _write(model: Any, rows: Iterable[dict[str, Any]]) -> None:
    """Insert rows with Core executemany, in batches."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 5000:
            db.session.execute(insert(model), batch)
            batch = []
    if batch:
        db.session.execute(insert(model), batch)


def _milestones(pid: int, period: Period) -> None:
    """Daily active members by gap, and each member's milestones, for the period's days."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for signed_up, (member_id,) in q.per_day(period, Member.created_at, lambda d: (
            select(d, Member.id).where(Member.program_id == pid))):
        found[int(member_id)]["signup_day"] = q.number(signed_up)
    for field, kind in MILESTONES.items():
        for member_id, day in _first_days(pid, period, kind):
            found[member_id][field] = day
    active: dict[int, set[int]] = defaultdict(set)  # a DST day comes in two stretches
    for busy, (member_id,) in q.per_day(period, LedgerEntry.created_at, lambda d: (
            select(d, LedgerEntry.member_id).where(q.of_program(pid)).distinct())):
        active[int(member_id)].add(q.number(busy))
    known = _known(set(found) | set(active))
    gaps: dict[tuple[int, int], int] = defaultdict(int)
    for member_id, days in active.items():
        last = known.get(member_id, {}).get("active_day")
        for day in sorted(days):
            gap = GAP_NONE if last is None or day - last > MAX_GAP else day - last
            gaps[day, gap] += 1
            last = day
        found[member_id]["active_day"] = last  # type: ignore[assignment]
    _write(DailyActive, ({"program_id": pid, "day": day, "gap": gap, "members": n}
                         for (day, gap), n in gaps.items()))
    _save_milestones(pid, found, known)


def _first_days(pid: int, period: Period, kind: str | None) -> list[tuple[int, int]]:
    """(member id, first day in the period) of members with an install (kind None) or a
    ledger entry of `kind`."""
    if kind is None:
        rows = q.per_day(period, CardEvent.created_at, lambda d: (
            select(d, CardEvent.member_id).where(CardEvent.program_id == pid,
                                                 CardEvent.event == "install").distinct()))
    else:
        rows = q.per_day(period, LedgerEntry.created_at, lambda d: (
            select(d, LedgerEntry.member_id).where(q.of_program(pid), LedgerEntry.kind == kind,
                                                   q.not_undone()).distinct()))
    first: dict[int, int] = {}
    for day, (member_id,) in rows:
        number = q.number(day)
        if first.get(int(member_id), number) >= number:
            first[int(member_id)] = number
    return list(first.items())


def entry_undone(entry: LedgerEntry) -> None:
    """After a void of an earn or a redemption (in the void's transaction): the member's
    stored first-earn or first-redemption day, found again among the entries of the closed
    days that are not undone (None when there is none; the live days are read live)."""
    field = {"earn": "earned_day", "redeem": "redeemed_day"}.get(entry.kind)
    member = db.session.get(Member, entry.member_id)
    through = q.closed_through(member.program_id) if field and member else None
    if field is None or member is None or through is None:
        return
    zone = member.program.zone
    end = local_midnight(day_of(through) + timedelta(days=1), zone)
    first = db.session.scalar(select(func.min(LedgerEntry.created_at)).where(
        LedgerEntry.member_id == member.id, LedgerEntry.kind == entry.kind,
        LedgerEntry.created_at < end, q.not_undone()))
    table = MemberMilestones.__table__
    db.session.execute(update(table).where(table.c.member_id == member.id).values(
        {field: None if first is None else q.number(local_day(first, zone))}))


def _known(member_ids: set[int]) -> dict[int, dict[str, Any]]:
    """The stored milestones of these members."""
    out: dict[int, dict[str, Any]] = {}
    ids = sorted(member_ids)
    table = MemberMilestones.__table__
    for start in range(0, len(ids), 500):
        for row in db.session.execute(select(table).where(
                table.c.member_id.in_(ids[start:start + 500]))).mappings():
            out[row["member_id"]] = dict(row)
    return out


def _save_milestones(pid: int, found: dict[int, dict[str, int]],
                     known: dict[int, dict[str, Any]]) -> None:
    """Insert new members' milestones; fill the ones known members reached for the first
    time (a milestone once set stays: later days come after it) and their last activity."""
    fields = ("signup_day", *MILESTONES)
    new = [{"member_id": m, "program_id": pid, **dict.fromkeys(fields), "active_day": None,
            **got} for m, got in found.items() if m not in known]
    _write(MemberMilestones, new)
    changed = []
    for member_id, got in found.items():
        if member_id not in known:
            continue
        row = dict(known[member_id])
        for name in fields:
            if row[name] is None and name in got:
                row[name] = got[name]
        if "active_day" in got:
            row["active_day"] = got["active_day"]
        if row != known[member_id]:
            changed.append({f"b_{k}": v for k, v in row.items()})
    if changed:
        table = MemberMilestones.__table__
        db.session.execute(update(table).where(table.c.member_id == db.bindparam("b_member_id"))
                           .values({name: db.bindparam(f"b_{name}")
                                    for name in (*fields, "active_day")}), changed)


"""What the analytics charts show for one program over a Period (local days of the
program's zone): the days the rollup sweep has closed come from the rollup tables
(app.models.analytics), the days after them straight from the members, the ledger and the
card log (the `*_live` functions, which the sweep also uses to close days).

Every function returns plain data (dicts of counts and sums), so the numbers can be
checked against the ledger and drawn or exported without touching SQL again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, case, exists, func, or_, select, true
from sqlalchemy.orm import aliased

from app.analytics.period import (
    EPOCH,
    Period,
    day_number,
    day_of,
    local_midnight,
    offset_stretches,
)
from app.extensions import db
from app.models import (
    CardEvent,
    Cause,
    DailyActive,
    DailyCards,
    DailyDonations,
    DailyPoints,
    DailySignups,
    LedgerEntry,
    Member,
    MemberMilestones,
    RollupState,
    StoreLocation,
    Tier,
)

CHANNELS = ("poster", "link", "import", "api", "dashboard")
ISSUED = ("earn", "bonus_welcome", "bonus_referral", "bonus_birthday")
CATEGORIES = ("issued", "redeemed", "donated", "expired", "adjusted")
"""How points moved: issued (earns and bonuses) and redeemed, donated and expired (as
positive numbers), adjusted (signed); each net of the voids of its own entries."""

Counts = dict[date, dict[str, int]]


def per_day(period: Period, column: Any,
            build: Callable[[Any], Select[Any]]) -> list[tuple[date, Any]]:
    """Run `build(day expression)` once per stretch of constant UTC offset, restricted to
    the stretch, and give back its rows with the day number turned into a date."""
    rows: list[tuple[date, Any]] = []
    for low, high, offset in offset_stretches(period.start, period.end, period.zone):
        stmt = build(day_number(column, offset)).where(column >= low, column < high)
        rows += [(day_of(row[0]), row[1:]) for row in db.session.execute(stmt)]
    return rows


def of_program(program_id: int) -> Any:
    """The ledger entries of a program's members (the ledger has no program column). The
    `+ 0` keeps SQLite from probing the ledger once per member: every caller bounds the
    time, so walking the entries of that time is the short way."""
    return (LedgerEntry.member_id + 0).in_(select(Member.id)
                                          .where(Member.program_id == program_id))


def not_undone() -> Any:
    """SQL: the ledger entry has not been voided (an undone earn or redemption is no
    member's first earn or redemption)."""
    undo = aliased(LedgerEntry)
    return ~exists().where(undo.voids_entry_id == LedgerEntry.id)


def number(day: date) -> int:
    """The day number (days since 1970-01-01) of a date."""
    return (day - EPOCH).days


def closed_through(program_id: int) -> int | None:
    """The last day number in the program's rollups (None: the sweep has not run yet)."""
    return db.session.scalar(select(RollupState.closed_through)
                             .where(RollupState.program_id == program_id))


@dataclass(frozen=True)
class Split:
    """A period cut where the rollups end: its closed days (first..last day numbers, or
    None) and the days after them, read live (a Period, or None)."""

    closed: tuple[int, int] | None
    live: Period | None
    live_from: datetime | None
    """Where live reading starts: the UTC instant the first unclosed day begins (None: at
    the beginning, nothing is closed)."""


def split(program_id: int, period: Period) -> Split:
    """The period's days in the rollups and after them."""
    through = closed_through(program_id)
    first, last = number(period.first), number(period.last)
    if through is None:
        return Split(None, period, None)
    closed = (first, min(last, through)) if first <= through else None
    live = (Period(period.zone, day_of(max(first, through + 1)), period.last)
            if last > through else None)
    return Split(closed, live, local_midnight(day_of(through + 1), period.zone))


def _days(model: Any, program_id: int, days: tuple[int, int]) -> tuple[Any, ...]:
    """WHERE: a rollup's rows of a program and a range of day numbers."""
    return (model.program_id == program_id, model.day >= days[0], model.day <= days[1])


def signups(program_id: int, period: Period) -> Counts:
    """New members per day and channel (Member.source)."""
    out: Counts = defaultdict(lambda: dict.fromkeys(CHANNELS, 0))
    part = split(program_id, period)
    rows: list[tuple[date, str, int]] = []
    if part.closed:
        rows += [(day_of(day), source, n) for day, source, n in db.session.execute(
            select(DailySignups.day, DailySignups.source, func.sum(DailySignups.members))
            .where(*_days(DailySignups, program_id, part.closed))
            .group_by(DailySignups.day, DailySignups.source))]
    if part.live:
        rows += [(day, source, n) for day, source, _, n in signups_live(program_id, part.live)]
    for day, source, count in rows:
        out[day][source] = out[day].get(source, 0) + int(count)
    return dict(out)


def signups_live(program_id: int, period: Period) -> list[tuple[date, str, int | None, int]]:
    """(day, channel, store location, new members) from the member rows."""
    rows = per_day(period, Member.created_at, lambda day: (
        select(day, Member.source, Member.location_id, func.count())
        .where(Member.program_id == program_id)
        .group_by(day, Member.source, Member.location_id)))
    return [(day, source, location, int(n)) for day, (source, location, n) in rows]


def signups_by_location(program_id: int, period: Period) -> list[tuple[str, int]]:
    """Poster signups per store location over the range, biggest first."""
    part = split(program_id, period)
    rows: list[Any] = []
    if part.closed:
        rows += db.session.execute(
            select(StoreLocation.name, StoreLocation.id, func.sum(DailySignups.members))
            .join(DailySignups, DailySignups.location_id == StoreLocation.id)
            .where(*_days(DailySignups, program_id, part.closed))
            .group_by(StoreLocation.id, StoreLocation.name)).all()
    if part.live:
        rows += db.session.execute(
            select(StoreLocation.name, StoreLocation.id, func.count(Member.id))
            .join(Member, Member.location_id == StoreLocation.id)
            .where(Member.program_id == program_id, Member.created_at >= part.live.start,
                   Member.created_at < part.live.end)
            .group_by(StoreLocation.id, StoreLocation.name)).all()
    return _by_name(rows)


def _by_name(rows: list[Any]) -> list[tuple[str, int]]:
    """(name, id, n) rows summed per id, as (name, n) biggest first."""
    merged: dict[int, tuple[str, int]] = {}
    for name, row_id, n in rows:
        merged[row_id] = (name, merged.get(row_id, (name, 0))[1] + int(n))
    return sorted(merged.values(), key=lambda r: (-r[1], r[0]))


def card_events(program_id: int, period: Period) -> Counts:
    """Cards installed and removed per day, keyed "apple_install", "google_remove"..."""
    part = split(program_id, period)
    out: Counts = defaultdict(dict)
    if part.closed:
        for day, wallet, event, n in db.session.execute(
                select(DailyCards.day, DailyCards.wallet, DailyCards.event, DailyCards.cards)
                .where(*_days(DailyCards, program_id, part.closed))):
            out[day_of(day)][f"{wallet}_{event}"] = int(n)
    if part.live:
        out.update(card_events_live(program_id, part.live))
    return dict(out)


def card_events_live(program_id: int, period: Period) -> Counts:
    """Cards installed and removed per day from the card log."""
    out: Counts = defaultdict(dict)
    rows = per_day(period, CardEvent.created_at, lambda day: (
        select(day, CardEvent.wallet, CardEvent.event, func.count())
        .where(CardEvent.program_id == program_id)
        .group_by(day, CardEvent.wallet, CardEvent.event)))
    for day, (wallet, event, count) in rows:
        key = f"{wallet}_{event}"
        out[day][key] = out[day].get(key, 0) + int(count)
    return dict(out)


def funnel(program_id: int, period: Period) -> dict[str, int]:
    """Of the members who signed up in the range, how many by its end had a card installed
    in a wallet, a first earn, a first redemption (earns and redemptions since undone do
    not count)."""
    part = split(program_id, period)
    out = dict.fromkeys(("signup", "installed", "earned", "redeemed"), 0)
    if part.closed:
        for step, n in _funnel_closed(program_id, period, part).items():
            out[step] += n
    if part.live:
        for step, n in _funnel_live(program_id, period, part.live.start).items():
            out[step] += n
    return out


def _funnel_closed(program_id: int, period: Period, part: Split) -> dict[str, int]:
    """The funnel of the members who signed up in the closed days: their milestones, and
    for those not reached there, the live days up to the range's end."""
    assert part.closed is not None
    m = MemberMilestones
    last = number(period.last)
    cohort = (m.program_id == program_id, m.signup_day >= part.closed[0],
              m.signup_day <= part.closed[1])
    counts = db.session.execute(select(
        func.count(), *(func.count(case((column <= last, 1)))
                        for column in (m.installed_day, m.earned_day, m.redeemed_day)))
        .where(*cohort)).one()
    out = dict(zip(("signup", "installed", "earned", "redeemed"), map(int, counts),
                   strict=True))
    if part.live is None:
        return out

    assert part.live_from is not None
    since = (part.live_from, period.end)
    out["installed"] += _reached_later(cohort, m.installed_day, CardEvent.member_id,
                                       CardEvent.created_at, CardEvent.event == "install",
                                       since)
    for step, column, kind in (("earned", m.earned_day, "earn"),
                               ("redeemed", m.redeemed_day, "redeem")):
        out[step] += _reached_later(cohort, column, LedgerEntry.member_id,
                                    LedgerEntry.created_at,
                                    (LedgerEntry.kind == kind) & not_undone(), since)
    return out


def _reached_later(cohort: tuple[Any, ...], milestone: Any, who: Any, at: Any, what: Any,
                   window: tuple[datetime, datetime]) -> int:
    """Cohort members without the milestone in the closed days who reached it in the
    window (rows `what` of a table keyed by member `who`, timed `at`)."""
    m = MemberMilestones
    return int(db.session.scalar(
        select(func.count()).select_from(m)
        .where(*cohort, milestone.is_(None), m.member_id.in_(
            select(who).where(what, at >= window[0], at < window[1])))) or 0)


def _funnel_live(program_id: int, period: Period, since: datetime) -> dict[str, int]:
    """The funnel of the members who signed up after the closed days, from the ledger."""
    cohort = (Member.program_id == program_id, Member.created_at >= since,
              Member.created_at < period.end)

    def reached(condition: Any) -> int:
        return int(db.session.scalar(select(func.count()).select_from(Member)
                                     .where(*cohort, condition)) or 0)

    def had(kind: str) -> Any:
        return exists().where(LedgerEntry.member_id == Member.id, LedgerEntry.kind == kind,
                              LedgerEntry.created_at < period.end, not_undone())

    installed = exists().where(CardEvent.member_id == Member.id, CardEvent.event == "install",
                               CardEvent.created_at < period.end)
    return {"signup": reached(true()), "installed": reached(installed),
            "earned": reached(had("earn")), "redeemed": reached(had("redeem"))}


def active_members(program_id: int, period: Period) -> tuple[dict[date, int], int]:
    """Members with at least one ledger entry: per day, and over the whole range."""
    part = split(program_id, period)
    daily: dict[date, int] = {}
    total = 0
    if part.closed:
        first = part.closed[0]
        daily.update((day_of(day), int(n)) for day, n in db.session.execute(
            select(DailyActive.day, func.sum(DailyActive.members))
            .where(*_days(DailyActive, program_id, part.closed)).group_by(DailyActive.day)))
        total += int(db.session.scalar(  # each member once: on its first day in the range
            select(func.coalesce(func.sum(DailyActive.members), 0))
            .where(*_days(DailyActive, program_id, part.closed),
                   DailyActive.gap > DailyActive.day - first)) or 0)
    if part.live:
        daily.update(_active_live(program_id, part.live))
        total += _active_after(program_id, part.live, number(period.first))
    return daily, total


def _active_live(program_id: int, period: Period) -> dict[date, int]:
    """Members with a ledger entry per day, from the ledger."""
    rows = per_day(period, LedgerEntry.created_at, lambda day: (
        select(day, func.count(LedgerEntry.member_id.distinct()))
        .where(of_program(program_id)).group_by(day)))
    return {day: int(count) for day, (count,) in rows}


def _active_after(program_id: int, live: Period, first: int) -> int:
    """Members with a ledger entry in the live days who had none in the closed days from
    day number `first` on (their last closed activity is before it, or unknown)."""
    m = MemberMilestones
    return int(db.session.scalar(
        select(func.count(LedgerEntry.member_id.distinct()))
        .outerjoin(m, m.member_id == LedgerEntry.member_id)
        .where(of_program(program_id), LedgerEntry.created_at >= live.start,
               LedgerEntry.created_at < live.end,
               or_(m.active_day.is_(None), m.active_day < first))) or 0)


def points_moved(program_id: int, period: Period) -> Counts:
    """Points per day and category (CATEGORIES), voids counted against what they void."""
    part = split(program_id, period)
    out: Counts = defaultdict(lambda: dict.fromkeys(CATEGORIES, 0))
    if part.closed:
        for day, category, points in db.session.execute(
                select(DailyPoints.day, DailyPoints.category, DailyPoints.points)
                .where(*_days(DailyPoints, program_id, part.closed))):
            out[day_of(day)][category] += int(points)
    if part.live:
        out.update(points_live(program_id, part.live))
    return dict(out)


def points_live(program_id: int, period: Period) -> Counts:
    """Points per day and category from the ledger."""
    voided = aliased(LedgerEntry)
    out: Counts = defaultdict(lambda: dict.fromkeys(CATEGORIES, 0))
    rows = per_day(period, LedgerEntry.created_at, lambda day: (
        select(day, LedgerEntry.kind, voided.kind, func.sum(LedgerEntry.points))
        .outerjoin(voided, voided.id == LedgerEntry.voids_entry_id)
        .where(of_program(program_id)).group_by(day, LedgerEntry.kind, voided.kind)))
    for day, (kind, voided_kind, points) in rows:
        category, sign = category_of(voided_kind if kind == "void" else kind)
        out[day][category] += sign * int(points)
    return dict(out)


def category_of(kind: str | None) -> tuple[str, int]:
    """The category of an entry kind, and the sign that makes its figure positive."""
    if kind in ISSUED:
        return "issued", 1
    if kind == "redeem":
        return "redeemed", -1
    if kind == "donate":
        return "donated", -1
    if kind == "expire":
        return "expired", -1
    return "adjusted", 1


def balance_before(program_id: int, period: Period) -> int:
    """Points the program's members held when the period began: the net of every closed
    day before it, and of the ledger from the closed days' end to the period's start."""
    part = split(program_id, period)
    through = closed_through(program_id)
    held = 0
    if through is not None:
        before = min(number(period.first) - 1, through)
        sums = dict(db.session.execute(
            select(DailyPoints.category, func.sum(DailyPoints.points))
            .where(DailyPoints.program_id == program_id, DailyPoints.day <= before)
            .group_by(DailyPoints.category)).all())
        held += net({category: int(points) for category, points in sums.items()})
    if part.live_from is None or part.live_from < period.start:
        stmt = (select(func.coalesce(func.sum(LedgerEntry.points), 0))
                .where(of_program(program_id), LedgerEntry.created_at < period.start))
        if part.live_from is not None:
            stmt = stmt.where(LedgerEntry.created_at >= part.live_from)
        held += int(db.session.scalar(stmt) or 0)
    return held


def outstanding(program_id: int, period: Period, moved: Counts) -> dict[date, int]:
    """Points outstanding at the end of each day of the range."""
    balance = balance_before(program_id, period)
    out: dict[date, int] = {}
    for day in period.days():
        balance += net(moved.get(day, {}))
        out[day] = balance
    return out


def net(categories: dict[str, int]) -> int:
    """The ledger's net change for one day's categories."""
    return (categories.get("issued", 0) - categories.get("redeemed", 0)
            - categories.get("donated", 0) - categories.get("expired", 0)
            + categories.get("adjusted", 0))


def redemption_rate(redeemed: int, issued: int) -> Decimal | None:
    """Redeemed points as a percentage of issued points (2 places, half up); None if none
    were issued."""
    if issued <= 0:
        return None
    return (Decimal(100 * redeemed) / Decimal(issued)).quantize(Decimal("0.01"),
                                                                 rounding=ROUND_HALF_UP)


def liability(points: int, point_value: Decimal | None) -> Decimal | None:
    """What outstanding points are worth in the program's currency (None: value not set)."""
    if point_value is None:
        return None
    return (Decimal(points) * point_value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def tier_distribution(program_id: int) -> list[tuple[str | None, int]]:
    """Members per tier today, lowest tier first; None is members with no tier."""
    counts = dict(db.session.execute(
        select(Member.tier_id, func.count()).where(Member.program_id == program_id)
        .group_by(Member.tier_id)).all())
    tiers = db.session.execute(select(Tier.id, Tier.name).where(Tier.program_id == program_id)
                               .order_by(Tier.threshold, Tier.id)).all()
    out: list[tuple[str | None, int]] = [(None, int(counts.get(None, 0)))]
    return out + [(name, int(counts.get(tier_id, 0))) for tier_id, name in tiers]


def donations(program_id: int, period: Period) -> list[tuple[str, int]]:
    """Points donated per cause over the range, net of voided donations, biggest first."""
    part = split(program_id, period)
    rows: list[Any] = []
    if part.closed:
        rows += db.session.execute(
            select(Cause.name, Cause.id, func.sum(DailyDonations.points))
            .join(DailyDonations, DailyDonations.cause_id == Cause.id)
            .where(*_days(DailyDonations, program_id, part.closed))
            .group_by(Cause.id, Cause.name)).all()
    if part.live:
        rows += db.session.execute(
            select(Cause.name, Cause.id, -func.sum(LedgerEntry.points))
            .join(LedgerEntry, LedgerEntry.cause_id == Cause.id)
            .where(Cause.program_id == program_id, LedgerEntry.created_at >= part.live.start,
                   LedgerEntry.created_at < part.live.end)
            .group_by(Cause.id, Cause.name)).all()
    return _by_name(rows)


def donations_live(program_id: int, period: Period) -> list[tuple[date, int, int]]:
    """(day, cause, points donated net of voids) from the ledger."""
    rows = per_day(period, LedgerEntry.created_at, lambda day: (
        select(day, LedgerEntry.cause_id, func.sum(LedgerEntry.points))
        .join(Cause, Cause.id == LedgerEntry.cause_id)
        .where(Cause.program_id == program_id).group_by(day, LedgerEntry.cause_id)))
    return [(day, int(cause), -int(points)) for day, (cause, points) in rows]


def totals(rows: dict[date, dict[str, int]], keys: tuple[str, ...]) -> dict[str, int]:
    """Sums over the days of per-day counts."""
    out = dict.fromkeys(keys, 0)
    for counts in rows.values():
        for key, value in counts.items():
            out[key] = out.get(key, 0) + value
    return out

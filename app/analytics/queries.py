"""What the analytics charts show, queried straight from the members, the ledger and the
card log of one program over a Period (local days of the program's zone).

Every function returns plain data (dicts of counts and sums), so the numbers can be
checked against the ledger and drawn or exported without touching SQL again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, exists, func, select, true
from sqlalchemy.orm import aliased

from app.analytics.period import Period, day_number, day_of, offset_stretches
from app.extensions import db
from app.models import CardEvent, Cause, LedgerEntry, Member, StoreLocation, Tier

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
    """The ledger entries of a program's members (the ledger has no program column)."""
    return LedgerEntry.member_id.in_(select(Member.id).where(Member.program_id == program_id))


def signups(program_id: int, period: Period) -> Counts:
    """New members per day and channel (Member.source)."""
    out: Counts = defaultdict(lambda: dict.fromkeys(CHANNELS, 0))
    rows = per_day(period, Member.created_at, lambda day: (
        select(day, Member.source, func.count()).where(Member.program_id == program_id)
        .group_by(day, Member.source)))
    for day, (source, count) in rows:
        out[day][source] = out[day].get(source, 0) + int(count)
    return dict(out)


def signups_by_location(program_id: int, period: Period) -> list[tuple[str, int]]:
    """Poster signups per store location over the range, biggest first."""
    rows = db.session.execute(
        select(StoreLocation.name, StoreLocation.id, func.count(Member.id))
        .join(Member, Member.location_id == StoreLocation.id)
        .where(Member.program_id == program_id, Member.created_at >= period.start,
               Member.created_at < period.end)
        .group_by(StoreLocation.id, StoreLocation.name)).all()
    return sorted(((name, int(n)) for name, _, n in rows), key=lambda r: (-r[1], r[0]))


def card_events(program_id: int, period: Period) -> Counts:
    """Cards installed and removed per day, keyed "apple_install", "google_remove"..."""
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
    in a wallet, a first earn, a first redemption."""
    cohort = (Member.program_id == program_id, Member.created_at >= period.start,
              Member.created_at < period.end)

    def reached(condition: Any) -> int:
        return int(db.session.scalar(select(func.count()).select_from(Member)
                                     .where(*cohort, condition)) or 0)

    def had(kind: str) -> Any:
        return exists().where(LedgerEntry.member_id == Member.id, LedgerEntry.kind == kind,
                              LedgerEntry.created_at < period.end)

    installed = exists().where(CardEvent.member_id == Member.id, CardEvent.event == "install",
                               CardEvent.created_at < period.end)
    return {"signup": reached(true()), "installed": reached(installed),
            "earned": reached(had("earn")), "redeemed": reached(had("redeem"))}


def active_members(program_id: int, period: Period) -> tuple[dict[date, int], int]:
    """Members with at least one ledger entry: per day, and over the whole range."""
    rows = per_day(period, LedgerEntry.created_at, lambda day: (
        select(day, func.count(LedgerEntry.member_id.distinct()))
        .where(of_program(program_id)).group_by(day)))
    daily = {day: int(count) for day, (count,) in rows}
    total = db.session.scalar(
        select(func.count(LedgerEntry.member_id.distinct()))
        .where(of_program(program_id), LedgerEntry.created_at >= period.start,
               LedgerEntry.created_at < period.end))
    return daily, int(total or 0)


def points_moved(program_id: int, period: Period) -> Counts:
    """Points per day and category (CATEGORIES), voids counted against what they void."""
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


def balance_at(program_id: int, moment: Any) -> int:
    """Points the program's members held at an instant: today's balances less what the
    ledger recorded since (Member.points is the sum of the member's entries)."""
    now = db.session.scalar(select(func.coalesce(func.sum(Member.points), 0))
                            .where(Member.program_id == program_id))
    since = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0))
                              .where(of_program(program_id), LedgerEntry.created_at >= moment))
    return int(now or 0) - int(since or 0)


def outstanding(program_id: int, period: Period, moved: Counts) -> dict[date, int]:
    """Points outstanding at the end of each day of the range."""
    balance = balance_at(program_id, period.end)
    out: dict[date, int] = {}
    for day in reversed(period.days()):
        out[day] = balance
        balance -= net(moved.get(day, {}))
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
    rows = db.session.execute(
        select(Cause.name, Cause.id, func.sum(LedgerEntry.points))
        .join(LedgerEntry, LedgerEntry.cause_id == Cause.id)
        .where(Cause.program_id == program_id, LedgerEntry.created_at >= period.start,
               LedgerEntry.created_at < period.end)
        .group_by(Cause.id, Cause.name)).all()
    return sorted(((name, -int(points)) for name, _, points in rows),
                  key=lambda r: (-r[1], r[0]))


def totals(rows: dict[date, dict[str, int]], keys: tuple[str, ...]) -> dict[str, int]:
    """Sums over the days of per-day counts."""
    out = dict.fromkeys(keys, 0)
    for counts in rows.values():
        for key, value in counts.items():
            out[key] = out.get(key, 0) + value
    return out

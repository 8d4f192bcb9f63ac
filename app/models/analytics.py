"""Analytics rollups: per program, the figures of every closed local day (a day of the
program's zone that ended a while ago), written once when the sweep closes the day.

Days are stored as day numbers (days since 1970-01-01 in the program's zone), so range
arithmetic is plain integer SQL on every database. A day is closed once and never changes:
every ledger entry, member and card event is dated when it is written (voids and expiries
are new entries dated then), so nothing lands in a day long after it ended. What is newer
than `closed_through` is read live from the ledger.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class RollupState(db.Model):  # type: ignore[name-defined,misc]
    """How far a program's rollups reach: every day up to `closed_through` is in them."""

    __tablename__ = "analytics_state"

    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    closed_through: Mapped[int] = mapped_column(Integer)


def _program() -> Mapped[int]:
    return mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)


class DailyPoints(db.Model):  # type: ignore[name-defined,misc]
    """Points per day and category (as the points chart shows them, voids netted)."""

    __tablename__ = "analytics_daily_points"

    program_id: Mapped[int] = _program()
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(10), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)


class DailySignups(db.Model):  # type: ignore[name-defined,misc]
    """New members per day, channel and store location (0: none)."""

    __tablename__ = "analytics_daily_signups"

    program_id: Mapped[int] = _program()
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    location_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    members: Mapped[int] = mapped_column(Integer)


class DailyCards(db.Model):  # type: ignore[name-defined,misc]
    """Card installs and removals per day and wallet."""

    __tablename__ = "analytics_daily_cards"

    program_id: Mapped[int] = _program()
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    wallet: Mapped[str] = mapped_column(String(8), primary_key=True)
    event: Mapped[str] = mapped_column(String(8), primary_key=True)
    cards: Mapped[int] = mapped_column(Integer)


class DailyDonations(db.Model):  # type: ignore[name-defined,misc]
    """Points donated per day and cause, net of voided donations."""

    __tablename__ = "analytics_daily_donations"

    program_id: Mapped[int] = _program()
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    cause_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)


class DailyActive(db.Model):  # type: ignore[name-defined,misc]
    """Members with a ledger entry on a day, by how many days before it they last had one
    (GAP_NONE: not within MAX_GAP days). A range's distinct active members are then the
    rows of its days whose previous activity falls before the range: a plain sum."""

    __tablename__ = "analytics_daily_active"

    program_id: Mapped[int] = _program()
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    gap: Mapped[int] = mapped_column(Integer, primary_key=True)
    members: Mapped[int] = mapped_column(Integer)


GAP_NONE = 10_000
"""The gap of a member's first activity (or after more than a range's length)."""


class MemberMilestones(db.Model):  # type: ignore[name-defined,misc]
    """A member's signup day and first install, earn and redemption day, and last day with a
    ledger entry, as far as the closed days know (None: not within them)."""

    __tablename__ = "analytics_member_milestones"
    __table_args__ = (Index("ix_analytics_member_milestones_signup", "program_id",
                            "signup_day"),)

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    signup_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    installed_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    earned_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    redeemed_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active_day: Mapped[int | None] = mapped_column(Integer, nullable=True)

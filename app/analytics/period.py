"""A range of local days in a program's time zone, and how SQL buckets timestamps into them.

Timestamps are stored in UTC. A local day is found in SQL as
``(epoch seconds + UTC offset) // 86400`` (days since 1970-01-01), one query per stretch of
time with a constant offset: a range crosses at most a few daylight-saving changes, and
each stretch is found exactly (to the second) with zoneinfo, so the bucketing is exact
on both databases and needs no time zone support in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, cast, func

from app.extensions import db

EPOCH = date(1970, 1, 1)
MAX_DAYS = 366
FIRST_DAY = date(2000, 1, 1)  # the days a range may cover: far from the ends of `date`
LAST_DAY = date(2100, 12, 31)


@dataclass(frozen=True)
class Period:
    """The days first..last (inclusive) in `zone`."""

    zone: ZoneInfo
    first: date
    last: date

    @property
    def start(self) -> datetime:
        """The UTC instant the first day begins."""
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The UTC instant after the last day ends (exclusive)."""
        return local_midnight(self.last + timedelta(days=1), self.zone)

    def days(self) -> list[date]:
        """Every day of the range, in order."""
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day begins (a midnight skipped by DST resolves forward)."""
    local = datetime.combine(day, time(0), zone)
    return local.astimezone(UTC).astimezone(zone).astimezone(UTC)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The local day of a UTC instant."""
    return moment.astimezone(zone).date()


def offset_stretches(start: datetime, end: datetime,
                     zone: ZoneInfo) -> list[tuple[datetime, datetime, int]]:
    """[(from, to, UTC offset in seconds)] covering start..end, the offset constant in each."""
    out: list[tuple[datetime, datetime, int]] = []
    here = start
    while here < end:
        offset = _offset(here, zone)
        probe = here
        while probe < end and _offset(probe, zone) == offset:
            probe += timedelta(hours=6)
        change = min(probe, end)
        if probe < end or _offset(change, zone) != offset:
            change = _first_change(probe - timedelta(hours=6), min(probe, end), offset, zone)
        out.append((here, change, offset))
        here = change
    return out


def _offset(moment: datetime, zone: ZoneInfo) -> int:
    """The zone's UTC offset at an instant, in seconds."""
    delta = moment.astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _first_change(low: datetime, high: datetime, offset: int, zone: ZoneInfo) -> datetime:
    """The first second in (low, high] whose offset differs (high if none does)."""
    if _offset(high, zone) == offset:
        return high
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        mid = mid.replace(microsecond=0)
        if mid <= low:
            break
        if _offset(mid, zone) == offset:
            low = mid
        else:
            high = mid
    return high


def epoch_seconds(column: Any) -> Any:
    """SQL: a UTC timestamp column as whole seconds since 1970 (SQLite and PostgreSQL)."""
    if db.engine.dialect.name == "sqlite":
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


def day_number(column: Any, offset: int) -> Any:
    """SQL: the local day (days since 1970-01-01) of a timestamp at a fixed UTC offset."""
    return cast((epoch_seconds(column) + offset) // 86400, Integer)


def day_of(number: int) -> date:
    """The date of a day number from `day_number`."""
    return EPOCH + timedelta(days=int(number))

"""The dashboard's member list: search, keyset pages and the wallet state of a page.

Fast with 100,000 members: a page is `ORDER BY id DESC LIMIT n` below a cursor (the
primary key index), a search finds the query anywhere in the name, e-mail or phone through
the database's trigram index (app.members.search) or the start of the serial through its
unique index, and the wallet state and last activity
of a whole page come in one grouped query each.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.members import search
from app.models import AppleRegistration, GoogleObject, LedgerEntry, Member, Merchant, Program

PAGE_SIZE = 50
SHORT_CODE = 12
"""The barcode's alt text: the first 12 characters of the serial, upper-case."""


@dataclass(frozen=True)
class Row:
    """One line of the member list."""

    member: Member
    apple_devices: int
    google_saved: bool
    last_activity: datetime | None


def short_code(member: Member) -> str:
    """The code printed under the card's barcode (what a cashier types)."""
    return member.serial_number[:SHORT_CODE].upper()


def _prefix(column: Any, text: str) -> ColumnElement[bool]:
    """`column` starts with `text`, as a range an ordinary b-tree index answers."""
    return (column >= text) & (column < text + "\uffff")


def _in_programs(program_ids: list[int]) -> ColumnElement[bool]:
    """Members of these programs (one program: an equality the (program_id, id) index walks
    in order)."""
    return Member.program_id == program_ids[0] if len(program_ids) == 1 else \
        Member.program_id.in_(program_ids)


def _search(query: str) -> ColumnElement[bool]:
    """Members whose name, e-mail or phone contains the query (app.members.search), or whose
    serial starts with it."""
    return search.contains(query, _prefix(Member.serial_number, query.lower()))


def program_ids(merchant: Merchant, program_id: int | None = None) -> list[int]:
    """The merchant's program ids (or the one given, if it is the merchant's)."""
    stmt = select(Program.id).where(Program.merchant_id == merchant.id)
    if program_id is not None:
        stmt = stmt.where(Program.id == program_id)
    return list(db.session.scalars(stmt)) or [0]


def members_query(merchant: Merchant, query: str = "", program_id: int | None = None
                  ) -> Select[Any]:
    """The merchant's members (of one program, or all), newest first, optionally searched."""
    ids = program_ids(merchant, program_id)
    stmt = select(Member).where(_in_programs(ids))
    query = query.strip()[:320]
    if query:
        stmt = stmt.where(_search(query))
    return stmt.order_by(Member.id.desc())


def page_of(merchant: Merchant, query: str = "", program_id: int | None = None,
            before: int | None = None, size: int = PAGE_SIZE) -> tuple[list[Row], int | None]:
    """One page of rows below the cursor, and the next page's cursor (None: last page)."""
    stmt = members_query(merchant, query, program_id).options(joinedload(Member.tier))
    if before is not None:
        stmt = stmt.where(Member.id < before)
    members = list(db.session.scalars(stmt.limit(size + 1)))
    more = len(members) > size
    members = members[:size]
    return rows_for(members), (members[-1].id if more and members else None)


def rows_for(members: Sequence[Member]) -> list[Row]:
    """The list rows of these members: wallet state and last activity in one query each."""
    ids = [m.id for m in members]
    apple = dict(db.session.execute(
        select(AppleRegistration.member_id, func.count(AppleRegistration.id))
        .where(AppleRegistration.member_id.in_(ids))
        .group_by(AppleRegistration.member_id)).all()) if ids else {}
    google = set(db.session.scalars(
        select(GoogleObject.member_id).where(GoogleObject.member_id.in_(ids),
                                             GoogleObject.saved_at.is_not(None),
                                             GoogleObject.removed_at.is_(None)))) if ids else set()
    last = dict(db.session.execute(
        select(LedgerEntry.member_id, func.max(LedgerEntry.created_at))
        .where(LedgerEntry.member_id.in_(ids))
        .group_by(LedgerEntry.member_id)).all()) if ids else {}
    return [Row(m, apple.get(m.id, 0), m.id in google, last.get(m.id)) for m in members]


def export_rows(merchant: Merchant, query: str = "", program_id: int | None = None,
                chunk: int = 2000) -> Iterator[Row]:
    """Every matching member's row, in chunks (for the CSV export)."""
    before: int | None = None
    while True:
        rows, before = page_of(merchant, query, program_id, before, chunk)
        yield from rows
        if before is None:
            return


def find_by_code(merchant: Merchant, code: str) -> list[Member]:
    """The merchant's members whose serial is this code or starts with it (the short code
    under the barcode), case-insensitively; at most a few."""
    code = "".join(code.split()).lower()[:64]
    if len(code) < 6:
        return []
    return list(db.session.scalars(
        select(Member).where(_prefix(Member.serial_number, code),
                             _in_programs(program_ids(merchant)))
        .order_by(Member.serial_number).limit(5)))

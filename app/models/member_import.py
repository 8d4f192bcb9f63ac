"""E-mail list uploads: the stored file, what the merchant stated, and how far it got."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class MemberImport(db.Model):  # type: ignore[name-defined,misc]
    """One uploaded CSV of customers, processed in chunks by the imports sweep.

    `offset` (bytes of the stored file consumed) and `rows` move forward in the same
    transaction as the members a chunk created, so a worker that dies mid-import leaves
    the import exactly where its last committed chunk ended.
    """

    __tablename__ = "member_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"),
                                            index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    """checked (stored, waiting to be started from the dashboard), running, done or failed."""
    consent_basis: Mapped[str] = mapped_column(Text)
    """The merchant's statement of why these customers may be mailed (PDPA, Decree 13)."""
    columns: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Which member field each CSV header feeds: {"E-mail Address": "email", ...}."""
    encoding: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer, default=0)
    """Bytes stored (in import_chunks)."""
    offset: Mapped[int] = mapped_column(Integer, default=0)
    """Bytes of the stored file processed (committed chunks only)."""
    lines: Mapped[int] = mapped_column(Integer, default=0)
    """Physical lines of the file processed (row numbers in errors are line numbers)."""
    header: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    """The file's header row, once read."""
    processed: Mapped[int] = mapped_column(Integer, default=0)
    """Data rows read (blank lines are not rows)."""
    created: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    """Rows that created nothing: already members, repeated in the file, or invalid."""
    blank_lines: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """The first row errors ({row, field, message}); error_count counts them all."""
    failure: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Lease of the worker processing it (app/leases.py)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ImportChunk(db.Model):  # type: ignore[name-defined,misc]
    """A piece of an uploaded file, stored in the database so that any worker can read it
    (dropped when the import is done)."""

    __tablename__ = "import_chunks"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("member_imports.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)

"""The shapes of e-mail list imports: the options sent with an upload, and the answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel

from app.validation import FLAG, Input, text


class ImportOptions(Input):
    """What the merchant says with an upload (query parameters or multipart fields)."""

    consent_basis: Annotated[str | None, text(2000).or_null()] = None
    """Required unless a dry run: why these customers may be mailed, e.g. "Customers who
    joined our paper card program and agreed to receive e-mails" (recorded on every imported
    member)."""
    mapping: Annotated[str | None, text(10_000, required=False).or_null()] = None
    """JSON object of CSV headers to member fields: {"E-mail Address": "email"}."""
    encoding: Annotated[str | None, text(40, required=False).or_null()] = None
    """utf-8 (default), tis-620 or big5; a charset= in the Content-Type works too."""
    dry_run: Annotated[bool | None, FLAG.or_null()] = None


class RowError(BaseModel):
    """A row that cannot be imported: its line number, the field at fault and why."""

    row: int
    field: str | None
    message: str


class ImportPreview(BaseModel):
    """A dry run: what importing the file would do (nothing was created)."""

    rows: int
    valid: int
    """Rows that would create a member."""
    duplicates: int
    """Rows repeating an e-mail earlier in the file or of an existing member."""
    blank_lines: int
    error_count: int
    errors: list[RowError]
    """The first 1,000 row errors; error_count counts them all."""


class ImportStatus(BaseModel):
    """An import and how far it got."""

    id: int
    program_id: int
    status: Literal["running", "done", "failed"]
    encoding: str
    columns: dict[str, str]
    consent_basis: str
    processed: int
    created: int
    skipped: int
    """Rows that created nothing: already members, repeated in the file, or invalid."""
    blank_lines: int
    error_count: int
    errors: list[RowError]
    failure: str | None
    created_at: datetime
    finished_at: datetime | None

"""E-mail list uploads: a dry run that counts, and an import that enrolls in chunks.

An upload is checked at once (encoding, a header with an email column) and stored in the
database in pieces (`import_chunks`), so any worker can process it. The `imports` sweep
then reads it record by record from the stored byte offset, and per chunk of rows: parses
each row through `MemberCreate`, skips e-mails already enrolled (one query per chunk) or
repeated in the file, enrolls the others through `enroll_members` (the one function that
decides what an enrollment creates: consent record, bonuses, the member.enrolled event
that sends the welcome mail) and commits the members together with the import's new
offset. A worker killed mid-import therefore resumes exactly after its last committed
chunk; the same file imported twice creates nothing the second time.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, select, update

from app import leases
from app.distribution.csvread import Record, Records, Spooled
from app.errors import Conflict, DomainError, NotFound, ValidationError
from app.extensions import db
from app.i18n import gettext_noop
from app.jobs import wake
from app.members.operations import Consent, enroll_members
from app.members.schemas import MemberCreate
from app.models import ImportChunk, Member, MemberImport, Merchant, Program
from app.models.base import utcnow
from app.safejson import loads
from app.validation import FieldErrors, parse

SWEEP = "imports"
"""The sweep that processes stored uploads; woken when one is stored."""
CHECKED = "checked"
"""An upload stored and checked, waiting to be started (not yet swept)."""
FIELDS = ("email", "name", "birthday", "phone", "external_id", "language")
"""Member fields a column can feed; a header named like one feeds it unless mapped."""
CHUNK_BYTES = 512 * 1024
MAX_ERRORS = 1000
"""Row errors listed in an answer; `error_count` counts them all."""
LEASE_SECONDS = 300.0
PREVIEW_BATCH = 500
MAX_CONFLICTS = 5
"""Chunks redone in a row after racing enrollments (or a referral code drawn twice)."""


# --- columns -----------------------------------------------------------------------------


def parse_mapping(raw: str | None) -> dict[str, str]:
    """A column mapping sent as JSON text ({"E-mail Address": "email", ...}), checked."""
    if raw is None or not raw.strip():
        return {}
    try:
        mapping = loads(raw)
    except DomainError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise ValidationError(gettext_noop(
            '\'mapping\' must be a JSON object of column headers to member fields, such as '
            '{"E-mail Address": "email"}.'), code="invalid_mapping")
    wrong = sorted(v for v in mapping.values() if v not in FIELDS)
    if wrong:
        raise ValidationError(gettext_noop("'mapping' names unknown fields ({wrong}); map "
                                           "columns to: {fields}."), code="invalid_mapping",
                              values={"wrong": ", ".join(wrong)[:200],
                                      "fields": ", ".join(FIELDS)})
    return {_key(k): v for k, v in mapping.items()}


def _key(header: str) -> str:
    """A header as compared: stripped, case-folded."""
    return header.strip().casefold()


def named_columns(header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Which header feeds which member field: mapped headers, else headers named like a
    field; other headers are ignored (two feeding one field: refused)."""
    chosen: dict[str, str] = {}
    for name in header:
        target = mapping.get(_key(name)) or (_key(name) if _key(name) in FIELDS else None)
        if target is None:
            continue
        if target in chosen.values():
            raise ValidationError(gettext_noop("Two columns feed '{field}'; map only one of "
                                               "them."), code="invalid_mapping",
                                  values={"field": target})
        chosen[name] = target
    return chosen


def resolve_columns(header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """The columns used (named_columns); a file without an email column is refused."""
    chosen = named_columns(header, mapping)
    if "email" not in chosen.values():
        shown = ", ".join(repr(h[:60]) for h in header[:20])
        raise ValidationError(
            f"The file has no email column (its columns: {shown}). Name a column 'email', "
            'or map one with mapping={"Your column": "email"}.', code="missing_email_column")
    return chosen


def _positions(header: list[str], columns: dict[str, str]) -> list[tuple[int, str]]:
    """(cell index, member field) of the columns used."""
    return [(i, columns[name]) for i, name in enumerate(header) if name in columns]


# --- rows --------------------------------------------------------------------------------


@dataclass
class Tally:
    """What a run of rows came to."""

    rows: int = 0
    created: int = 0
    duplicates: int = 0
    skipped: int = 0
    error_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, row: int, fieldname: str | None, message: str, template: str,
              values: Mapping[str, Any]) -> None:
        """Count a row error (the first MAX_ERRORS are listed): the API's English message,
        and its template and values for saying it in a reader's language."""
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "field": fieldname, "message": message,
                                "template": template,
                                "values": {k: str(v) for k, v in values.items()}})


def member_request(record: Record, positions: list[tuple[int, str]],
                   tally: Tally) -> MemberCreate | None:
    """The row as an enrollment, or None after counting its errors."""
    if record.problem is not None:
        tally.error(record.row, None, record.problem.format(**record.values), record.problem,
                    record.values)
        return None
    cells = record.cells
    data = {name: cells[i].strip() for i, name in positions
            if i < len(cells) and cells[i].strip()}
    try:
        return parse(MemberCreate, data)
    except FieldErrors as exc:
        for shown, problem in zip(exc.details["fields"] if exc.details else [], exc.problems,
                                  strict=False):
            tally.error(record.row, shown["field"], shown["message"], problem.template,
                        problem.values)
        return None


ROW_ERROR_KEYS = ("row", "field", "message")
"""What the API shows of a row error (the template and values are for the dashboard)."""


def api_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """A dry run's or an import's answer as the API gives it: row errors without their
    templates."""
    return {**answer, "errors": [{key: error.get(key) for key in ROW_ERROR_KEYS}
                                 for error in answer["errors"]]}


def _batches(records: Records, size: int) -> Iterator[list[Record]]:
    """Records in lists of `size`."""
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _existing(program_id: int, emails: list[str]) -> set[str]:
    """Which of these e-mails are already members of the program."""
    if not emails:
        return set()
    return set(db.session.scalars(select(Member.email).where(
        Member.program_id == program_id, Member.email.in_(emails))))


# --- upload ------------------------------------------------------------------------------


@dataclass
class Upload:
    """A checked upload: the spooled file, its encoding, its header and mapped columns."""

    spooled: Spooled
    encoding: str
    header: list[str]
    columns: dict[str, str]
    header_end: int
    header_lines: int

    def records(self) -> Records:
        """The data records, after the header."""
        self.spooled.file.seek(self.header_end)
        return Records(self.spooled.file, self.encoding, self.header_end, self.header_lines)


def check_upload(spooled: Spooled, declared: str | None, mapping: dict[str, str]) -> Upload:
    """Decide the encoding, read the header and map its columns (clear 422s)."""
    upload = read_header(spooled, declared)
    upload.columns = resolve_columns(upload.header, mapping)
    return upload


def read_header(spooled: Spooled, declared: str | None) -> Upload:
    """Decide the encoding and read the header (columns: the headers named like a field)."""
    encoding = spooled.sniffer.decide(declared)
    spooled.file.seek(0)
    records = Records(spooled.file, encoding)
    first = next(iter(records), None)
    if first is None or first.problem is not None:
        raise ValidationError(gettext_noop("The file has no header row (e.g. email,name,phone)."),
                              code="missing_header")
    header = [h.strip() for h in first.cells]
    columns = {h: _key(h) for h in header if _key(h) in FIELDS}
    columns = {h: f for h, f in columns.items() if list(columns.values()).count(f) == 1}
    return Upload(spooled, encoding, header, columns, records.offset, records.lines)


def preview(program: Program, upload: Upload) -> dict[str, Any]:
    """A dry run: what importing the file would do, creating nothing."""
    return preview_records(program, upload.records(), upload.header, upload.columns)


def preview_records(program: Program, records: Records, header: list[str],
                    columns: dict[str, str]) -> dict[str, Any]:
    """A dry run over these records with these columns."""
    tally, seen, valid = Tally(), set(), 0
    positions = _positions(header, columns)
    for batch in _batches(records, PREVIEW_BATCH):
        wanted = []
        for record in batch:
            tally.rows += 1
            request = member_request(record, positions, tally)
            if request is None:
                continue
            fingerprint = hash(request.email)  # 8 bytes a row, not the address
            if fingerprint in seen:
                tally.duplicates += 1
            else:
                seen.add(fingerprint)
                wanted.append(request.email)
        existing = len(_existing(program.id, wanted))
        tally.duplicates += existing
        valid += len(wanted) - existing
    return {"rows": tally.rows, "valid": valid, "duplicates": tally.duplicates,
            "blank_lines": records.blank, "error_count": tally.error_count,
            "errors": tally.errors}


def start_import(program: Program, upload: Upload, consent_basis: str) -> MemberImport:
    """Store the upload in the database and queue it for the imports sweep (flushes)."""
    job = store_upload(program, upload, "running", consent_basis)
    wake(db.session(), SWEEP)
    return job


def store_upload(program: Program, upload: Upload, status: str = CHECKED,
                 consent_basis: str = "") -> MemberImport:
    """Store the upload in the database (flushes); a `checked` one waits for `start_checked`
    (the dashboard's form without JavaScript: check, map the columns, then start)."""
    job = MemberImport(program_id=program.id, consent_basis=consent_basis,
                       columns=upload.columns, encoding=upload.encoding,
                       size=upload.spooled.size, offset=upload.header_end,
                       lines=upload.header_lines, header=upload.header, errors=[],
                       status=status)
    db.session.add(job)
    db.session.flush()
    upload.spooled.file.seek(0)
    seq = 0
    while data := upload.spooled.file.read(CHUNK_BYTES):
        db.session.execute(insert(ImportChunk).values(import_id=job.id, seq=seq, data=data))
        seq += 1
    return job


def stored_records(job: MemberImport) -> Records:
    """A stored import's data records, from where it stands."""
    stream = io.BufferedReader(StoredFile(job.id, job.offset), CHUNK_BYTES // 8)
    return Records(stream, job.encoding, job.offset, job.lines)


def preview_stored(program: Program, job: MemberImport, columns: dict[str, str]
                   ) -> dict[str, Any]:
    """A dry run of a stored (checked) upload with these columns."""
    return preview_records(program, stored_records(job), job.header or [], columns)


def start_checked(job: MemberImport, columns: dict[str, str], consent_basis: str) -> None:
    """Queue a checked upload with its columns and the consent basis (a second start of the
    same upload does nothing)."""
    if job.status != CHECKED:
        return
    job.columns, job.consent_basis = columns, consent_basis
    job.status, job.created_at = "running", utcnow()
    wake(db.session(), SWEEP)


def get_import(merchant: Merchant, import_id: int) -> MemberImport:
    """The merchant's import, or NotFound (also for another merchant's)."""
    job = db.session.scalar(select(MemberImport).join(Program).where(
        MemberImport.id == import_id, Program.merchant_id == merchant.id))
    if job is None:
        raise NotFound(f"Import {import_id} not found.")
    return job


def import_json(job: MemberImport) -> dict[str, Any]:
    """An import's progress."""
    return {"id": job.id, "program_id": job.program_id, "status": job.status,
            "encoding": job.encoding, "columns": job.columns,
            "consent_basis": job.consent_basis, "processed": job.processed,
            "created": job.created, "skipped": job.skipped, "blank_lines": job.blank_lines,
            "error_count": job.error_count, "errors": job.errors, "failure": job.failure,
            "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


# --- processing --------------------------------------------------------------------------


class StoredFile(io.RawIOBase):
    """An import's stored chunks read as one byte stream, from an offset on."""

    def __init__(self, import_id: int, offset: int) -> None:
        super().__init__()
        self.import_id = import_id
        self.pos = offset
        self._seq = -1
        self._data = b""

    def readable(self) -> bool:
        """It is."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the chunk holding the current position (0 at the end)."""
        seq, skip = divmod(self.pos, CHUNK_BYTES)
        if seq != self._seq:
            self._data = db.session.scalar(select(ImportChunk.data).where(
                ImportChunk.import_id == self.import_id, ImportChunk.seq == seq)) or b""
            self._seq = seq
        n = max(0, min(len(buffer), len(self._data) - skip))
        buffer[:n] = self._data[skip:skip + n]
        self.pos += n
        return n


def claim_due(limit: int = 10) -> list[int]:
    """Imports still running whose lease is free, each now held for this worker."""
    ids = list(db.session.scalars(select(MemberImport.id).where(
        MemberImport.status == "running", leases.due(MemberImport.next_attempt_at))
        .order_by(MemberImport.id).limit(limit)))
    db.session.commit()
    return [i for i in ids if leases.claim_one(MemberImport.next_attempt_at, i, LEASE_SECONDS,
                                               MemberImport.status == "running")]


def process(import_id: int, max_chunks: int | None = None) -> int:
    """Import the rest of a claimed import, one committed chunk at a time; returns the rows
    handled (stops after `max_chunks`, or when another worker has taken it over)."""
    handled, chunks, conflicts = 0, 0, 0
    chunk_rows = current_app.config["SETTINGS"].IMPORT_CHUNK_ROWS
    while max_chunks is None or chunks < max_chunks:
        if conflicts > MAX_CONFLICTS:
            fail(import_id, gettext_noop("Enrollments kept conflicting with this import; try "
                                         "again."))
            return handled
        job = db.session.get(MemberImport, import_id, populate_existing=True)
        if job is None or job.status != "running":
            return handled
        records = stored_records(job)
        for batch in _batches(records, chunk_rows):
            outcome = _import_chunk(import_id, batch, records)
            if outcome is None:  # raced by an enrollment: redo from the committed offset
                conflicts += 1
                break
            if outcome < 0:  # another worker holds the import now
                return handled
            handled, chunks, conflicts = handled + outcome, chunks + 1, 0
            if max_chunks is not None and chunks >= max_chunks:
                return handled
        else:
            _finish(import_id, records)
            return handled
    return handled


def _import_chunk(import_id: int, batch: list[Record], records: Records) -> int | None:
    """Enroll a chunk's new members and move the import past it, in one transaction; the
    rows handled, -1 when another worker moved the import on, None after a conflict."""
    job = db.session.get(MemberImport, import_id, populate_existing=True)
    assert job is not None
    program = db.session.get(Program, job.program_id)
    assert program is not None
    tally = Tally(rows=len(batch))
    positions = _positions(job.header or [], job.columns)
    wanted: dict[str, MemberCreate] = {}
    for record in batch:
        request = member_request(record, positions, tally)
        if request is not None:
            if request.email in wanted:
                tally.skipped += 1
            else:
                wanted[request.email] = request
    existing = _existing(program.id, list(wanted))
    consent = [Consent("marketing", True, job.consent_basis, program.language)]
    new = [request for email, request in wanted.items() if email not in existing]
    tally.skipped += len(wanted) - len(new)
    try:
        if new:
            enroll_members(program, new, source="import", consents=consent,
                           import_id=job.id)
    except Conflict:  # enrolled meanwhile by another request: redo with a fresh look
        db.session.rollback()
        return None
    tally.created = len(new)
    return _advance(job, tally, records)


def _advance(job: MemberImport, tally: Tally, records: Records) -> int:
    """Record the chunk's counts and the new offset, if the import is still where this
    worker found it, and commit."""
    errors = job.errors + tally.errors[:max(0, MAX_ERRORS - len(job.errors))]
    moved = db.session.execute(
        update(MemberImport).where(MemberImport.id == job.id,
                                   MemberImport.offset == job.offset)
        .values(offset=records.offset, lines=records.lines,
                processed=MemberImport.processed + tally.rows,
                created=MemberImport.created + tally.created,
                skipped=MemberImport.skipped + tally.skipped + tally.error_count,
                blank_lines=MemberImport.blank_lines + records.blank,
                error_count=MemberImport.error_count + tally.error_count, errors=errors,
                next_attempt_at=utcnow() + timedelta(seconds=LEASE_SECONDS))
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return -1
    db.session.commit()
    records.blank = 0
    return tally.rows


def _finish(import_id: int, records: Records) -> None:
    """Mark the import done (counting trailing blank lines) and drop its stored file."""
    db.session.execute(update(MemberImport).where(MemberImport.id == import_id)
                       .values(status="done", finished_at=utcnow(), next_attempt_at=None,
                               offset=records.offset, lines=records.lines,
                               blank_lines=MemberImport.blank_lines + records.blank)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(ImportChunk).where(ImportChunk.import_id == import_id))
    db.session.commit()


def fail(import_id: int, message: str) -> None:
    """Mark an import failed with a reason (its stored file is kept)."""
    db.session.rollback()
    db.session.execute(update(MemberImport).where(MemberImport.id == import_id)
                       .values(status="failed", failure=message[:1000],
                               finished_at=utcnow(), next_attempt_at=None)
                       .execution_options(synchronize_session=False))
    db.session.commit()


"""The mail sweeps: send due mails at the shared rate, and find points expiring soon.

A run of the ``mail`` sweep works chunk by chunk (at most MAX_BATCH mails, fewer at a
low MAIL_RATE): it claims a chunk of due mails with a lease (app/leases.py: two workers
never claim one mail) and commits; loads the chunk's rows, checks all its addresses
against the suppression lists in one query, and renders each message from its program's
cached template (app/mail/message.py); reserves send slots from the rate limit kept in
the database (so MAIL_RATE holds across every worker process); sends the chunk over one
SMTP connection (kept for the whole run; smtplib has no pipelining, so each mail is its
own MAIL, RCPT, DATA exchange); and records the outcomes: the sent mails in one UPDATE,
every other outcome on its own row. No new chunk is claimed after BUDGET_SECONDS.

The guarantee on a crash: a mail is claimed (its lease committed) before it is sent, and
its outcome is committed once its chunk has been sent. LEASE is far longer than a run, so
a mail still being sent is never claimed again. A worker that dies after sending some of
a chunk but before recording it sends those mails once more when the lease ends (the
same Message-ID, so mailbox providers fold them): at most one chunk, MAX_BATCH mails, as
before chunks were sent this way. A mail whose outcome was recorded is never sent again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Row, select, update

from app import jobs, leases
from app.config import Settings
from app.extensions import db
from app.i18n import ngettext
from app.links import card_page_link, image_link, unsubscribe_link
from app.mail.channel import SWEEP, expiring_candidates, queue_expiring
from app.mail.message import Brand, Mail, mail_language, render
from app.mail.suppressions import suppress, suppressed_among, unsubscribe_token
from app.mail.transport import Outcome, Outgoing, SmtpConfig, Transport, open_transport
from app.metrics import MAILS
from app.models import MailDelivery, Member, Merchant, Program, RateLimit
from app.models.base import utcnow
from app.outbox.tasks import relay
from app.rows import insert_ignore

EXPIRING = "mail_expiring"
BUDGET_SECONDS = 20.0
LEASE = 600.0
BATCH_SECONDS = 2.0
"""A batch holds about this many seconds of sending at MAIL_RATE (at least one mail)."""
MAX_BATCH = 100
MAX_ATTEMPTS = 12
RETRY = leases.Backoff(first=60.0, cap=6 * 3600.0)
"""Back-off after temporary failures: 1 min, 2, 4 ... up to 6 h; about 2.5 days in all."""
EXPIRING_BATCH = 500


def mail_settings() -> tuple[Settings, SmtpConfig | None]:
    """The app's settings and its SMTP configuration (parsed once at start-up)."""
    return current_app.config["SETTINGS"], current_app.extensions["walletpass.smtp"]


@jobs.sweep(SWEEP, every=10)
def send_due_mail() -> int:
    """Send due mails (batch after batch, within the time budget); returns how many were
    attempted. New outbox events are relayed first, so a welcome mail never waits."""
    relay()
    settings, config = mail_settings()
    stop_at = time.monotonic() + BUDGET_SECONDS
    batch = max(1, min(MAX_BATCH, int(settings.MAIL_RATE * BATCH_SECONDS)))
    handled = 0
    with open_transport(config, Path(settings.DATA_DIR) / "mail", settings.SMTP_TIMEOUT,
                        settings.SMTP_CA_FILE) as transport:
        while time.monotonic() < stop_at:
            ids = leases.claim_ids(
                MailDelivery.next_attempt_at,
                [MailDelivery.status == "pending", leases.due(MailDelivery.next_attempt_at)],
                [MailDelivery.next_attempt_at, MailDelivery.id], LEASE, batch)
            handled += send_batch(ids, transport, settings)
            if len(ids) < batch:
                break
    return handled


@dataclass
class Prepared:
    """A claimed mail ready to go: its row id, file name and message."""

    delivery_id: int
    name: str
    message: Outgoing


def send_batch(ids: Sequence[int], transport: Transport, settings: Settings) -> int:
    """Build, send (at the shared rate) and record a batch of claimed mails."""
    if not ids:
        return 0
    ready = prepare(ids, settings)
    db.session.commit()  # no transaction (SQLite: no write lock) held while sending
    start = reserve_slots(SWEEP, len(ready), settings.MAIL_RATE)
    interval = 1.0 / settings.MAIL_RATE if settings.MAIL_RATE > 0 else 0.0
    outcomes: list[Outcome] = []
    for i, item in enumerate(ready):
        if outcomes and outcomes[-1].connection:
            outcomes.append(outcomes[-1])  # the server is unreachable: the rest retry too
            continue
        _wait_until(start + timedelta(seconds=i * interval))
        outcomes.append(transport.send(item.message, item.name))
    for outcome in outcomes:
        MAILS.labels(outcome.status).inc()
    record_chunk(ready, outcomes)
    db.session.commit()
    return len(ids)


CHUNK_COLUMNS = (
    MailDelivery.id, MailDelivery.kind, MailDelivery.params, MailDelivery.member_id,
    Member.email, Member.name, Member.language, Member.download_token,
    Program.id.label("program_id"), Program.name.label("program_name"),
    Program.organization_name, Program.background_color, Program.foreground_color,
    Program.design_version, Program.language.label("program_language"), Program.currency,
    Program.merchant_id, Merchant.name.label("merchant_name"),
    Merchant.email.label("merchant_email"))
"""What a chunk's mails need of their rows, members, programs and merchants (one query)."""


def prepare(ids: Sequence[int], settings: Settings) -> list[Prepared]:
    """Build the messages of claimed mails; mark those that must not go (no address any
    more, or on the suppression list)."""
    rows = db.session.execute(
        select(*CHUNK_COLUMNS).join(Member, Member.id == MailDelivery.member_id)
        .join(Program, Program.id == Member.program_id)
        .join(Merchant, Merchant.id == Program.merchant_id)
        .where(MailDelivery.id.in_(ids), MailDelivery.status == "pending")
        .order_by(MailDelivery.id)).all()
    blocked = suppressed_among((r.merchant_id, r.email) for r in rows if r.email)
    ready, skipped, suppressed = [], [], []
    for row in rows:
        if not row.email:
            skipped.append(row.id)
        elif (row.merchant_id, row.email.lower()) in blocked:
            suppressed.append(row.id)
        else:
            mail = compose(row, settings)
            ready.append(Prepared(row.id, f"{row.id:09d}-{row.kind}",
                                  Outgoing(mail.sender, mail.to, render(mail))))
    mark(skipped, status="skipped", last_error="no address")
    mark(suppressed, status="suppressed")
    return ready


def mark(ids: Sequence[int], **values: Any) -> None:
    """Set these values on the mails that are still pending, in one UPDATE."""
    if ids:
        db.session.execute(update(MailDelivery)
                           .where(MailDelivery.id.in_(ids), MailDelivery.status == "pending")
                           .values(**values).execution_options(synchronize_session=False))


def host_of(settings: Settings) -> str:
    """The host name of BASE_URL (for the default sender and Message-IDs)."""
    return urlsplit(settings.BASE_URL).hostname or "localhost"


def compose(row: Row[Any], settings: Settings) -> Mail:
    """The mail a chunk's row (CHUNK_COLUMNS) stands for, with today's branding and links."""
    lang = mail_language(row.language, row.program_language)
    brand = Brand(program=row.program_name,
                  sender_name=row.organization_name or row.merchant_name,
                  background=row.background_color, foreground=row.foreground_color,
                  logo_url=image_link(row.program_id, row.design_version, "logo@2x.png",
                                      settings))
    host = host_of(settings)
    return Mail(kind=row.kind, language=lang, to=row.email, to_name=row.name,
                sender=settings.MAIL_FROM or f"no-reply@{host}", reply_to=row.merchant_email,
                brand=brand, card_link=card_page_link(row, settings),
                unsubscribe_link=unsubscribe_link(unsubscribe_token(row.member_id), settings),
                message_id=f"<mail.{row.id}.{row.member_id}@{host}>", date=utcnow(),
                params=values(row.kind, row.params, lang, row.currency))


def points_amount(lang: str, n: int) -> str:
    """A number of points in words ("1 point", "1,200 points")."""
    return ngettext(lang, "{n} point", "{n} points", n, n=f"{n:,}")


def values(kind: str, params: dict[str, Any], lang: str, currency: str) -> dict[str, Any]:
    """The stored facts of a mail, written out for its text (amounts, points)."""
    out = dict(params)
    if "points" in out:
        out["points"] = f"{int(out['points']):,}"
    if kind == "tier_near":
        needed = out.get("needed", "0")
        out["needed"] = (f"{currency} {needed}" if out.get("basis") == "spend"
                         else points_amount(lang, int(float(needed))))
    return out


def record_chunk(ready: Sequence[Prepared], outcomes: Sequence[Outcome]) -> None:
    """Store what became of a chunk's mails: the sent ones in one UPDATE, the rest row by
    row (only rows still pending change)."""
    mark([item.delivery_id for item, outcome in zip(ready, outcomes, strict=True)
          if outcome.status == "sent"],
         status="sent", sent_at=utcnow(), attempts=MailDelivery.attempts + 1, last_error="")
    for item, outcome in zip(ready, outcomes, strict=True):
        if outcome.status != "sent":
            record(item.delivery_id, outcome)


def record(delivery_id: int, outcome: Outcome) -> None:
    """Store what became of one sent mail (only if still pending)."""
    row = db.session.get(MailDelivery, delivery_id)
    if row is None or row.status != "pending":
        return
    now = utcnow()
    row.attempts += 1
    row.last_error = outcome.error
    if outcome.status == "sent":
        row.status, row.sent_at = "sent", now
    elif outcome.status == "bounced":
        row.status = "bounced"
        member = row.member
        if member.email:
            suppress(member.program.merchant_id, member.email, "bounce", outcome.error)
    elif outcome.status == "failed" or row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
    else:
        row.next_attempt_at = RETRY.next_attempt(now, row.attempts)


def reserve_slots(name: str, count: int, rate: float) -> datetime:
    """Take `count` send slots, 1/rate seconds apart, from the rate limit every process
    shares (one short transaction on its row); returns when the first slot starts."""
    now = utcnow()
    if count <= 0 or rate <= 0:
        return now
    insert_ignore(RateLimit, [{"name": name, "next_slot_at": now}])
    limit = db.session.scalar(select(RateLimit).where(RateLimit.name == name)
                              .with_for_update().execution_options(populate_existing=True))
    assert limit is not None
    start = max(limit.next_slot_at, now)
    limit.next_slot_at = start + timedelta(seconds=count / rate)
    db.session.commit()
    return start


def _wait_until(moment: datetime) -> None:
    """Sleep until a moment (now or past: return at once)."""
    delay = (moment - utcnow()).total_seconds()
    if delay > 0:
        time.sleep(delay)


@jobs.sweep(EXPIRING, every=3600)
def queue_expiring_mails() -> int:
    """Queue 'points expiring soon' mails for every member concerned; returns how many
    were new (safe to run again: each member and day gets one)."""
    now = utcnow()
    queued, after = 0, 0
    while True:
        member_ids = expiring_candidates(now, after, EXPIRING_BATCH)
        if member_ids:
            queued += queue_expiring(member_ids, now)
            after = member_ids[-1]
        db.session.commit()
        if len(member_ids) < EXPIRING_BATCH:
            return queued

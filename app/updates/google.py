"""The Google channel: classes and objects at Google follow the design and every member's card.

Same lease pattern as the Apple channel (claim due rows in one short transaction, call
Google with no transaction open, record outcomes per row). Classes go first (an object
needs its class). Each member gets a row as soon as it enrolls, so the object is inserted
in the background; a design change bumps every pass version, but an object whose body did
not change (its hash matches) is marked delivered without a call: one class PATCH reaches
every saved card. A design change that only touches what the class shows does not even
reach this channel's objects: google_design marks them delivered in the change's own
transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    bindparam,
    insert,
    literal,
    or_,
    select,
    update,
)

from app.config import Settings
from app.extensions import db
from app.models import GoogleClass, GoogleObject, Member, Program
from app.models.base import UTCDateTime, utcnow
from app.updates.google_design import object_design_key
from app.updates.google_pace import HEADROOM, Pacer
from app.wallet.content import card_content
from app.wallet.google import mapping, messages
from app.wallet.google.client import GoogleAnswer, Outcome, classify
from app.wallet.google.issuer import GoogleWallet
from app.wallet.google.savelink import art_tag, strip_art
from app.wallet.snapshot import load_snapshot

log = logging.getLogger(__name__)
FIRST_RETRY = 5.0
UNCHANGED_FACTOR = 10
"""Objects examined per round, per object the rate lets us send: most objects a design
change touches are unchanged (no call), so rounds look at many more than they send."""


@dataclass(frozen=True)
class Job:
    """One claimed class or object: what to send and what it will deliver."""

    row_id: int
    version: int
    attempts: int
    inserted: bool
    body: dict[str, Any] | None = None
    body_hash: str | None = None
    unchanged: bool = False
    messages: tuple[dict[str, Any], ...] = ()
    """Milestone messages to add once the object is up to date (typed within the budget)."""
    keep: list[dict[str, Any]] | None = None
    """Old messages to keep (PATCHed first) when adding would pass Google's 10."""
    on_success: dict[str, Any] = field(default_factory=dict)
    """Extra row values to store once delivered."""


def body_hash(body: dict[str, Any]) -> str:
    """A digest of a body, to skip sending what Google already shows."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _lease(table: Any, key: Any, ids: list[int], lease: float) -> None:
    """Hold claimed rows for this worker until the lease ends."""
    if ids:
        db.session.execute(update(table).where(key.in_(ids)).values(
            next_attempt_at=utcnow() + timedelta(seconds=lease)))


def _locked(query: Any, of: Any) -> Any:
    """SKIP LOCKED on PostgreSQL, so two workers never claim the same rows."""
    if db.session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=of)
    return query


def _due(model: Any, now: datetime) -> Any:
    """Rows not held by a lease, coalescing window or back-off."""
    return or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now)


def ensure_rows(limit: int) -> None:
    """Give programs with members a class row, and members without an object row one."""
    has_class = select(GoogleClass.program_id).where(GoogleClass.program_id == Program.id)
    programs = select(Program.id).where(~has_class.exists(),
                                        select(Member.id).where(
                                            Member.program_id == Program.id).exists())
    db.session.execute(insert(GoogleClass).from_select(
        ["program_id", "inserted", "delivered_design", "attempts", "created_at"],
        select(programs.subquery().c.id, *_defaults())))
    has_object = select(GoogleObject.id).where(GoogleObject.member_id == Member.id)
    missing = select(Member.id).where(~has_object.exists()).order_by(Member.id).limit(limit)
    db.session.execute(insert(GoogleObject).from_select(
        ["member_id", "inserted", "delivered_version", "attempts", "created_at", "notified_at",
         "messages"],
        select(missing.subquery().c.id, *_defaults(), literal([], JSON()), literal([], JSON()))))


def _defaults() -> tuple[Any, ...]:
    """Values of inserted, delivered version, attempts and created_at for new rows."""
    return (literal(False, Boolean()), literal(0, Integer()), literal(0, Integer()),
            literal(utcnow(), UTCDateTime()))


def claim_classes(wallet: GoogleWallet, settings: Settings) -> list[Job]:
    """Reserve due classes and build their bodies."""
    now = utcnow()
    rows = db.session.execute(_locked(
        select(GoogleClass, Program).join(Program, Program.id == GoogleClass.program_id)
        .where(Program.design_version > GoogleClass.delivered_design, _due(GoogleClass, now))
        .limit(settings.GOOGLE_BATCH_SIZE), GoogleClass)).all()
    jobs = []
    for row, program in rows:
        names = {img.filename for img in program.images}
        body = mapping.loyalty_class(program, issuer_id=wallet.issuer_id,
                                     base_url=settings.BASE_URL, image_names=names,
                                     callback_url=wallet.callback_url)
        jobs.append(Job(row.program_id, program.design_version, row.attempts, row.inserted,
                        body))
    _lease(GoogleClass, GoogleClass.program_id, [j.row_id for j in jobs],
           settings.PUSH_LEASE_SECONDS)
    db.session.commit()
    return jobs


def claim_objects(wallet: GoogleWallet, settings: Settings) -> list[Job]:
    """Reserve due objects (whose class is at Google) and build their bodies.

    The due rows are picked (and locked) by id alone, then loaded: PostgreSQL sorts every
    due row before it can lock the first ones, and sorting ids is about 3 x cheaper than
    sorting whole rows when a design change leaves 100,000 due.
    """
    now = utcnow()
    order = (GoogleObject.next_attempt_at.is_not(None), GoogleObject.id)
    ids = db.session.scalars(_locked(
        select(GoogleObject.id).join(Member, Member.id == GoogleObject.member_id)
        .join(GoogleClass, GoogleClass.program_id == Member.program_id)
        .where(GoogleClass.inserted.is_(True),
               Member.pass_version > GoogleObject.delivered_version, _due(GoogleObject, now))
        .order_by(*order).limit(settings.GOOGLE_BATCH_SIZE * UNCHANGED_FACTOR),
        GoogleObject)).all()
    rows = db.session.execute(
        select(GoogleObject, Member).join(Member, Member.id == GoogleObject.member_id)
        .where(GoogleObject.id.in_(ids)).order_by(*order)).all() if ids else []
    jobs, tags, keys = [], {}, {}
    for row, member in rows:
        program = member.program
        if program.id not in tags:
            tags[program.id] = art_tag(strip_art(program))
        content = card_content(load_snapshot(member))
        if program.id not in keys:  # read after the snapshot: see google_design
            keys[program.id] = object_design_key(program)
        body = mapping.loyalty_object(program, content, issuer_id=wallet.issuer_id,
                                      serial_number=member.serial_number,
                                      base_url=settings.BASE_URL, art_tag=tags[program.id])
        digest = body_hash(body)
        unchanged = row.inserted and row.body_hash == digest
        job = _with_messages(Job(row.id, member.pass_version, row.attempts, row.inserted,
                                 body, digest, unchanged=unchanged),
                             row, program, mapping.card_fields(content), now)
        jobs.append(replace(job, on_success={**job.on_success,
                                             "design_key": keys[program.id]}))
    _lease(GoogleObject, GoogleObject.id, [j.row_id for j in jobs if not j.unchanged],
           settings.PUSH_LEASE_SECONDS)
    db.session.commit()
    return jobs


def _with_messages(job: Job, row: GoogleObject, program: Program, card: mapping.CardFields,
                   now: datetime) -> Job:
    """The job plus the milestone messages reached since the last delivery."""
    current = messages.milestone_values(card)
    new = messages.milestone_messages(
        row.milestones if row.inserted else None, current,
        lang=program.language or "en", overrides=program.translations or None,
        message_id=f"v{job.version}")
    typed, notified = messages.plan_messages(new, list(row.notified_at or []), now)
    old = list(row.messages or [])
    keep = messages.kept_messages(old, len(typed))
    return replace(job, messages=tuple(typed), keep=keep, on_success={
        "body_hash": job.body_hash, "milestones": current, "notified_at": notified,
        "messages": (old if keep is None else keep) + typed})


def send(wallet: GoogleWallet, kind: str, jobs: list[Job],
         pacer: Pacer) -> dict[int, GoogleAnswer]:
    """Upsert each changed class or object at Google (no transaction open), at the
    deployment's shared rate; then add its milestone messages."""
    answers = {}
    for job in jobs:
        if job.unchanged:
            continue
        answer = wallet.client.upsert(kind, job.body or {}, exists=job.inserted, pace=pacer.wait)
        answers[job.row_id] = answer
        if job.messages and classify(answer) is Outcome.OK:
            _add_messages(wallet, job, pacer)
    return answers


def _add_messages(wallet: GoogleWallet, job: Job, pacer: Pacer) -> None:
    """Prune old messages if needed, then add each new one; a notification refused for
    quota is sent again as a plain message (never retried as a notification)."""
    client, object_id = wallet.client, (job.body or {})["id"]
    if job.keep is not None:
        client.patch("loyaltyObject", {"id": object_id, "messages": job.keep}, pacer.wait)
    for message in job.messages:
        answer = client.add_message("loyaltyObject", object_id, message, pacer.wait)
        if classify(answer) is Outcome.QUOTA:
            answer = client.add_message("loyaltyObject", object_id,
                                        {**message, "messageType": "TEXT"}, pacer.wait)
        if classify(answer) is not Outcome.OK:
            log.warning("Google Wallet refused a message on %s: %s %s", object_id,
                        answer.status, answer.reason)


def record(model: Any, key: Any, jobs: list[Job], answers: dict[int, GoogleAnswer],
           settings: Settings) -> None:
    """Store each outcome, in a few executemany UPDATEs: delivered (with the version, hash
    and messages sent) or back off and retry."""
    now = utcnow()
    table, key_name = model.__table__, key.key
    version_col = "delivered_design" if model is GoogleClass else "delivered_version"
    delivered: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for job in jobs:
        answer = answers.get(job.row_id, GoogleAnswer(200))
        if classify(answer) is Outcome.OK:
            delivered.append({"b_id": job.row_id, "b_v": job.version, "b_status": answer.status,
                              **{f"b_{k}": v for k, v in job.on_success.items()}})
        else:
            delay = min(settings.PUSH_RETRY_MAX_SECONDS, FIRST_RETRY * 2 ** min(job.attempts, 16))
            failed.append({"b_id": job.row_id, "b_status": answer.status,
                           "b_reason": (answer.reason or "")[:64] or None,
                           "b_next": now + timedelta(seconds=delay * random.uniform(0.8, 1.2))})
    row_key, current = table.c[key_name], table.c[version_col]
    if delivered:
        extra: dict[str, Any] = {k: bindparam(f"b_{k}") for k in jobs[0].on_success}
        db.session.execute(update(table).where(
            row_key == bindparam("b_id"), current < bindparam("b_v", type_=Integer())).values(
            {version_col: bindparam("b_v"), "inserted": True, "delivered_at": now,
             "status": bindparam("b_status"), "reason": None, "attempts": 0,
             "next_attempt_at": None, **extra}), delivered)
        db.session.execute(update(table).where(row_key == bindparam("b_id")).values(
            next_attempt_at=None), [{"b_id": d["b_id"]} for d in delivered])
    if failed:
        db.session.execute(update(table).where(row_key == bindparam("b_id")).values(
            status=bindparam("b_status"), reason=bindparam("b_reason"),
            attempts=table.c.attempts + 1, next_attempt_at=bindparam("b_next")), failed)
    db.session.commit()
    _log_failures(answers)


def _log_failures(answers: dict[int, GoogleAnswer]) -> None:
    """One log line per kind of failure in a batch."""
    failed: dict[tuple[int, str | None], int] = {}
    for answer in answers.values():
        if classify(answer) is not Outcome.OK:
            failed[(answer.status, answer.reason)] = failed.get((answer.status,
                                                                 answer.reason), 0) + 1
    for (status, reason), count in failed.items():
        level = logging.ERROR if status in (400, 401, 403) else logging.WARNING
        log.log(level, "Google Wallet answered %s %s for %d calls; retrying later",
                status, reason, count)


class GoogleChannel:
    """Google Wallet classes and objects, kept in step with programs and members."""

    name = "google"

    def __init__(self) -> None:
        self._pacer: Pacer | None = None

    def batch_size(self, settings: Settings) -> int:
        """How many classes plus objects one batch sends at most."""
        return settings.GOOGLE_BATCH_SIZE

    def run_batch(self, settings: Settings) -> int:
        """Insert or PATCH one round of due classes, then due objects; returns how many were
        claimed (the pacer, kept across batches, holds the deployment-wide rate)."""
        wallet: GoogleWallet | None = current_app.extensions.get("walletpass.google")
        if wallet is None:
            return 0
        if self._pacer is None or self._pacer.rate != settings.GOOGLE_RATE_LIMIT * HEADROOM:
            self._pacer = Pacer(settings.GOOGLE_RATE_LIMIT)
        return self._round(wallet, settings, self._pacer)

    def _round(self, wallet: GoogleWallet, settings: Settings, pacer: Pacer) -> int:
        """One claim-send-record round of classes and objects."""
        ensure_rows(settings.GOOGLE_BATCH_SIZE * UNCHANGED_FACTOR)
        db.session.commit()
        classes = claim_classes(wallet, settings)
        if classes:
            record(GoogleClass, GoogleClass.program_id, classes,
                   send(wallet, "loyaltyClass", classes, pacer), settings)
        objects = claim_objects(wallet, settings)
        if objects:
            record(GoogleObject, GoogleObject.id, objects,
                   send(wallet, "loyaltyObject", objects, pacer), settings)
        return len(classes) + len(objects)


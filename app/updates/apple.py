"""The Apple channel: APNs pushes to every device registered for a changed pass."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Integer, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from app import leases
from app.config import Settings
from app.extensions import db
from app.metrics import APNS_PUSHES
from app.models import AppleDevice, AppleRegistration, Member
from app.models.base import utcnow
from app.wallet.apple.apns import ApnsAnswer, ApnsClient, Outcome, apns_client, classify

log = logging.getLogger(__name__)
REG = AppleRegistration.__table__
FIRST_RETRY = {Outcome.RETRY: 5.0, Outcome.CERTIFICATE: 60.0, Outcome.REJECTED: 60.0,
               Outcome.UNREGISTERED: 5.0}


@dataclass(frozen=True)
class Claim:
    """A registration claimed for one push: the version it will deliver and where to."""

    reg_id: int
    device_id: int
    token: str
    version: int
    registered_at: datetime
    attempts: int


def claim_batch(limit: int, lease: float, until: datetime | None = None) -> list[Claim]:
    """Reserve up to `limit` due registrations for this worker (for `lease` seconds, or
    until `until`), in one short transaction."""
    R = AppleRegistration
    query = (select(R.id, R.device_id, AppleDevice.push_token, Member.pass_version,
                    R.registered_at, R.attempts)
             .join(Member, Member.id == R.member_id)
             .join(AppleDevice, AppleDevice.id == R.device_id)
             .where(Member.pass_version > R.pushed_version, leases.due(R.next_attempt_at)))
    return [Claim(*row) for row in leases.claim(query, R.next_attempt_at, lease, limit, until)]


def push(claims: list[Claim]) -> dict[str, ApnsAnswer]:
    """One push per distinct device token (a device with several changed passes gets one)."""
    return by_token(current_client().send(distinct_tokens(claims)))


def current_client() -> ApnsClient:
    """The current app's APNs client."""
    return apns_client(current_app._get_current_object())  # type: ignore[attr-defined]


def distinct_tokens(claims: list[Claim]) -> list[str]:
    """The claims' device tokens, each once, in order."""
    return list(dict.fromkeys(c.token for c in claims))


def by_token(answers: list[ApnsAnswer]) -> dict[str, ApnsAnswer]:
    """The answers of a push by token, counted in the metrics."""
    count_answers(answers)
    return {a.token: a for a in answers}


def count_answers(answers: Any) -> None:
    """Count APNs answers by status and reason (no answer: status 0, reason no_answer)."""
    for (status, reason), n in Counter((a.status, a.reason or ("no_answer" if a.status == 0
                                                                else ""))
                                       for a in answers).items():
        APNS_PUSHES.labels(str(status), reason).inc(n)


def record(claims: list[Claim], answers: dict[str, ApnsAnswer], settings: Settings) -> None:
    """Store what APNs answered for each claimed registration, in one short transaction."""
    now = utcnow()
    delivered: list[Claim] = []
    failed: list[dict[str, Any]] = []
    drop_devices: list[dict[str, Any]] = []
    unregistered: list[tuple[Claim, ApnsAnswer]] = []
    for claim in claims:
        answer = answers.get(claim.token) or ApnsAnswer(claim.token, 0, error="no answer")
        outcome = classify(answer)
        if outcome is Outcome.DELIVERED:
            delivered.append(claim)
        elif outcome is Outcome.BAD_TOKEN:
            drop_devices.append({"b_dev": claim.device_id, "b_tok": claim.token})
        elif outcome is Outcome.UNREGISTERED:
            unregistered.append((claim, answer))
        else:
            failed.append(_failure(claim, answer, outcome, now, settings))
    if delivered:
        _write_delivered(delivered, now, now + timedelta(seconds=settings.PUSH_COALESCE_SECONDS))
    _write(failed, drop_devices)
    kept = _drop_unregistered(unregistered, now, settings)
    if kept:
        db.session.execute(_failed_update(), kept)
    db.session.commit()
    _log_failures(answers)


def _write_delivered(claims: list[Claim], now: datetime, next_at: datetime) -> None:
    """Mark these registrations delivered (their claimed version, or a newer one already
    recorded) and quiet until `next_at`, in one UPDATE whatever their number."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    batch, params = _id_versions(claims, postgresql)
    newest = func.greatest if postgresql else func.max  # SQLite's max(a, b) is scalar
    db.session.execute(update(REG).where(REG.c.id == batch.c.id).values(
        pushed_version=newest(REG.c.pushed_version, batch.c.version), pushed_at=now,
        push_status=200, push_reason=None, attempts=0, next_attempt_at=next_at), params)


def _id_versions(claims: list[Claim], postgresql: bool) -> tuple[Any, dict[str, Any]]:
    """The claims' (id, version) pairs as a table for an UPDATE ... FROM, and its parameters:
    unnest over two arrays on PostgreSQL, json_each over one JSON array on SQLite."""
    table: Any
    if postgresql:
        table = func.unnest(bindparam("ids", type_=ARRAY(Integer)),
                            bindparam("versions", type_=ARRAY(Integer))
                            ).table_valued("id", "version").render_derived()
        return table, {"ids": [c.reg_id for c in claims],
                       "versions": [c.version for c in claims]}
    each = func.json_each(bindparam("pairs")).table_valued("value")
    table = select(func.json_extract(each.c.value, "$[0]").label("id"),
                   func.json_extract(each.c.value, "$[1]").label("version")).subquery()
    return table, {"pairs": json.dumps([[c.reg_id, c.version] for c in claims])}


def _write(failed: list[dict[str, Any]], drop_devices: list[dict[str, Any]]) -> None:
    """Executemany the failed rows; delete devices whose token APNs refuses."""
    if failed:
        db.session.execute(_failed_update(), failed)
    if drop_devices:
        devices = AppleDevice.__table__
        db.session.execute(delete(devices).where(devices.c.id == bindparam("b_dev"),
                                                 devices.c.push_token == bindparam("b_tok")),
                           drop_devices)
        # A device that re-registered with a new token meanwhile keeps its rows: push again.
        db.session.execute(update(REG).where(REG.c.device_id == bindparam("b_dev")).values(
            next_attempt_at=None), drop_devices)


def _failed_update() -> Any:
    """The executemany UPDATE for a push to try again later."""
    return update(REG).where(REG.c.id == bindparam("b_id")).values(
        push_status=bindparam("b_status"), push_reason=bindparam("b_reason"),
        attempts=REG.c.attempts + 1, next_attempt_at=bindparam("b_next"))


def _failure(claim: Claim, answer: ApnsAnswer, outcome: Outcome, now: datetime,
             settings: Settings) -> dict[str, Any]:
    """Parameters that leave a failed push pending, with exponential back-off and jitter."""
    retry = leases.Backoff(first=5.0, cap=settings.PUSH_RETRY_MAX_SECONDS)
    reason = answer.reason or (answer.error or "")[:64] or None
    return {"b_id": claim.reg_id, "b_status": answer.status, "b_reason": reason,
            "b_next": retry.next_attempt(now, claim.attempts + 1, FIRST_RETRY.get(outcome))}


def _drop_unregistered(items: list[tuple[Claim, ApnsAnswer]], now: datetime,
                       settings: Settings) -> list[dict[str, Any]]:
    """Delete registrations APNs calls unregistered, unless the device registered again since.

    Returns the failure rows of those kept (they are pushed again after a back-off).
    """
    kept = []
    for claim, answer in items:
        stamp = answer.timestamp
        gone_at = datetime.fromtimestamp(stamp / 1000, UTC) if stamp is not None else now
        if claim.registered_at < gone_at:
            db.session.execute(delete(REG).where(REG.c.id == claim.reg_id,
                                                 REG.c.registered_at < gone_at))
        else:
            kept.append(_failure(claim, answer, Outcome.UNREGISTERED, now, settings))
    if items:
        orphans = select(REG.c.device_id).distinct()
        devices = AppleDevice.__table__
        db.session.execute(delete(devices).where(
            devices.c.id.in_({c.device_id for c, _ in items}), devices.c.id.not_in(orphans)))
    return kept


def _log_failures(answers: dict[str, ApnsAnswer]) -> None:
    """Log refused certificates loudly, and other failures once per batch."""
    counts = Counter((a.status, a.reason or a.error) for a in answers.values() if a.status != 200)
    for (status, reason), count in counts.items():
        if status == 403:
            log.error("APNs REFUSED OUR CERTIFICATE (403 %s) for %d pushes: check the Pass "
                      "Type ID certificate (WALLETPASS_APPLE_CERT) and that it is not revoked "
                      "or expired; pushes are retried with back-off.", reason, count)
        elif status in (0, 429) or status >= 500:
            log.warning("APNs answered %s %s for %d pushes; retrying later", status, reason,
                        count)
        elif status not in (400, 410) or reason not in {"BadDeviceToken",
                                                         "DeviceTokenNotForTopic",
                                                         "Unregistered", None}:
            log.error("APNs rejected %d pushes: %s %s", count, status, reason)


FIRST_ROUND = 1000
"""Registrations in a sweep's first round of pushes: a small claim, so the first pushes leave
soon; each later round is twice the one before, up to PUSH_BATCH_SIZE."""


@dataclass(frozen=True)
class Round:
    """Registrations claimed for one round of pushes: held until `until`, at most `limit`."""

    claims: list[Claim]
    limit: int
    until: datetime


class Pusher(threading.Thread):
    """One round's pushes, sent from a thread of their own (HTTP/2 I/O, no database)."""

    def __init__(self, client: ApnsClient, tokens: list[str]) -> None:
        super().__init__(name="apns-push", daemon=True)
        self.client, self.tokens = client, tokens
        self.answers: list[ApnsAnswer] = []
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        """Send; keep the answers or the error for `result`."""
        try:
            self.answers = self.client.send(self.tokens)
        except BaseException as exc:  # handed to the sweep's thread by `result`
            self.error = exc

    def result(self, timeout: float) -> list[ApnsAnswer]:
        """The answers, once sent (at most `timeout` seconds from now)."""
        self.join(timeout)
        if self.is_alive():
            raise TimeoutError(f"APNs push of {len(self.tokens)} tokens still running after "
                               f"{timeout:.0f} s")
        if self.error is not None:
            raise self.error
        return self.answers


class PushRounds:
    """One sweep's Apple turns, overlapped: while a round is pushed (by a Pusher thread), the
    sweep's thread records the round before and claims the next, so after the first claim the
    pushes never wait for the database. All database work stays in the sweep's thread and
    session, one statement after the other (so SQLite's single writer is never contended).

    A round claimed but not pushed is released on `close`; one pushed but not recorded
    (a failure, a crash) is pushed again when its lease runs out, as before.
    """

    def __init__(self, settings: Settings, deadline: float) -> None:
        self.settings, self.deadline = settings, deadline
        self.limit = min(FIRST_ROUND, int(settings.PUSH_BATCH_SIZE))
        self.drained = False
        self._next: Round | None = None
        self._pushed: list[tuple[list[Claim], dict[str, ApnsAnswer]]] = []

    def turn(self) -> int:
        """Push one round while recording the one before and claiming the next; returns how
        many registrations were pushed (sets `drained` when no next round was claimed)."""
        current, self._next = self._next or self._claim(), None
        if not current.claims:
            self.drained = True
            return 0
        tokens = distinct_tokens(current.claims)
        pusher = Pusher(current_client(), tokens)
        try:
            self._record()
            if len(current.claims) == current.limit and time.monotonic() < self.deadline:
                self._next = self._claim()
        finally:
            self._pushed.append((current.claims,
                                 by_token(pusher.result(self._push_timeout(len(tokens))))))
        self.drained = not (self._next and self._next.claims)
        return len(current.claims)

    def close(self) -> None:
        """Record what was pushed and release what was claimed but not pushed (each step
        logged, not raised, when it fails: the leases bring those rows back)."""
        for step in (self._record, self._release):
            try:
                step()
            except Exception:
                log.exception("recording the last Apple round failed; its rows come back when "
                              "their lease ends")
                db.session.rollback()

    def _claim(self) -> Round:
        """Claim the next round, twice the size of the one before (up to the batch size)."""
        lease = self.settings.PUSH_LEASE_SECONDS
        until = utcnow() + timedelta(seconds=lease)
        limit, self.limit = self.limit, min(2 * self.limit, int(self.settings.PUSH_BATCH_SIZE))
        return Round(claim_batch(limit, lease, until), limit, until)

    def _record(self) -> None:
        """Record every pushed round not recorded yet (each kept until it is)."""
        while self._pushed:
            claims, answers = self._pushed[0]
            record(claims, answers, self.settings)
            self._pushed.pop(0)

    def _release(self) -> None:
        """Give back the round claimed for a turn that will not come."""
        held, self._next = self._next, None
        if held and held.claims:
            leases.release_held(AppleRegistration.next_attempt_at,
                                [c.reg_id for c in held.claims], held.until)

    def _push_timeout(self, tokens: int) -> float:
        """How long a round's pushes may take: every wave of APNS_CONCURRENCY requests timing
        out, twice (a request on a closed connection is sent once more), and one more."""
        waves = -(-tokens // max(1, self.settings.APNS_CONCURRENCY))
        return float(self.settings.APNS_TIMEOUT) * (2 * waves + 1)


class AppleChannel:
    """APNs pushes for Apple Wallet passes."""

    name = "apple"

    def batch_size(self, settings: Settings) -> int:
        """Registrations per batch: PUSH_BATCH_SIZE."""
        return int(settings.PUSH_BATCH_SIZE)

    def run_batch(self, settings: Settings) -> int:
        """Claim a batch, push it (no transaction open), record the answers."""
        claims = claim_batch(self.batch_size(settings), settings.PUSH_LEASE_SECONDS)
        if claims:
            record(claims, push(claims), settings)
        return len(claims)

    def turns(self, settings: Settings, deadline: float) -> PushRounds:
        """This sweep's turns, each push overlapped with the database work around it."""
        return PushRounds(settings, deadline)

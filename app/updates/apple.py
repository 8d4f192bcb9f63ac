"""The Apple channel: APNs pushes to every device registered for a changed pass."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Integer, bindparam, case, delete, select, update

from app import leases
from app.config import Settings
from app.extensions import db
from app.metrics import APNS_PUSHES
from app.models import AppleDevice, AppleRegistration, Member
from app.models.base import utcnow
from app.wallet.apple.apns import ApnsAnswer, Outcome, apns_client, classify

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


def claim_batch(limit: int, lease: float) -> list[Claim]:
    """Reserve up to `limit` due registrations for this worker, in one short transaction."""
    R = AppleRegistration
    query = (select(R.id, R.device_id, AppleDevice.push_token, Member.pass_version,
                    R.registered_at, R.attempts)
             .join(Member, Member.id == R.member_id)
             .join(AppleDevice, AppleDevice.id == R.device_id)
             .where(Member.pass_version > R.pushed_version, leases.due(R.next_attempt_at)))
    return [Claim(*row) for row in leases.claim(query, R.next_attempt_at, lease, limit)]


def push(claims: list[Claim]) -> dict[str, ApnsAnswer]:
    """One push per distinct device token (a device with several changed passes gets one)."""
    tokens = list(dict.fromkeys(c.token for c in claims))
    client = apns_client(current_app._get_current_object())  # type: ignore[attr-defined]
    answers = {a.token: a for a in client.send(tokens)}
    count_answers(answers.values())
    return answers


def count_answers(answers: Any) -> None:
    """Count APNs answers by status and reason (no answer: status 0, reason no_answer)."""
    for (status, reason), n in Counter((a.status, a.reason or ("no_answer" if a.status == 0
                                                                else ""))
                                       for a in answers).items():
        APNS_PUSHES.labels(str(status), reason).inc(n)


def record(claims: list[Claim], answers: dict[str, ApnsAnswer], settings: Settings) -> None:
    """Store what APNs answered for each claimed registration, in one short transaction."""
    now = utcnow()
    delivered: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    drop_devices: list[dict[str, Any]] = []
    unregistered: list[tuple[Claim, ApnsAnswer]] = []
    for claim in claims:
        answer = answers.get(claim.token) or ApnsAnswer(claim.token, 0, error="no answer")
        outcome = classify(answer)
        if outcome is Outcome.DELIVERED:
            delivered.append({"b_id": claim.reg_id, "b_v": claim.version, "b_now": now,
                              "b_next": now + timedelta(seconds=settings.PUSH_COALESCE_SECONDS)})
        elif outcome is Outcome.BAD_TOKEN:
            drop_devices.append({"b_dev": claim.device_id, "b_tok": claim.token})
        elif outcome is Outcome.UNREGISTERED:
            unregistered.append((claim, answer))
        else:
            failed.append(_failure(claim, answer, outcome, now, settings))
    _write(delivered, failed, drop_devices)
    kept = _drop_unregistered(unregistered, now, settings)
    if kept:
        db.session.execute(_failed_update(), kept)
    db.session.commit()
    _log_failures(answers)


def _write(delivered: list[dict[str, Any]], failed: list[dict[str, Any]],
           drop_devices: list[dict[str, Any]]) -> None:
    """Executemany the delivered and failed rows; delete devices whose token APNs refuses."""
    if delivered:
        version: Any = bindparam("b_v", type_=Integer())
        db.session.execute(update(REG).where(REG.c.id == bindparam("b_id")).values(
            pushed_version=case((REG.c.pushed_version < version, version),
                                else_=REG.c.pushed_version),
            pushed_at=bindparam("b_now"), push_status=200, push_reason=None, attempts=0,
            next_attempt_at=bindparam("b_next")), delivered)
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


"""Marking many cards changed at once (a bulk pass version bump, in the current transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from app.extensions import db
from app.jobs import PASS_UPDATES, wake
from app.models import Member
from app.models.base import utcnow_seconds


def members_changed(*where: Any) -> None:
    """Bump the pass version of every member matching the conditions."""
    db.session.execute(update(Member).where(*where).values(
        pass_version=Member.pass_version + 1, pass_updated_at=utcnow_seconds()))
    wake(db.session(), PASS_UPDATES)

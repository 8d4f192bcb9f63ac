"""Marking many cards changed at once (a bulk pass version bump, in the current transaction)."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.updates.changes import bump_passes


def members_changed(*where: Any) -> None:
    """Bump the pass version of every member matching the conditions."""
    bump_passes(db.session(), *where)

"""The analytics sweep: closes finished local days into the rollup tables."""

from __future__ import annotations

from app import jobs
from app.analytics.rollups import roll_up_all

ROLLUP = "analytics_rollup"


@jobs.sweep(ROLLUP, every=900)
def roll_up_days() -> int:
    """Close every program's finished days into the analytics rollups."""
    return roll_up_all()

"""The pass_updates sweep: runs every channel until nothing is due (or its time is up)."""

from __future__ import annotations

import time

from flask import current_app

from app import jobs
from app.updates import CHANNELS

SWEEP_EVERY = 2.0
"""Seconds between sweeps when not woken (also how soon a coalesced change goes out)."""
SWEEP_BUDGET = 30.0
"""Seconds one sweep may run before it leaves the rest to the next one."""


@jobs.sweep(jobs.PASS_UPDATES, every=SWEEP_EVERY)
def push_pass_updates() -> int:
    """Deliver every pending pass update on every channel; returns how many were claimed."""
    import app.updates.apple  # noqa: F401  (registers the Apple channel)
    import app.updates.google  # noqa: F401  (registers the Google channel)

    settings = current_app.config["SETTINGS"]
    deadline = time.monotonic() + SWEEP_BUDGET
    handled = 0
    for channel in list(CHANNELS.values()):
        while time.monotonic() < deadline:
            claimed = channel.run_batch(settings)
            handled += claimed
            if claimed < settings.PUSH_BATCH_SIZE:
                break
    return handled

"""The pass_updates sweep: the channels take turns, one batch each, until none has more."""

from __future__ import annotations

import logging
import time

from flask import current_app

import app.updates.channels  # noqa: F401  (registers the channels)
from app import jobs
from app.config import Settings
from app.extensions import db
from app.updates import CHANNELS, Channel

log = logging.getLogger(__name__)

SWEEP_EVERY = 2.0
"""Seconds between sweeps when not woken (also how soon a coalesced change goes out)."""
SWEEP_BUDGET = 30.0
"""Seconds one sweep may run before it leaves the rest to the next one."""


@jobs.sweep(jobs.PASS_UPDATES, every=SWEEP_EVERY)
def push_pass_updates() -> int:
    """Deliver every pending pass update on every channel; returns how many were claimed."""
    settings = current_app.config["SETTINGS"]
    return take_turns(list(CHANNELS.values()), settings, time.monotonic() + SWEEP_BUDGET)


def take_turns(channels: list[Channel], settings: Settings, deadline: float) -> int:
    """Round-robin: one batch per channel per round, dropping each channel once it is
    drained (claimed less than a full batch) or failed, until none is left or time is up."""
    handled = 0
    while channels and time.monotonic() < deadline:
        for channel in list(channels):
            claimed = _one_batch(channel, settings)
            handled += max(claimed, 0)
            if claimed < channel.batch_size(settings):
                channels.remove(channel)
            if time.monotonic() >= deadline:
                break
    return handled


def _one_batch(channel: Channel, settings: Settings) -> int:
    """Run one batch of a channel; a failure is logged (and rolled back) and returns -1."""
    try:
        return channel.run_batch(settings)
    except Exception:
        log.exception("update channel %s failed; it runs again next sweep", channel.name)
        db.session.rollback()
        return -1

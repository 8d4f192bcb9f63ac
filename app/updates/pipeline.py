"""The pass_updates sweep: the channels take turns, one batch each, until none has more."""

from __future__ import annotations

import logging
import time

from flask import current_app

import app.updates.channels  # noqa: F401  (registers the channels)
from app import jobs
from app.config import Settings
from app.extensions import db
from app.updates import CHANNELS, Channel, OverlappingChannel, Turns

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
    """Round-robin: one turn per channel per round, dropping (and closing) each channel once
    it is drained or failed, until none is left or time is up."""
    active = [(channel, _turns(channel, settings, deadline)) for channel in channels]
    handled = 0
    try:
        while active and time.monotonic() < deadline:
            for channel, turns in list(active):
                claimed = _one_turn(channel, turns)
                handled += max(claimed, 0)
                if claimed < 0 or turns.drained:
                    active.remove((channel, turns))
                    turns.close()
                if time.monotonic() >= deadline:
                    break
    finally:
        for _, turns in active:
            turns.close()
    return handled


class OneBatchPerTurn:
    """The turns of a channel that holds nothing between them: one `run_batch` each."""

    def __init__(self, channel: Channel, settings: Settings) -> None:
        self.channel, self.settings = channel, settings
        self.drained = False

    def turn(self) -> int:
        """Run one batch; drained once it claimed less than a full batch."""
        claimed = self.channel.run_batch(self.settings)
        self.drained = claimed < self.channel.batch_size(self.settings)
        return claimed

    def close(self) -> None:
        """Nothing is held between batches."""


def _turns(channel: Channel, settings: Settings, deadline: float) -> Turns:
    """The channel's turns for this sweep."""
    if isinstance(channel, OverlappingChannel):
        return channel.turns(settings, deadline)
    return OneBatchPerTurn(channel, settings)


def _one_turn(channel: Channel, turns: Turns) -> int:
    """Run one turn of a channel; a failure is logged (and rolled back) and returns -1."""
    try:
        return turns.turn()
    except Exception:
        log.exception("update channel %s failed; it runs again next sweep", channel.name)
        db.session.rollback()
        return -1

"""The update pipeline: every change to a card reaches every wallet that holds it.

A change bumps ``Member.pass_version`` in the same transaction (and wakes the
``pass_updates`` sweep after commit). Each wallet keeps, per installed card, the version
it last delivered; the sweep hands each *channel* (Apple today, Google next) the cards
whose version moved on. A channel claims a batch of due rows with a lease (so two workers
never send the same row, and a crashed worker's rows come back when the lease ends),
delivers with no database transaction open, then records the outcome per row. Bursts
coalesce: a row is only due again a short window after its last delivery, and it always
delivers the newest version.
"""

from __future__ import annotations

from typing import Protocol

from app.config import Settings


class Channel(Protocol):
    """One wallet's delivery of pass updates (e.g. APNs pushes for Apple Wallet)."""

    name: str

    def run_batch(self, settings: Settings) -> int:
        """Claim, deliver and record one batch of due updates; returns how many were claimed."""
        ...


CHANNELS: dict[str, Channel] = {}


def register_channel(channel: Channel) -> Channel:
    """Add a channel to the pass_updates sweep."""
    CHANNELS[channel.name] = channel
    return channel

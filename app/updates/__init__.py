"""The update pipeline: every change to a card reaches every wallet that holds it.

A change bumps ``Member.pass_version`` in the same transaction (app/updates/changes.py:
``touch_pass(member)`` or ``bump_passes(session, *where)``), which also wakes the
``pass_updates`` sweep after commit. Each wallet keeps, per installed card, the version it
last delivered; the sweep (app/updates/pipeline.py) hands each *channel* (Apple today,
Google next) the cards whose version moved on. Bursts coalesce: a row is only due again a
short window after its last delivery, and it always delivers the newest version.

Adding a channel
----------------
1. Write a class with the `Channel` protocol below: a ``name``, ``batch_size(settings)``
   and ``run_batch(settings)``, which claims at most ``batch_size`` due rows, delivers
   them with no transaction open and records the outcome per row. Use the shared helpers
   of app/leases.py for that:

   - ``leases.claim(query, Model.next_attempt_at, lease=..., limit=...)`` reserves due
     rows (``leases.due(Model.next_attempt_at)`` in the query's WHERE) and commits, so two
     workers never send the same row and a crashed worker's rows come back after the lease;
   - ``Backoff(first=..., cap=...).next_attempt(now, failures)`` is when a failed row is due
     again (exponential, with jitter, never past the cap).

2. Register it with one line in app/updates/channels.py: ``register_channel(MyChannel())``.

A channel whose deliveries are long compared with its database work can also have
``turns(settings, deadline)`` (the `OverlappingChannel` protocol): the sweep then asks it,
once per sweep, for an object that runs one turn at a time and is closed when the channel
is done, so it can hold work between its turns (Apple: the next round, claimed while the
current one is pushed, and the last round, recorded while the next is pushed).

Channels take turns within a sweep: each runs one batch, then the next channel does, round
and round until every channel has claimed less than a full batch (it is drained) or the
sweep's time is up. So a backlog (or a slow remote service) on one channel cannot starve
another, and a channel that fails is logged and skipped for the rest of that sweep only.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from app.config import Settings


class Channel(Protocol):
    """One wallet's delivery of pass updates (e.g. APNs pushes for Apple Wallet)."""

    name: str

    def batch_size(self, settings: Settings) -> int:
        """How many rows one batch of this channel claims at most."""
        ...

    def run_batch(self, settings: Settings) -> int:
        """Claim, deliver and record one batch of due updates; returns how many were claimed."""
        ...


class Turns(Protocol):
    """One sweep's turns of a channel: each runs one round; `close` finishes what is held."""

    drained: bool
    """Set when the channel has nothing more to do in this sweep."""

    def turn(self) -> int:
        """Deliver one round; returns how many rows it delivered (or tried to)."""
        ...

    def close(self) -> None:
        """Record and give back whatever the turns still hold (never raises)."""
        ...


@runtime_checkable
class OverlappingChannel(Channel, Protocol):
    """A channel that overlaps its deliveries with its database work across its turns."""

    def turns(self, settings: Settings, deadline: float) -> Turns:
        """This sweep's turns (no further round is claimed once `deadline` has passed)."""
        ...


CHANNELS: dict[str, Channel] = {}


def register_channel(channel: Channel) -> Channel:
    """Add a channel to the pass_updates sweep (it takes its turn after those before it)."""
    CHANNELS[channel.name] = channel
    return channel

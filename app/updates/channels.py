"""Every channel of the pass_updates sweep, registered in one place (in turn order)."""

from __future__ import annotations

from app.updates import register_channel
from app.updates.apple import AppleChannel
from app.updates.google import GoogleChannel

register_channel(AppleChannel())
register_channel(GoogleChannel())

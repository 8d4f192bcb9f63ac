"""Milestone messages on Google Wallet objects: tier up, a reward available, points expiring.

Pure functions. Only milestones make a message; everything else updates silently. Google
allows 3 notifications per pass per 24 hours and keeps at most 10 messages per object:
`plan_messages` decides which new messages notify (TEXT_AND_NOTIFY) and which are plain
(TEXT) from the notification times already spent, and which old messages to keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from app.wallet import i18n
from app.wallet.google.mapping import CardFields, localized

MAX_MESSAGES = 10
MAX_NOTIFICATIONS = 3
NOTIFY_WINDOW = timedelta(hours=24)
# milestone key -> (header, body template with %@)
MILESTONES = {"tier": ("Tier", "Your tier is now %@"),
              "reward": ("Rewards", "New reward available: %@"),
              "expiring": ("Points expiring", "%@")}

Json = dict[str, Any]


def milestone_values(card: CardFields) -> dict[str, str | None]:
    """The values whose change is a milestone."""
    return {"tier": card.tier, "reward": card.next_reward, "expiring": card.expiring}


def milestone_messages(previous: Mapping[str, str | None] | None,
                       current: Mapping[str, str | None], *, lang: str,
                       overrides: Mapping[str, Mapping[str, str]] | None,
                       message_id: str) -> list[Json]:
    """Messages (type not yet chosen) for milestones reached since `previous`.

    Nothing on the first delivery (previous is None): a new card is not news.
    """
    if previous is None:
        return []
    out = []
    for key, (header, template) in MILESTONES.items():
        value = current.get(key)
        if value and value != previous.get(key):
            body = template.replace("%@", value)
            localized_body = localized(body, lang, None)
            translated = [{"language": code, "value": i18n.translate(template, code, overrides)
                           .replace("%@", value)} for code in i18n.LANGUAGES if code != lang]
            localized_body["translatedValues"] = [t for t in translated if t["value"] != body]
            if not localized_body["translatedValues"]:
                del localized_body["translatedValues"]
            out.append({"id": f"{message_id}-{key}", "header": header, "body": body,
                        "localizedHeader": localized(header, lang, overrides),
                        "localizedBody": localized_body})
    return out


def plan_messages(new: list[Json], notified_at: list[str], now: datetime) -> tuple[
        list[Json], list[str]]:
    """Give each new message its type within the notification budget.

    Returns the typed messages and the notification times to keep (the last 24 hours',
    plus one for each message that notifies).
    """
    recent = [t for t in notified_at if datetime.fromisoformat(t) > now - NOTIFY_WINDOW]
    typed = []
    for message in new:
        notify = len(recent) < MAX_NOTIFICATIONS
        typed.append({**message, "messageType": "TEXT_AND_NOTIFY" if notify else "TEXT"})
        if notify:
            recent.append(now.isoformat())
    return typed, recent


def kept_messages(sent: list[Json], adding: int) -> list[Json] | None:
    """The old messages to keep so that, with `adding` more, at most 10 remain; None when
    nothing must be pruned."""
    if len(sent) + adding <= MAX_MESSAGES:
        return None
    return sent[len(sent) + adding - MAX_MESSAGES:] if adding < MAX_MESSAGES else []

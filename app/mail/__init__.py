"""E-mail to members: a channel of the outbox, sent through SMTP (or written to a folder).

- texts.py       every mail text in en, th, zh-Hant, vi, ms
- message.py     render(): the bytes of one mail from its program's cached template;
                 build_message() parses them (pure: no app, no I/O)
- transport.py   the SMTP URL, and send(): SMTP with timeouts, or .eml files in a folder
- channel.py     the outbox channel: which mails an event calls for (welcome, lifecycle)
- suppressions.py  the per-merchant suppression list and signed unsubscribe tokens
- tasks.py       the sweeps: send due mails at the shared rate; find points expiring soon
- views.py       the unsubscribe page (GET shows a button, POST unsubscribes: RFC 8058)
"""

from __future__ import annotations

KINDS = ("welcome", "reward_available", "tier_near", "points_expiring")
"""Every kind of mail; each is on unless a program switches it off (Program.mail_switches)."""

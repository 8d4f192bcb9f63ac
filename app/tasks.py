"""Sweeps (background jobs). Each feature registers its own with @jobs.sweep."""

import app.analytics.tasks  # noqa: F401  (analytics_rollup: closes finished days)
import app.distribution.tasks  # noqa: F401  (imports: e-mail list uploads)
import app.loyalty.tasks  # noqa: F401  (points expiry, tier reviews, birthday bonuses)
import app.mail.tasks  # noqa: F401  (mail: sends due mails; mail_expiring: points expiring)
import app.outbox.tasks  # noqa: F401  (outbox: relays new events to webhooks, e-mail)
import app.updates.pipeline  # noqa: F401  (pass_updates: pushes changed passes to wallets)
import app.webhooks.tasks  # noqa: F401  (webhook deliveries)

"""The loyalty engine: points ledger, earning rules, tiers, rewards, bonuses, expiry,
donations and stamps, as plain functions that raise domain errors.

Functions here change the session and flush; the caller (an API handler or a sweep)
commits, so a change, its ledger entry, the pass version bump and the webhook outbox row
land in one transaction.
"""

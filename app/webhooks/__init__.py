"""Merchant webhooks: a channel of the outbox (app/outbox), delivered by a sweep."""

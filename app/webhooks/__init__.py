"""Merchant webhooks: an outbox written with each event, delivered by a sweep."""

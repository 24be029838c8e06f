"""Loops: contacts and events, each event sent once per idempotency key."""

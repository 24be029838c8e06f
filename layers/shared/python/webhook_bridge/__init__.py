"""Webhook Bridge shared layer: provider mappings, vendor clients, delivery policy."""

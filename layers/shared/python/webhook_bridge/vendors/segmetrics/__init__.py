"""SegMetrics: contacts, tags, invoices and subscriptions (its import API)."""

"""SegMetrics: contacts, invoices and subscriptions (import API), and its reporting API."""

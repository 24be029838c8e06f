"""Customer.io Track API: customers and custom events."""

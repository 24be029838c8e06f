"""Delivery of vendor messages: retry policy, pacing, ordering and the SQS record handler."""

"""Operator tools: the DLQ command line."""

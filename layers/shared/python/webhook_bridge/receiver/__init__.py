"""The receivers' logic: verify, parse, deduplicate, map, enqueue."""

"""ConvertLoop: people (identify, segments) and event logs."""

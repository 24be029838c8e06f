"""Loops as the bridge sees it: names, configuration, pacing and what it is sent."""

from __future__ import annotations

from webhook_bridge.actions import Action
from webhook_bridge.vendors.catalog import VendorSpec


def handles(action: Action) -> bool:
    return action.identify or action.event is not None


SPEC = VendorSpec(
    name="loops",
    display_name="Loops",
    logical_id="Loops",
    package=__package__ or "webhook_bridge.vendors.loops",
    secret_keys=("LOOPS_API_KEY",),
    base_urls={"LOOPS_BASE_URL": "https://app.loops.so/api/v1"},
    rate_limit_per_second=10,
    rate_limit_source="documented: 10 requests per second per team",
    # Two instances share the team's 10 requests per second (template.yaml: LoopsMaxConcurrency).
    max_concurrency=2,
    erases=True,  # POST /contacts/delete
    handles=handles,
)

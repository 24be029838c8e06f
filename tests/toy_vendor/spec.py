"""Parrot as the bridge sees it; registered by the test with ``catalog.register(SPEC)``."""

from __future__ import annotations

from webhook_bridge.actions import Action
from webhook_bridge.vendors.catalog import VendorSpec


def handles(action: Action) -> bool:
    return action.identify or action.event is not None


SPEC = VendorSpec(
    name="parrot",
    display_name="Parrot",
    logical_id="Parrot",
    package=__package__ or "tests.toy_vendor",
    secret_keys=("PARROT_API_KEY",),
    base_urls={"PARROT_BASE_URL": "https://api.parrot.test/v1"},
    rate_limit_per_second=5,
    rate_limit_source="a toy: 5 requests per second",
    max_concurrency=2,
    erases=False,  # Parrot keeps people and their events; it has no delete
    handles=handles,
    keeps_lists="tags",  # the mapping configuration's parrot_tags, or memberships.parrot
)

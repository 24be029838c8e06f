"""Customer.io as the bridge sees it: names, configuration, pacing and what it is sent."""

from __future__ import annotations

from webhook_bridge.actions import Action
from webhook_bridge.vendors.catalog import VendorSpec


def handles(action: Action) -> bool:
    return action.identify or action.event is not None


SPEC = VendorSpec(
    name="customerio",
    display_name="Customer.io",
    logical_id="CustomerIo",
    package=__package__ or "webhook_bridge.vendors.customerio",
    secret_keys=("CUSTOMERIO_SITE_ID", "CUSTOMERIO_API_KEY"),
    base_urls={"CUSTOMERIO_BASE_URL": "https://track.customer.io/api/v1"},
    rate_limit_per_second=100,
    rate_limit_source="Customer.io's fair-use limit: 100 requests per second per workspace",
    max_concurrency=5,
    erases=True,  # DELETE /customers/{id}
    handles=handles,
    shows_lists_of=("convertloop",),  # one boolean attribute per segment
)

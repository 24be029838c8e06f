"""SegMetrics as the bridge sees it: names, configuration, pacing and what it is sent."""

from __future__ import annotations

from webhook_bridge.actions import Action
from webhook_bridge.vendors.catalog import VendorSpec


def handles(action: Action) -> bool:
    # SegMetrics keeps contacts, invoices and subscriptions; it has no event stream.
    return action.invoice is not None or action.subscription is not None or action.identify


SPEC = VendorSpec(
    name="segmetrics",
    display_name="SegMetrics",
    logical_id="SegMetrics",
    package=__package__ or "webhook_bridge.vendors.segmetrics",
    secret_keys=("SEGMETRICS_ACCOUNT_ID", "SEGMETRICS_INTEGRATION_ID", "SEGMETRICS_API_KEY"),
    base_urls={"SEGMETRICS_BASE_URL": "https://import.segmetrics.io/api/v1"},
    rate_limit_per_second=10,
    rate_limit_source="not documented by SegMetrics; a conservative default",
    max_concurrency=5,
    erases=True,  # DELETE /contact/{id_or_email}; its invoices and subscriptions stay
    handles=handles,
    keeps_lists="tags",  # POST /tags/add, POST /tags/remove
    former_person_fields=("tags_add", "tags_remove"),
)

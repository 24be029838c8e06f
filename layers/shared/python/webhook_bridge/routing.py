"""Which vendors an action goes to, per the default mapping table (docs/mapping.md).

Kept free of vendor client imports: the receiver calls it on every webhook.
"""

from __future__ import annotations

from collections.abc import Iterable

from webhook_bridge.actions import Action, ActionKind
from webhook_bridge.vendors_enum import Vendor

# Vendors whose documented API deletes a contact; ConvertLoop's has no delete.
ERASING_VENDORS = frozenset({Vendor.LOOPS, Vendor.CUSTOMERIO, Vendor.SEGMETRICS})


def vendor_handles(vendor: Vendor, action: Action) -> bool:
    """True when the vendor's adapter has something to do for this action."""
    if action.kind is ActionKind.ERASE:
        return vendor in ERASING_VENDORS
    if vendor is Vendor.SEGMETRICS:
        # SegMetrics keeps contacts, invoices and subscriptions; it has no event stream.
        return action.invoice is not None or action.subscription is not None or action.identify
    return action.identify or action.event is not None


def route(action: Action, enabled: Iterable[Vendor], allowed: Iterable[Vendor] | None = None) -> list[Vendor]:
    """Vendors to send ``action`` to: enabled, allowed by configuration, and with work to do."""
    allowed_set = set(allowed) if allowed is not None else None
    return [
        vendor
        for vendor in enabled
        if (allowed_set is None or vendor in allowed_set) and vendor_handles(vendor, action)
    ]

"""Which vendors an action goes to: each vendor's spec says which actions it handles
(docs/mapping.md has the table).

Kept free of vendor client imports: the receiver calls it on every webhook.
"""

from __future__ import annotations

from collections.abc import Iterable

from webhook_bridge.actions import Action, ActionKind
from webhook_bridge.vendors.catalog import Vendor


def vendor_handles(vendor: Vendor, action: Action) -> bool:
    """True when the vendor's spec says its adapter has something to do for this action:
    an erase where it ``erases``, any other action where it ``handles`` it."""
    spec = vendor.spec
    return spec.erases if action.kind is ActionKind.ERASE else spec.handles(action)


def route(action: Action, enabled: Iterable[Vendor], allowed: Iterable[Vendor] | None = None) -> list[Vendor]:
    """Vendors to send ``action`` to: enabled, allowed by configuration, and with work to do."""
    allowed_set = set(allowed) if allowed is not None else None
    return [
        vendor
        for vendor in enabled
        if (allowed_set is None or vendor in allowed_set) and vendor_handles(vendor, action)
    ]

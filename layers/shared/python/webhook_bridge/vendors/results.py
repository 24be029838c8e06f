"""What an adapter reports for one action, and the erase every deleting vendor makes the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from webhook_bridge.vendors.exceptions import NotFoundError


@dataclass
class DeliveryResult:
    """What an adapter did for one action: the calls made (as route templates, no data)."""

    vendor: str
    calls: list[str] = field(default_factory=list)
    duplicate: bool = False  # the vendor said it had already done it (Loops 409)
    skipped: str | None = None  # why nothing was sent, when nothing was

    def record(self, call: str) -> None:
        self.calls.append(call)


def erase(vendor: str, call: str, delete: Callable[[], object]) -> DeliveryResult:
    """Delete the person at the vendor. A 404 means there is no such contact (never created,
    or deleted by an earlier attempt): the person is erased, which is what was asked."""
    result = DeliveryResult(vendor=vendor)
    try:
        delete()
    except NotFoundError:
        result.duplicate = True
    result.record(call)
    return result

"""Ordering keys and versions of the Stripe objects whose state vendors hold.

A version is a string whose order is the order of the states it names, so the delivery
side (``delivery/ordering.py``) compares them without knowing Stripe. It is total: two
events never get the same version, even when they share a second, a type and a status.

``terminal . created . type rank . status rank . event id``, fixed widths:

- terminal first: once a subscription is deleted nothing Stripe sends later revives it,
  and once a customer is erased (``customer.deleted`` with erasure on) nothing revives them;
- then the event's ``created`` second;
- within one second, the event type (created < updated < deleted) and then the status in
  the direction a subscription moves (incomplete → trialing → active → … → canceled);
- finally the event id, an arbitrary but deterministic tie-break that every delivery
  function computes the same way.

``previous_attributes`` is not used: it describes one step, not a total order.

An invoice's record (SegMetrics keeps one per invoice) only moves towards refunded: paid,
then refunded in part (Stripe's ``amount_refunded`` is cumulative), then in full. Its
version orders by that progress, then by ``created`` and the event id, so a partial refund
or the paid invoice delivered late never undoes a full refund.
"""

from __future__ import annotations

_TYPE_RANK = {
    "customer.subscription.created": 0,
    "customer.subscription.updated": 1,
    "customer.subscription.deleted": 2,
}
_STATUS_RANK = {
    "incomplete": 1,
    "trialing": 2,
    "active": 3,
    "past_due": 4,
    "unpaid": 5,
    "paused": 6,
    "canceled": 7,
    "incomplete_expired": 8,
}
_TERMINAL_TYPES = frozenset({"customer.subscription.deleted"})


def _version(terminal: bool, created: int, type_rank: int, status_rank: int, event_id: str) -> str:
    return f"{int(terminal)}.{created:012d}.{type_rank}.{status_rank}.{event_id}"


def subscription_key(subscription_id: str) -> str:
    return f"stripe-subscription:{subscription_id}"


def subscription_version(event_type: str, created: int, status: str, event_id: str) -> str:
    return _version(
        event_type in _TERMINAL_TYPES,
        created,
        _TYPE_RANK.get(event_type, 1),
        _STATUS_RANK.get(status, 0),
        event_id,
    )


def customer_key(customer_id: str) -> str:
    return f"stripe-customer:{customer_id}"


def customer_version(created: int, event_id: str) -> str:
    return _version(False, created, 0, 0, event_id)


def customer_erasure_version(created: int, event_id: str) -> str:
    """Above every other version of the customer: Stripe never reuses a deleted customer's id."""
    return _version(True, created, 0, 0, event_id)


def invoice_key(invoice_id: str) -> str:
    return f"stripe-invoice:{invoice_id}"


def invoice_version(refunded: bool, amount_refunded: int, created: int, event_id: str) -> str:
    """``refunded``: refunded in full; ``amount_refunded``: the charge's cumulative refunds."""
    return f"0.{int(refunded)}.{amount_refunded:015d}.{created:012d}.{event_id}"

"""Convergence: every vendor ends with the newest state of each ordered object.

Stripe sends subscription and customer events at least once, in no guaranteed order,
and our retries and concurrent delivery functions reorder them further. Claiming a
version before the vendor call is not enough: an older state that claimed first can
still land last. So the state is not taken from the message but from a ledger
(docs/architecture.md, "Ordering"):

1. ``record``: every action's state is written to ``order#<key>`` in the state table
   when its version is higher than the one there (one conditional ``UpdateItem``);
2. ``plan``: the vendor is sent the *newest recorded* state, with the action's own
   event; when that vendor is already known to hold the newest state, only the event;
3. ``settle``: after the call, the version sent is recorded for that vendor and the
   newest state read again. When a newer one appeared meanwhile, a *sync* message (the
   state alone) is queued, so the last state to reach the vendor is the newest.

Every request that sets state is followed by that check, so whichever request lands
last, its sender sees any newer state and sends it again. Versions are total strings
(``providers/stripe/ordering.py``), compared here without knowing Stripe.

Steps 1 and 3 learn the item from their own write (``ReturnValues``, and the item as found
when the condition refuses it): the read after the mark is that write's answer, so a
message keyed by its customer costs no read at all.

An erase (``customer.deleted`` with erasure on) is the customer's last state: its version
outranks every other, and its snapshot keeps no email. Once it is recorded, nothing else
that names the customer is sent to any vendor (whatever its own ordering key: customer,
subscription, or none), and a request that was on its way when it was recorded is
followed by the erase again, under the email that request carried.

A vendor keyed by email keeps a second contact when a customer's email changes, so the
customer's item also remembers, per vendor, every email it was sent under
(``emails_<vendor>``, written only when a new one appears). The erase is followed by one
erase per other remembered email, each removing its email from the set, so the item ends
with no email and the vendor with no contact under any of them.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from webhook_bridge.actions import ActionKind, Invoice, Person, Subscription, VendorMessage
from webhook_bridge.providers.stripe.ordering import customer_key
from webhook_bridge.state.dynamodb import update_returning_item
from webhook_bridge.vendors.catalog import Vendor

LEDGER_TTL_SECONDS = 400 * 24 * 3600  # longer than any subscription's yearly renewal


class Snapshot(BaseModel):
    """The state part of an ordered action: who, with which traits, and the subscription or
    the invoice record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    person: Person
    subscription: Subscription | None = None
    invoice: Invoice | None = None
    erased: bool = False  # the person was erased: the snapshot holds their Stripe id only

    @classmethod
    def of(cls, message: VendorMessage) -> Snapshot:
        action = message.action
        if action.kind is ActionKind.ERASE:
            person = Person(stripe_customer_id=action.person.stripe_customer_id)
            return cls(version=action.ordering_version or "", person=person, erased=True)
        return cls(
            version=action.ordering_version or "",
            person=action.person,
            subscription=action.subscription,
            invoice=action.invoice,
        )


@dataclass(frozen=True)
class LedgerEntry:
    newest: Snapshot | None  # None only when the record expired or was never written
    sent: str | None  # the highest version this vendor is known to have been sent
    emails: frozenset[str] = field(default_factory=frozenset)  # every email this vendor was sent (customers)

    @property
    def erased(self) -> bool:
        return self.newest is not None and self.newest.erased


class SkipReason(StrEnum):
    ERASED = "erased"  # the person was erased: nothing more about them
    NEWER_STATE_SENT = "newer_state_sent"  # the vendor holds a newer state, and there is no event


@dataclass(frozen=True)
class Plan:
    message: VendorMessage | None  # what to send; None: nothing left to send
    sends_version: str | None = None  # the state version the message sets, if it sets one
    skipped: SkipReason | None = None  # why nothing is left to send


def with_state(message: VendorMessage, snapshot: Snapshot) -> VendorMessage:
    """The message carrying ``snapshot``'s state instead of its own; its event is kept.

    The email resolved for the message stands in when the snapshot has none (subscription
    objects name no email); a snapshot's own email is newer than the message's."""
    person = snapshot.person.model_copy(update={"email": snapshot.person.email or message.action.person.email})
    update = {"person": person, "subscription": snapshot.subscription, "invoice": snapshot.invoice}
    return message.model_copy(update={"action": message.action.model_copy(update=update)})


def without_state(message: VendorMessage) -> VendorMessage:
    """The action's event alone: no contact attributes, no subscription or invoice record."""
    update = {"identify": False, "subscription": None, "invoice": None, "ordering_key": None}
    action = message.action.model_copy(update=update)
    return message.model_copy(update={"action": action})


def erase_again(message: VendorMessage, erased_version: str) -> VendorMessage:
    """The erase, for the person ``message`` was sent about (its email may be older than the
    one erased first): after a request that may have landed after the erase."""
    action = message.action
    person = Person(email=action.person.email, stripe_customer_id=action.person.stripe_customer_id)
    erase = action.model_copy(
        update={
            "id": f"{action.id}#erase:{erased_version}",
            "kind": ActionKind.ERASE,
            "person": person,
            "identify": False,
            "event": None,
            "invoice": None,
            "subscription": None,
            "ordering_key": customer_key(person.stripe_customer_id or ""),
            "ordering_version": erased_version,
        }
    )
    return message.model_copy(update={"action": erase, "resend_state": True})


def erase_also(erase: VendorMessage, email: str) -> VendorMessage:
    """The erase again under another email the vendor was sent for the customer. Its id names
    the email by a hash only: ids reach logs and the trace."""
    digest = hashlib.sha256(email.encode()).hexdigest()[:16]
    action = erase.action
    person = action.person.model_copy(update={"email": email})
    also = action.model_copy(update={"id": f"{action.id.split('#also:')[0]}#also:{digest}", "person": person})
    return erase.model_copy(update={"action": also, "resend_state": True})


def sync_message(message: VendorMessage, newer_version: str) -> VendorMessage:
    """The state alone, to send again. Its id names the action and the newer version, so
    redelivering it is deduplicated while another sender's sync is not."""
    action = message.action.model_copy(
        update={"id": f"{message.action.id}#sync:{newer_version}", "event": None, "invoice": None, "identify": True}
    )
    return message.model_copy(update={"action": action, "resend_state": True})


class StateLedger:
    def __init__(self, table_name: str, client: Any, ttl_seconds: int = LEDGER_TTL_SECONDS) -> None:
        self._table = table_name
        self._ddb = client
        self._ttl = ttl_seconds

    @staticmethod
    def _pk(ordering_key: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"order#{ordering_key}"}}

    @staticmethod
    def _sent_attribute(vendor: Vendor) -> str:
        return f"sent_{vendor.value}"

    @staticmethod
    def _emails_attribute(vendor: Vendor) -> str:
        return f"emails_{vendor.value}"

    def record(self, message: VendorMessage) -> LedgerEntry | None:
        """Keep the action's state when it is the newest known of its key. Returns the key's
        entry as the write left it (or found it, when a newer state was there), which ``plan``
        reads instead of reading it again; None for an unordered action."""
        action = message.action
        if action.ordering_key is None or action.ordering_version is None:
            return None
        snapshot = Snapshot.of(message)
        # Update, not Put: the per-vendor sent versions on the same item must survive.
        item = update_returning_item(  # refused when a newer one is known
            self._ddb,
            TableName=self._table,
            Key=self._pk(action.ordering_key),
            UpdateExpression="SET state_version = :v, state_snapshot = :s, expires_at = :e",
            ConditionExpression="attribute_not_exists(state_version) OR state_version < :v",
            ExpressionAttributeValues={
                ":v": {"S": snapshot.version},
                ":s": {"S": snapshot.model_dump_json()},
                ":e": {"N": str(int(time.time()) + self._ttl)},
            },
        )
        return self._entry(message.vendor, item)

    def read(self, vendor: Vendor, ordering_key: str) -> LedgerEntry:
        item = self._ddb.get_item(TableName=self._table, Key=self._pk(ordering_key), ConsistentRead=True).get("Item")
        return self._entry(vendor, item)

    def _entry(self, vendor: Vendor, item: dict[str, Any] | None) -> LedgerEntry:
        if not item:
            return LedgerEntry(newest=None, sent=None)
        newest = Snapshot.model_validate_json(item["state_snapshot"]["S"]) if "state_snapshot" in item else None
        sent = item.get(self._sent_attribute(vendor), {}).get("S")
        emails = frozenset(item.get(self._emails_attribute(vendor), {}).get("SS", ()))
        return LedgerEntry(newest=newest, sent=sent, emails=emails)

    def mark_sent(self, vendor: Vendor, ordering_key: str, version: str, email: str | None = None) -> LedgerEntry:
        """Record that ``vendor`` was sent ``version`` (unless a newer one was), and remember
        ``email`` in the same write when given. Returns the entry as it stands after: the read
        after the mark that ``settle`` needs, at no read's cost. When a newer mark refused the
        write, the email is not in the returned entry, and ``settle`` remembers it apart."""
        name = self._sent_attribute(vendor)
        # An item the record did not write (it expired in between) still gets an expiry.
        values: dict[str, dict[str, Any]] = {":v": {"S": version}, ":x": {"N": str(int(time.time()) + self._ttl)}}
        update = f"SET {name} = :v, expires_at = if_not_exists(expires_at, :x)"
        if email is not None:
            update += f" ADD {self._emails_attribute(vendor)} :m"
            values[":m"] = {"SS": [email]}
        item = update_returning_item(  # refused when a newer one was sent
            self._ddb,
            TableName=self._table,
            Key=self._pk(ordering_key),
            UpdateExpression=update,
            ConditionExpression=f"attribute_not_exists({name}) OR {name} < :v",
            ExpressionAttributeValues=values,
        )
        return self._entry(vendor, item)

    def _remember_email(self, vendor: Vendor, customer_id: str, email: str) -> None:
        self._ddb.update_item(
            TableName=self._table,
            Key=self._pk(customer_key(customer_id)),
            UpdateExpression=f"ADD {self._emails_attribute(vendor)} :e SET expires_at = if_not_exists(expires_at, :x)",
            ExpressionAttributeValues={":e": {"SS": [email]}, ":x": {"N": str(int(time.time()) + self._ttl)}},
        )

    @staticmethod
    def _remembers(sent: VendorMessage) -> bool:
        """Whether the email ``sent`` carried is kept for a later erase: where an erase will use
        it, and consume it (at a vendor that can erase), and not for an erase itself."""
        return sent.action.kind is not ActionKind.ERASE and sent.vendor.spec.erases

    def _remember_email_for_erasure(self, sent: VendorMessage, customer_id: str, email: str) -> None:
        if self._remembers(sent):
            self._remember_email(sent.vendor, customer_id, email)

    def _forget_email(self, vendor: Vendor, customer_id: str, email: str) -> None:
        """An emptied set leaves the item (DynamoDB drops empty sets)."""
        self._ddb.update_item(
            TableName=self._table,
            Key=self._pk(customer_key(customer_id)),
            UpdateExpression=f"DELETE {self._emails_attribute(vendor)} :e",
            ExpressionAttributeValues={":e": {"SS": [email]}},
        )

    @staticmethod
    def _keyed_by_customer(message: VendorMessage) -> bool:
        """The action's ordering key is its customer's: one item holds both entries."""
        customer_id = message.action.person.stripe_customer_id
        return bool(customer_id) and message.action.ordering_key == customer_key(customer_id or "")

    def _customer_entry(self, message: VendorMessage, own: LedgerEntry | None = None) -> LedgerEntry | None:
        """The entry of the Stripe customer the action names, if it names one; ``own`` (the
        action's own key's entry, just written) stands in for it when that key is the customer's."""
        customer_id = message.action.person.stripe_customer_id
        if not customer_id:
            return None
        if own is not None and self._keyed_by_customer(message):
            return own
        return self.read(message.vendor, customer_key(customer_id))

    def _own_entry(
        self, message: VendorMessage, customer: LedgerEntry | None, own: LedgerEntry | None = None
    ) -> LedgerEntry | None:
        """The entry of the action's own ordering key: ``own`` when known, the customer's, read
        once, when it is that key."""
        key = message.action.ordering_key
        if key is None:
            return None
        if own is not None:
            return own
        if customer is not None and self._keyed_by_customer(message):
            return customer
        return self.read(message.vendor, key)

    def plan(self, message: VendorMessage, recorded: LedgerEntry | None = None) -> Plan:
        """``recorded``: the entry ``record`` returned for this message, if it was recorded."""
        customer = self._customer_entry(message, recorded)
        if customer is not None and customer.erased and message.action.kind is not ActionKind.ERASE:
            # Nothing more about an erased person, to any vendor: its own erase message
            # comes (or came) to every vendor that can erase.
            return Plan(None, skipped=SkipReason.ERASED)
        entry = self._own_entry(message, customer, recorded)
        if entry is None:
            return Plan(message)
        newest = entry.newest
        if newest is None or (message.action.ordering_version or "") > newest.version:
            # Not recorded (expired, or written before this ledger existed): its own state.
            newest = Snapshot.of(message)
        if entry.sent is not None and entry.sent >= newest.version and not message.resend_state:
            # The vendor holds the newest state already: only the event is left to send.
            if message.action.event is None:
                return Plan(None, skipped=SkipReason.NEWER_STATE_SENT)
            return Plan(without_state(message))
        return Plan(with_state(message, newest), newest.version)

    def settle(self, message: VendorMessage, plan: Plan, called: bool) -> VendorMessage | None:
        """After a successful delivery: a message to queue when the vendor may not hold the
        newest state: a sync when a newer one was recorded while this call was on its way,
        the erase again when the person was erased meanwhile (``plan.message``: what was sent)."""
        key = message.action.ordering_key
        sent = plan.message or message
        customer_id, email = sent.action.person.stripe_customer_id, sent.action.person.email
        marked = None  # the own key's entry as the mark left it: the read after the mark
        if key is not None and plan.sends_version is not None and called:
            # On the customer's own item, the email to remember rides on the mark's write.
            remembered = email if self._keyed_by_customer(message) and self._remembers(sent) else None
            marked = self.mark_sent(message.vendor, key, plan.sends_version, remembered)
        customer = self._customer_entry(message, marked)
        if customer is not None and customer.newest is not None and customer.newest.erased:
            if message.action.kind is ActionKind.ERASE:
                return self._next_erase(sent, customer)
            if not message.vendor.spec.erases:
                return None
            # This request may have landed after the erase and recreated the person: erase
            # again, under the email it was sent with (maybe older than the one erased).
            return erase_again(sent, customer.newest.version)
        if customer is not None and customer_id and email and called and email not in customer.emails:
            self._remember_email_for_erasure(sent, customer_id, email)
        if key is None or (called and plan.sends_version is None):
            return None  # unordered, or the event alone was sent: no state that could be stale
        entry = self._own_entry(message, customer, marked)
        if entry is None or entry.newest is None:
            return None
        # A replayed delivery (not called) does not know which state went out: compare with
        # what the vendor is known to hold.
        sent_version = plan.sends_version if called else entry.sent
        if sent_version is None or sent_version < entry.newest.version:
            return sync_message(message, entry.newest.version)
        return None

    def _next_erase(self, erase: VendorMessage, customer: LedgerEntry) -> VendorMessage | None:
        """After an erase under one email: forget that email, and erase under the next one
        the vendor was sent for this customer, if any is left."""
        person = erase.action.person
        if person.stripe_customer_id and person.email in customer.emails:
            self._forget_email(erase.vendor, person.stripe_customer_id, person.email)
        remaining = sorted(customer.emails - {person.email})
        return erase_also(erase, remaining[0]) if remaining else None

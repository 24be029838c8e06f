"""An erase wins over everything else about the customer, however deliveries are ordered,
duplicated or interleaved (delivery/ordering.py): at the end the vendor holds nobody."""

from __future__ import annotations

import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from tests.conftest import STATE_TABLE
from tests.delivery.conftest import stripe_message
from tests.delivery.test_convergence import EMAIL, HeldCalls, build, customer_message, drain, subscription_message
from tests.delivery.test_processor import record
from webhook_bridge.actions import ActionKind, Invoice, Person, TrackEvent, VendorMessage
from webhook_bridge.delivery.ordering import LEDGER_TTL_SECONDS
from webhook_bridge.delivery.processor import Outcome
from webhook_bridge.providers.stripe.ordering import customer_erasure_version, customer_key
from webhook_bridge.vendors.catalog import Vendor

DELETED_AT = 1_700_300_000
OLD_EMAIL = "ada.byron@example.com"


def erase_message(event_id: str = "evt_del", vendor: str = "loops") -> VendorMessage:
    return stripe_message(
        event_id,
        "customer.deleted",
        ActionKind.ERASE,
        datetime.fromtimestamp(DELETED_AT, tz=UTC),
        Person(email=EMAIL, stripe_customer_id="cus_1"),
        vendor=vendor,
        ordering_key=customer_key("cus_1"),
        ordering_version=customer_erasure_version(DELETED_AT, event_id),
    )


def invoice_message(email: str | None = EMAIL) -> VendorMessage:
    """Unordered, with the invoice's own (frozen) email: events/send creates a Loops contact."""
    return stripe_message(
        "evt_inv",
        "invoice.paid",
        ActionKind.INVOICE,
        datetime.fromtimestamp(DELETED_AT - 10, tz=UTC),
        Person(email=email, stripe_customer_id="cus_1"),
        identify=True,
        event=TrackEvent(name="invoice_paid"),
        invoice=Invoice(id="in_1", amount=100, paid=100, currency="eur", date_created=datetime.now(UTC)),
    )


class Contacts(HeldCalls):
    """A vendor whose identify and events create the contact (as Loops' and Customer.io's do)
    and whose erase deletes it."""

    def __init__(self) -> None:
        super().__init__()
        self.held: set[str] = set()
        self.erasures = 0
        self.erase_ids: list[str] = []

    def __call__(self, message: VendorMessage) -> None:
        action = message.action
        self.wait_if_held(action.id)
        assert action.person.email, "a vendor was sent a person without an email"
        with self._lock:
            if action.kind is ActionKind.ERASE:
                self.erasures += 1
                self.erase_ids.append(action.id)
                self.held.discard(action.person.email)
            elif action.identify or action.event is not None:
                self.held.add(action.person.email)


def lifecycle() -> list[VendorMessage]:
    return [
        customer_message("evt_c", DELETED_AT - 300, OLD_EMAIL, "Ada Byron"),
        customer_message("evt_u", DELETED_AT - 200, EMAIL, "Ada Lovelace"),
        subscription_message("evt_s1", "customer.subscription.created", DELETED_AT - 100, "active"),
        # Deleting a customer cancels the subscription: Stripe sends both in the same second.
        subscription_message("evt_s2", "customer.subscription.deleted", DELETED_AT, "canceled"),
        invoice_message(),
        erase_message(),
    ]


def test_an_update_delivered_after_the_erase_is_dropped(aws):
    contacts = Contacts()
    processor, queue = build(contacts)
    assert processor.handle(record(customer_message("evt_u", DELETED_AT - 200, EMAIL, "Ada Lovelace"))) is (
        Outcome.DELIVERED
    )
    assert processor.handle(record(erase_message())) is Outcome.DELIVERED
    assert contacts.held == set()
    # Deleted before updated, in delivery: an older customer.updated, a subscription event
    # (no email of its own: dropped before its email is looked for) and an invoice.
    late = [
        customer_message("evt_c", DELETED_AT - 300, OLD_EMAIL, "Ada Byron"),
        subscription_message("evt_s2", "customer.subscription.deleted", DELETED_AT, "canceled"),
        invoice_message(email=None),
        invoice_message(),
    ]
    for message in late:
        assert processor.handle(record(message)) is Outcome.STALE, message.action.id
    assert contacts.held == set()
    assert (queue.pending, queue.dead) == ([], [])


def test_deleted_twice_erases_once(aws):
    contacts = Contacts()
    processor, queue = build(contacts)
    assert processor.handle(record(erase_message())) is Outcome.DELIVERED
    assert processor.handle(record(erase_message())) is Outcome.STALE  # the vendor holds the erase already
    assert (contacts.erasures, queue.pending) == (1, [])


@pytest.mark.parametrize("late", ["evt_u", "evt_inv"])
def test_a_request_on_its_way_when_the_erase_lands_is_followed_by_the_erase_again(aws, late):
    contacts = Contacts()
    processor, queue = build(contacts)
    update = customer_message("evt_u", DELETED_AT - 200, OLD_EMAIL, "Ada Lovelace")
    message = update if late == "evt_u" else invoice_message(email=OLD_EMAIL)
    entered, release = contacts.hold(message.action.id)
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(processor.handle, record(message))
        assert entered.wait(10)
        assert processor.handle(record(erase_message())) is Outcome.DELIVERED
        release.set()  # lands after the erase: the person exists again, under the older email
        assert in_flight.result() is Outcome.DELIVERED
    assert contacts.held == {OLD_EMAIL}
    # Its sender saw the erase recorded meanwhile and queued it again, for the email it sent.
    assert drain(processor, queue) == [Outcome.DELIVERED]
    assert contacts.held == set()
    assert queue.dead == []


def test_a_vendor_without_a_delete_gets_nothing_more_and_no_erase(aws):
    contacts = Contacts()
    processor, queue = build(contacts)
    erase = erase_message()  # recorded through another vendor's delivery
    processor.ordering.record(erase)
    update = customer_message("evt_u", DELETED_AT - 200, EMAIL, "Ada Lovelace")
    convertloop = update.model_copy(update={"vendor": Vendor("convertloop")})
    assert processor.handle(record(convertloop)) is Outcome.STALE
    assert (contacts.held, contacts.erasures, queue.pending) == (set(), 0, [])


@pytest.mark.parametrize(("seed", "threads"), [(seed, 1) for seed in range(6)] + [(seed, 4) for seed in range(4)])
def test_any_order_with_duplicates_sequential_or_concurrent_ends_with_nobody(aws, seed, threads):
    contacts = Contacts()
    processor, queue = build(contacts)
    deliveries = lifecycle() * 2
    random.Random(seed).shuffle(deliveries)
    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(lambda m: processor.handle(record(m)), deliveries))
    # A duplicate racing its original is re-queued ("in progress"): it plays out in the drain.
    assert set(outcomes) <= {Outcome.DELIVERED, Outcome.DUPLICATE, Outcome.STALE, Outcome.NOT_DUE}
    drain(processor, queue)
    assert contacts.held == set()
    assert contacts.erasures >= 1
    assert queue.dead == []


def test_each_email_the_vendor_was_sent_is_erased_under_an_id_of_its_own_naming_no_email(aws):
    """Ids reach logs and the trace, and deduplicate deliveries: one hash per email, not nested."""
    contacts = Contacts()
    processor, queue = build(contacts)
    emails = [OLD_EMAIL, "ada.king@example.com", EMAIL]
    for n, email in enumerate(emails):
        message = customer_message(f"evt_{n}", DELETED_AT - 300 + n, email, "Ada Lovelace")
        assert processor.handle(record(message)) is Outcome.DELIVERED
    assert processor.handle(record(erase_message())) is Outcome.DELIVERED
    drain(processor, queue)
    assert (contacts.held, contacts.erasures, queue.dead) == (set(), 3, [])
    first, *others = contacts.erase_ids
    assert first == "stripe:evt_del:0"
    assert len(set(others)) == 2
    assert all(re.fullmatch(r"stripe:evt_del:0#also:[0-9a-f]{16}", erase_id) for erase_id in others), others


def test_an_email_kept_for_a_later_erase_lives_as_long_as_the_ledger(aws):
    """An unordered invoice creates the contact: its email is kept, under DynamoDB's TTL, until an erase."""
    processor, _ = build(Contacts())
    before = int(time.time())
    assert processor.handle(record(invoice_message())) is Outcome.DELIVERED
    key = {"pk": {"S": "order#" + customer_key("cus_1")}}
    expires_at = int(aws.dynamodb.get_item(TableName=STATE_TABLE, Key=key)["Item"]["expires_at"]["N"])
    assert before + LEDGER_TTL_SECONDS <= expires_at <= int(time.time()) + LEDGER_TTL_SECONDS


def test_the_ledger_keeps_no_email_of_an_erased_customer(aws):
    contacts = Contacts()
    processor, _ = build(contacts)
    processor.handle(record(customer_message("evt_u", DELETED_AT - 200, EMAIL, "Ada Lovelace")))
    processor.handle(record(erase_message()))
    entry = processor.ordering.read(Vendor("loops"), customer_key("cus_1"))
    assert entry.newest is not None and entry.newest.erased
    assert entry.newest.person == Person(stripe_customer_id="cus_1")


def test_an_email_changed_before_the_erase_is_erased_under_both_and_forgotten(aws):
    """Loops and SegMetrics key a contact by email: the old address is a second contact."""
    contacts = Contacts()
    processor, queue = build(contacts)
    created = customer_message("evt_c", DELETED_AT - 300, OLD_EMAIL, "Ada Byron")
    updated = customer_message("evt_u", DELETED_AT - 200, EMAIL, "Ada Lovelace")
    for message in (created, updated, erase_message()):
        assert processor.handle(record(message)) is Outcome.DELIVERED, message.action.id
    assert contacts.held == {OLD_EMAIL}
    drain(processor, queue)
    assert (contacts.held, contacts.erasures) == (set(), 2)
    entry = processor.ordering.read(Vendor("loops"), customer_key("cus_1"))
    assert entry.emails == frozenset()
    item = aws.dynamodb.get_item(TableName=STATE_TABLE, Key={"pk": {"S": "order#" + customer_key("cus_1")}})["Item"]
    assert EMAIL not in str(item) and OLD_EMAIL not in str(item)


def test_emails_are_remembered_only_for_the_vendors_whose_spec_erases(aws):
    contacts = Contacts()
    processor, _ = build(contacts)
    update = customer_message("evt_u", DELETED_AT - 200, EMAIL, "Ada Lovelace")
    remembered = {}
    for name in ("convertloop", "loops", "customerio", "segmetrics"):
        vendor = Vendor(name)
        assert processor.handle(record(update.model_copy(update={"vendor": vendor}))) is Outcome.DELIVERED
        remembered[name] = processor.ordering.read(vendor, customer_key("cus_1")).emails
    # ConvertLoop has no delete: an email kept for it would never be used, nor forgotten.
    assert remembered == {
        "convertloop": frozenset(),
        "loops": frozenset({EMAIL}),
        "customerio": frozenset({EMAIL}),
        "segmetrics": frozenset({EMAIL}),
    }

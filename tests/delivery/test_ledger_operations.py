"""What DynamoDB does per delivered message: the ledger learns its item's state from its own
writes (``ReturnValues``), so a message keyed by its customer costs four writes and no read."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import boto3
import pytest

from devstack.support.lambda_context import LambdaContext
from tests.conftest import IDEMPOTENCY_TABLE, STATE_TABLE
from tests.delivery.test_convergence import Clock, ListQueue, customer_message, drain
from tests.delivery.test_erasure_ordering import erase_message, invoice_message
from tests.delivery.test_processor import record
from webhook_bridge.actions import ActionKind, VendorMessage
from webhook_bridge.delivery.identity import IdentityResolver
from webhook_bridge.delivery.once import IdempotentDelivery
from webhook_bridge.delivery.ordering import LEDGER_TTL_SECONDS, Plan, SkipReason, StateLedger
from webhook_bridge.delivery.processor import DeliveryProcessor, Outcome
from webhook_bridge.providers.stripe.ordering import customer_key
from webhook_bridge.state.memory import InMemoryIdentityStore
from webhook_bridge.vendors.catalog import Vendor

CUSTOMERIO = Vendor("customerio")  # keyed by email and able to erase: it remembers emails


class Recorder:
    """The vendor, and the DynamoDB operations made by the processor, in order."""

    def __init__(self) -> None:
        self.sent: list[VendorMessage] = []
        self.operations: list[str] = []

    def __call__(self, message: VendorMessage) -> None:
        self.sent.append(message)
        self.operations.append("vendor")

    def count(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)


@pytest.fixture
def recorder(aws) -> Recorder:
    return Recorder()


def processor_for(recorder: Recorder) -> DeliveryProcessor:
    dynamodb = boto3.client("dynamodb")
    dynamodb.meta.events.register("before-call.dynamodb.*", recorder.count)
    processor = DeliveryProcessor(
        deliver_once=IdempotentDelivery(recorder, IDEMPOTENCY_TABLE, 3600, dynamodb),
        queue=ListQueue(),  # type: ignore[arg-type]
        ordering=StateLedger(STATE_TABLE, dynamodb),
        identities=IdentityResolver(InMemoryIdentityStore()),
        clock=Clock(),
    )
    processor.start_invocation(LambdaContext())
    return processor


def for_customerio(message: VendorMessage) -> VendorMessage:
    return message.model_copy(update={"vendor": CUSTOMERIO})


def test_a_customer_keyed_state_costs_four_writes_and_no_read(recorder: Recorder) -> None:
    processor = processor_for(recorder)
    message = for_customerio(customer_message("evt_1", 1_700_000_000, "ada@example.com", "Ada Lovelace"))

    assert processor.handle(record(message)) is Outcome.DELIVERED

    # record (returns the item), claim, the call, complete, the mark with the email (returns the item)
    assert recorder.operations == ["UpdateItem", "PutItem", "vendor", "UpdateItem", "UpdateItem"]
    entry = processor.ordering.read(CUSTOMERIO, customer_key("cus_1"))
    assert entry.sent == message.action.ordering_version
    assert entry.emails == {"ada@example.com"}


def test_when_a_newer_mark_refuses_the_write_the_email_is_remembered_and_the_newest_resent(recorder: Recorder) -> None:
    processor = processor_for(recorder)
    older = for_customerio(customer_message("evt_1", 1_700_000_000, "old@example.com", "Ada Byron"))
    newer = for_customerio(customer_message("evt_2", 1_700_000_100, "ada@example.com", "Ada Lovelace"))
    assert processor.handle(record(newer)) is Outcome.DELIVERED
    # The older state went out before the newer one was recorded, and settles after its mark.
    sync = processor.ordering.settle(older, Plan(older, older.action.ordering_version), called=True)

    entry = processor.ordering.read(CUSTOMERIO, customer_key("cus_1"))
    assert entry.sent == newer.action.ordering_version  # the newer mark stands
    assert entry.emails == {"ada@example.com", "old@example.com"}  # both: an erase needs both
    # The older state may have landed last: the newest is sent again.
    assert sync is not None and sync.action.id == f"{older.action.id}#sync:{newer.action.ordering_version}"


def test_a_mark_on_an_item_the_record_did_not_write_still_expires(aws) -> None:
    ledger = StateLedger(STATE_TABLE, boto3.client("dynamodb"))

    entry = ledger.mark_sent(CUSTOMERIO, customer_key("cus_9"), "1", "ada@example.com")

    assert (entry.sent, entry.emails, entry.newest) == ("1", {"ada@example.com"}, None)
    item = aws.dynamodb.get_item(TableName=STATE_TABLE, Key={"pk": {"S": "order#" + customer_key("cus_9")}})["Item"]
    assert int(item["expires_at"]["N"]) > 1_700_000_000


def test_the_sent_mark_and_a_remembered_email_expire_with_the_ledger(aws) -> None:
    ledger = StateLedger(STATE_TABLE, boto3.client("dynamodb"))
    invoice = for_customerio(invoice_message()).model_copy(update={"resend_state": False})
    earliest = int(time.time()) + LEDGER_TTL_SECONDS

    ledger.mark_sent(CUSTOMERIO, customer_key("cus_9"), "1", "ada@example.com")
    assert ledger.settle(invoice, Plan(invoice), called=True) is None  # unordered: remembered apart

    for customer in ("cus_9", "cus_1"):
        item = aws.dynamodb.get_item(TableName=STATE_TABLE, Key={"pk": {"S": "order#" + customer_key(customer)}})
        assert earliest <= int(item["Item"]["expires_at"]["N"]) <= int(time.time()) + LEDGER_TTL_SECONDS
    assert ledger.read(CUSTOMERIO, customer_key("cus_1")).emails == {invoice.action.person.email}


def test_an_erase_of_a_customer_never_sent_remembers_and_forgets_nothing(recorder: Recorder) -> None:
    processor = processor_for(recorder)

    assert processor.handle(record(for_customerio(erase_message()))) is Outcome.DELIVERED

    # record, claim, the call, complete, the mark: no email added to the set, none deleted from it
    assert recorder.operations == ["UpdateItem", "PutItem", "vendor", "UpdateItem", "UpdateItem"]
    assert processor.ordering.read(CUSTOMERIO, customer_key("cus_1")).emails == frozenset()


def test_the_email_remembered_is_the_one_sent_with_the_newest_state(recorder: Recorder) -> None:
    processor = processor_for(recorder)
    older = for_customerio(customer_message("evt_1", 1_700_000_000, "old@example.com", "Ada Byron"))
    newer = for_customerio(customer_message("evt_2", 1_700_000_100, "ada@example.com", "Ada Lovelace"))
    processor.ordering.record(newer)  # recorded through another vendor's delivery; not sent here yet

    assert processor.handle(record(older)) is Outcome.DELIVERED

    assert [m.action.person.email for m in recorder.sent] == ["ada@example.com"]
    assert processor.ordering.read(CUSTOMERIO, customer_key("cus_1")).emails == {"ada@example.com"}


def test_each_remembered_email_is_erased_under_an_id_of_its_own(recorder: Recorder) -> None:
    processor = processor_for(recorder)
    emails = ("first@example.com", "second@example.com", "ada@example.com")
    for n, email in enumerate(emails):
        message = customer_message(f"evt_{n}", 1_700_000_000 + n, email, "Ada Lovelace")
        assert processor.handle(record(for_customerio(message))) is Outcome.DELIVERED
    erase = for_customerio(erase_message())
    assert processor.handle(record(erase)) is Outcome.DELIVERED
    drain(processor, processor.queue)  # type: ignore[arg-type]

    erases = [m.action for m in recorder.sent if m.action.kind is ActionKind.ERASE]
    others = sorted(set(emails) - {erase.action.person.email})
    assert [(a.id, a.person.email) for a in erases] == [(erase.action.id, erase.action.person.email)] + [
        (f"{erase.action.id}#also:{hashlib.sha256(email.encode()).hexdigest()[:16]}", email) for email in others
    ]
    assert processor.ordering.read(CUSTOMERIO, customer_key("cus_1")).emails == frozenset()


def test_a_recorded_state_expires_with_the_ledger(aws) -> None:
    ledger = StateLedger(STATE_TABLE, boto3.client("dynamodb"))
    earliest = int(time.time()) + LEDGER_TTL_SECONDS

    ledger.record(customer_message("evt_1", 1_700_000_000, "ada@example.com", "Ada Lovelace"))

    item = aws.dynamodb.get_item(TableName=STATE_TABLE, Key={"pk": {"S": "order#" + customer_key("cus_1")}})["Item"]
    assert earliest <= int(item["expires_at"]["N"]) <= int(time.time()) + LEDGER_TTL_SECONDS


def test_anything_about_an_erased_customer_is_planned_as_skipped_because_erased(aws) -> None:
    ledger = StateLedger(STATE_TABLE, boto3.client("dynamodb"))
    erase = for_customerio(erase_message())
    ledger.record(erase)
    update = for_customerio(customer_message("evt_1", 1_700_000_000, "ada@example.com", "Ada Lovelace"))

    for message in (update, for_customerio(invoice_message())):
        assert ledger.plan(message, ledger.record(message)) == Plan(None, skipped=SkipReason.ERASED)

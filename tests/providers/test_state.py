"""The state stores: DynamoDB (moto) and in-memory twins keep the same promises."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import STATE_TABLE, FakeAws
from tests.providers.conftest import CURRENT, EMAIL, OLD, stripe_event
from webhook_bridge.actions import Invoice, TrackEvent
from webhook_bridge.mapping_config import MappingConfig, MappingContext
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.providers.stripe.ordering import customer_erasure_version, invoice_version
from webhook_bridge.state import (
    DynamoIdentityStore,
    DynamoInvoiceMemory,
    HeldDispute,
    HeldRefund,
    IdentityStore,
    InMemoryIdentityStore,
    InMemoryInvoiceMemory,
    InvoiceMemory,
    RememberedInvoice,
    dynamodb_client,
)
from webhook_bridge.state.dynamodb import unless_condition_fails


class CountingClient:
    """Passes calls through to the real (moto) client and counts them by operation."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            self.calls[name] += 1
            return operation(**kwargs)

        return call


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> tuple[IdentityStore, InvoiceMemory]:
    if request.param == "memory":
        return InMemoryIdentityStore(), InMemoryInvoiceMemory()
    aws: FakeAws = request.getfixturevalue("aws")
    return DynamoIdentityStore(STATE_TABLE, aws.dynamodb), DynamoInvoiceMemory(STATE_TABLE, aws.dynamodb)


def record(invoice_id: str = "in_1", **changes: Any) -> RememberedInvoice:
    invoice = Invoice(
        id=invoice_id, amount=8906, paid=8906, currency="eur", date_created=datetime(2025, 10, 28, tzinfo=UTC)
    )
    return RememberedInvoice(invoice=invoice, email="zoë@example.com", stripe_customer_id="cus_1").model_copy(
        update=changes
    )


def test_identity_newest_fact_wins(stores: tuple[IdentityStore, InvoiceMemory]) -> None:
    identities, _ = stores
    assert identities.lookup("cus_1") is None
    identities.remember("cus_1", "old@example.com", "0.000000000100.0.0.evt_a")
    identities.remember("cus_1", "new@example.com", "0.000000000200.0.0.evt_b")
    identities.remember("cus_1", "stale@example.com", "0.000000000150.0.0.evt_c")  # arrives late
    assert identities.lookup("cus_1") == "new@example.com"
    # Same second: the event id decides, whichever lands first.
    identities.remember("cus_1", "same-second@example.com", "0.000000000200.0.0.evt_0")
    assert identities.lookup("cus_1") == "new@example.com"
    identities.remember("cus_1", "same-second@example.com", "0.000000000200.0.0.evt_c")
    assert identities.lookup("cus_1") == "same-second@example.com"
    assert identities.lookup("cus_2") is None


def test_a_forgotten_email_is_gone_and_no_older_fact_brings_it_back(
    stores: tuple[IdentityStore, InvoiceMemory], request: pytest.FixtureRequest
) -> None:
    identities, _ = stores
    identities.remember("cus_1", "ada@example.com", "0.000000000200.0.0.evt_b")
    assert not identities.forgotten("cus_1") and not identities.forgotten("cus_2")
    identities.forget("cus_1", customer_erasure_version(150, "evt_del"))  # erasure outranks any date
    assert (identities.lookup("cus_1"), identities.forgotten("cus_1")) == (None, True)
    identities.remember("cus_1", "ada@example.com", "0.000000000300.0.0.evt_late")  # even a later-dated one
    identities.remember("cus_1", "ada@example.com", "0.000000000900.0.0.api")  # nor Stripe's API answer
    identities.forget("cus_1", customer_erasure_version(150, "evt_del"))  # deleted twice
    assert identities.lookup("cus_1") is None
    if isinstance(identities, DynamoIdentityStore):
        aws: FakeAws = request.getfixturevalue("aws")
        items = aws.dynamodb.scan(TableName=STATE_TABLE)["Items"]
        assert all("ada@example.com" not in str(item) for item in items)


def test_invoice_memory_by_id_and_payment_intent(stores: tuple[IdentityStore, InvoiceMemory]) -> None:
    _, invoices = stores
    invoices.remember(record("in_1"), payment_intent_id="pi_1")
    invoices.remember(record("in_2"))
    invoices.link_payment("pi_2", "in_2")
    invoices.link_payment("pi_3", "in_unknown")
    assert invoices.by_invoice_id("in_1") == record("in_1")
    assert invoices.by_payment_intent("pi_1") == record("in_1")
    assert invoices.by_payment_intent("pi_2") == record("in_2")
    assert invoices.by_payment_intent("pi_3") is None
    assert invoices.by_invoice_id("in_9") is None
    assert invoices.by_payment_intent("pi_9") is None


def test_items_expire_and_keep_to_their_prefix(aws: FakeAws) -> None:
    before = int(time.time())
    DynamoIdentityStore(STATE_TABLE, aws.dynamodb, ttl_seconds=3600).remember(
        "cus_1", "a@example.com", "0.000000000001.0.0.evt_1"
    )
    invoices = DynamoInvoiceMemory(STATE_TABLE, aws.dynamodb, ttl_seconds=7200)
    invoices.remember(record("in_1"), "pi_1")
    invoices.hold(refund("evt_r", amount_refunded=100), "pi_2", "in_2")
    invoices.hold(dispute("evt_d"), "pi_3", None)
    items = {item["pk"]["S"]: item for item in aws.dynamodb.scan(TableName=STATE_TABLE)["Items"]}
    assert set(items) == {
        "identity#stripe-customer#cus_1",
        "invoice#stripe#in_1",
        "invoice-payment#stripe#pi_1",
        "held#stripe-payment#pi_2",
        "held#stripe-invoice#in_2",
        "held#stripe-payment#pi_3",
    }
    assert before + 3600 <= int(items["identity#stripe-customer#cus_1"]["expires_at"]["N"]) <= before + 3601 + 5
    for pk in ("invoice#stripe#in_1", "held#stripe-invoice#in_2", "held#stripe-payment#pi_3"):
        assert before + 7200 <= int(items[pk]["expires_at"]["N"]) <= before + 7201 + 5


def refund(event_id: str, *, amount_refunded: int, refunded: bool = False) -> HeldRefund:
    return HeldRefund(
        event_id=event_id,
        event_type="charge.refunded",
        created=1_760_000_000,
        refunded=refunded,
        amount_refunded=amount_refunded,
        stripe_customer_id="cus_1",
        version=invoice_version(refunded, amount_refunded, 1_760_000_000, event_id),
    )


def dispute(event_id: str) -> HeldDispute:
    event = TrackEvent(name="charge_disputed", properties={"dispute_id": f"dp_{event_id}"})
    return HeldDispute(event_id=event_id, event_type="charge.dispute.created", created=1_760_000_000, event=event)


def test_only_the_newest_refund_is_held_whichever_is_held_last(stores: tuple[IdentityStore, InvoiceMemory]) -> None:
    _, invoices = stores
    partial, full = refund("evt_partial", amount_refunded=100), refund("evt_full", amount_refunded=200, refunded=True)
    invoices.hold(full, "pi_1", "in_1")
    invoices.hold(partial, "pi_1", "in_1")  # older, arriving later: refused
    invoices.hold(partial, "pi_2", None)
    invoices.hold(full, "pi_2", None)  # newer: replaces
    assert invoices.held("pi_1", None).refund == full
    assert invoices.held(None, "in_1").refund == full
    assert invoices.held("pi_2", None).refund == full
    # Under both keys, the newest of the two.
    invoices.hold(partial, None, "in_2")
    assert invoices.held("pi_2", "in_2").refund == full


def test_disputes_are_held_beside_the_refund_by_event_id(stores: tuple[IdentityStore, InvoiceMemory]) -> None:
    _, invoices = stores
    invoices.hold(dispute("evt_d1"), "pi_1", None)
    invoices.hold(refund("evt_r", amount_refunded=100), "pi_1", None)
    invoices.hold(dispute("evt_d2"), "pi_1", None)
    invoices.hold(dispute("evt_d1"), None, "in_1")  # the same dispute, under the invoice too
    held = invoices.held("pi_1", "in_1")
    assert held.refund == refund("evt_r", amount_refunded=100)
    assert held.disputes == (dispute("evt_d1"), dispute("evt_d2"))
    assert held == invoices.held("pi_1", None)
    assert not invoices.held("pi_9", "in_9")
    assert not invoices.held(None, None)


def test_a_link_is_known_before_its_invoice(stores: tuple[IdentityStore, InvoiceMemory]) -> None:
    _, invoices = stores
    invoices.link_payment("pi_1", "in_1")
    assert invoices.linked_invoice("pi_1") == "in_1"
    assert invoices.by_payment_intent("pi_1") is None
    assert invoices.linked_invoice("pi_9") is None


def test_mapping_through_dynamodb_costs_few_calls(aws: FakeAws) -> None:
    client = CountingClient(aws.dynamodb)
    ctx = MappingContext(
        MappingConfig(), DynamoIdentityStore(STATE_TABLE, client), DynamoInvoiceMemory(STATE_TABLE, client)
    )

    def run(version: str, event_type: str) -> Counter[str]:
        client.calls.clear()
        map_stripe_event(stripe_event(version, event_type), ctx)
        return Counter(client.calls)

    assert run(CURRENT, "customer.created") == {"put_item": 1}  # one conditional write, no read
    assert run(CURRENT, "customer.subscription.created") == {"get_item": 1}  # one read: no email in the event
    # The invoice's frozen customer_email teaches nothing; the customer's own email is read.
    # Then what is held for the invoice (a refund or dispute that came first): one read per key.
    assert run(CURRENT, "invoice.paid") == {"get_item": 2, "batch_write_item": 1}
    assert run(CURRENT, "invoice_payment.paid") == {"put_item": 1, "get_item": 1}
    # Invoice and payment intent written at once; held read under both.
    assert run(OLD, "invoice.paid") == {"get_item": 3, "batch_write_item": 1}

    [refund, record] = map_stripe_event(stripe_event(CURRENT, "charge.refunded"), ctx)
    assert record.invoice is not None and record.invoice.is_refunded
    assert refund.person.email == record.person.email == EMAIL
    [subscription] = map_stripe_event(stripe_event(CURRENT, "customer.subscription.deleted"), ctx)
    assert subscription.person.email == EMAIL


class FlakyBatchClient:
    """Leaves items unprocessed ``failures`` times, like a throttled table."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.batches: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        [(table, requests)] = RequestItems.items()
        self.batches.append(len(requests))
        if self.failures:
            self.failures -= 1
            return {"UnprocessedItems": {table: requests[-1:]}}
        return {"UnprocessedItems": {}}


def test_unprocessed_invoice_writes_are_retried_then_raised() -> None:
    client = FlakyBatchClient(failures=2)
    DynamoInvoiceMemory(STATE_TABLE, client).remember(record(), "pi_1")
    assert client.batches == [2, 1, 1]

    stubborn = FlakyBatchClient(failures=99)
    with pytest.raises(RuntimeError, match="unprocessed"):
        DynamoInvoiceMemory(STATE_TABLE, stubborn).remember(record(), "pi_1")


def test_client_region_comes_from_the_lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # Lambda sets both; AWS_REGION is the function's own
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    dynamodb_client.cache_clear()
    try:
        assert dynamodb_client().meta.region_name == "eu-west-1"
        assert dynamodb_client() is dynamodb_client()  # one per process
    finally:
        dynamodb_client.cache_clear()


class EmptyTableClient:
    def get_item(self, **_: Any) -> dict[str, Any]:
        return {}


def test_store_creates_its_client_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[EmptyTableClient] = []

    def fake_client() -> EmptyTableClient:
        created.append(EmptyTableClient())
        return created[-1]

    monkeypatch.setattr("webhook_bridge.state.dynamodb.dynamodb_client", fake_client)
    store = DynamoIdentityStore(STATE_TABLE)
    assert created == []  # constructing at cold start costs nothing
    assert store.lookup("cus_1") is None
    assert store.lookup("cus_2") is None
    assert len(created) == 1


def test_only_a_refused_condition_is_ignored_whichever_client_class_raised_it() -> None:
    from botocore.exceptions import ClientError

    def client_error(code: str) -> ClientError:
        # Not the client's own class: threads racing at a client's first use can see others.
        return ClientError({"Error": {"Code": code, "Message": "no"}}, "UpdateItem")

    with unless_condition_fails():
        raise client_error("ConditionalCheckFailedException")
    with pytest.raises(ClientError), unless_condition_fails():
        raise client_error("ProvisionedThroughputExceededException")

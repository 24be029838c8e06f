"""The state ledger on its own (delivery/ordering.py): which state a vendor is sent, what is
recorded as sent, and when a sync follows. The races it exists for are in test_convergence.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from tests.conftest import STATE_TABLE
from tests.delivery.conftest import stripe_message
from webhook_bridge.actions import (
    ActionKind,
    Invoice,
    Person,
    Subscription,
    TrackEvent,
    VendorMessage,
)
from webhook_bridge.delivery.ordering import (
    LedgerEntry,
    Plan,
    SkipReason,
    Snapshot,
    StateLedger,
    erase_again,
    sync_message,
    with_state,
    without_state,
)
from webhook_bridge.vendors.catalog import Vendor

KEY = "stripe-subscription:sub_1"
LOOPS = Vendor("loops")
AT = datetime(2026, 11, 1, tzinfo=UTC)


def subscription(status: str) -> Subscription:
    return Subscription(
        id="sub_1",
        status=status,
        amount=900,
        product_id="prod_1",
        start_date=AT,
        last_bill_date=AT,
        billing_cycle="month",
        frequency=1,
    )


def message(
    version: str | None,
    status: str,
    email: str | None = "ada@example.com",
    key: str | None = KEY,
    vendor: Vendor = LOOPS,
) -> VendorMessage:
    return stripe_message(
        f"evt_{version}",
        "customer.subscription.updated",
        ActionKind.SUBSCRIPTION,
        AT,
        Person(email=email, stripe_customer_id="cus_1", traits={"subscription_status": status}),
        vendor=vendor,
        identify=True,
        event=TrackEvent(name="subscription_updated", properties={"status": status}),
        subscription=subscription(status),
        ordering_key=key,
        ordering_version=version,
    )


def state_of(sent: VendorMessage | None) -> tuple[Any, ...]:
    """What a message sets at the vendor: identify, status trait, subscription status, email."""
    assert sent is not None
    action = sent.action
    status = action.subscription.status if action.subscription else None
    return action.identify, action.person.traits.get("subscription_status"), status, action.person.email


class EventuallyConsistent:
    """DynamoDB as it may answer a read that is not strongly consistent: from before the last write."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._before_last_write: dict[str, dict[str, Any]] = {}

    def update_item(self, **kwargs: Any) -> Any:
        pk = kwargs["Key"]["pk"]["S"]
        self._before_last_write[pk] = self._client.get_item(TableName=kwargs["TableName"], Key=kwargs["Key"])
        return self._client.update_item(**kwargs)

    def get_item(self, **kwargs: Any) -> Any:
        pk = kwargs["Key"]["pk"]["S"]
        if not kwargs.get("ConsistentRead") and pk in self._before_last_write:
            return self._before_last_write[pk]
        return self._client.get_item(**kwargs)


@pytest.fixture
def ledger(aws: Any) -> StateLedger:
    return StateLedger(STATE_TABLE, EventuallyConsistent(boto3.client("dynamodb")))


def test_with_state_sends_the_snapshots_person_and_subscription_and_keeps_the_event():
    sent = with_state(message("3", "active", email="new@example.com"), Snapshot(**snapshot_of("4", "canceled", None)))
    assert state_of(sent) == (True, "canceled", "canceled", "new@example.com")  # the snapshot names no email
    assert sent.action.event == TrackEvent(name="subscription_updated", properties={"status": "active"})
    assert sent.action.id == "stripe:evt_3:0"
    own_email = with_state(message("3", "active", email="old@example.com"), Snapshot(**snapshot_of("4", "canceled")))
    assert own_email.action.person.email == "ada@example.com"  # the snapshot's email is the newer


def snapshot_of(version: str, status: str, email: str | None = "ada@example.com") -> dict[str, Any]:
    state = message(version, status, email=email).action
    return {"version": version, "person": state.person, "subscription": state.subscription}


def test_without_state_is_the_event_alone():
    sent = without_state(message("3", "active"))
    action = sent.action
    assert (action.identify, action.subscription, action.ordering_key) == (False, None, None)
    assert (action.id, action.event) == ("stripe:evt_3:0", message("3", "active").action.event)


def test_a_sync_is_the_state_alone_under_its_own_id():
    invoiced = message("3", "active")
    invoiced = invoiced.model_copy(
        update={
            "action": invoiced.action.model_copy(
                update={
                    "identify": False,
                    "invoice": Invoice(id="in_1", amount=900, paid=900, currency="usd", date_created=AT),
                }
            )
        }
    )
    sync = sync_message(invoiced, "5")
    action = sync.action
    assert (action.id, action.event, action.invoice, action.identify) == ("stripe:evt_3:0#sync:5", None, None, True)
    assert sync.resend_state is True
    assert action.subscription == invoiced.action.subscription


def test_erasing_again_is_the_erase_alone_for_the_person_the_request_named():
    sent = message("3", "active", email="old@example.com")
    sent = sent.model_copy(
        update={
            "action": sent.action.model_copy(
                update={"invoice": Invoice(id="in_1", amount=900, paid=900, currency="usd", date_created=AT)}
            )
        }
    )
    erase = erase_again(sent, "9")
    assert erase.resend_state is True
    assert erase.action.model_dump(exclude={"occurred_at", "source", "source_event_id", "source_event_type"}) == {
        "id": "stripe:evt_3:0#erase:9",
        "kind": ActionKind.ERASE,
        "person": Person(email="old@example.com", stripe_customer_id="cus_1").model_dump(),
        "identify": False,
        "event": None,
        "invoice": None,
        "subscription": None,
        "ordering_key": "stripe-customer:cus_1",
        "ordering_version": "9",
    }


def test_an_unknown_key_reads_as_nothing_recorded(ledger):
    assert ledger.read(LOOPS, KEY) == LedgerEntry(newest=None, sent=None)


def test_a_sent_version_without_a_recorded_state_reads_as_no_state(ledger):
    ledger.mark_sent(LOOPS, KEY, "2")
    assert ledger.read(LOOPS, KEY) == LedgerEntry(newest=None, sent="2")


def test_only_the_newest_state_and_the_highest_sent_version_are_kept_per_vendor(ledger):
    for version in ("2", "4", "3"):
        ledger.record(message(version, f"status{version}"))
    ledger.mark_sent(LOOPS, KEY, "4")
    ledger.mark_sent(LOOPS, KEY, "3")
    ledger.mark_sent(Vendor("customerio"), KEY, "2")
    loops = ledger.read(LOOPS, KEY)
    assert (loops.newest is not None and loops.newest.version, loops.sent) == ("4", "4")
    assert loops.newest.subscription == subscription("status4")
    assert ledger.read(Vendor("customerio"), KEY).sent == "2"
    assert ledger.read(Vendor("convertloop"), KEY).sent is None


def test_an_unrecorded_state_is_sent_as_its_own(ledger):
    plan = ledger.plan(message("3", "active"))
    assert plan.sends_version == "3"
    assert state_of(plan.message) == (True, "active", "active", "ada@example.com")


def test_a_state_newer_than_the_recorded_one_is_sent_as_its_own(ledger):
    ledger.record(message("2", "past_due"))
    plan = ledger.plan(message("3", "active"))
    assert (plan.sends_version, state_of(plan.message)) == ("3", (True, "active", "active", "ada@example.com"))


def test_an_older_state_is_sent_the_newest_recorded_with_its_own_event(ledger):
    ledger.record(message("4", "canceled"))
    older = message("3", "active")
    plan = ledger.plan(older)
    assert (plan.sends_version, state_of(plan.message)) == ("4", (True, "canceled", "canceled", "ada@example.com"))
    assert plan.message is not None and plan.message.action.event == older.action.event


def test_a_message_without_a_version_never_replaces_the_recorded_state(ledger):
    ledger.record(message("4", "canceled"))
    ledger.record(message(None, "active"))
    plan = ledger.plan(message(None, "active"))
    assert (plan.sends_version, state_of(plan.message)[1]) == ("4", "canceled")


def test_a_state_sent_without_a_version_does_not_stand_for_any_versioned_one(ledger):
    unversioned = message(None, "active")
    ledger.record(unversioned)
    plan = ledger.plan(unversioned)
    assert state_of(plan.message)[1] == "active"
    ledger.settle(unversioned, plan, called=True)
    versioned = message("1", "past_due")
    ledger.record(versioned)
    plan = ledger.plan(versioned)
    assert (plan.sends_version, state_of(plan.message)[1]) == ("1", "past_due")


def test_once_the_vendor_holds_the_newest_only_events_are_sent(ledger):
    ledger.record(message("4", "canceled"))
    ledger.mark_sent(LOOPS, KEY, "4")
    assert ledger.plan(message("3", "active")) == Plan(without_state(message("3", "active")))
    without_event = message("3", "active")
    without_event = without_event.model_copy(update={"action": without_event.action.model_copy(update={"event": None})})
    assert ledger.plan(without_event) == Plan(None, skipped=SkipReason.NEWER_STATE_SENT)
    # A sync sends the state even so; another vendor has not been sent it yet.
    assert ledger.plan(sync_message(message("3", "active"), "4")).sends_version == "4"
    assert ledger.plan(message("3", "active", vendor=Vendor("customerio"))).sends_version == "4"


def test_a_message_without_a_key_is_sent_as_it_is_and_settles_nothing(ledger):
    unordered = message("3", "active", key=None)
    assert ledger.plan(unordered) == Plan(unordered)
    assert ledger.settle(unordered, Plan(unordered), called=True) is None


def test_settling_records_the_version_sent_and_asks_for_a_sync_when_a_newer_state_arrived(ledger):
    older = message("3", "active")
    ledger.record(older)
    plan = ledger.plan(older)
    ledger.record(message("4", "canceled"))  # while the older state was on its way
    sync = ledger.settle(older, plan, called=True)
    assert ledger.read(LOOPS, KEY).sent == "3"
    assert sync == sync_message(older, "4")
    assert sync is not None and sync.action.id == "stripe:evt_3:0#sync:4"


def test_settling_the_newest_state_asks_for_nothing(ledger):
    newest = message("4", "canceled")
    ledger.record(newest)
    assert ledger.settle(newest, ledger.plan(newest), called=True) is None
    assert ledger.read(LOOPS, KEY).sent == "4"


def test_a_replayed_delivery_compares_the_newest_with_what_the_vendor_is_known_to_hold(ledger):
    """Not called: the delivery was recorded earlier, so which state went out is unknown."""
    ledger.record(message("4", "canceled"))
    ledger.mark_sent(LOOPS, KEY, "3")
    replayed = message("4", "canceled")
    assert ledger.settle(replayed, Plan(replayed, "4"), called=False) == sync_message(replayed, "4")
    ledger.mark_sent(LOOPS, KEY, "4")
    assert ledger.settle(replayed, Plan(replayed, "4"), called=False) is None


def test_an_event_sent_alone_settles_nothing(ledger):
    ledger.record(message("4", "canceled"))
    event_only = without_state(message("3", "active"))
    assert ledger.settle(message("3", "active"), Plan(event_only), called=True) is None
    assert ledger.read(LOOPS, KEY).sent is None


def test_a_request_that_raced_an_erase_is_followed_by_the_erase_under_the_email_it_was_sent_with(ledger):
    erase = message("9", "canceled", key="stripe-customer:cus_1")
    erase = erase.model_copy(update={"action": erase.action.model_copy(update={"kind": ActionKind.ERASE})})
    raced = message("3", "active", email="old@example.com")
    sent = with_state(raced, Snapshot(**snapshot_of("4", "active", "new@example.com")))
    ledger.record(erase)
    assert ledger.settle(raced, Plan(sent, "4"), called=True) == erase_again(sent, "9")
    # A vendor that cannot erase is sent nothing more.
    convertloop = raced.model_copy(update={"vendor": Vendor("convertloop")})
    assert ledger.settle(convertloop, Plan(convertloop, "4"), called=True) is None

"""Whatever the order, concurrency and duplication of deliveries, a vendor ends with the
newest state of a subscription and every event once (delivery/ordering.py)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import boto3
import pytest

from devstack.support.lambda_context import LambdaContext
from tests.conftest import IDEMPOTENCY_TABLE, STATE_TABLE
from tests.delivery.conftest import stripe_message
from tests.delivery.test_processor import record
from webhook_bridge.actions import ActionKind, Person, TrackEvent, VendorMessage
from webhook_bridge.delivery.identity import IdentityResolver
from webhook_bridge.delivery.once import IdempotentDelivery
from webhook_bridge.delivery.ordering import StateLedger
from webhook_bridge.delivery.processor import DeliveryProcessor, Outcome
from webhook_bridge.delivery.queue_ops import FailureReport
from webhook_bridge.delivery.retry_state import RetryState
from webhook_bridge.providers.stripe.ordering import (
    customer_key,
    customer_version,
    subscription_key,
    subscription_version,
)
from webhook_bridge.state import InMemoryIdentityStore

EMAIL = "ada@example.com"

# A subscriber's first months: (event id, type, created, status). The first two share a
# second, as Stripe's created → updated on the first payment do.
LIFECYCLE = [
    ("evt_1", "customer.subscription.created", 1_700_000_000, "incomplete"),
    ("evt_2", "customer.subscription.updated", 1_700_000_000, "active"),
    ("evt_3", "customer.subscription.updated", 1_700_086_400, "past_due"),
    ("evt_4", "customer.subscription.updated", 1_700_172_800, "active"),
    ("evt_5", "customer.subscription.deleted", 1_700_259_200, "canceled"),
]


def subscription_message(event_id: str, event_type: str, created: int, status: str) -> VendorMessage:
    return stripe_message(
        event_id,
        event_type,
        ActionKind.SUBSCRIPTION,
        datetime.fromtimestamp(created, tz=UTC),
        Person(email=EMAIL, stripe_customer_id="cus_1", traits={"subscription_status": status}),
        identify=True,
        event=TrackEvent(name=event_type.rsplit(".", 1)[1], properties={"status": status}),
        ordering_key=subscription_key("sub_1"),
        ordering_version=subscription_version(event_type, created, status, event_id),
    )


class HeldCalls:
    """Vendor doubles whose call for one action can be held: ``hold`` makes it wait for an
    event before it lands, so a test can make an older request land after a newer one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, tuple[threading.Event, threading.Event]] = {}

    def hold(self, action_id: str) -> tuple[threading.Event, threading.Event]:
        """(entered, release): set when the call started; set it to let the call land."""
        self._held[action_id] = (threading.Event(), threading.Event())
        return self._held[action_id]

    def wait_if_held(self, action_id: str) -> None:
        if action_id in self._held:
            entered, release = self._held[action_id]
            entered.set()
            assert release.wait(10), "the test never released the held call"


class VendorModel(HeldCalls):
    """What a vendor holds: the last status set on the contact, and the events received."""

    def __init__(self, jitter: random.Random | None = None) -> None:
        super().__init__()
        self.status: str | None = None
        self.tracked: Counter[str] = Counter()
        self._jitter = jitter

    def __call__(self, message: VendorMessage) -> None:
        action = message.action
        self.wait_if_held(action.id)
        if self._jitter is not None:
            threading.Event().wait(self._jitter.random() / 200)  # interleave the threads differently
        with self._lock:
            if action.identify:
                self.status = action.person.traits.get("subscription_status")
            if action.event is not None:
                self.tracked[action.id] += 1


class ListQueue:
    """The processor's own queue moves, kept in lists; ``drain`` plays the re-queued ones
    back at once, with the processor's clock moved past their delay instead of waiting."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, RetryState]] = []
        self.dead: list[tuple[str, FailureReport]] = []
        self._lock = threading.Lock()

    def requeue(self, body: str, state: RetryState) -> None:
        with self._lock:
            self.pending.append((body, state))

    def dead_letter(self, body: str, state: RetryState, failure: FailureReport) -> None:
        with self._lock:
            self.dead.append((body, failure))


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def build(vendor: Callable[[VendorMessage], None]) -> tuple[DeliveryProcessor, ListQueue]:
    queue = ListQueue()
    processor = DeliveryProcessor(
        deliver_once=IdempotentDelivery(vendor, IDEMPOTENCY_TABLE, 3600),
        queue=queue,  # type: ignore[arg-type]
        ordering=StateLedger(STATE_TABLE, boto3.client("dynamodb")),
        identities=IdentityResolver(InMemoryIdentityStore()),
        clock=Clock(),
    )
    processor.start_invocation(LambdaContext())
    return processor, queue


def drain(processor: DeliveryProcessor, queue: ListQueue, rounds: int = 20) -> list[Outcome]:
    """Handle what the processor re-queued (syncs, in-progress duplicates) until nothing is left."""
    outcomes: list[Outcome] = []
    for _ in range(rounds):
        if not queue.pending:
            return outcomes
        batch, queue.pending = queue.pending, []
        processor.clock.now = max(state.not_before or 0 for _, state in batch) + 1  # type: ignore[attr-defined]
        outcomes.extend(processor.handle(record(body, state)) for body, state in batch)
    raise AssertionError(f"still re-queueing after {rounds} rounds")


def assert_converged(vendor: VendorModel) -> None:
    assert vendor.status == "canceled"
    assert vendor.tracked == Counter({f"stripe:{event_id}:0": 1 for event_id, *_ in LIFECYCLE})


def test_an_older_state_that_lands_after_the_newest_is_corrected(aws):
    vendor = VendorModel()
    processor, queue = build(vendor)
    older, newest = subscription_message(*LIFECYCLE[3]), subscription_message(*LIFECYCLE[4])
    entered, release = vendor.hold(older.action.id)
    with ThreadPoolExecutor(1) as pool:
        # The older one reads the ledger first and is on its way when the newest arrives...
        late = pool.submit(processor.handle, record(older))
        assert entered.wait(10)
        assert processor.handle(record(newest)) is Outcome.DELIVERED
        assert vendor.status == "canceled"
        # ...and lands last, setting the subscription active again at the vendor.
        release.set()
        assert late.result() is Outcome.DELIVERED
    assert vendor.status == "active"
    # Its sender saw the newer state recorded meanwhile and queued it once more.
    assert drain(processor, queue) == [Outcome.DELIVERED]
    assert vendor.status == "canceled"
    assert vendor.tracked == Counter({older.action.id: 1, newest.action.id: 1})
    assert queue.dead == []


def test_same_second_events_of_one_type_and_status_still_order_deterministically():
    first = subscription_version("customer.subscription.updated", 1_700_000_000, "active", "evt_A")
    second = subscription_version("customer.subscription.updated", 1_700_000_000, "active", "evt_B")
    assert first != second and first < second
    deleted = subscription_version("customer.subscription.deleted", 1_700_000_000, "canceled", "evt_0")
    later_update = subscription_version("customer.subscription.updated", 1_800_000_000, "canceled", "evt_9")
    assert deleted > later_update  # nothing revives a deleted subscription


@pytest.mark.parametrize("seed", range(6))
def test_any_order_with_duplicates_converges(aws, seed):
    rng = random.Random(seed)
    vendor = VendorModel()
    processor, queue = build(vendor)
    deliveries = [subscription_message(*event) for event in LIFECYCLE] * 2
    rng.shuffle(deliveries)
    for message in deliveries:
        assert processor.handle(record(message)) in {Outcome.DELIVERED, Outcome.DUPLICATE, Outcome.STALE}
    drain(processor, queue)
    assert_converged(vendor)
    assert queue.dead == []


@pytest.mark.parametrize("seed", range(4))
def test_concurrent_deliveries_with_duplicates_converge(aws, seed):
    rng = random.Random(seed)
    vendor = VendorModel(jitter=random.Random(seed))
    processor, queue = build(vendor)
    deliveries = [subscription_message(*event) for event in LIFECYCLE] * 2
    rng.shuffle(deliveries)
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda m: processor.handle(record(m)), deliveries))
    # A duplicate racing its original is re-queued ("in progress"): it plays out in the drain.
    assert set(outcomes) <= {Outcome.DELIVERED, Outcome.DUPLICATE, Outcome.STALE, Outcome.NOT_DUE}
    drain(processor, queue)
    assert_converged(vendor)
    assert queue.dead == []


def customer_message(event_id: str, created: int, email: str, name: str) -> VendorMessage:
    first, last = name.split(" ", 1)
    return stripe_message(
        event_id,
        "customer.updated",
        ActionKind.IDENTIFY,
        datetime.fromtimestamp(created, tz=UTC),
        Person(email=email, stripe_customer_id="cus_1", first_name=first, last_name=last),
        identify=True,
        ordering_key=customer_key("cus_1"),
        ordering_version=customer_version(created, event_id),
    )


class PeopleModel:
    """A vendor's contacts by email, as the last identify left them."""

    def __init__(self) -> None:
        self.contacts: dict[str, str | None] = {}

    def __call__(self, message: VendorMessage) -> None:
        person = message.action.person
        if message.action.identify and person.email:
            self.contacts[person.email] = person.last_name


def test_a_customer_event_that_lands_late_does_not_undo_a_rename(aws):
    people = PeopleModel()
    processor, queue = build(people)
    created = customer_message("evt_c", 1_700_000_000, EMAIL, "Ada Byron")
    renamed = customer_message("evt_u", 1_700_000_100, EMAIL, "Ada Lovelace")
    assert processor.handle(record(renamed)) is Outcome.DELIVERED
    # The older event, late, has no event to track and nothing newer to set: skipped.
    assert processor.handle(record(created)) is Outcome.STALE
    assert people.contacts == {EMAIL: "Lovelace"}
    assert queue.pending == []

"""An action that names only a Stripe customer: waits for the email, asks Stripe, or is
dead-lettered as identity_unknown; never sent without an email."""

from __future__ import annotations

import httpx
import pytest
import respx

from devstack.support.lambda_context import LambdaContext
from tests.conftest import IDEMPOTENCY_TABLE, STATE_TABLE, FakeAws
from tests.delivery.test_convergence import Clock, ListQueue
from tests.delivery.test_processor import VendorDouble, make_message, record
from webhook_bridge.delivery.identity import IdentityResolver
from webhook_bridge.delivery.once import IdempotentDelivery
from webhook_bridge.delivery.ordering import StateLedger
from webhook_bridge.delivery.policy import RetryPolicy
from webhook_bridge.delivery.processor import DeliveryProcessor, Outcome
from webhook_bridge.delivery.retry_state import RetryState
from webhook_bridge.providers.stripe.ordering import customer_erasure_version, customer_version
from webhook_bridge.state import InMemoryIdentityStore
from webhook_bridge.stripe_api import StripeCustomers

STRIPE = "https://stripe.test/v1"
CUSTOMER_URL = f"{STRIPE}/customers/cus_1"


class Setup:
    def __init__(self, aws: FakeAws, stripe_key: str | None) -> None:
        self.vendor = VendorDouble()
        self.queue = ListQueue()
        self.store = InMemoryIdentityStore()
        stripe = StripeCustomers(stripe_key, STRIPE, http=httpx.Client()) if stripe_key else None
        self.processor = DeliveryProcessor(
            deliver_once=IdempotentDelivery(self.vendor, IDEMPOTENCY_TABLE, 3600),
            queue=self.queue,  # type: ignore[arg-type]
            ordering=StateLedger(STATE_TABLE, aws.dynamodb),
            identities=IdentityResolver(self.store, lambda: stripe, clock=lambda: 1_800_000_000),
            policy=RetryPolicy(identity_wait_base=10, identity_wait_window=100),
            clock=Clock(),
        )
        self.processor.start_invocation(LambdaContext())
        self.delays: list[int] = []

    def handle_until_settled(self, rounds: int = 10) -> list[Outcome]:
        """Handle the message, then each re-queued copy, as SQS would hand them back, keeping the
        delay each copy was queued with. Bounded: a message queued again forever fails the test."""
        outcomes = [self.processor.handle(record(make_message(email=None)))]
        for _ in range(rounds):
            if not self.queue.pending:
                return outcomes
            body, state = self.queue.pending.pop(0)
            self.delays.append(round((state.not_before or 0) - self.processor.clock.now))  # type: ignore[attr-defined]
            self.processor.clock.now = state.not_before or 0  # type: ignore[attr-defined]
            outcomes.append(self.processor.handle(record(body, state)))
        raise AssertionError(f"still queued again after {rounds} rounds")


@pytest.fixture
def without_stripe(aws):
    return Setup(aws, stripe_key=None)


@pytest.fixture
def with_stripe(aws):
    return Setup(aws, stripe_key="rk_test_readonly")


def test_an_unknown_email_is_waited_for_with_backoff_then_dead_lettered_as_identity_unknown(without_stripe):
    setup = without_stripe
    start = setup.processor.clock.now  # type: ignore[attr-defined]
    outcomes = setup.handle_until_settled()
    assert setup.delays == [10, 20, 40]  # the next, 80 s, would pass the 100 s window
    assert outcomes[-1] is Outcome.DEAD_LETTERED
    ((body, failure),) = setup.queue.dead
    assert (failure.reason, failure.error_class) == ("identity_unknown", "IdentityUnknown")
    assert setup.vendor.calls == []
    assert setup.processor.clock.now - start == 70  # type: ignore[attr-defined]


def test_an_email_learnt_while_waiting_is_used(without_stripe):
    setup = without_stripe
    assert setup.processor.handle(record(make_message(email=None))) is Outcome.WAITING_FOR_IDENTITY
    setup.store.remember("cus_1", "ada@example.com", "0.001700000000.0.0.evt_c")
    ((body, state),) = setup.queue.pending
    setup.processor.clock.now = state.not_before or 0  # type: ignore[attr-defined]
    assert setup.processor.handle(record(body, state)) is Outcome.DELIVERED
    assert setup.vendor.calls[0].action.person.email == "ada@example.com"


def test_a_dead_lettered_action_is_delivered_when_redriven_once_the_customer_is_known(without_stripe):
    setup = without_stripe
    assert setup.handle_until_settled()[-1] is Outcome.DEAD_LETTERED
    setup.store.remember("cus_1", "ada@example.com", "0.001700000000.0.0.evt_c")
    # bridgectl dlq redrive sends the body back with its retry history reset.
    ((body, _),) = setup.queue.dead
    assert setup.processor.handle(record(body, RetryState())) is Outcome.DELIVERED
    assert setup.vendor.calls[0].action.person.email == "ada@example.com"


@respx.mock
def test_stripe_is_asked_from_the_second_try_and_its_answer_remembered(with_stripe):
    setup = with_stripe
    route = respx.get(CUSTOMER_URL).mock(
        return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer", "email": " Ada@Example.com "})
    )
    outcomes = setup.handle_until_settled()
    assert outcomes == [Outcome.WAITING_FOR_IDENTITY, Outcome.DELIVERED]
    (call,) = route.calls
    assert call.request.headers["Authorization"] == "Bearer rk_test_readonly"
    assert setup.vendor.calls[0].action.person.email == "ada@example.com"
    assert setup.store.lookup("cus_1") == "ada@example.com"
    # An older event does not overwrite what Stripe said at 1_800_000_000; one of that second does.
    setup.store.remember("cus_1", "old@example.com", customer_version(1_799_999_999, "evt_old"))
    assert setup.store.lookup("cus_1") == "ada@example.com"
    setup.store.remember("cus_1", "new@example.com", customer_version(1_800_000_000, "evt_same_second"))
    assert setup.store.lookup("cus_1") == "new@example.com"


@respx.mock
def test_a_forgotten_customer_is_neither_waited_for_nor_asked_about(with_stripe):
    """Erased (the receiver forgot the email) before the erase reached the ledger: skipped."""
    setup = with_stripe
    route = respx.get(CUSTOMER_URL).mock(
        return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer", "deleted": True})
    )
    setup.store.remember("cus_1", "ada@example.com", "0.001700000000.0.0.evt_c")
    setup.store.forget("cus_1", customer_erasure_version(1_700_000_100, "evt_del"))
    assert setup.handle_until_settled() == [Outcome.STALE]
    assert (setup.vendor.calls, route.calls, setup.queue.dead) == ([], [], [])


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(404, json={"error": {"message": "No such customer: 'cus_1'"}}),
        httpx.Response(200, json={"id": "cus_1", "object": "customer", "email": None}),
        httpx.Response(200, json={"id": "cus_1", "object": "customer", "deleted": True}),
        httpx.Response(500, json={"error": {"message": "boom"}}),
        httpx.Response(401, json={"error": {"message": "Invalid API Key provided: rk_test_****only"}}),
    ],
    ids=["no such customer", "no email", "deleted", "stripe down", "bad key"],
)
@respx.mock
def test_when_stripe_does_not_know_either_the_action_is_dead_lettered_not_sent(with_stripe, answer):
    setup = with_stripe
    respx.get(CUSTOMER_URL).mock(return_value=answer)
    assert setup.handle_until_settled()[-1] is Outcome.DEAD_LETTERED
    assert setup.queue.dead[0][1].reason == "identity_unknown"
    assert setup.vendor.calls == []


def test_identity_waits_double_up_to_an_hour_and_stop_at_the_window():
    policy = RetryPolicy(identity_wait_base=10, identity_wait_window=6 * 3600)
    waits = []
    while (delay := policy.identity_wait(len(waits))) is not None:
        waits.append(delay)
    assert waits[:4] == [10, 20, 40, 80]
    assert max(waits) == 3600
    assert sum(waits) <= 6 * 3600 < sum(waits) + 3600

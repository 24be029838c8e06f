"""One SQS record → at most one vendor-side effect, and a decided fate for the message.

Every path ends in exactly one of: delivered (or already delivered), re-enqueued with
a delay, or moved to the DLQ with its reason. Only an unexpected crash leaves the
message to SQS, whose redrive policy then catches it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from webhook_bridge.actions import VendorMessage
from webhook_bridge.delivery.identity import IdentityResolver
from webhook_bridge.delivery.ordering import Plan, StateLedger
from webhook_bridge.delivery.policy import DeadLetter, RetryPolicy
from webhook_bridge.delivery.queue_ops import FailureReport, QueueOps
from webhook_bridge.delivery.retry_state import RetryState
from webhook_bridge.observability import logger, metrics
from webhook_bridge.vendors.errors import APIStatusError, VendorError

IN_PROGRESS_RETRY_SECONDS = 30.0
IDENTITY_UNKNOWN = "identity_unknown"  # the DLQ reason: replay once the customer is known


class Outcome(StrEnum):
    DELIVERED = "delivered"
    DUPLICATE = "duplicate"
    STALE = "stale"
    NOT_DUE = "not_due"
    RETRIED = "retried"
    THROTTLED = "throttled"
    DEAD_LETTERED = "dead_lettered"
    WAITING_FOR_IDENTITY = "waiting_for_identity"


class AlreadyInProgress(Exception):
    """Another copy of this message is being delivered right now."""


# deliver(message) -> True when the vendor was called, False when an earlier delivery is replayed.
DeliverOnce = Callable[[VendorMessage], bool]


@dataclass
class DeliveryProcessor:
    deliver_once: DeliverOnce
    queue: QueueOps
    ordering: StateLedger
    identities: IdentityResolver
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], float] = time.time

    def start_invocation(self, context: object) -> None:
        register = getattr(self.deliver_once, "register_lambda_context", None)
        if register is not None:
            register(context)

    def handle(self, record: SQSRecord) -> Outcome:
        body = record.body
        state = RetryState.from_attributes(dict(record.raw_event.get("messageAttributes") or {}))
        try:
            message = VendorMessage.model_validate_json(body)
        except ValidationError as exc:
            # Not ours or corrupted: retrying cannot help, keep it for a human.
            self.queue.dead_letter(
                body, state, FailureReport(f"unreadable message: {exc.error_count()} errors", "Poison")
            )
            return self._count(Outcome.DEAD_LETTERED)
        logger.thread_safe_append_keys(action_id=message.action.id, event_id=message.action.source_event_id)
        now = self.clock()
        if state.not_before and now < state.not_before - 1:
            self.queue.requeue(body, state)  # a long delay hops through SQS's 15-minute maximum
            return Outcome.NOT_DUE
        # First, so that the newest state is known even while this action waits.
        self.ordering.record(message)
        identified = self._with_identity(message, body, state, now)
        if isinstance(identified, Outcome):
            return identified
        message = identified
        plan = self.ordering.plan(message)
        if plan.message is None:
            return self._count(Outcome.STALE)
        try:
            called = self.deliver_once(plan.message)
        except AlreadyInProgress:
            self.queue.requeue(body, state.deferred(now, IN_PROGRESS_RETRY_SECONDS))
            return Outcome.NOT_DUE
        except VendorError as error:
            return self._after_failure(body, state, error, now)
        if state.enqueued_at:
            metrics.add_metric("DeliveryLatency", MetricUnit.Milliseconds, (self.clock() - state.enqueued_at) * 1000)
        self._resync_if_overtaken(message, plan, called)
        return self._count(Outcome.DELIVERED if called else Outcome.DUPLICATE)

    def _resync_if_overtaken(self, message: VendorMessage, plan: Plan, called: bool) -> None:
        sync = self.ordering.settle(message, plan, called)
        if sync is not None:
            # A newer state was recorded while ours was on its way: it may have landed first.
            logger.info("newer state recorded during delivery: sending it again")
            metrics.add_metric(name="StateResent", unit=MetricUnit.Count, value=1)
            self.queue.requeue(sync.model_dump_json(), RetryState(enqueued_at=self.clock()))

    def _with_identity(
        self, message: VendorMessage, body: str, state: RetryState, now: float
    ) -> VendorMessage | Outcome:
        """The message with its person's email, or the outcome of waiting for it.

        Every vendor keys a person by email: one that names only a Stripe customer waits
        (Stripe is asked from the second try on, when a key is configured), and is
        dead-lettered as ``identity_unknown`` when the wait is over; never sent without."""
        person = message.action.person
        if person.email or not person.stripe_customer_id:
            return message
        email = self.identities.email(person.stripe_customer_id, ask_stripe=state.identity_waits > 0)
        if email:
            action = message.action.model_copy(update={"person": person.model_copy(update={"email": email})})
            return message.model_copy(update={"action": action})
        delay = self.policy.identity_wait(state.identity_waits)
        if delay is not None:
            self.queue.requeue(body, state.waiting_for_identity(now, delay))
            return self._count(Outcome.WAITING_FOR_IDENTITY)
        logger.warning("dead-lettered", extra={"reason": IDENTITY_UNKNOWN})
        self.queue.dead_letter(body, state, FailureReport(IDENTITY_UNKNOWN, "IdentityUnknown"))
        return self._count(Outcome.DEAD_LETTERED)

    def _after_failure(self, body: str, state: RetryState, error: VendorError, now: float) -> Outcome:
        decision = self.policy.decide(error, state, now)
        if isinstance(decision, DeadLetter):
            status = error.status_code if isinstance(error, APIStatusError) else None
            logger.warning("dead-lettered", extra={"reason": decision.reason, "status": status})
            self.queue.dead_letter(body, state, FailureReport(decision.reason, error.reason, status))
            return self._count(Outcome.DEAD_LETTERED)
        logger.info("retry scheduled", extra={"delay_seconds": round(decision.delay, 1), "error": error.reason})
        self.queue.requeue(body, state.after_failure(now, decision.delay, f"{error.reason}: {error}"))
        return self._count(Outcome.THROTTLED if decision.throttled else Outcome.RETRIED)

    @staticmethod
    def _count(outcome: Outcome) -> Outcome:
        name = {
            Outcome.DELIVERED: "Delivered",
            Outcome.DUPLICATE: "Duplicate",
            Outcome.STALE: "Stale",
            Outcome.RETRIED: "Retried",
            Outcome.THROTTLED: "Throttled",
            Outcome.DEAD_LETTERED: "DeadLettered",
            Outcome.WAITING_FOR_IDENTITY: "WaitingForIdentity",
        }[outcome]
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        return outcome

"""One SQS record → at most one vendor-side effect, and a decided fate for the message.

Every path ends in exactly one of: delivered (or already delivered), re-enqueued with
a delay, or moved to the DLQ with its reason. Any failure while delivering (the vendor's,
AWS's, a missing secret, a bug) takes the retry policy's path with its reason; only a
failure to re-enqueue (SQS itself down) or the function dying leaves the message to
SQS, whose redrive policy then catches it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from webhook_bridge.actions import VendorMessage
from webhook_bridge.delivery.failures import Failure, classify
from webhook_bridge.delivery.identity import CustomerErased, IdentityResolver
from webhook_bridge.delivery.ordering import Plan, SkipReason, StateLedger
from webhook_bridge.delivery.policy import DeadLetter, RetryPolicy
from webhook_bridge.delivery.queue_ops import FailureReport, QueueOps
from webhook_bridge.delivery.retry_state import RetryState
from webhook_bridge.delivery_log import DeliveryLog
from webhook_bridge.observability import error_fields, logger, metrics
from webhook_bridge.vendors.catalog import Vendor
from webhook_bridge.vendors.exceptions import VendorError

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
    vendor: Vendor | None = None  # the vendor whose queue this function reads
    log: DeliveryLog | None = None  # for `bridgectl trace`

    def start_invocation(self, context: object) -> None:
        register = getattr(self.deliver_once, "register_lambda_context", None)
        if register is not None:
            register(context)

    def handle(self, record: SQSRecord) -> Outcome:
        try:
            return self._handle(record)
        except Exception as error:  # every failure takes the retry path, with its class as the reason
            if not isinstance(error, VendorError):
                logger.warning("delivery failed", extra=error_fields(error))
            state = RetryState.from_attributes(dict(record.raw_event.get("messageAttributes") or {}))
            return self._after_failure(record.body, state, classify(error), self.clock())

    def _handle(self, record: SQSRecord) -> Outcome:
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
        if self.vendor is not None and message.vendor != self.vendor:
            # Delivering it here would call a vendor this function holds no keys for, or the wrong one.
            self.queue.dead_letter(body, state, FailureReport("wrong_queue", "WrongQueue"))
            return self._count(Outcome.DEAD_LETTERED)
        logger.thread_safe_append_keys(action_id=message.action.id, event_id=message.action.source_event_id)
        now = self.clock()
        if state.not_before and now < state.not_before - 1:
            self.queue.requeue(body, state)  # a long delay hops through SQS's 15-minute maximum
            return Outcome.NOT_DUE
        # First, so that the newest state is known even while this action waits.
        recorded = self.ordering.record(message)
        # Before the email is looked for: nothing is left to send for a stale state or an
        # erased person, whose email is forgotten.
        plan = self.ordering.plan(message, recorded)
        if plan.message is None:
            return self._skip(message, plan.skipped or SkipReason.NEWER_STATE_SENT)
        identified = self._with_identity(plan.message, body, state, now)
        if isinstance(identified, Outcome):
            return identified
        plan = replace(plan, message=identified)
        try:
            called = self.deliver_once(identified)
        except AlreadyInProgress:
            self.queue.requeue(body, state.deferred(now, IN_PROGRESS_RETRY_SECONDS))
            return Outcome.NOT_DUE
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
        try:
            email = self.identities.email(person.stripe_customer_id, ask_stripe=state.identity_waits > 0)
        except CustomerErased:
            # Erased before its erase reached the ledger: nothing about them is sent.
            return self._skip(message, SkipReason.ERASED)
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

    def _skip(self, message: VendorMessage, reason: SkipReason) -> Outcome:
        if self.log is not None:
            self.log.skipped(message, reason.value)
        return self._count(Outcome.STALE)

    def _after_failure(self, body: str, state: RetryState, failure: Failure, now: float) -> Outcome:
        if failure.auth:
            metrics.add_metric(name="AuthFailed", unit=MetricUnit.Count, value=1)
        details = {"error": failure.error_class, "status": failure.status, "code": failure.code}
        decision = self.policy.decide(failure, state, now)
        if isinstance(decision, DeadLetter):
            logger.warning("dead-lettered", extra={"reason": decision.reason, **details})
            self.queue.dead_letter(body, state, FailureReport(decision.reason, failure.error_class, failure.status))
            return self._count(Outcome.DEAD_LETTERED)
        if failure.possibly_applied:
            # The vendor may have kept the failed call; the retry may then repeat it (README, guarantees).
            metrics.add_metric(name="PossibleDuplicate", unit=MetricUnit.Count, value=1)
        logger.info("retry scheduled", extra={"delay_seconds": round(decision.delay, 1), **details})
        self.queue.requeue(body, state.after_failure(now, decision.delay, failure.describe()))
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

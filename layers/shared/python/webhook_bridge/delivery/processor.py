"""One SQS record → at most one vendor-side effect, and a decided fate for the message.

Every path ends in exactly one of: delivered (or already delivered), re-enqueued with
a delay, or moved to the DLQ with its reason. Any failure while delivering (the vendor's,
AWS's, a missing secret, a bug) takes the retry policy's path with its reason; only a
failure to re-enqueue (SQS itself down) or the function dying leaves the message to
SQS, whose redrive policy then catches it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from webhook_bridge.actions import VendorMessage
from webhook_bridge.delivery.failures import Failure, classify
from webhook_bridge.delivery.ordering import OrderingGuard
from webhook_bridge.delivery.policy import DeadLetter, RetryPolicy
from webhook_bridge.delivery.queue_ops import FailureReport, QueueOps
from webhook_bridge.delivery.retry_state import RetryState
from webhook_bridge.observability import error_fields, logger, metrics
from webhook_bridge.vendors.errors import VendorError
from webhook_bridge.vendors_enum import Vendor

# How often, and how long apart, to wait for an email before delivering with ids only.
IDENTITY_WAITS = 3
IDENTITY_WAIT_SECONDS = 60.0
IN_PROGRESS_RETRY_SECONDS = 30.0


class Outcome(StrEnum):
    DELIVERED = "delivered"
    DUPLICATE = "duplicate"
    STALE = "stale"
    NOT_DUE = "not_due"
    RETRIED = "retried"
    THROTTLED = "throttled"
    DEAD_LETTERED = "dead_lettered"
    WAITING_FOR_IDENTITY = "waiting_for_identity"


def newest_versions(records: list[dict[str, Any]]) -> dict[str, int]:
    """The highest ordering version per ordering key among a batch's records."""
    newest: dict[str, int] = {}
    for record in records:
        try:
            action = json.loads(record.get("body") or "{}").get("action") or {}
        except (ValueError, AttributeError):
            continue
        key, version = action.get("ordering_key"), action.get("ordering_version")
        if isinstance(key, str) and isinstance(version, int):
            newest[key] = max(version, newest.get(key, version))
    return newest


def without_state(message: VendorMessage) -> VendorMessage:
    """The action's event alone: no contact attributes, no subscription record."""
    action = message.action.model_copy(update={"identify": False, "subscription": None, "ordering_key": None})
    return message.model_copy(update={"action": action})


class AlreadyInProgress(Exception):
    """Another copy of this message is being delivered right now."""


# deliver(message) -> True when the vendor was called, False when an earlier delivery is replayed.
DeliverOnce = Callable[[VendorMessage], bool]
ResolveIdentity = Callable[[VendorMessage], VendorMessage | None]


@dataclass
class DeliveryProcessor:
    deliver_once: DeliverOnce
    queue: QueueOps
    ordering: OrderingGuard
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    resolve_identity: ResolveIdentity = lambda message: None
    clock: Callable[[], float] = time.time
    vendor: Vendor | None = None  # the vendor whose queue this function reads

    _newest_in_batch: dict[str, int] = field(default_factory=dict, init=False)

    def start_invocation(self, context: object, records: list[dict[str, Any]] | None = None) -> None:
        register = getattr(self.deliver_once, "register_lambda_context", None)
        if register is not None:
            register(context)
        # A batch's records run concurrently, so two states of one subscription in the same
        # batch would race: only the newest of them may set state.
        self._newest_in_batch = newest_versions(records or [])

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
        if self.vendor is not None and message.vendor is not self.vendor:
            # Delivering it here would call a vendor this function holds no keys for, or the wrong one.
            self.queue.dead_letter(body, state, FailureReport("wrong_queue", "WrongQueue"))
            return self._count(Outcome.DEAD_LETTERED)
        logger.thread_safe_append_keys(action_id=message.action.id, event_id=message.action.source_event_id)
        now = self.clock()
        if state.not_before and now < state.not_before - 1:
            self.queue.requeue(body, state)  # a long delay hops through SQS's 15-minute maximum
            return Outcome.NOT_DUE
        message, waiting = self._with_identity(message, state, now)
        if waiting:
            self.queue.requeue(body, state.waiting_for_identity(now, IDENTITY_WAIT_SECONDS))
            return self._count(Outcome.WAITING_FOR_IDENTITY)
        if self._superseded(message) or not self.ordering.claim(message.vendor, message.action):
            logger.info("stale state not sent", extra={"ordering_key": message.action.ordering_key})
            self._count(Outcome.STALE)
            if message.action.event is None:
                return Outcome.STALE
            message = without_state(message)  # the event still happened: track it, set nothing
        try:
            called = self.deliver_once(message)
        except AlreadyInProgress:
            self.queue.requeue(body, state.deferred(now, IN_PROGRESS_RETRY_SECONDS))
            return Outcome.NOT_DUE
        if state.enqueued_at:
            metrics.add_metric("DeliveryLatency", MetricUnit.Milliseconds, (self.clock() - state.enqueued_at) * 1000)
        return self._count(Outcome.DELIVERED if called else Outcome.DUPLICATE)

    def _superseded(self, message: VendorMessage) -> bool:
        action = message.action
        newest = self._newest_in_batch.get(action.ordering_key or "")
        return newest is not None and action.ordering_version is not None and action.ordering_version < newest

    def _with_identity(self, message: VendorMessage, state: RetryState, now: float) -> tuple[VendorMessage, bool]:
        person = message.action.person
        if person.email or not person.stripe_customer_id:
            return message, False
        resolved = self.resolve_identity(message)
        if resolved is not None:
            return resolved, False
        return message, state.identity_waits < IDENTITY_WAITS

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

"""The delivery function's own SQS moves: re-enqueue with a delay, or dead-letter with a reason."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from webhook_bridge.actions import VendorMessage
from webhook_bridge.delivery.retry_state import RetryState
from webhook_bridge.delivery_log import DeliveryLog
from webhook_bridge.privacy import mask_text

SQS_MAX_DELAY_SECONDS = 900


@dataclass(frozen=True)
class FailureReport:
    reason: str
    error_class: str
    status_code: int | None = None


class QueueOps:
    def __init__(self, queue_url: str, dlq_url: str, client: Any, log: DeliveryLog | None = None) -> None:
        self.queue_url = queue_url
        self.dlq_url = dlq_url
        self._sqs = client
        self._log = log  # for `bridgectl trace`

    def requeue(self, body: str, state: RetryState) -> None:
        """Send the message again; it becomes visible when due (delays beyond 15 min hop)."""
        remaining = (state.not_before or 0) - time.time()
        delay = min(SQS_MAX_DELAY_SECONDS, max(0, math.ceil(remaining)))
        self._sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            DelaySeconds=delay,
            MessageAttributes=state.to_sqs_attributes(),
        )
        message = self._traced(body)
        if message is None or self._log is None:
            return
        if state.last_error:  # a failed attempt (a re-hop of a long delay writes the same again)
            self._log.retrying(message, state.attempts, state.not_before, state.last_error)
        elif state.identity_waits:
            self._log.waiting_for_identity(message, state.not_before)

    def dead_letter(self, body: str, state: RetryState, failure: FailureReport) -> None:
        attributes = state.to_sqs_attributes()
        attributes["failure_reason"] = {"DataType": "String", "StringValue": mask_text(failure.reason)[:1000]}
        attributes["failure_class"] = {"DataType": "String", "StringValue": failure.error_class}
        attributes["failed_at"] = {"DataType": "Number", "StringValue": f"{time.time():.3f}"}
        if failure.status_code is not None:
            attributes["failure_status"] = {"DataType": "Number", "StringValue": str(failure.status_code)}
        self._sqs.send_message(QueueUrl=self.dlq_url, MessageBody=body, MessageAttributes=attributes)
        message = self._traced(body)
        if message is not None and self._log is not None:
            self._log.dead_lettered(message, failure.error_class, failure.reason, state.attempts)

    def _traced(self, body: str) -> VendorMessage | None:
        if self._log is None:
            return None
        try:
            return VendorMessage.model_validate_json(body)
        except ValueError:  # not one of ours: nothing to trace
            return None

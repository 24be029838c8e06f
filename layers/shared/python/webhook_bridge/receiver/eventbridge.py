"""Stripe events delivered by Amazon EventBridge (Stripe event destinations).

Stripe puts each event on the partner event bus; a rule sends it to an SQS queue whose
function hands the Stripe event (the envelope's ``detail``) to the same receiver as the
webhook route. There is no signature to check: only Stripe publishes to its partner event
source, and only the stack's rule may send to the queue (its policy), so trust comes from IAM.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import ValidationError, field_validator

from webhook_bridge.receiver.exceptions import MalformedBodyError

STRIPE_PARTNER_SOURCE_PREFIX = "aws.partner/stripe.com/"


class StripeEventBridgeEvent(EventBridgeModel):
    """EventBridge's envelope: ``detail-type`` is the Stripe event type, ``detail`` the Stripe event."""

    detail: dict[str, Any]

    @field_validator("source")
    @classmethod
    def _from_stripe(cls, source: str) -> str:
        if not source.startswith(STRIPE_PARTNER_SOURCE_PREFIX):
            raise ValueError(f"source must start with {STRIPE_PARTNER_SOURCE_PREFIX}")
        return source


def is_eventbridge_envelope(document: Any) -> bool:
    return isinstance(document, dict) and "detail-type" in document and "detail" in document


def stripe_event(document: Any) -> dict[str, Any]:
    """The Stripe event inside an EventBridge envelope; ``MalformedBodyError`` if it is not one."""
    try:
        envelope = StripeEventBridgeEvent.model_validate(document)
    except ValidationError as exc:
        # Field locations only: the values can be personal data.
        fields = ", ".join(".".join(str(part) for part in error["loc"]) for error in exc.errors())
        raise MalformedBodyError(f"not a Stripe EventBridge event ({fields})") from exc
    if envelope.detail.get("type") != envelope.detail_type:
        raise MalformedBodyError("detail-type differs from the Stripe event's type")
    return envelope.detail


def envelope_for(
    event: dict[str, Any],
    source: str = f"{STRIPE_PARTNER_SOURCE_PREFIX}ed_test_webhook_bridge",
    account: str = "123456789012",
    region: str = "us-east-1",
    envelope_id: str | None = None,
) -> dict[str, Any]:
    """What EventBridge delivers for a Stripe event (for samples, the local stack and tests)."""
    created = event.get("created")
    when = datetime.fromtimestamp(created, UTC) if isinstance(created, int) else datetime.now(UTC)
    return {
        "version": "0",
        "id": envelope_id or str(uuid.uuid4()),
        "detail-type": event.get("type"),
        "source": source,
        "account": account,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": event,
    }

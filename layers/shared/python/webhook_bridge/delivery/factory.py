"""Cold-start assembly of the delivery processor for this function's vendor."""

from __future__ import annotations

from functools import cache

import boto3

from webhook_bridge.actions import VendorMessage
from webhook_bridge.delivery.identity import identity_resolver
from webhook_bridge.delivery.once import IdempotentDelivery
from webhook_bridge.delivery.ordering import OrderingGuard
from webhook_bridge.delivery.pacing import Pacer
from webhook_bridge.delivery.policy import RetryPolicy
from webhook_bridge.delivery.processor import DeliveryProcessor
from webhook_bridge.delivery.queue_ops import QueueOps
from webhook_bridge.delivery_log import DeliveryLog
from webhook_bridge.settings import delivery_settings
from webhook_bridge.state.dynamodb import dynamodb_client
from webhook_bridge.vendors import registry


@cache
def build_processor() -> DeliveryProcessor:
    settings = delivery_settings()

    def call_vendor(message: VendorMessage) -> None:
        registry.deliver(message.vendor, message.action, message.idempotency_token)

    rate = settings.rate_limit_per_second / settings.max_concurrency if settings.rate_limit_per_second else None
    # Every HTTP request to the vendor takes a token, so multi-call actions are paced too.
    registry.set_request_hook(settings.vendor, Pacer(rate).acquire)
    dynamodb = dynamodb_client()  # shared with the identity store: each client costs cold-start time
    return DeliveryProcessor(
        deliver_once=IdempotentDelivery(
            call_vendor, settings.idempotency_table, settings.delivered_ttl_seconds, dynamodb
        ),
        queue=QueueOps(
            settings.queue_url, settings.dlq_url, boto3.client("sqs"), DeliveryLog(settings.idempotency_table, dynamodb)
        ),
        ordering=OrderingGuard(settings.state_table, dynamodb),
        policy=RetryPolicy(
            base_delay=settings.retry_base_delay_seconds,
            max_delay=settings.retry_max_delay_seconds,
            window_seconds=settings.retry_window_seconds,
        ),
        resolve_identity=identity_resolver(settings.state_table),
    )

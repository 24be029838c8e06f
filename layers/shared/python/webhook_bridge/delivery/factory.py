"""Cold-start assembly of the delivery processor for this function's vendor."""

from __future__ import annotations

from functools import cache

import boto3

from webhook_bridge.actions import VendorMessage
from webhook_bridge.delivery.identity import IdentityResolver
from webhook_bridge.delivery.once import IdempotentDelivery
from webhook_bridge.delivery.ordering import StateLedger
from webhook_bridge.delivery.pacing import Pacer
from webhook_bridge.delivery.policy import RetryPolicy
from webhook_bridge.delivery.processor import DeliveryProcessor
from webhook_bridge.delivery.queue_ops import QueueOps
from webhook_bridge.delivery_log import DeliveryLog, delivery_prefix
from webhook_bridge.secrets import build_secrets_client, get_secret_value
from webhook_bridge.settings import DeliverySettings, delivery_settings
from webhook_bridge.state.dynamodb import DynamoIdentityStore, dynamodb_client
from webhook_bridge.stripe_api import StripeCustomers
from webhook_bridge.vendors import registry
from webhook_bridge.vendors.results import DeliveryResult


@cache
def build_processor() -> DeliveryProcessor:
    settings = delivery_settings()

    def call_vendor(message: VendorMessage) -> DeliveryResult:
        return registry.deliver(message.vendor, message.action, message.idempotency_token)

    rate = settings.rate_limit_per_second / settings.max_concurrency if settings.rate_limit_per_second else None
    # Every HTTP request to the vendor takes a token, so multi-call actions are paced too.
    registry.set_request_hook(settings.vendor, Pacer(rate).acquire)
    dynamodb = dynamodb_client()  # shared with the identity store: each client costs cold-start time
    log = DeliveryLog(settings.idempotency_table, dynamodb)
    return DeliveryProcessor(
        deliver_once=IdempotentDelivery(
            call_vendor,
            settings.idempotency_table,
            settings.delivered_ttl_seconds,
            dynamodb,
            key_prefix=delivery_prefix(settings.vendor.value),
        ),
        queue=QueueOps(settings.queue_url, settings.dlq_url, boto3.client("sqs"), log),
        ordering=StateLedger(settings.state_table, dynamodb),
        identities=IdentityResolver(
            DynamoIdentityStore(settings.state_table, dynamodb), lambda: stripe_customers(settings)
        ),
        policy=RetryPolicy(
            base_delay=settings.retry_base_delay_seconds,
            max_delay=settings.retry_max_delay_seconds,
            window_seconds=settings.retry_window_seconds,
            identity_wait_base=settings.identity_wait_base_seconds,
            identity_wait_window=settings.identity_wait_window_seconds,
        ),
        vendor=settings.vendor,
        log=log,
    )


def warm_up() -> None:
    """Everything the first batch would build, without a network call (SnapStart, ``webhook_bridge.snapstart``)."""
    build_processor()
    build_secrets_client()


def stripe_customers(settings: DeliverySettings) -> StripeCustomers | None:
    """A Stripe client when ``STRIPE_API_KEY`` is configured (read from the cached secret
    each time, so a key added in Secrets Manager is used without a deploy)."""
    key = get_secret_value("STRIPE_API_KEY", required=False)
    return StripeCustomers(key, settings.stripe_api_base_url) if key else None

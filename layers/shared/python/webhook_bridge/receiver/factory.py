"""Cold-start assembly of a receiver from validated settings."""

from __future__ import annotations

from functools import cache

from webhook_bridge.delivery_log import DeliveryLog
from webhook_bridge.receiver.dedupe import EventDeduplicator
from webhook_bridge.receiver.logic import Receiver
from webhook_bridge.receiver.mapping import provider_mapping
from webhook_bridge.receiver.providers import ProviderSpec
from webhook_bridge.receiver.publisher import publish, sqs_client
from webhook_bridge.secrets import build_secrets_client
from webhook_bridge.settings import receiver_settings
from webhook_bridge.state.dynamodb import dynamodb_client


@cache
def build_receiver(spec: ProviderSpec) -> Receiver:
    settings = receiver_settings()
    # `bridgectl trace` counts a provider's retries; the receipt is in the idempotency record.
    log = DeliveryLog(settings.idempotency_table, dynamodb_client())
    return Receiver(
        spec=spec,
        mapping=provider_mapping(spec, settings),
        enabled_vendors=settings.enabled_vendors,
        publish=lambda messages: publish(messages, settings.queue_url),
        # One DynamoDB client for deduplication and the state stores: each client costs cold-start time.
        dedupe=EventDeduplicator(
            settings.idempotency_table, settings.event_ttl_seconds, spec.name, dynamodb_client(), log
        ),
        max_body_bytes=settings.max_body_bytes,
        signature_tolerance=settings.signature_tolerance_seconds,
    )


def warm_up(spec: ProviderSpec) -> None:
    """Everything the first request would build, without a network call (SnapStart, ``webhook_bridge.snapstart``)."""
    build_receiver(spec)
    sqs_client()
    build_secrets_client()

"""Cold-start assembly of a receiver from validated settings."""

from __future__ import annotations

from functools import cache

from webhook_bridge.receiver.dedupe import EventDeduplicator
from webhook_bridge.receiver.logic import Receiver
from webhook_bridge.receiver.mapping import provider_mapping
from webhook_bridge.receiver.providers import ProviderSpec
from webhook_bridge.receiver.publisher import publish
from webhook_bridge.settings import receiver_settings


@cache
def build_receiver(spec: ProviderSpec) -> Receiver:
    settings = receiver_settings()
    return Receiver(
        spec=spec,
        mapping=provider_mapping(spec.name, settings),
        enabled_vendors=settings.enabled_vendors,
        publish=lambda messages: publish(messages, settings.queue_url),
        dedupe=EventDeduplicator(settings.idempotency_table, settings.event_ttl_seconds, spec.name),
        max_body_bytes=settings.max_body_bytes,
        signature_tolerance=settings.signature_tolerance_seconds,
    )

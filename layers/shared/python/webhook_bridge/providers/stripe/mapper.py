"""Stripe webhook events → vendor-neutral actions: ``map_stripe_event``.

``map_stripe_event(event, ctx)`` takes a verified event (the parsed JSON body) in the
shape of any API version (see ``models``) and returns its actions: ``[]`` for types the
default table and the configuration do not map, and for thin events (what an event
destination sends instead of snapshots when set to). It raises only ``MappingError`` for a
payload of the wrong shape; errors of the state stores propagate unchanged (→ 5xx, retry).
"""

from __future__ import annotations

from typing import Any

from webhook_bridge.actions import Action
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.observability import logger
from webhook_bridge.providers.exceptions import MappingError
from webhook_bridge.providers.payload import parse
from webhook_bridge.providers.stripe.emitter import Emitter
from webhook_bridge.providers.stripe.handlers import HANDLERS, generic
from webhook_bridge.providers.stripe.models import StripeEvent

# What an event destination sends with the "thin" payload (a v2 event notification), instead of a snapshot.
THIN_EVENT = "v2.core.event"
THIN_EVENT_IGNORED = "thin Stripe event ignored: set the event destination's payload to snapshot"


def map_stripe_event(event: dict[str, Any], ctx: MappingContext) -> list[Action]:
    if not isinstance(event, dict):
        raise MappingError("stripe", None, ["(root): expected a JSON object"])
    if event.get("object") == THIN_EVENT:
        # A thin event names its object without carrying it: nothing to map, and refusing it
        # would have Stripe (or EventBridge's queue) retry it into a dead-letter queue for nothing.
        # Counted as ignored like any unmapped type, so say why: a destination is misconfigured.
        logger.warning(THIN_EVENT_IGNORED, extra={"event_type": str(event.get("type"))})
        return []
    declared = event.get("type")
    parsed = parse(StripeEvent, event, source="stripe", event_type=declared if isinstance(declared, str) else None)
    emitter = Emitter(parsed, ctx)
    handler = HANDLERS.get(parsed.type)
    if handler is None:
        # Types without a default mapping are ignored unless configuration tracks them.
        return generic(parsed.data.object, emitter) if emitter.enabled else []
    model, handle = handler
    obj = parse(model, parsed.data.object, source="stripe", event_type=parsed.type, prefix="data.object")
    return handle(obj, emitter)

"""Provider mappings: a verified webhook payload → a list of vendor-neutral ``Action``s.

- ``map_stripe_event(event, ctx)`` and ``map_typeform_event(payload, ctx)``, with ``ctx`` a
  ``webhook_bridge.mapping_config.MappingContext`` (configuration + identity and invoice
  memory), built once per process.
- ``MAPPERS`` names them by provider, as the receiver routes do.

Errors: both raise ``MappingError`` (a ``ValueError``, see ``exceptions``) and nothing else
for payloads of the wrong shape; the receiver answers 400. An ignored event type is not
an error: the mapper returns ``[]`` and the receiver answers 2xx. Exceptions from the
state stores (DynamoDB) are not mapping errors and propagate: answer 5xx, the provider retries.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any

from webhook_bridge.providers.exceptions import MappingError

if TYPE_CHECKING:
    from webhook_bridge.actions import Action
    from webhook_bridge.mapping_config import MappingContext
    from webhook_bridge.providers.stripe.mapper import map_stripe_event
    from webhook_bridge.providers.typeform import map_typeform_event

Mapper = Callable[[dict[str, Any], "MappingContext"], list["Action"]]

# Imported on first use: a receiver loads only its own provider's models (cold start).
_LAZY = {
    "map_stripe_event": "webhook_bridge.providers.stripe.mapper",
    "map_typeform_event": "webhook_bridge.providers.typeform",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name == "MAPPERS":
        return {"stripe": __getattr__("map_stripe_event"), "typeform": __getattr__("map_typeform_event")}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MAPPERS", "Mapper", "MappingError", "map_stripe_event", "map_typeform_event"]

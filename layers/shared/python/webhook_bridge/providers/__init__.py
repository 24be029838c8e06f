"""Provider mappings: a verified webhook payload → a list of vendor-neutral ``Action``s.

- ``providers.stripe.map_stripe_event(event, ctx)`` and
  ``providers.typeform.map_typeform_event(payload, ctx)``, with ``ctx`` a
  ``webhook_bridge.mapping_config.MappingContext`` (configuration + identity and invoice
  memory), built once per process. Each receiver's ``ProviderSpec`` names its mapper
  (``receiver/providers.py``), imported on first use so a receiver loads only its own
  provider's models.

Errors: both raise ``MappingError`` (a ``ValueError``, see ``exceptions``) and nothing else
for payloads of the wrong shape; the receiver answers 400. An ignored event type is not
an error: the mapper returns ``[]`` and the receiver answers 2xx. Exceptions from the
state stores (DynamoDB) are not mapping errors and propagate: answer 5xx, the provider retries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webhook_bridge.actions import Action
    from webhook_bridge.mapping_config import MappingContext

Mapper = Callable[[dict[str, Any], "MappingContext"], list["Action"]]

"""The provider mappings behind the receiver's ``EventMapping`` interface."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from webhook_bridge.actions import Action, InvalidEmailError
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers.exceptions import MappingError
from webhook_bridge.receiver.errors import MalformedBodyError
from webhook_bridge.settings import ReceiverSettings
from webhook_bridge.vendors_enum import Vendor

Mapper = Callable[[dict[str, Any], MappingContext], list[Action]]


@dataclass(frozen=True)
class ProviderMapping:
    mapper: Mapper
    context: MappingContext

    def map(self, payload: dict[str, Any]) -> list[Action]:
        try:
            return self.mapper(payload, self.context)
        except (MappingError, InvalidEmailError) as exc:
            raise MalformedBodyError(str(exc)) from exc

    def vendors_for(self, action: Action) -> Iterable[Vendor] | None:
        return self.context.vendors_for(action)


def provider_mapping(provider: str, settings: ReceiverSettings) -> ProviderMapping:
    mapper: Mapper
    if provider == "stripe":
        from webhook_bridge.providers.stripe.mapper import map_stripe_event

        mapper = map_stripe_event
    else:
        from webhook_bridge.providers.typeform import map_typeform_event

        mapper = map_typeform_event
    return ProviderMapping(mapper=mapper, context=MappingContext.from_settings(settings))

"""The provider mappings behind the receiver's ``EventMapping`` interface."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from webhook_bridge.actions import Action, InvalidEmailError
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers import Mapper
from webhook_bridge.providers.exceptions import MappingError
from webhook_bridge.receiver.exceptions import MalformedBodyError
from webhook_bridge.receiver.providers import ProviderSpec
from webhook_bridge.settings import ReceiverSettings
from webhook_bridge.vendors.catalog import Vendor


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


def provider_mapping(provider: ProviderSpec, settings: ReceiverSettings) -> ProviderMapping:
    return ProviderMapping(mapper=provider.mapper(), context=MappingContext.from_settings(settings))

"""What differs between providers: the signature scheme, where the event id and type live, and the mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any, cast

from webhook_bridge.providers import Mapper
from webhook_bridge.signatures.stripe import verify_stripe_signature
from webhook_bridge.signatures.typeform import verify_typeform_signature


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    secret_name: str
    signature_header: str
    verify: Callable[..., Any]  # (body, header, secrets, *, tolerance) -> None, raises SignatureError
    id_field: str
    type_field: str
    # "module:function", imported on first use: a receiver loads only its own provider's models.
    mapper_path: str

    def mapper(self) -> Mapper:
        module, name = self.mapper_path.split(":")
        return cast(Mapper, getattr(import_module(module), name))

    def event_id(self, payload: dict[str, Any]) -> str | None:
        value = payload.get(self.id_field)
        return value if isinstance(value, str) and value else None

    def event_type(self, payload: dict[str, Any]) -> str | None:
        value = payload.get(self.type_field)
        return value if isinstance(value, str) and value else None


STRIPE = ProviderSpec(
    name="stripe",
    secret_name="STRIPE_WEBHOOK_SECRET",
    signature_header="stripe-signature",
    verify=verify_stripe_signature,
    id_field="id",
    type_field="type",
    mapper_path="webhook_bridge.providers.stripe.mapper:map_stripe_event",
)

TYPEFORM = ProviderSpec(
    name="typeform",
    secret_name="TYPEFORM_WEBHOOK_SECRET",
    signature_header="typeform-signature",
    verify=verify_typeform_signature,
    id_field="event_id",
    type_field="event_type",
    mapper_path="webhook_bridge.providers.typeform:map_typeform_event",
)

PROVIDERS = {spec.name: spec for spec in (STRIPE, TYPEFORM)}

"""What differs between providers: the signature scheme and where the event id and type live."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
)

TYPEFORM = ProviderSpec(
    name="typeform",
    secret_name="TYPEFORM_WEBHOOK_SECRET",
    signature_header="typeform-signature",
    verify=verify_typeform_signature,
    id_field="event_id",
    type_field="event_type",
)

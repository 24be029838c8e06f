"""Configuration from the environment: the only module that reads ``os.environ``.

The functions' settings are read once, at cold start, and validated: plain pydantic models
over ``os.environ`` (pydantic-settings would add its import time to every cold start for
nothing we use). A few names are read at the moment of use instead, through the functions
at the end: credentials kept in the environment (locally; Secrets Manager on AWS), vendor
API roots, the Secrets Manager ids, the region, and bridgectl's options.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

from webhook_bridge.vendors.catalog import Vendor, vendors


class ReceiverSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    state_table: str = Field(alias="STATE_TABLE")
    enabled_vendors: tuple[Vendor, ...] = Field(default_factory=vendors, alias="ENABLED_VENDORS")
    max_body_bytes: int = Field(default=1_048_576, alias="MAX_BODY_BYTES")
    # Replay protection for Stripe's signed timestamp. 0 turns it off, which only makes sense
    # for replaying the fixed-time events in events/ with `sam local invoke`.
    signature_tolerance_seconds: int = Field(default=300, alias="STRIPE_SIGNATURE_TOLERANCE_SECONDS", ge=0)
    event_ttl_seconds: int = Field(default=7 * 24 * 3600, alias="EVENT_DEDUPE_TTL_SECONDS")
    mapping: str | None = Field(default=None, alias="BRIDGE_MAPPING")  # JSON, see mapping_config

    @field_validator("mapping", mode="before")
    @classmethod
    def _blank_is_default(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("enabled_vendors", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(v.strip().lower() for v in value.split(",") if v.strip())
        return value

    def queue_url(self, vendor: Vendor) -> str:
        url = environment_value(f"{vendor.env_prefix}_QUEUE_URL")
        if not url:
            raise RuntimeError(f"{vendor.env_prefix}_QUEUE_URL is not set")
        return url


class DeliverySettings(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    vendor: Vendor = Field(alias="VENDOR")
    queue_url: str = Field(alias="QUEUE_URL")
    dlq_url: str = Field(alias="DLQ_URL")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    state_table: str = Field(alias="STATE_TABLE")
    # Requests per second the vendor allows the whole deployment, and how many
    # function instances share it (the event source's maximum concurrency).
    rate_limit_per_second: float | None = Field(default=None, alias="VENDOR_RATE_LIMIT")
    max_concurrency: int = Field(default=2, alias="VENDOR_MAX_CONCURRENCY", ge=1)
    retry_window_seconds: int = Field(default=26 * 3600, alias="RETRY_WINDOW_SECONDS")
    # The first backoff after a 5xx or timeout, doubling up to the maximum. Lower only in tests
    # and `make dev` experiments: vendors need minutes, not seconds, to recover.
    retry_base_delay_seconds: float = Field(default=30.0, alias="RETRY_BASE_DELAY_SECONDS", gt=0)
    retry_max_delay_seconds: float = Field(default=3600.0, alias="RETRY_MAX_DELAY_SECONDS", gt=0)
    delivered_ttl_seconds: int = Field(default=4 * 24 * 3600, alias="DELIVERED_TTL_SECONDS")
    # An action whose email is not known yet waits this long at first, doubling, until
    # the window is spent; then it is dead-lettered as identity_unknown. The window covers
    # Stripe's own retries of a customer event that failed to reach us for a few hours.
    identity_wait_base_seconds: float = Field(default=10.0, alias="IDENTITY_WAIT_BASE_SECONDS", gt=0)
    identity_wait_window_seconds: float = Field(default=6 * 3600.0, alias="IDENTITY_WAIT_WINDOW_SECONDS", ge=0)
    stripe_api_base_url: str = Field(default="https://api.stripe.com/v1", alias="STRIPE_API_BASE_URL")


@cache
def receiver_settings() -> ReceiverSettings:
    return ReceiverSettings.model_validate(dict(os.environ))


@cache
def delivery_settings() -> DeliverySettings:
    return DeliverySettings.model_validate(dict(os.environ))


def environment_value(name: str) -> str | None:
    """``name``'s value in the environment, read now; blank counts as unset."""
    return os.environ.get(name) or None


def secret_ids() -> list[str]:
    """``SECRET_ID``: the Secrets Manager secrets this function may read, comma-separated."""
    return [part.strip() for part in (environment_value("SECRET_ID") or "").split(",") if part.strip()]


def aws_region() -> str | None:
    """Lambda sets ``AWS_REGION``; a shell may only have ``AWS_DEFAULT_REGION``."""
    return environment_value("AWS_REGION") or environment_value("AWS_DEFAULT_REGION")


def xray_sdk_enabled() -> bool:
    """``BRIDGE_XRAY_SDK``: the template's ``XRaySdk`` parameter, for subsegments beyond Lambda's own trace."""
    return (environment_value("BRIDGE_XRAY_SDK") or "").lower() in {"1", "true", "yes"}

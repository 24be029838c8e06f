"""Secret values by their configuration name, e.g. ``STRIPE_WEBHOOK_SECRET``.

Locally (``make dev``, tests) the environment holds them. On AWS a function gets
``SECRET_ID``: Secrets Manager secrets (comma-separated, searched in order) whose JSON
holds the same names, read with powertools parameters and cached, so rotating them needs
no deploy. A delivery function reads its vendor's secret and the Stripe API key's.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from webhook_bridge.exceptions import BridgeError
from webhook_bridge.settings import environment_value, secret_ids

SECRET_CACHE_SECONDS = 300


@cache
def _secrets_provider() -> Any:
    """Powertools' provider (with its cache) on boto3's default session, which the other
    clients share: a second botocore session would parse the endpoint data again."""
    import boto3
    from aws_lambda_powertools.utilities import parameters  # lazy: only on AWS

    return parameters.SecretsProvider(boto3_client=boto3.client("secretsmanager"))


def build_secrets_client() -> None:
    """Build the Secrets Manager client without reading anything (SnapStart warm-up)."""
    _secrets_provider()


def forget_cached_secrets() -> None:
    """Make the next read go to Secrets Manager, e.g. after a vendor refused our keys."""
    if _secrets_provider.cache_info().currsize:
        _secrets_provider().clear_cache()


class MissingSecretError(BridgeError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"secret {name} is not configured")
        self.name = name


def _from_secrets_manager(name: str) -> str | None:
    for secret_id in secret_ids():
        bundle = _secrets_provider().get(secret_id, transform="json", max_age=SECRET_CACHE_SECONDS)
        value = bundle.get(name) if isinstance(bundle, dict) else None
        if value:
            return str(value)
    return None


def get_secret_value(name: str, *, required: bool = True) -> str | None:
    value = environment_value(name) or _from_secrets_manager(name)
    if not value and required:
        raise MissingSecretError(name)
    return value or None

"""Secrets by configuration name: the environment locally, Secrets Manager (cached) on AWS."""

from __future__ import annotations

import json

import pytest

from webhook_bridge import secrets
from webhook_bridge.secrets import MissingSecretError, get_secret_value


@pytest.fixture
def secret_id(aws, monkeypatch):
    import boto3

    secrets._secrets_provider.cache_clear()
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="bridge/stripe", SecretString=json.dumps({"STRIPE_WEBHOOK_SECRET": "whsec_aws"}))
    monkeypatch.setenv("SECRET_ID", arn["ARN"])
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    yield client, arn["ARN"]
    secrets._secrets_provider.cache_clear()


def test_on_aws_the_value_comes_from_the_functions_secret_and_is_cached(secret_id):
    client, arn = secret_id
    assert get_secret_value("STRIPE_WEBHOOK_SECRET") == "whsec_aws"
    client.put_secret_value(SecretId=arn, SecretString=json.dumps({"STRIPE_WEBHOOK_SECRET": "whsec_rotated"}))
    assert get_secret_value("STRIPE_WEBHOOK_SECRET") == "whsec_aws"  # cached for SECRET_CACHE_SECONDS


def test_the_environment_wins_locally(secret_id, monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_local")
    assert get_secret_value("STRIPE_WEBHOOK_SECRET") == "whsec_local"


def test_a_name_missing_everywhere_is_a_clear_error(secret_id):
    with pytest.raises(MissingSecretError, match="TYPEFORM_WEBHOOK_SECRET is not configured"):
        get_secret_value("TYPEFORM_WEBHOOK_SECRET")
    assert get_secret_value("TYPEFORM_WEBHOOK_SECRET", required=False) is None


def test_a_delivery_function_finds_the_stripe_api_key_in_its_second_secret(secret_id, monkeypatch):
    client, arn = secret_id
    second = client.create_secret(Name="bridge/stripe-api", SecretString=json.dumps({"STRIPE_API_KEY": "rk_test_1"}))
    monkeypatch.setenv("SECRET_ID", f"{arn},{second['ARN']}")
    assert get_secret_value("STRIPE_WEBHOOK_SECRET") == "whsec_aws"
    assert get_secret_value("STRIPE_API_KEY") == "rk_test_1"


def test_a_vendor_refusing_our_keys_makes_the_next_read_skip_the_cache(secret_id):
    import respx

    from webhook_bridge.actions import VendorMessage
    from webhook_bridge.vendors import registry
    from webhook_bridge.vendors.catalog import Vendor
    from webhook_bridge.vendors.exceptions import AuthenticationError

    client, arn = secret_id
    client.put_secret_value(SecretId=arn, SecretString=json.dumps({"LOOPS_API_KEY": "revoked-key"}))
    registry.forget_client()
    message = VendorMessage.model_validate(
        {
            "vendor": "loops",
            "action": {
                "id": "stripe:evt_1:0",
                "kind": "identify",
                "source": "stripe",
                "source_event_id": "evt_1",
                "source_event_type": "customer.created",
                "occurred_at": "2026-11-01T12:00:00Z",
                "person": {"email": "jane@example.com"},
                "identify": True,
            },
        }
    )
    with respx.mock() as vendor, pytest.raises(AuthenticationError):
        vendor.route().respond(401, json={"message": "Invalid API key"})
        registry.deliver(Vendor("loops"), message.action, message.idempotency_token)
    client.put_secret_value(SecretId=arn, SecretString=json.dumps({"LOOPS_API_KEY": "rotated-key"}))
    # Within the 5-minute cache, yet the rotated key is read: the client is rebuilt from a fresh read.
    assert registry.get_client(Vendor("loops"))._auth_header == "Bearer rotated-key"
    registry.forget_client()

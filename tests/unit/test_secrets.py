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

"""`make sam-local`'s env file, without Docker: what SAM hands each function points at the
resources created in moto, under the names the template declares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devstack.aws import client, create_resources
from devstack.sam_local import (
    EVENTS_ENV_FILE,
    SamCli,
    SamLocalStack,
    docker_unavailable,
    local_configuration,
    sam_env_vars,
)
from devstack.stack import DEV_PARAMETERS
from devstack.support.moto import MotoServer
from devstack.template import Template, load_template
from tests.devstack.conftest import REAL_TEMPLATE, REPO_ROOT
from webhook_bridge.vendors.catalog import specs

NETWORK_MOTO = "http://test-net-moto:5000"
NETWORK_SANDBOX = "http://test-net-sandbox:4010"
VENDORS = [spec.name for spec in specs()]


@pytest.fixture
def template(unique: str) -> Template:
    # As the stack loads it, under names of its own in the shared moto.
    return load_template(REAL_TEMPLATE, parameter_defaults=DEV_PARAMETERS, stack_name=unique)


@pytest.fixture
def env_vars(template: Template, moto: MotoServer) -> dict[str, dict[str, str]]:
    configuration = local_configuration(NETWORK_SANDBOX)
    resources = create_resources(template, moto.endpoint, secret_values=configuration.values)
    overrides = json.loads((REPO_ROOT / EVENTS_ENV_FILE).read_text())
    return sam_env_vars(template, resources.seen_from(NETWORK_MOTO), configuration, overrides)


def test_every_function_gets_exactly_its_declared_variables(template: Template, env_vars: dict[str, Any]) -> None:
    # SAM drops anything the template does not declare, so nothing else is worth writing.
    assert set(env_vars) == set(template.functions)
    for function, values in env_vars.items():
        assert set(values) == set(template.environment(function)), function
        assert values["AWS_ENDPOINT_URL"] == NETWORK_MOTO


def test_queue_urls_and_tables_name_what_moto_holds(
    template: Template, env_vars: dict[str, Any], moto: MotoServer
) -> None:
    sqs = client("sqs", moto.endpoint, template.region)
    dynamodb = client("dynamodb", moto.endpoint, template.region)
    for function, values in env_vars.items():
        urls = {name: url for name, url in values.items() if name.endswith("QUEUE_URL") or name == "DLQ_URL"}
        assert urls, function
        for url in urls.values():
            assert url.startswith(NETWORK_MOTO + "/")
            sqs.get_queue_url(QueueName=url.rsplit("/", 1)[1])
        for table in ("IDEMPOTENCY_TABLE", "STATE_TABLE"):
            dynamodb.describe_table(TableName=values[table])


@pytest.mark.parametrize(
    ("function", "secret"),
    [
        ("StripeWebhookFunction", {"STRIPE_WEBHOOK_SECRET": "whsec_test_webhook_bridge"}),
        ("LoopsDeliveryFunction", {"LOOPS_API_KEY": "sandbox-loops-key"}),
        (
            "CustomerIoDeliveryFunction",
            {"CUSTOMERIO_SITE_ID": "sandbox-site", "CUSTOMERIO_API_KEY": "sandbox-customerio-key"},
        ),
    ],
)
def test_secret_id_names_a_secret_holding_the_functions_own_credentials(
    template: Template, env_vars: dict[str, Any], moto: MotoServer, function: str, secret: dict[str, str]
) -> None:
    secretsmanager = client("secretsmanager", moto.endpoint, template.region)
    own, *shared = env_vars[function]["SECRET_ID"].split(",")  # its own secret first
    assert json.loads(secretsmanager.get_secret_value(SecretId=own)["SecretString"]) == secret
    for other in shared:  # e.g. the Stripe API key every delivery function may read
        secretsmanager.get_secret_value(SecretId=other)


def test_receivers_enable_every_vendor_and_deliveries_call_the_sandbox(env_vars: dict[str, Any]) -> None:
    for receiver in ("StripeWebhookFunction", "TypeformWebhookFunction"):
        assert env_vars[receiver]["ENABLED_VENDORS"].split(",") == VENDORS
    base_urls = {
        name: url for values in env_vars.values() for name, url in values.items() if name.endswith("_BASE_URL")
    }
    assert sorted(base_urls) == sorted(f"{vendor.upper()}_BASE_URL" for vendor in VENDORS)
    assert all(url.startswith(NETWORK_SANDBOX + "/") for url in base_urls.values()), base_urls


def test_the_events_settings_apply(env_vars: dict[str, Any]) -> None:
    # The events in events/ carry fixed timestamps: their file turns the replay window off.
    assert env_vars["StripeWebhookFunction"]["STRIPE_SIGNATURE_TOLERANCE_SECONDS"] == "0"


def test_build_gives_the_layer_makefile_the_architecture_of_the_template_parameter(tmp_path: Path) -> None:
    command, env = SamCli(architecture="x86_64").build(tmp_path)
    assert command[command.index("--parameter-overrides") + 1] == "Architecture=x86_64"
    assert env["ARCHITECTURE"] == "x86_64"


def test_local_commands_use_the_stacks_network_env_file_architecture_and_dev_parameters(tmp_path: Path) -> None:
    stack = SamLocalStack(name="wb-x", template_path=REAL_TEMPLATE, env_file=tmp_path / "env.json")
    command = SamCli(architecture="arm64").invoke(stack, "StripeWebhookFunction", "events/e.json")
    parameters = command[command.index("--parameter-overrides") + 1 : command.index("--docker-network")]
    assert parameters == ["Architecture=arm64", *(f"{k}={v}" for k, v in DEV_PARAMETERS.items())]
    assert command[command.index("--docker-network") + 1] == "wb-x"
    assert command[command.index("--env-vars") + 1] == str(tmp_path / "env.json")
    assert command[command.index("--region") + 1] == stack.region


def test_without_docker_the_reason_is_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert docker_unavailable() == "the docker command is not installed"
    stack = SamLocalStack(name="wb-none", template_path=REAL_TEMPLATE, env_file=tmp_path / "env.json")
    stack.stop()  # teardown without docker is a no-op, not a second error

"""Where each function's environment comes from (no processes started here)."""

from __future__ import annotations

from typing import Any

from devstack.environment import (
    DEV_WEBHOOK_SECRETS,
    aws_environment,
    function_environment,
    mask,
    process_base,
    resolve_configuration,
    vendors_without_credentials,
)
from devstack.sandbox import Sandbox, SandboxCredentials
from devstack.template import load_template
from webhook_bridge.vendors.catalog import specs

from .conftest import FIXTURE_TEMPLATE

# The sandbox's API roots (on a closed port) and credentials, as `make dev` hands them over.
SANDBOX_ENV = {name: "http://127.0.0.1:9" + path for name, path in Sandbox().base_paths().items()}
SANDBOX_ENV |= SandboxCredentials().as_env()
EVERY_PREFIX = [spec.env_prefix for spec in specs()]


def test_no_configuration_means_dev_secrets_and_the_sandbox_for_every_vendor() -> None:
    config = resolve_configuration({}, SANDBOX_ENV)
    assert config.values["STRIPE_WEBHOOK_SECRET"] == "whsec_test_webhook_bridge"
    assert config.values["TYPEFORM_WEBHOOK_SECRET"] == "typeform_test_webhook_bridge"
    assert config.values["LOOPS_BASE_URL"] == SANDBOX_ENV["LOOPS_BASE_URL"]
    assert config.values["SEGMETRICS_BASE_URL"] == SANDBOX_ENV["SEGMETRICS_BASE_URL"]
    assert [v.env_prefix for v in config.sandboxed_vendors] == EVERY_PREFIX
    assert not config.secrets_from_environment


def test_a_vendor_with_credentials_is_live_the_others_sandboxed() -> None:
    source = {
        "LOOPS_API_KEY": "real-key",
        "LOOPS_BASE_URL": "https://app.loops.so/api/v1",
        "STRIPE_WEBHOOK_SECRET": "x",
    }
    assert [v.env_prefix for v in vendors_without_credentials(source)] == [p for p in EVERY_PREFIX if p != "LOOPS"]
    config = resolve_configuration(source, SANDBOX_ENV)
    assert config.values["LOOPS_API_KEY"] == "real-key"
    assert config.values["LOOPS_BASE_URL"] == "https://app.loops.so/api/v1"
    assert config.values["CONVERTLOOP_BASE_URL"] == SANDBOX_ENV["CONVERTLOOP_BASE_URL"]
    assert config.values["STRIPE_WEBHOOK_SECRET"] == "x"
    assert config.secrets_from_environment == {"STRIPE_WEBHOOK_SECRET"}
    assert [v.env_prefix for v in config.live_vendors] == ["LOOPS"]


def test_partial_credentials_are_not_used() -> None:
    config = resolve_configuration({"CUSTOMERIO_SITE_ID": "site"}, SANDBOX_ENV)
    assert config.values["CUSTOMERIO_SITE_ID"] == "sandbox-site"
    assert config.values["CUSTOMERIO_BASE_URL"] == SANDBOX_ENV["CUSTOMERIO_BASE_URL"]
    assert any("CUSTOMERIO_API_KEY" in w for w in config.warnings)
    # ...so the stack starts the sandbox for it
    assert "CUSTOMERIO" in [v.env_prefix for v in vendors_without_credentials({"CUSTOMERIO_SITE_ID": "site"})]


def test_a_base_url_alone_sends_there_with_test_credentials() -> None:
    """Any server that speaks the vendor's API gets the calls, even without real credentials."""
    config = resolve_configuration({"CUSTOMERIO_SITE_ID": "site", "CUSTOMERIO_BASE_URL": "https://x"}, SANDBOX_ENV)
    assert [v.env_prefix for v in config.live_vendors] == ["CUSTOMERIO"]
    assert config.values["CUSTOMERIO_BASE_URL"] == "https://x"
    assert config.values["CUSTOMERIO_SITE_ID"] == "site"
    assert config.values["CUSTOMERIO_API_KEY"] == "sandbox-customerio-key"
    config = resolve_configuration({"LOOPS_BASE_URL": "http://127.0.0.1:9/api/v1"}, SANDBOX_ENV)
    assert config.values["LOOPS_API_KEY"] == "sandbox-loops-key"
    assert "LOOPS" in [v.env_prefix for v in config.enabled_vendors]


def test_without_sandbox_vendors_without_credentials_are_disabled() -> None:
    config = resolve_configuration({"CONVERTLOOP_APP_ID": "a"}, None)
    assert "CONVERTLOOP_APP_ID" not in config.values
    assert [v.env_prefix for v in config.disabled_vendors] == EVERY_PREFIX


def local_environment(
    function: str, process: dict[str, str], *, use_process_env: bool, **options: Any
) -> dict[str, str]:
    """``function``'s environment under the stack, its configuration from ``process`` only when it uses it."""
    template = load_template(FIXTURE_TEMPLATE)
    return function_environment(
        template.functions[function],
        template_env=template.environment(function),
        configuration=resolve_configuration(process if use_process_env else {}, SANDBOX_ENV),
        endpoint="http://127.0.0.1:5000",
        region="us-east-1",
        process_env=process,
        use_process_env=use_process_env,
        **options,
    )


def test_function_environment_precedence() -> None:
    process = {
        "PATH": "/usr/bin",
        "HOME": "/home/dev",
        "AWS_PROFILE": "production",
        "AWS_ENDPOINT_URL_SQS": "https://sqs.real",
        "LOOPS_API_KEY": "shell-key",
        "RANDOM_SHELL_VARIABLE": "x",
        "LOG_LEVEL": "DEBUG",
    }
    env = local_environment("StripeWebhookFunction", process, use_process_env=False, overrides={"STAGE": "test"})
    assert env["PATH"] == "/usr/bin" and env["HOME"] == "/home/dev"
    assert "AWS_PROFILE" not in env and "AWS_ENDPOINT_URL_SQS" not in env and "RANDOM_SHELL_VARIABLE" not in env
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert env["AWS_ACCESS_KEY_ID"] == "testing" and env["AWS_REGION"] == "us-east-1"
    assert env["LOOPS_API_KEY"] == "sandbox-loops-key"  # hermetic: the shell's key is not used
    assert "LOG_LEVEL" not in env
    assert "SECRET_ID" not in env  # secrets come from the environment locally
    assert env["STRIPE_WEBHOOK_SECRET"] == DEV_WEBHOOK_SECRETS["STRIPE_WEBHOOK_SECRET"]
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert env["POWERTOOLS_SERVICE_NAME"] == "webhook-bridge"  # from the template
    assert env["STAGE"] == "test"  # overrides beat the template
    assert env["ENABLED_VENDORS"] == ",".join(spec.name for spec in specs())  # follows the local decision
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == load_template(FIXTURE_TEMPLATE).functions["StripeWebhookFunction"].name
    assert env["_HANDLER"] == "app.lambda_handler"
    assert "127.0.0.1" in env["NO_PROXY"]


def test_process_env_is_used_when_asked() -> None:
    process = {"LOOPS_API_KEY": "shell-key", "LOG_LEVEL": "DEBUG"}
    env = local_environment("LoopsDeliveryFunction", process, use_process_env=True)
    assert env["LOOPS_API_KEY"] == "shell-key"
    assert env["LOG_LEVEL"] == "DEBUG"
    assert env["VENDOR"] == "loops"


def test_process_base_keeps_only_what_programs_need() -> None:
    base = process_base({"PATH": "/bin", "LC_ALL": "C", "AWS_SECRET_ACCESS_KEY": "real", "GITHUB_TOKEN": "t"})
    assert base["PATH"] == "/bin" and base["LC_ALL"] == "C"
    assert "AWS_SECRET_ACCESS_KEY" not in base and "GITHUB_TOKEN" not in base


def test_mask() -> None:
    assert mask("whsec_abcdefghijklmnopqrstuvwxyz1234") == "whsec_…1234"
    assert mask("short") == "…"
    assert "abcdefghijkl" not in mask("abcdefghijklmnopqrstuvwx")


def test_moto_in_the_process_needs_no_endpoint() -> None:
    """The benchmarks run handlers in-process under ``mock_aws``: boto3 must not be sent elsewhere."""
    env = aws_environment(None, "eu-west-1")
    assert "AWS_ENDPOINT_URL" not in env
    assert (env["AWS_REGION"], env["AWS_ACCESS_KEY_ID"]) == ("eu-west-1", "testing")

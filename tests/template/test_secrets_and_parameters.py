"""Secrets stay secret, and the vendors enabled are exactly those with complete credentials."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from tests.template import cfn
from webhook_bridge.settings import ReceiverSettings
from webhook_bridge.vendors.catalog import Vendor

# secret resource prefix -> {parameter: JSON name}
SECRET_OWNERS = {**cfn.CREDENTIALS, **cfn.WEBHOOK_SECRETS, **cfn.STRIPE_API}


def test_every_secret_parameter_is_noecho_with_a_safe_default() -> None:
    parameters = cfn.load()["Parameters"]
    for name in cfn.SECRET_PARAMETERS:
        spec = parameters[name]
        assert spec["NoEcho"] is True, name
        assert spec["Type"] == "String"
        assert spec.get("Default") == "", name  # a vendor or provider may be left out
        pattern = re.compile(spec["AllowedPattern"])
        assert pattern.fullmatch("") and pattern.fullmatch("-"), name
        for unsafe in ('a"b', "a\\b", "a b", "abc\n"):  # would break the secret's JSON or be a paste error
            assert not pattern.fullmatch(unsafe), (name, unsafe)


def test_secret_like_parameters_are_all_known() -> None:
    looks_secret = re.compile(r"(Secret|Key|Token|Password|AppId|SiteId|AccountId|IntegrationId)$")
    names = {name for name in cfn.load()["Parameters"] if looks_secret.search(name)}
    assert names == set(cfn.SECRET_PARAMETERS)


def test_stripe_secret_parameter_refuses_an_api_key() -> None:
    pattern = re.compile(cfn.load()["Parameters"]["StripeWebhookSecret"]["AllowedPattern"])
    assert pattern.fullmatch("whsec_abcDEF123")
    assert not pattern.fullmatch("sk_live_abc")


def test_stripe_api_key_parameter_takes_an_api_key_not_a_webhook_secret() -> None:
    pattern = re.compile(cfn.load()["Parameters"]["StripeApiKey"]["AllowedPattern"])
    assert pattern.fullmatch("rk_live_abcDEF123")
    assert not pattern.fullmatch("whsec_abc")


def test_secret_parameters_only_reach_secrets_manager() -> None:
    """Not environment variables, outputs or anything else: only SecretString, Conditions, Rules."""
    template = cfn.load()
    for lid, resource in template["Resources"].items():
        for path, node in cfn.walk(resource):
            if not (isinstance(node, dict) and len(node) == 1 and set(node) <= {"Ref", "Fn::Sub"}):
                continue
            leaked = cfn.referenced(node) & set(cfn.SECRET_PARAMETERS)
            if leaked and not (resource["Type"] == "AWS::SecretsManager::Secret" and "SecretString" in path):
                pytest.fail(f"{lid} {'.'.join(map(str, path))} uses {leaked}")
    assert not cfn.referenced(template["Outputs"]) & set(cfn.SECRET_PARAMETERS)
    assert not cfn.referenced(template.get("Metadata", {})) & set(cfn.SECRET_PARAMETERS)


def test_no_function_environment_holds_a_credential() -> None:
    """A webhook secret may be declared empty, so `sam local invoke --env-vars` can set a test one."""
    secret_names = {json_name for group in SECRET_OWNERS.values() for json_name in group.values()}
    for function in cfn.FUNCTIONS:
        env = cfn.env(function)
        for name in set(env) & secret_names:
            assert name.endswith("_WEBHOOK_SECRET") and env[name] == "", (function, name)


@pytest.mark.parametrize("owner", SECRET_OWNERS)
def test_secret_json_carries_the_configuration_names(owner: str) -> None:
    assert cfn.load()["Resources"][f"{owner}Secret"]["Type"] == "AWS::SecretsManager::Secret"
    names = SECRET_OWNERS[owner]
    given = {parameter: f"value-of-{parameter}" for parameter in names}
    enabled = json.loads(cfn.Evaluator(given).resolve(cfn.props(f"{owner}Secret")["SecretString"]))
    assert enabled == {json_name: given[parameter] for parameter, json_name in names.items()}
    for unset in ("", "-"):  # "-" is how `sam deploy --guided` says "not used": it must not become a secret
        blank = json.loads(
            cfn.Evaluator(dict.fromkeys(names, unset)).resolve(cfn.props(f"{owner}Secret")["SecretString"])
        )
        assert blank == dict.fromkeys(names.values(), "")


def _enabled_vendors(parameters: dict[str, str]) -> tuple[Vendor, ...]:
    evaluator = cfn.Evaluator(parameters)
    values = {evaluator.resolve(cfn.env(f)["ENABLED_VENDORS"]) for f in cfn.RECEIVERS}
    (value,) = values
    settings = ReceiverSettings(IDEMPOTENCY_TABLE="t", STATE_TABLE="s", ENABLED_VENDORS=value)  # type: ignore[call-arg]
    return settings.enabled_vendors


@pytest.mark.parametrize("enabled", [set(c) for n in range(5) for c in itertools.combinations(cfn.VENDORS, n)])
@pytest.mark.parametrize("unset", ["", "-"])
def test_enabled_vendors_are_those_with_credentials(enabled: set[str], unset: str) -> None:
    parameters = {
        parameter: ("x" if vendor in enabled else unset)
        for vendor, names in cfn.CREDENTIALS.items()
        for parameter in names
    }
    assert _enabled_vendors(parameters) == tuple(Vendor(cfn.VENDORS[v]) for v in cfn.VENDORS if v in enabled)
    assert cfn.Evaluator(parameters).failed_rules() == []


@pytest.mark.parametrize("vendor", [v for v, names in cfn.CREDENTIALS.items() if len(names) > 1])
def test_partial_credentials_are_refused_at_deploy(vendor: str) -> None:
    first, *_ = cfn.CREDENTIALS[vendor]
    failed = cfn.Evaluator({first: "x"}).failed_rules()
    assert len(failed) == 1 and failed[0].startswith(f"{vendor}CredentialsComplete")
    assert Vendor(cfn.VENDORS[vendor]) not in _enabled_vendors({first: "x"})


def test_outputs_name_the_enabled_vendors() -> None:
    output = cfn.load()["Outputs"]["EnabledVendors"]["Value"]
    assert cfn.Evaluator({}).resolve(output) == "none"
    assert cfn.Evaluator({"LoopsApiKey": "k"}).resolve(output) == "loops,"

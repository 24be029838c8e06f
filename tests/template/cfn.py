"""template.yaml as data, and the few intrinsics the wiring tests need to evaluate.

Loaded with cfn-lint's decoder, so ``!Ref``/``!GetAtt``/``!Sub`` arrive as plain
``{"Ref": ...}``/``{"Fn::GetAtt": [...]}``/``{"Fn::Sub": ...}`` mappings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

from devstack.intrinsics import Resolver
from devstack.language_extensions import expand
from devstack.template import merge_globals
from webhook_bridge.receiver.providers import PROVIDERS as RECEIVER_PROVIDERS
from webhook_bridge.vendors.catalog import specs

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
SAMCONFIG_PATH = ROOT / "samconfig.toml"


def parameter_name(owner: str, configuration_name: str) -> str:
    """The template parameter that sets a configuration name: ``CustomerIo`` + ``CUSTOMERIO_SITE_ID``
    -> ``CustomerIoSiteId`` (the owner's logical id, then the name past its first word)."""
    return owner + "".join(word.capitalize() for word in configuration_name.split("_")[1:])


# Logical id prefix -> VENDOR value (also the ENABLED_VENDORS token and the metric dimension).
VENDORS = {spec.logical_id: spec.name for spec in specs()}
PROVIDERS = {name.capitalize(): name for name in RECEIVER_PROVIDERS}
RECEIVERS = tuple(f"{p}WebhookFunction" for p in PROVIDERS)
ROUTES = {p: f"/webhooks/{name}" for p, name in PROVIDERS.items()}  # each receiver's POST route
DELIVERIES = tuple(f"{v}DeliveryFunction" for v in VENDORS)
FUNCTIONS = RECEIVERS + DELIVERIES
# The Stripe events queue's consumer (EventBridge, backfill, import).
EVENTBRIDGE_CONSUMER = "StripeEventBridgeFunction"
EVENTBRIDGE_QUEUES = ("StripeEventsQueue", "StripeEventsDeadLetterQueue")

# Secret resource prefix -> {parameter: the JSON name it is stored under}. A vendor's parameters
# must all be set to enable it.
CREDENTIALS = {
    spec.logical_id: {parameter_name(spec.logical_id, key): key for key in spec.secret_keys} for spec in specs()
}
WEBHOOK_SECRETS = {
    owner: {parameter_name(owner, secret): secret}
    for owner, secret in ((owner, RECEIVER_PROVIDERS[name].secret_name) for owner, name in PROVIDERS.items())
}
# Read by every delivery function besides its vendor's own secret.
STRIPE_API = {"StripeApi": {"StripeApiKey": "STRIPE_API_KEY"}}
SECRET_PARAMETERS = tuple(
    name for group in (*CREDENTIALS.values(), *WEBHOOK_SECRETS.values(), *STRIPE_API.values()) for name in group
)

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


@cache
def source() -> dict[str, Any]:
    """template.yaml as written, with its Fn::ForEach loops."""
    template, problems = decode(str(TEMPLATE_PATH))
    assert template is not None and not problems, problems
    return template


@cache
def load() -> dict[str, Any]:
    """template.yaml as CloudFormation sees it once the loops are expanded."""
    return expand(source())


def resources(resource_type: str | None = None) -> dict[str, Any]:
    items = load()["Resources"].items()
    return {lid: r for lid, r in items if resource_type is None or r["Type"] == resource_type}


def props(logical_id: str) -> dict[str, Any]:
    return load()["Resources"][logical_id].get("Properties", {})


def function_props(logical_id: str) -> dict[str, Any]:
    """A function's properties with ``Globals.Function`` merged in, as SAM does."""
    return merge_globals(load().get("Globals", {}).get("Function", {}), props(logical_id))


def env(logical_id: str) -> dict[str, Any]:
    return dict(function_props(logical_id).get("Environment", {}).get("Variables", {}))


# -- references ------------------------------------------------------------------


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def get_att(logical_id: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def referenced(node: Any) -> set[str]:
    """Every logical id or parameter named by Ref, GetAtt or a ${...} of Sub inside ``node``."""
    found: set[str] = set()
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "Ref":
                found.add(str(value))
            elif key == "Fn::GetAtt":
                found.add(str(value[0] if isinstance(value, list) else value.split(".")[0]))
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
                found |= {v.split(".")[0] for v in _SUB_VARIABLE.findall(text) if v not in variables}
                found |= referenced(variables)
            else:
                found |= referenced(value)
    elif isinstance(node, list):
        for item in node:
            found |= referenced(item)
    return {name for name in found if not name.startswith("AWS::")}


def walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, index))


def scalar(value: Any) -> Any:
    """A literal as CloudFormation sees it (``2`` and ``"2"`` are the same), intrinsics unchanged."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | str):
        return str(value)
    return value


# -- evaluating conditions and rules for given parameter values --------------------


class Evaluator(Resolver):
    """devstack's resolver over the template's parameters only (defaults, then ``parameters``):
    its conditions, its rules and the intrinsics that read no resource."""

    def __init__(self, parameters: Mapping[str, str]) -> None:
        template = load()
        values = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
        unknown = set(parameters) - set(values)
        assert not unknown, f"not template parameters: {unknown}"
        values.update(parameters)
        super().__init__(parameters=values, pseudo={}, resources={}, conditions=template.get("Conditions", {}))

    def failed_rules(self) -> list[str]:
        failed = []
        for name, rule in load().get("Rules", {}).items():
            if "RuleCondition" in rule and not self.resolve(rule["RuleCondition"]):
                continue
            failed += [
                f"{name}: {a.get('AssertDescription')}" for a in rule["Assertions"] if not self.resolve(a["Assert"])
            ]
        return failed

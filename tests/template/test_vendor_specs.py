"""template.yaml agrees with each vendor's spec: the spec is where names, credentials,
API roots and pacing are declared (vendors/<name>/spec.py), the template deploys them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template import cfn
from webhook_bridge.vendors.catalog import VendorSpec, specs


def _value(node: Any) -> str:
    """A literal, or the default of the parameter a ``Ref`` names."""
    if isinstance(node, dict) and "Ref" in node:
        return cfn.scalar(cfn.load()["Parameters"][node["Ref"]]["Default"])
    return str(cfn.scalar(node))


def test_the_template_deploys_exactly_the_vendors_with_a_spec() -> None:
    assert {spec.logical_id: spec.name for spec in specs()} == cfn.VENDORS


@pytest.mark.parametrize("spec", specs(), ids=lambda spec: spec.name)
def test_each_delivery_function_is_configured_as_its_spec_declares(spec: VendorSpec) -> None:
    function = f"{spec.logical_id}DeliveryFunction"
    env = cfn.env(function)
    assert env["VENDOR"] == spec.name
    assert float(_value(env["VENDOR_RATE_LIMIT"])) == spec.rate_limit_per_second
    assert int(_value(env["VENDOR_MAX_CONCURRENCY"])) == spec.max_concurrency


@pytest.mark.parametrize("spec", specs(), ids=lambda spec: spec.name)
def test_each_secret_holds_the_keys_its_spec_declares(spec: VendorSpec) -> None:
    assert tuple(cfn.CREDENTIALS[spec.logical_id].values()) == spec.secret_keys

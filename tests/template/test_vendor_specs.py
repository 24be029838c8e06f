"""template.yaml agrees with each vendor's spec: the spec is where names, credentials,
API roots and pacing are declared (vendors/<name>/spec.py), the template deploys them.

Each secret's JSON keys are checked against the spec in test_secrets_and_parameters."""

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
    deliveries = {lid for lid in cfn.resources("AWS::Serverless::Function") if lid.endswith("DeliveryFunction")}
    assert deliveries == {f"{spec.logical_id}DeliveryFunction" for spec in specs()}
    assert cfn.load()["Mappings"]["Vendors"] == {
        spec.logical_id: {"Name": spec.name, "Title": spec.display_name} for spec in specs()
    }


def _vendor_loops() -> dict[str, list[Any]]:
    """Every Fn::ForEach over the vendors, as written: loop name -> its collection."""
    template = cfn.source()
    return {
        key: value[1]
        for section in ("Resources", "Outputs")
        for key, value in template[section].items()
        if key.startswith("Fn::ForEach::") and value[0] == "Vendor"
    }


def test_the_vendor_loops_go_over_the_specs_in_their_order() -> None:
    loops = _vendor_loops()
    assert set(loops) == {"Fn::ForEach::Vendor", "Fn::ForEach::VendorOutputs"}
    for collection in loops.values():
        assert collection == [spec.logical_id for spec in specs()]


@pytest.mark.parametrize("spec", specs(), ids=lambda spec: spec.name)
def test_each_delivery_function_is_configured_as_its_spec_declares(spec: VendorSpec) -> None:
    function = f"{spec.logical_id}DeliveryFunction"
    env = cfn.env(function)
    assert env["VENDOR"] == spec.name
    assert float(_value(env["VENDOR_RATE_LIMIT"])) == spec.rate_limit_per_second
    assert int(_value(env["VENDOR_MAX_CONCURRENCY"])) == spec.max_concurrency
    # The function paces itself with the very value that caps its event source.
    (source,) = cfn.function_props(function)["Events"].values()
    assert source["Properties"]["ScalingConfig"]["MaximumConcurrency"] == env["VENDOR_MAX_CONCURRENCY"]

"""What ConvertLoop holds after segments change several at a time: the adapter sends one
segment per key and request (the document types them as strings), so every change lands."""

from __future__ import annotations

import pytest

from devstack.sandbox import SandboxServer
from tests.vendors.conftest import make_action
from webhook_bridge.actions import Memberships
from webhook_bridge.vendors import registry
from webhook_bridge.vendors.catalog import Vendor


def identify(join: tuple[str, ...], leave: tuple[str, ...] = ()) -> None:
    action = make_action(identify=True, person={"memberships": {"convertloop": Memberships(join=join, leave=leave)}})
    convertloop = Vendor("convertloop")
    registry.adapter(convertloop).deliver(action, registry.build_client(convertloop))


def test_several_joins_and_leaves_all_land(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in sandbox.as_env().items():
        monkeypatch.setenv(name, value)

    identify(join=("Trial", "Leads", "Beta"))
    identify(join=("Customers", "Annual"), leave=("Leads", "Trial", "Churned"))

    [person] = sandbox.state("convertloop")["people"]
    assert person["segments"] == ["Beta", "Customers", "Annual"]
    assert [r["path"] for r in sandbox.requests("convertloop")] == ["/convertloop/v1/people"] * 6

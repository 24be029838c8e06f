"""`bridgectl trace`: the delivery log the receiver and the delivery functions keep, read back."""

from __future__ import annotations

import json
import time

import pytest
import respx

from devstack.support.handlers import forget_cold_start
from tests.integration.conftest import BASES, Bridge
from tests.integration.test_customer_created import CUSTOMER_CREATED
from webhook_bridge.ops.cli import main as bridgectl
from webhook_bridge.vendors.catalog import Vendor
from webhook_bridge.vendors.catalog import vendors as known_vendors

EVENT_ID = CUSTOMER_CREATED["id"]


@pytest.fixture
def vendors():
    """ConvertLoop and Customer.io accept; Loops is down (503); SegMetrics refuses the request (400)."""
    with respx.mock(assert_all_called=False) as mock:
        for vendor, status in ((Vendor("convertloop"), 200), (Vendor("customerio"), 200), (Vendor("loops"), 503)):
            mock.route(url__startswith=BASES[vendor]).respond(status, json={"success": status == 200})
        mock.route(url__startswith=BASES[Vendor("segmetrics")]).respond(400, json={"status": "error", "errors": ["no"]})
        yield mock


def trace(bridge: Bridge, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = bridgectl(["--stack", "bridge", "trace", EVENT_ID, *argv], dynamodb=bridge.aws.dynamodb)
    return code, capsys.readouterr().out


@pytest.fixture
def table(bridge: Bridge):
    # Named as CloudFormation names it: bridgectl finds it by stack name.
    bridge.aws.dynamodb.create_table(
        TableName="bridge-IdempotencyTable-X3",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    bridge.monkeypatch.setenv("IDEMPOTENCY_TABLE", "bridge-IdempotencyTable-X3")
    forget_cold_start()


def test_trace_shows_each_vendors_fate_and_the_duplicates(bridge: Bridge, table, vendors, capsys):
    started = time.time()
    for _ in range(3):  # Stripe retried twice: deduplicated
        assert bridge.post("stripe", CUSTOMER_CREATED)[0] == 200
    for vendor in known_vendors():
        bridge.drain(vendor, max_rounds=1)
    code, out = trace(bridge, capsys, "--json")
    assert code == 0
    result = json.loads(out)
    assert (result["event_type"], result["duplicates"]) == ("customer.created", 2)
    assert result["received_at"] >= started
    states = {d["vendor"]: d for d in result["deliveries"]}
    assert set(states) == {v.value for v in known_vendors()}
    assert states["convertloop"]["state"] == states["customerio"]["state"] == "delivered"
    loops = states["loops"]
    assert (loops["state"], loops["attempts"], loops["error_class"]) == ("retrying", 1, "InternalServerError")
    assert loops["next_try"] > started
    segmetrics = states["segmetrics"]
    assert (segmetrics["state"], segmetrics["error_class"]) == ("dead_lettered", "BadRequestError")
    assert "zoë" not in out.lower() and "example.com" not in out.lower()

    code, text = trace(bridge, capsys)
    assert "deduplicated: 2 more receipt(s)" in text
    assert "loops        stripe:evt_1QcustomerCreated:0  retrying: 1 failed attempt(s)" in text


def test_an_unknown_event_exits_1(bridge: Bridge, table, capsys):
    assert trace(bridge, capsys)[0] == 1


def test_trace_shows_an_older_state_skipped_as_stale(bridge: Bridge, table, capsys):
    """customer.updated sends identify only: the older one, arriving last, is skipped everywhere."""
    newer = {**CUSTOMER_CREATED, "id": "evt_1Qnewer", "type": "customer.updated", "created": 1761000200}
    older = {**CUSTOMER_CREATED, "id": EVENT_ID, "type": "customer.updated", "created": 1761000100}
    with respx.mock(assert_all_called=False) as mock:
        for base in BASES.values():
            mock.route(url__startswith=base).respond(200, json={"success": True})
        for event in (newer, older):
            assert bridge.post("stripe", event)[0] == 200
            for vendor in known_vendors():
                bridge.drain(vendor)
    code, out = trace(bridge, capsys, "--json")
    assert code == 0
    states = [(d["vendor"], d["state"], d.get("reason")) for d in json.loads(out)["deliveries"]]
    assert sorted(states) == sorted((v.value, "skipped", "newer_state_sent") for v in known_vendors())
    assert "stale, the vendor already holds a newer state" in trace(bridge, capsys)[1]


def test_a_webhook_writes_no_log_item_its_receipt_is_the_idempotency_record(bridge: Bridge, table, capsys):
    started = time.time()
    assert bridge.post("stripe", CUSTOMER_CREATED)[0] == 200
    ids = [i["id"]["S"] for i in bridge.aws.dynamodb.scan(TableName="bridge-IdempotencyTable-X3")["Items"]]
    assert [i for i in ids if "#trace#" in i] == []
    assert len([i for i in ids if i.startswith("receiver#stripe#")]) == 1

    result = json.loads(trace(bridge, capsys, "--json")[1])
    assert (result["event_type"], result["duplicates"]) == ("customer.created", 0)
    assert result["received_at"] >= started
    assert sorted(d["vendor"] for d in result["deliveries"]) == sorted(v.value for v in known_vendors())
    assert {d["state"] for d in result["deliveries"]} == {"queued"}

"""A fifth vendor defined only in the tests (tests/toy_vendor) goes the whole way.

Nothing in the product names it: registering its spec is enough for the receivers to
route to it, for the delivery function to call it, and for bridgectl to show and redrive
its queues and preview its requests (docs/adding-a-vendor.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from devstack.support.handlers import forget_cold_start
from tests.conftest import FakeAws
from tests.integration.conftest import Bridge
from tests.integration.test_customer_created import CUSTOMER_CREATED
from tests.providers.conftest import typeform_payload
from tests.toy_vendor.spec import SPEC
from tests.vendors.fixtures_actions import identify_action, make_action
from webhook_bridge.actions import ActionKind
from webhook_bridge.ops.cli import main as bridgectl
from webhook_bridge.routing import route
from webhook_bridge.vendors import catalog, registry
from webhook_bridge.vendors.catalog import Vendor

PARROT_PEOPLE = "https://parrot.test/v1/people/"
SAMPLE = Path(__file__).resolve().parents[2] / "events" / "stripe" / "2025-09-30.clover" / "customer.created.json"


@pytest.fixture
def parrot() -> Iterator[Vendor]:
    catalog.register(SPEC)
    yield Vendor("parrot")
    catalog.unregister("parrot")
    registry.forget_client()


@pytest.fixture
def bridge(parrot: Vendor, aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> Bridge:
    """The integration bridge, built once Parrot is known, so its queues exist too."""
    monkeypatch.setenv("PARROT_API_KEY", "parrot-key")
    monkeypatch.setenv("PARROT_BASE_URL", "https://parrot.test/v1")
    return Bridge(aws, monkeypatch)


@pytest.fixture
def parrot_api(vendors: respx.MockRouter) -> respx.Route:
    return vendors.put(url__startswith=PARROT_PEOPLE, name="parrot").respond(200, json={})


def test_the_toy_vendor_is_routed_delivered_and_listed_by_bridgectl(bridge: Bridge, parrot_api, parrot, capsys):
    status, body = bridge.post("stripe", CUSTOMER_CREATED)
    assert (status, body["messages"]) == (200, 5)  # the four vendors, and Parrot
    queue, dlq = bridge.queues[parrot]
    assert bridge.aws.count(queue) == 1

    bridge.drain(parrot)
    request = parrot_api.calls.last.request
    assert request.method == "PUT"
    assert request.url.raw_path == b"/v1/people/zo%C3%AB.n%C3%BA%C3%B1ez%40example.com"
    assert request.headers["authorization"] == "Bearer parrot-key"
    assert json.loads(request.content) == {"first_name": "Zoë"}
    assert parrot_api.call_count == 1
    assert bridge.aws.count(queue) == 0 and bridge.aws.count(dlq) == 0

    capsys.readouterr()
    assert bridgectl(["--stack", "bridge", "dlq", "list"], sqs=bridge.aws.sqs) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]}
    assert listed == {"convertloop", "loops", "customerio", "segmetrics", "parrot"}  # no EventBridge queue here


def test_a_refusal_by_the_toy_vendor_is_dead_lettered_shown_and_redriven(bridge: Bridge, parrot_api, parrot, capsys):
    parrot_api.mock(return_value=httpx.Response(400, json={"error": "invalid person zoë.núñez@example.com"}))
    bridge.post("stripe", CUSTOMER_CREATED)
    bridge.drain(parrot)
    queue, dlq = bridge.queues[parrot]
    assert bridge.aws.count(dlq) == 1 and bridge.aws.count(queue) == 0

    capsys.readouterr()
    assert bridgectl(["--stack", "bridge", "dlq", "show", "parrot", "--json"], sqs=bridge.aws.sqs) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    shown = json.loads(line)
    assert (shown["class"], shown["status"]) == ("BadRequestError", "400")
    assert "zoë" not in json.dumps(shown, ensure_ascii=False)

    parrot_api.mock(return_value=httpx.Response(200, json={}))
    assert bridgectl(["--stack", "bridge", "dlq", "redrive", "parrot", "--all"], sqs=bridge.aws.sqs) == 0
    bridge.drain(parrot)
    assert parrot_api.call_count == 2
    assert bridge.aws.count(queue) == 0 and bridge.aws.count(dlq) == 0


def test_bridgectl_previews_the_toy_vendors_request(parrot, capsys, monkeypatch):
    monkeypatch.delenv("PARROT_BASE_URL", raising=False)
    assert bridgectl(["preview", str(SAMPLE), "--vendor", "parrot", "--json"]) == 0
    (request,) = json.loads(capsys.readouterr().out)["requests"]
    assert (request["vendor"], request["method"]) == ("parrot", "PUT")
    assert request["url"].startswith(SPEC.base_urls["PARROT_BASE_URL"] + "/people/")
    assert "zoë.núñez" not in json.dumps(request, ensure_ascii=False)


def test_the_toy_vendor_gets_only_the_actions_its_spec_handles(parrot):
    identify = identify_action()
    erase = make_action(kind=ActionKind.ERASE)
    assert parrot in route(identify, catalog.vendors())
    assert parrot not in route(erase, catalog.vendors())
    assert Vendor("loops") in route(erase, catalog.vendors())


def test_the_toy_vendors_tags_come_from_the_mapping_configuration_and_reach_only_it(
    bridge: Bridge, parrot_api, vendors, monkeypatch
):
    # Parrot's spec says it keeps tags: the configuration names them by its lists key
    # (parrot_tags) or under memberships, and Person carries them with no change.
    form = {"parrot_tags": ["Lead", "Lead"], "memberships": {"convertloop": ["Onboarded"]}}
    monkeypatch.setenv("BRIDGE_MAPPING", json.dumps({"typeform": {"forms": {"Vq2mXo9L": form}}}))
    forget_cold_start()
    events = vendors.post(url__startswith=PARROT_PEOPLE, name="parrot-events").respond(200, json={})
    status, body = bridge.post("typeform", typeform_payload("form_response"))
    assert status == 200, body
    for vendor in catalog.vendors():
        bridge.drain(vendor)

    assert json.loads(parrot_api.calls.last.request.content) == {"add_tags": ["Lead"]}
    assert parrot_api.call_count == 1 and events.call_count == 1
    convertloop = vendors.routes["convertloop"].calls
    people = [json.loads(call.request.content) for call in convertloop if call.request.url.path.endswith("/people")]
    assert [person.get("add_to_segments") for person in people] == ["Onboarded"]  # not Parrot's tag
    segmetrics = [call.request.url.path for call in vendors.routes["segmetrics"].calls]
    assert not any("/tags/" in path for path in segmetrics)  # no tags of SegMetrics' own were configured

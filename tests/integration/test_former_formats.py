"""What the previous version wrote still means the same: queued messages and ledger snapshots
whose person carries ``segments_add`` / ``segments_remove`` (ConvertLoop's segments) and
``tags_add`` / ``tags_remove`` (SegMetrics' tags) as fields of its own, from before
``Person.memberships``. Each is taken exactly as that version serialised it, delivered
through the real delivery function, and must produce the requests it produced then.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from tests.conftest import STATE_TABLE
from tests.integration.conftest import BASES, Bridge
from webhook_bridge.vendors.catalog import Vendor
from webhook_bridge.vendors.catalog import vendors as known_vendors

# A Typeform response as the previous version queued it (VendorMessage JSON); the vendor is set per queue.
FORMER_TYPEFORM_MESSAGE = """{"vendor":"convertloop","action":{"id":"typeform:tf_evt_1:0","kind":"track","source":"typeform","source_event_id":"tf_evt_1","source_event_type":"form_response","occurred_at":"2024-05-01T12:00:00Z","person":{"email":"ann@example.com","stripe_customer_id":null,"first_name":"Ann","last_name":null,"traits":{"plan":"pro"},"segments_add":["Customers"],"segments_remove":["Leads"],"tags_add":["Typeform lead"],"tags_remove":["Trial"],"attribution":{"utm_source":null,"utm_medium":null,"utm_campaign":null,"utm_content":null,"utm_term":null,"referring_url":null,"optin_url":null,"ip_address":null}},"identify":true,"event":{"name":"form_submitted","properties":{"form_id":"Vq2mXo9L"}},"invoice":null,"subscription":null,"ordering_key":null,"ordering_version":null},"resend_state":false}"""  # noqa: E501

# A customer.updated the previous version queued, older than the snapshot below.
FORMER_CUSTOMER_MESSAGE = """{"vendor":"convertloop","action":{"id":"stripe:evt_1:0","kind":"identify","source":"stripe","source_event_id":"evt_1","source_event_type":"customer.updated","occurred_at":"2024-05-01T11:00:00Z","person":{"email":"ann@example.com","stripe_customer_id":"cus_1","first_name":"Ann","last_name":null,"traits":{},"segments_add":[],"segments_remove":[],"tags_add":[],"tags_remove":[],"attribution":{"utm_source":null,"utm_medium":null,"utm_campaign":null,"utm_content":null,"utm_term":null,"referring_url":null,"optin_url":null,"ip_address":null}},"identify":true,"event":null,"invoice":null,"subscription":null,"ordering_key":"stripe-customer:cus_1","ordering_version":"0.001714561200.0.0.evt_1"},"resend_state":false}"""  # noqa: E501
# The customer's newest state as the previous version stored it in the ledger (state_snapshot).
FORMER_SNAPSHOT = """{"version":"0.001714564800.0.0.evt_2","person":{"email":"ann@example.com","stripe_customer_id":"cus_1","first_name":"Ann","last_name":null,"traits":{},"segments_add":["Customers"],"segments_remove":["Leads"],"tags_add":["Buyer"],"tags_remove":["Trial"],"attribution":{"utm_source":null,"utm_medium":null,"utm_campaign":null,"utm_content":null,"utm_term":null,"referring_url":null,"optin_url":null,"ip_address":null}},"subscription":null,"erased":false}"""  # noqa: E501

SEGMETRICS = BASES[Vendor("segmetrics")]


def queue_former(bridge: Bridge, vendor: Vendor, body: str) -> None:
    """``body`` on ``vendor``'s queue, as the previous version's receiver put it there."""
    message = json.loads(body)
    message["vendor"] = vendor.value
    queue, _ = bridge.queues[vendor]
    bridge.aws.sqs.send_message(
        QueueUrl=queue,
        MessageBody=json.dumps(message, separators=(",", ":")),
        MessageAttributes={
            "enqueued_at": {"DataType": "Number", "StringValue": "1714564800.000"},
            "source_event_type": {"DataType": "String", "StringValue": message["action"]["source_event_type"]},
        },
    )


def delivered(bridge: Bridge, mock: respx.MockRouter) -> dict[Vendor, list[tuple[str, str, Any]]]:
    """Every vendor's queue drained: the requests each vendor received, nothing left behind."""
    for vendor in known_vendors():
        bridge.drain(vendor)
        queue, dlq = bridge.queues[vendor]
        assert bridge.aws.count(queue) == 0 and bridge.aws.count(dlq) == 0
    sent: dict[Vendor, list[tuple[str, str, Any]]] = {vendor: [] for vendor in known_vendors()}
    for route in mock.routes:
        vendor = Vendor(route.name)
        root = httpx.URL(BASES[vendor]).raw_path
        for call in route.calls:
            request = call.request
            path = request.url.raw_path[len(root) :].decode()
            sent[vendor].append((request.method, path, json.loads(request.content) if request.content else None))
    return sent


@pytest.mark.parametrize("vendor", [Vendor(name) for name in ("convertloop", "loops", "customerio", "segmetrics")])
def test_a_queued_message_of_the_previous_version_sends_the_same_requests(bridge: Bridge, vendors, vendor: Vendor):
    queue_former(bridge, vendor, FORMER_TYPEFORM_MESSAGE)
    sent = delivered(bridge, vendors)
    expected = {
        Vendor("convertloop"): [
            (
                "POST",
                "/people",
                {
                    "email": "ann@example.com",
                    "first_name": "Ann",
                    "plan": "pro",
                    "add_to_segments": "Customers",
                    "remove_from_segments": "Leads",
                },
            ),
            (
                "POST",
                "/event_logs",
                {
                    "name": "form_submitted",
                    "occured_at": "2024-05-01T12:00:00Z",
                    "person": {"email": "ann@example.com"},
                    "metadata": {"form_id": "Vq2mXo9L"},
                },
            ),
        ],
        Vendor("loops"): [  # Loops keeps no segments or tags: the same two calls as ever
            ("PUT", "/contacts/update", {"email": "ann@example.com", "firstName": "Ann", "plan": "pro"}),
            ("POST", "/events/send", {"email": "ann@example.com", "eventName": "form_submitted"}),
        ],
        Vendor("customerio"): [
            (
                "PUT",
                "/customers/ann%40example.com",
                {
                    "email": "ann@example.com",
                    "first_name": "Ann",
                    "plan": "pro",
                    "segment_Customers": True,
                    "segment_Leads": False,
                },
            ),
            (
                "POST",
                "/customers/ann%40example.com/events",
                {
                    "name": "form_submitted",
                    "data": {"form_id": "Vq2mXo9L"},
                    "timestamp": 1714564800,
                    "id": "01HWT0D7G04Q7ZC4J6MDZQHJEB",
                },
            ),
        ],
        Vendor("segmetrics"): [
            ("POST", "/contact", {"email": "ann@example.com", "first_name": "Ann", "custom_fields": {"plan": "pro"}}),
            ("POST", "/tags/add", {"email": "ann@example.com", "tags": ["Typeform lead"]}),
            ("POST", "/tags/remove", {"email": "ann@example.com", "tags": ["Trial"]}),
        ],
    }[vendor]
    assert sent == {other: expected if other == vendor else [] for other in known_vendors()}


def test_a_ledger_snapshot_of_the_previous_version_is_sent_with_the_same_segments_and_tags(bridge: Bridge, vendors):
    bridge.aws.dynamodb.put_item(
        TableName=STATE_TABLE,
        Item={
            "pk": {"S": "order#stripe-customer:cus_1"},
            "state_version": {"S": "0.001714564800.0.0.evt_2"},
            "state_snapshot": {"S": FORMER_SNAPSHOT},
        },
    )
    for vendor in known_vendors():
        queue_former(bridge, vendor, FORMER_CUSTOMER_MESSAGE)
    sent = delivered(bridge, vendors)
    identifiers = {"email": "ann@example.com", "first_name": "Ann"}
    assert sent == {
        Vendor("convertloop"): [
            (
                "POST",
                "/people",
                {
                    **identifiers,
                    "user_id": "cus_1",
                    "add_to_segments": "Customers",
                    "remove_from_segments": "Leads",
                },
            )
        ],
        Vendor("loops"): [
            ("PUT", "/contacts/update", {"email": "ann@example.com", "stripe_customer_id": "cus_1", "firstName": "Ann"})
        ],
        Vendor("customerio"): [
            (
                "PUT",
                "/customers/ann%40example.com",
                {**identifiers, "stripe_customer_id": "cus_1", "segment_Customers": True, "segment_Leads": False},
            )
        ],
        Vendor("segmetrics"): [
            ("POST", "/contact", {**identifiers, "contact_id": "cus_1"}),
            ("POST", "/tags/add", {"email": "ann@example.com", "contact_id": "cus_1", "tags": ["Buyer"]}),
            ("POST", "/tags/remove", {"email": "ann@example.com", "contact_id": "cus_1", "tags": ["Trial"]}),
        ],
    }

"""Customer.io: profiles, events with `id` dedupe, ids in the path of any length."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from devstack.sandbox import SandboxServer
from tests.sandbox.conftest import Body, answers, send

NO_ID = {"meta": {"error": "customer id is required in the path"}}
# 254 characters (the most an email may have), 256 bytes in UTF-8: the document sets ids no limit.
LONG_ID = quote("é" * 2 + "x" * 48 + "@" + "d" * 199 + ".com")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fields"),
    [
        ("PUT", "/customers/", {"name": "x"}, 400, NO_ID),
        ("PUT", "/customers/%20", {"name": "x"}, 400, NO_ID),
        ("POST", "/customers//events", {"name": "x"}, 400, NO_ID),
        ("POST", "/customers/events", {"name": "x"}, 400, NO_ID),
        ("PUT", "/customers/5", b"[1]", 400, None),
        (
            "POST",
            "/customers/5/events",
            {"data": {"price": 1}},
            400,
            {"meta": {"error": "missing required parameter: name"}},
        ),
        ("POST", "/customers/5/events", {"name": "x", "data": [1]}, 400, None),
        ("GET", "/customers/5", None, 405, None),
        ("PUT", "/customers/5/events", {}, 405, None),
        ("POST", "/events", {"name": "x"}, 404, None),
    ],
)
def test_refusals_store_nothing(
    sandbox: SandboxServer, customerio: httpx.Client, method: str, path: str, body: Body, status: int, fields: dict
) -> None:
    answers(send(customerio, method, path, body), status, fields)
    assert sandbox.state("customerio") == {"customers": [], "events": [], "deleted": []}


@pytest.mark.parametrize(
    ("method", "path", "body", "kept"),
    [
        ("PUT", f"/customers/{LONG_ID}", {"plan": "pro"}, "customers"),
        ("POST", f"/customers/{LONG_ID}/events", {"name": "paid"}, "events"),
    ],
    ids=["identify", "event"],
)
def test_a_long_customer_id_is_accepted(
    sandbox: SandboxServer, customerio: httpx.Client, method: str, path: str, body: dict, kept: str
) -> None:
    assert customerio.request(method, path, json=body).status_code == 200
    assert len(sandbox.state("customerio")[kept]) == 1


def test_put_creates_then_merges_attributes(sandbox: SandboxServer, customerio: httpx.Client) -> None:
    assert customerio.put("/customers/5", json={"email": "bob@example.com", "plan": "premium"}).status_code == 200
    assert customerio.put("/customers/5", json={"name": "Bob", "plan": "basic"}).status_code == 200
    customers = sandbox.state("customerio")["customers"]
    assert customers == [
        {
            "id": "5",
            "attributes": {"email": "bob@example.com", "plan": "basic", "name": "Bob"},
            "created": customers[0]["created"],
            "updated": customers[0]["updated"],
        }
    ]


def test_put_accepts_the_documented_form_body(sandbox: SandboxServer, customerio: httpx.Client) -> None:
    response = customerio.put("/customers/5", data={"email": "customer@example.com", "name": "Bob"})
    assert response.status_code == 200
    assert sandbox.state("customerio")["customers"][0]["attributes"]["name"] == "Bob"


def test_customer_id_may_be_an_email(sandbox: SandboxServer, customerio: httpx.Client) -> None:
    assert customerio.put("/customers/ann%40example.com", json={"plan": "pro"}).status_code == 200
    assert sandbox.state("customerio")["customers"][0]["id"] == "ann@example.com"


def test_delete_removes_the_profile(sandbox: SandboxServer, customerio: httpx.Client) -> None:
    customerio.put("/customers/5", json={"email": "a@example.com"})
    assert customerio.delete("/customers/5").status_code == 200
    assert sandbox.state("customerio")["customers"] == []
    assert customerio.delete("/customers/5").status_code == 200  # the end state holds


def test_event_is_tracked_and_creates_the_profile(sandbox: SandboxServer, customerio: httpx.Client) -> None:
    response = customerio.post("/customers/5/events", json={"name": "purchased", "data": {"price": 23.45}})
    assert response.status_code == 200
    state = sandbox.state("customerio")
    assert [(e["customer_id"], e["name"], e["data"]) for e in state["events"]] == [("5", "purchased", {"price": 23.45})]
    assert [c["id"] for c in state["customers"]] == ["5"]


def test_documented_form_event_with_nested_data(sandbox: SandboxServer, customerio: httpx.Client) -> None:
    response = customerio.post("/customers/5/events", data={"name": "purchased", "data[price]": "23.45"})
    assert response.status_code == 200
    assert sandbox.state("customerio")["events"][0]["data"] == {"price": "23.45"}


def test_repeated_event_id_is_accepted_but_recorded_once(sandbox: SandboxServer, customerio: httpx.Client) -> None:
    event = {"name": "invoice_paid", "id": "01HV4Z3Y5S6T7U8V9W0X1Y2Z3A", "data": {"amount": 900}}
    first = customerio.post("/customers/5/events", json=event)
    again = customerio.post("/customers/5/events", json=event)
    other_customer = customerio.post("/customers/6/events", json=event)
    assert (first.status_code, again.status_code, other_customer.status_code) == (200, 200, 200)
    assert again.headers["X-Sandbox-Note"] == "duplicate event id ignored"
    events = sandbox.state("customerio")["events"]
    assert [(e["customer_id"], e["id"]) for e in events] == [("5", event["id"]), ("6", event["id"])]
    recorded = sandbox.requests("customerio")
    assert recorded[1]["extra"] == {"note": "duplicate event id ignored"}


def test_events_without_id_are_never_deduplicated(sandbox: SandboxServer, customerio: httpx.Client) -> None:
    customerio.post("/customers/5/events", json={"name": "x"})
    customerio.post("/customers/5/events", json={"name": "x"})
    assert len(sandbox.state("customerio")["events"]) == 2

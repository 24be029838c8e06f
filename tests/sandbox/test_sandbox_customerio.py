"""Customer.io: Basic auth site_id:api_key, profiles, events with `id` dedupe."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from devstack.sandbox import SandboxServer


@pytest.mark.parametrize("auth", [None, ("sandbox-site", "wrong"), ("other-site", "sandbox-customerio-key")])
def test_requires_basic_auth(raw: httpx.Client, sandbox: SandboxServer, auth: tuple[str, str] | None) -> None:
    url = sandbox.base_urls()["CUSTOMERIO_BASE_URL"] + "/customers/5"
    response = raw.put(url, json={"email": "a@example.com"}, auth=auth)
    assert response.status_code == 401
    assert response.json() == {"meta": {"error": "Unauthorized request"}}


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


@pytest.mark.parametrize("path", ["/customers/", "/customers/%20", "/customers//events", "/customers/events"])
def test_empty_customer_id_is_400(customerio: httpx.Client, path: str) -> None:
    method = "POST" if path.endswith("events") else "PUT"
    response = customerio.request(method, path, json={"name": "x"})
    assert response.status_code == 400
    assert "customer id" in response.json()["meta"]["error"]


def test_customer_id_may_be_an_email(sandbox: SandboxServer, customerio: httpx.Client) -> None:
    assert customerio.put("/customers/ann%40example.com", json={"plan": "pro"}).status_code == 200
    assert sandbox.state("customerio")["customers"][0]["id"] == "ann@example.com"


def test_put_body_must_be_an_object(customerio: httpx.Client) -> None:
    assert customerio.put("/customers/5", content=b"[1]").status_code == 400


def test_delete_removes_the_profile(sandbox: SandboxServer, customerio: httpx.Client) -> None:
    customerio.put("/customers/5", json={"email": "a@example.com"})
    assert customerio.delete("/customers/5").status_code == 200
    assert sandbox.state("customerio")["customers"] == []
    assert customerio.delete("/customers/5").status_code == 200  # the end state holds


def test_event_requires_a_name(customerio: httpx.Client) -> None:
    response = customerio.post("/customers/5/events", json={"data": {"price": 1}})
    assert response.status_code == 400
    assert "name" in response.json()["meta"]["error"]
    assert customerio.post("/customers/5/events", json={"name": "x", "data": [1]}).status_code == 400


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


def test_wrong_method_and_unknown_path(customerio: httpx.Client) -> None:
    assert customerio.get("/customers/5").status_code == 405
    assert customerio.put("/customers/5/events", json={}).status_code == 405
    assert customerio.post("/events", json={"name": "x"}).status_code == 404


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_customer_ids_are_limited_to_150_bytes_not_characters(
    sandbox: SandboxServer, customerio: httpx.Client, method: str
) -> None:
    suffix = "/events" if method == "POST" else ""
    body = {"name": "paid"} if method == "POST" else {"plan": "pro"}
    at_limit, over = "é" * 75, "é" * 75 + "x"  # 150 and 151 bytes in UTF-8, only 75 and 76 characters
    refused = customerio.request(method, f"/customers/{quote(over)}{suffix}", json=body)
    assert refused.status_code == 400
    assert "150 bytes" in refused.json()["meta"]["error"]
    assert customerio.request(method, f"/customers/{quote(at_limit)}{suffix}", json=body).status_code == 200
    kept = sandbox.state("customerio")["customers" if method == "PUT" else "events"]
    assert len(kept) == 1

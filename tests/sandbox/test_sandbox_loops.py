"""Loops: contacts, events with Idempotency-Key, and the 10 req/s sliding window."""

from __future__ import annotations

import httpx
import pytest

from devstack.sandbox import ManualClock, SandboxServer
from tests.sandbox.conftest import answers

NO_EMAIL = {"success": False, "message": "email is required."}
NO_EVENT_NAME = {"success": False, "message": "eventName is required."}


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "fields"),
    [
        ("PUT", "/contacts/update", {"email": "not-an-email"}, {}, None),
        ("PUT", "/contacts/update", {"email": "a@example.com", "plan": {"name": "pro"}}, {}, None),  # flat only
        # not in the document, so a contact property like any other
        ("PUT", "/contacts/update", {"email": "a@example.com", "mailingLists": {"l1": True}}, {}, None),
        # "The only required field is 'email'", even with a userId.
        ("PUT", "/contacts/update", {"firstName": "Ann"}, {}, NO_EMAIL),
        ("PUT", "/contacts/update", {"userId": "u1", "plan": "pro"}, {}, NO_EMAIL),
        ("PUT", "/contacts/update", {"email": " ", "userId": "u1"}, {}, NO_EMAIL),
        ("POST", "/contacts/delete", {}, {}, None),
        # "Be sure to supply either an email ... Or a user id"
        ("POST", "/contacts/delete", {"email": "ann@example.com", "userId": "u1"}, {}, None),
        ("POST", "/events/send", {"email": "ann@example.com"}, {}, NO_EVENT_NAME),
        ("POST", "/events/send", {"eventName": "signup"}, {}, NO_EMAIL),
        (
            "POST",
            "/events/send",
            {"eventName": "signup", "userId": "cus_123"},
            {},
            NO_EMAIL,
        ),  # "Both fields are required"
        ("POST", "/events/send", {"eventName": "", "email": "ann@example.com"}, {}, NO_EVENT_NAME),
        # Every field but eventName is a contact attribute, and those are plain values.
        (
            "POST",
            "/events/send",
            {"email": "ann@example.com", "eventName": "conversion", "eventProperties": {"amount": 99}},
            {},
            None,
        ),
        ("POST", "/events/send", {"email": "ann@example.com", "eventName": "x"}, {"Idempotency-Key": "k" * 101}, None),
    ],
)
def test_refusals_are_400_and_store_nothing(
    sandbox: SandboxServer, loops: httpx.Client, method: str, path: str, body: dict, headers: dict, fields: dict
) -> None:
    answers(loops.request(method, path, json=body, headers=headers), 400, fields)
    assert sandbox.state("loops") == {"contacts": [], "events": []}


def test_update_upserts(sandbox: SandboxServer, loops: httpx.Client) -> None:
    created = loops.put("/contacts/update", json={"email": "ann@example.com", "plan": "free"})
    assert created.status_code == 200
    updated = loops.put("/contacts/update", json={"email": "ann@example.com", "userId": "u1", "plan": "pro"})
    assert updated.json() == {"success": True, "id": created.json()["id"]}
    by_user = loops.put("/contacts/update", json={"userId": "u1", "email": "ann.new@example.com"})
    assert by_user.json()["id"] == created.json()["id"]
    [contact] = sandbox.state("loops")["contacts"]
    assert (contact["email"], contact["plan"], contact["userId"]) == ("ann.new@example.com", "pro", "u1")


def test_update_refuses_an_email_another_contact_holds(loops: httpx.Client) -> None:
    loops.put("/contacts/update", json={"email": "ann@example.com", "userId": "u1"})
    loops.put("/contacts/update", json={"email": "bob@example.com"})
    answers(loops.put("/contacts/update", json={"email": "BOB@example.com", "userId": "u1"}), 409, {"success": False})


def test_delete_by_email_or_user_id_and_404_when_missing(loops: httpx.Client) -> None:
    loops.put("/contacts/update", json={"email": "ann@example.com", "userId": "u1"})
    loops.put("/contacts/update", json={"email": "bob@example.com"})
    assert loops.post("/contacts/delete", json={"userId": "u1"}).status_code == 200
    assert loops.post("/contacts/delete", json={"email": "bob@example.com"}).status_code == 200
    missing = loops.post("/contacts/delete", json={"email": "bob@example.com"})
    assert missing.status_code == 404
    assert missing.json()["success"] is False


# --- events -------------------------------------------------------------------------


def test_event_with_a_user_id_beside_the_email_links_it(sandbox: SandboxServer, loops: httpx.Client) -> None:
    body = {"eventName": "signup", "email": "ann@example.com", "userId": "cus_123"}
    assert loops.post("/events/send", json=body).status_code == 200
    assert sandbox.state("loops")["events"][0]["userId"] == "cus_123"


def test_event_creates_and_updates_the_contact(sandbox: SandboxServer, loops: httpx.Client) -> None:
    body = {"email": "ann@example.com", "eventName": "conversion", "plan": "pro", "price": 99}
    assert loops.post("/events/send", json=body).status_code == 200
    assert sandbox.state("loops")["contacts"][0]["price"] == 99


def test_reused_idempotency_key_is_409_and_records_one_event(sandbox: SandboxServer, loops: httpx.Client) -> None:
    body = {"email": "ann@example.com", "eventName": "invoice_paid"}
    first = loops.post("/events/send", json=body, headers={"Idempotency-Key": "evt_1:loops"})
    second = loops.post("/events/send", json=body, headers={"Idempotency-Key": "evt_1:loops"})
    other = loops.post("/events/send", json=body, headers={"Idempotency-Key": "evt_2:loops"})
    assert (first.status_code, second.status_code, other.status_code) == (200, 409, 200)
    assert second.json()["success"] is False
    assert [event["idempotencyKey"] for event in sandbox.state("loops")["events"]] == ["evt_1:loops", "evt_2:loops"]


def test_idempotency_key_is_only_used_up_by_a_success(loops: httpx.Client) -> None:
    headers = {"Idempotency-Key": "k"}
    assert loops.post("/events/send", json={"eventName": "x"}, headers=headers).status_code == 400
    body = {"eventName": "x", "email": "ann@example.com"}
    assert loops.post("/events/send", json=body, headers=headers).status_code == 200


def test_idempotency_key_length_limit(loops: httpx.Client) -> None:
    body = {"email": "ann@example.com", "eventName": "x"}
    assert loops.post("/events/send", json=body, headers={"Idempotency-Key": "k" * 100}).status_code == 200


def test_idempotency_keys_expire_after_24_hours(clock: ManualClock, loops: httpx.Client) -> None:
    body = {"email": "ann@example.com", "eventName": "x"}
    assert loops.post("/events/send", json=body, headers={"Idempotency-Key": "k"}).status_code == 200
    clock.advance(24 * 3600 - 1)
    assert loops.post("/events/send", json=body, headers={"Idempotency-Key": "k"}).status_code == 409
    clock.advance(1)
    assert loops.post("/events/send", json=body, headers={"Idempotency-Key": "k"}).status_code == 200


# --- rate limit ---------------------------------------------------------------------


def _update(loops: httpx.Client) -> httpx.Response:
    return loops.put("/contacts/update", json={"email": "ann@example.com"})


def test_rate_limit_is_ten_per_second_with_headers(loops: httpx.Client) -> None:
    answers = [_update(loops) for _ in range(10)]
    assert [r.status_code for r in answers] == [200] * 10
    assert [r.headers["x-ratelimit-remaining"] for r in answers] == [str(n) for n in range(9, -1, -1)]
    assert answers[0].headers["x-ratelimit-limit"] == "10"
    refused = _update(loops)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["x-ratelimit-limit"] == "10"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.json()["success"] is False


def test_rate_limit_window_slides_and_spans_all_endpoints(clock: ManualClock, loops: httpx.Client) -> None:
    for _ in range(5):
        assert _update(loops).status_code == 200
    clock.advance(0.5)
    for n in range(5):
        assert loops.post("/events/send", json={"eventName": "e", "email": f"u{n}@example.com"}).status_code == 200
    clock.advance(0.25)
    assert loops.put("/contacts/update", json={"email": "a@example.com"}).status_code == 429
    # At t=1.0 the first five have left the window, the last five have not.
    clock.advance(0.25)
    assert [_update(loops).status_code for _ in range(6)] == [200] * 5 + [429]
    clock.advance(0.5)
    assert _update(loops).status_code == 200


def test_refused_requests_do_not_count(clock: ManualClock, loops: httpx.Client) -> None:
    for _ in range(10):
        _update(loops)
    for _ in range(20):
        assert _update(loops).status_code == 429
    clock.advance(1)
    assert _update(loops).headers["x-ratelimit-remaining"] == "9"


def test_bad_credentials_do_not_use_the_teams_budget(
    raw: httpx.Client, sandbox: SandboxServer, loops: httpx.Client
) -> None:
    url = sandbox.base_urls()["LOOPS_BASE_URL"] + "/contacts/update"
    for _ in range(15):
        assert (
            raw.put(url, json={"email": "a@example.com"}, headers={"Authorization": "Bearer wrong"}).status_code == 401
        )
    assert _update(loops).status_code == 200


def test_rate_limit_can_be_disabled(clock: ManualClock) -> None:
    with SandboxServer(clock=clock, loops_rate_limit=None) as server:
        url = server.base_urls()["LOOPS_BASE_URL"] + "/contacts/update"
        headers = {"Authorization": "Bearer sandbox-loops-key"}
        with httpx.Client(headers=headers) as client:
            codes = {client.put(url, json={"email": "a@example.com"}).status_code for _ in range(25)}
    assert codes == {200}

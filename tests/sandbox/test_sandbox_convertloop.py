"""ConvertLoop: Basic auth app_id:api_key, /people needs an identifier, /event_logs needs a name."""

from __future__ import annotations

import httpx
import pytest

from devstack.sandbox import SandboxServer


@pytest.mark.parametrize(
    "auth",
    [None, ("sandbox-app", "wrong"), ("wrong", "sandbox-convertloop-key")],
    ids=["missing", "bad-key", "bad-app-id"],
)
def test_requires_basic_auth(raw: httpx.Client, sandbox: SandboxServer, auth: tuple[str, str] | None) -> None:
    url = sandbox.base_urls()["CONVERTLOOP_BASE_URL"] + "/people"
    response = raw.post(url, json={"email": "ann@example.com"}, auth=auth)
    assert response.status_code == 401
    assert response.json()["success"] is False


def test_bearer_token_is_not_basic_auth(raw: httpx.Client, sandbox: SandboxServer) -> None:
    url = sandbox.base_urls()["CONVERTLOOP_BASE_URL"] + "/people"
    response = raw.post(url, json={"email": "a@example.com"}, headers={"Authorization": "Bearer sandbox-app"})
    assert response.status_code == 401


@pytest.mark.parametrize("identifier", [{"pid": "cookie-1"}, {"user_id": "42"}, {"email": "ann@example.com"}])
def test_people_accepts_any_one_identifier(convertloop: httpx.Client, identifier: dict[str, str]) -> None:
    response = convertloop.post("/people", json={**identifier, "plan": "pro"})
    assert response.status_code == 200
    person = response.json()["person"]
    assert person["attributes"] == {"plan": "pro"}


@pytest.mark.parametrize("body", [{}, {"first_name": "Ann"}, {"email": "", "user_id": None}])
def test_people_without_identifier_is_rejected(convertloop: httpx.Client, body: dict[str, object]) -> None:
    response = convertloop.post("/people", json=body)
    assert response.status_code == 400
    assert "pid, user_id or email" in response.json()["error"]


@pytest.mark.parametrize("content", [b"[1, 2]", b"not json", b'"a string"'])
def test_body_that_is_not_a_json_object_is_unprocessable(convertloop: httpx.Client, content: bytes) -> None:
    response = convertloop.post("/people", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_people_upserts_and_handles_segments(sandbox: SandboxServer, convertloop: httpx.Client) -> None:
    convertloop.post("/people", json={"email": "Ann@Example.com", "add_to_segments": ["Trial", "Newsletter"]})
    convertloop.post("/people", json={"email": "ann@example.com", "user_id": "7", "remove_from_segments": "Trial"})
    response = convertloop.post("/people", json={"user_id": "7", "add_to_segments": "Paid"})
    assert response.status_code == 200
    people = sandbox.state("convertloop")["people"]
    assert len(people) == 1
    assert people[0]["segments"] == ["Newsletter", "Paid"]
    assert people[0]["email"] == "ann@example.com"


def test_event_logs_require_a_name(convertloop: httpx.Client) -> None:
    assert convertloop.post("/event_logs", json={"metadata": {"x": 1}}).status_code == 400
    assert convertloop.post("/event_logs", json={"name": "  "}).status_code == 400
    assert convertloop.post("/event_logs", content=b"[]").status_code == 422


def test_event_logs_validate_person_and_metadata(convertloop: httpx.Client) -> None:
    assert convertloop.post("/event_logs", json={"name": "paid", "person": "ann"}).status_code == 400
    assert convertloop.post("/event_logs", json={"name": "paid", "metadata": [1]}).status_code == 400


def test_datetimes_are_iso_8601_or_epoch_seconds(sandbox: SandboxServer, convertloop: httpx.Client) -> None:
    bad = convertloop.post("/event_logs", json={"name": "paid", "occured_at": "yesterday"})
    assert bad.json()["errors"] == ["occured_at must be a datetime"]
    person = {"email": "ann@example.com", "first_seen_at": "2024-13-01", "last_seen_at": True}
    assert convertloop.post("/people", json=person).json()["errors"] == [
        "first_seen_at must be a datetime",
        "last_seen_at must be a datetime",
    ]
    assert sandbox.state("convertloop") == {"people": [], "event_logs": []}
    good = {"name": "paid", "occured_at": "2024-05-01T12:30:15Z", "person": {"email": "ann@example.com"}}
    assert convertloop.post("/event_logs", json=good).status_code == 200
    seen = {"email": "ann@example.com", "first_seen_at": 1714566615, "last_seen_at": "2024-05-01T12:30:15+00:00"}
    assert convertloop.post("/people", json=seen).status_code == 200


def test_event_log_is_recorded_with_its_person(sandbox: SandboxServer, convertloop: httpx.Client) -> None:
    response = convertloop.post(
        "/event_logs",
        json={"name": "invoice_paid", "person": {"email": "ann@example.com"}, "metadata": {"amount": 900}},
    )
    assert response.status_code == 200
    state = sandbox.state("convertloop")
    assert state["event_logs"][0]["name"] == "invoice_paid"
    assert state["event_logs"][0]["person_id"] == state["people"][0]["id"]


def test_unknown_endpoint_and_wrong_method(convertloop: httpx.Client) -> None:
    assert convertloop.post("/segments", json={}).status_code == 404
    response = convertloop.get("/people")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]

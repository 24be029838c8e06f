"""ConvertLoop: /people needs an identifier, /event_logs needs a name; what is malformed is refused."""

from __future__ import annotations

import httpx
import pytest

from devstack.sandbox import SandboxServer
from tests.sandbox.conftest import Body, answers, send

NO_ID = "one of pid, user_id or email is required"


@pytest.mark.parametrize("identifier", [{"pid": "cookie-1"}, {"user_id": "42"}, {"email": "ann@example.com"}])
def test_people_accepts_any_one_identifier(convertloop: httpx.Client, identifier: dict[str, str]) -> None:
    response = convertloop.post("/people", json={**identifier, "plan": "pro"})
    assert response.status_code == 200
    person = response.json()["person"]
    assert person["attributes"] == {"plan": "pro"}


# The document lists 400 for "missing data" and 422 for "unable to process the given information".
@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fields"),
    [
        ("POST", "/people", {}, 400, {"error": NO_ID}),
        ("POST", "/people", {"first_name": "Ann"}, 400, {"error": NO_ID}),
        ("POST", "/people", {"email": "", "user_id": None}, 400, {"error": NO_ID}),
        ("POST", "/people", b"[1, 2]", 422, {"success": False}),
        ("POST", "/people", b"not json", 422, None),
        ("POST", "/people", b'"a string"', 422, None),
        ("POST", "/event_logs", {"metadata": {"x": 1}}, 400, {"error": "name is required"}),
        ("POST", "/event_logs", {"name": "  "}, 400, None),
        ("POST", "/event_logs", b"[]", 422, None),
        ("POST", "/event_logs", {"name": "paid", "person": "ann"}, 400, {"errors": ["person must be a hash"]}),
        ("POST", "/event_logs", {"name": "paid", "metadata": [1]}, 400, {"errors": ["metadata must be a hash"]}),
        (
            "POST",
            "/event_logs",
            {"name": "paid", "occured_at": "yesterday"},
            400,
            {"errors": ["occured_at must be a datetime"]},
        ),
        (
            "POST",
            "/people",
            {"email": "ann@example.com", "first_seen_at": "2024-13-01", "last_seen_at": True},
            400,
            {"errors": ["first_seen_at must be a datetime", "last_seen_at must be a datetime"]},
        ),
        (
            "POST",
            "/people",
            {"email": "ann@example.com", "add_to_segments": ["Trial", "Paid"]},
            400,
            {"errors": ["add_to_segments must be a segment name (a string)"]},
        ),
        # The table types the identifiers "string": a number is not one.
        ("POST", "/people", {"user_id": 42}, 400, {"errors": [NO_ID, "user_id must be a string"]}),
        ("POST", "/people", {"pid": 7, "plan": "pro"}, 400, {"errors": [NO_ID, "pid must be a string"]}),
        (
            "POST",
            "/event_logs",
            {"name": "paid", "person": {"user_id": 42}},
            400,
            {"errors": ["person.user_id must be a string"]},
        ),
        # An event log has the table's keys only; the correct spelling of occured_at is not one.
        (
            "POST",
            "/event_logs",
            {"name": "paid", "occurred_at": "2024-05-01T12:30:15Z"},
            400,
            {"errors": ["occurred_at is not an event log key"]},
        ),
        ("POST", "/event_logs", {"name": "paid", "properties": {"x": 1}}, 400, None),
        ("POST", "/segments", {}, 404, None),
    ],
)
def test_refusals_store_nothing(
    sandbox: SandboxServer, convertloop: httpx.Client, method: str, path: str, body: Body, status: int, fields: dict
) -> None:
    answers(send(convertloop, method, path, body), status, fields)
    assert sandbox.state("convertloop") == {"people": [], "event_logs": []}


def test_wrong_method_names_the_allowed_one(convertloop: httpx.Client) -> None:
    response = convertloop.get("/people")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/event_logs", {"name": "paid", "occured_at": "2024-05-01T12:30:15Z", "person": {"email": "ann@example.com"}}),
        ("/event_logs", {"name": "paid", "ocurred_at": 1714566615}),  # the prose's spelling of the key
        (
            "/people",
            {"email": "ann@example.com", "first_seen_at": 1714566615, "last_seen_at": "2024-05-01T12:30:15+00:00"},
        ),
    ],
)
def test_datetimes_are_iso_8601_or_epoch_seconds(convertloop: httpx.Client, path: str, body: dict) -> None:
    assert convertloop.post(path, json=body).status_code == 200


def test_people_upserts_and_handles_segments(sandbox: SandboxServer, convertloop: httpx.Client) -> None:
    convertloop.post("/people", json={"email": "Ann@Example.com", "add_to_segments": "Trial"})
    convertloop.post("/people", json={"email": "ann@example.com", "add_to_segments": "Newsletter"})
    convertloop.post("/people", json={"email": "ann@example.com", "user_id": "7", "remove_from_segments": "Trial"})
    response = convertloop.post("/people", json={"user_id": "7", "add_to_segments": "Paid"})
    assert response.status_code == 200
    people = sandbox.state("convertloop")["people"]
    assert len(people) == 1
    assert people[0]["segments"] == ["Newsletter", "Paid"]
    assert people[0]["email"] == "ann@example.com"


def test_event_log_is_recorded_with_its_person(sandbox: SandboxServer, convertloop: httpx.Client) -> None:
    response = convertloop.post(
        "/event_logs",
        json={"name": "invoice_paid", "person": {"email": "ann@example.com"}, "metadata": {"amount": 900}},
    )
    assert response.status_code == 200
    state = sandbox.state("convertloop")
    assert state["event_logs"][0]["name"] == "invoice_paid"
    assert state["event_logs"][0]["person_id"] == state["people"][0]["id"]

"""Fault injection and latency: scripted failures without sleeping in the test."""

from __future__ import annotations

import httpx
import pytest

from devstack.sandbox import ManualClock, SandboxServer


def _update(loops: httpx.Client) -> httpx.Response:
    return loops.put("/contacts/update", json={"email": "a@example.com"})


def test_fault_answers_the_next_count_requests(http: httpx.Client, loops: httpx.Client) -> None:
    added = http.post("/_sandbox/faults", json={"vendor": "loops", "status": 503, "count": 2, "retry_after": 2})
    assert added.status_code == 201
    first, second, third = _update(loops), _update(loops), _update(loops)
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["Retry-After"] == "2"
    assert first.json()["success"] is False  # in the vendor's own error shape
    assert http.get("/_sandbox/faults").json() == []


def test_faults_only_hit_their_vendor(http: httpx.Client, loops: httpx.Client, customerio: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"vendor": "customerio", "status": 500})
    assert _update(loops).status_code == 200
    response = customerio.put("/customers/1", json={})
    assert response.status_code == 500
    assert response.json() == {"meta": {"error": "sandbox: injected fault (HTTP 500)"}}
    assert "Retry-After" not in response.headers


def test_faults_queue_in_order(sandbox: SandboxServer, http: httpx.Client, loops: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"vendor": "loops", "status": 502})
    http.post("/_sandbox/faults", json={"vendor": "loops", "status": 429, "retry_after": 1.2})
    assert len(http.get("/_sandbox/faults").json()) == 2
    assert _update(loops).status_code == 502
    throttled = _update(loops)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "2"  # whole seconds, rounded up
    assert throttled.headers["x-ratelimit-remaining"] == "0"
    assert _update(loops).status_code == 200
    assert [r["status"] for r in sandbox.requests("loops")] == [502, 429, 200]


def test_faulted_requests_skip_auth_and_rate_limit(
    raw: httpx.Client, sandbox: SandboxServer, http: httpx.Client
) -> None:
    http.post("/_sandbox/faults", json={"vendor": "loops", "status": 503, "count": 12})
    url = sandbox.base_urls()["LOOPS_BASE_URL"] + "/contacts/update"
    body = {"email": "a@example.com"}
    assert {raw.put(url, json=body).status_code for _ in range(12)} == {503}
    assert raw.put(url, json=body, headers={"Authorization": "Bearer sandbox-loops-key"}).status_code == 200


def test_delay_fault_uses_the_clock(clock: ManualClock, http: httpx.Client, loops: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"vendor": "loops", "delay_ms": 2500})
    assert _update(loops).status_code == 200  # delayed, then answered normally
    assert clock.sleeps == [2.5]
    assert _update(loops).status_code == 200
    assert clock.sleeps == [2.5]


def test_delay_and_status_together(clock: ManualClock, http: httpx.Client, segmetrics: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"vendor": "segmetrics", "status": 504, "delay_ms": 100})
    response = segmetrics.post("/contact", json={"email": "a@example.com"})
    assert response.status_code == 504
    assert response.json()["status"] == "error"
    assert clock.sleeps == [0.1]


def test_clear_faults(http: httpx.Client, loops: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"vendor": "loops", "status": 500, "count": 3})
    http.post("/_sandbox/faults", json={"vendor": "convertloop", "status": 500})
    http.delete("/_sandbox/faults", params={"vendor": "loops"})
    assert [f["vendor"] for f in http.get("/_sandbox/faults").json()] == ["convertloop"]
    http.delete("/_sandbox/faults")
    assert http.get("/_sandbox/faults").json() == []
    assert _update(loops).status_code == 200


@pytest.mark.parametrize(
    "spec",
    [
        {"vendor": "mailchimp", "status": 500},
        {"vendor": "loops"},
        {"vendor": "loops", "status": 99},
        {"vendor": "loops", "status": 500, "count": 0},
        {"vendor": "loops", "status": "500"},
        {"vendor": "loops", "delay_ms": -1},
        {"vendor": "loops", "status": 429, "retry_after": -1},
    ],
)
def test_invalid_fault_specs_are_400(http: httpx.Client, spec: dict[str, object]) -> None:
    response = http.post("/_sandbox/faults", json=spec)
    assert response.status_code == 400
    assert response.json()["error"]


def test_latency_per_vendor(clock: ManualClock, http: httpx.Client, loops: httpx.Client) -> None:
    assert http.post("/_sandbox/latency", json={"vendor": "loops", "ms": 100}).json() == {"loops": 100}
    _update(loops)
    _update(loops)
    assert clock.sleeps == [0.1, 0.1]
    http.post("/_sandbox/latency", json={"vendor": "loops", "ms": 0})
    _update(loops)
    assert clock.sleeps == [0.1, 0.1]
    assert http.get("/_sandbox/latency").json() == {}


def test_latency_for_all_vendors_and_validation(http: httpx.Client) -> None:
    everywhere = http.post("/_sandbox/latency", json={"vendor": "*", "ms": 5}).json()
    assert set(everywhere) >= {"convertloop", "loops", "customerio", "segmetrics"}
    assert http.post("/_sandbox/latency", json={"vendor": "loops", "ms": "fast"}).status_code == 400
    assert http.post("/_sandbox/latency", json={"vendor": "nope", "ms": 1}).status_code == 400
    http.delete("/_sandbox/latency")
    assert http.get("/_sandbox/latency").json() == {}


def test_python_api_for_faults_and_latency(clock: ManualClock, sandbox: SandboxServer, loops: httpx.Client) -> None:
    sandbox.add_fault("loops", status=500)
    sandbox.set_latency("loops", 20)
    assert _update(loops).status_code == 500
    assert _update(loops).status_code == 200
    assert clock.sleeps == [0.02, 0.02]
    with pytest.raises(ValueError, match="vendor"):
        sandbox.add_fault("nope", status=500)


def test_an_echo_fault_repeats_the_request(http: httpx.Client, customerio: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"vendor": "customerio", "status": 400, "echo": True})
    response = customerio.put("/customers/jane%40example.com", json={"email": "jane@example.com"})
    assert response.status_code == 400
    message = response.json()["meta"]["error"]
    assert "/customers/jane@example.com " in message and '{"email":"jane@example.com"}' in message
    assert http.post("/_sandbox/faults", json={"vendor": "loops", "status": 400, "echo": "yes"}).status_code == 400

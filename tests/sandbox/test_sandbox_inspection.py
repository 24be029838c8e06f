"""/_sandbox: the request log (JSON and HTML), vendor state, resets."""

from __future__ import annotations

import httpx

from devstack.sandbox import SandboxServer


def test_requests_are_recorded_with_redacted_auth(http: httpx.Client, loops: httpx.Client) -> None:
    loops.post("/events/send", json={"email": "ann@example.com", "eventName": "x"}, headers={"Idempotency-Key": "k1"})
    [record] = http.get("/_sandbox/requests", params={"vendor": "loops"}).json()
    assert {k: record[k] for k in ("vendor", "method", "path", "query", "body", "status")} == {
        "vendor": "loops",
        "method": "POST",
        "path": "/loops/api/v1/events/send",
        "query": {},
        "body": {"email": "ann@example.com", "eventName": "x"},
        "status": 200,
    }
    assert record["endpoint"] == "/events/send"
    assert record["headers"]["Idempotency-Key"] == "k1"
    assert "sandbox-loops-key" not in str(record)
    assert record["headers"]["Authorization"].startswith("Bearer ****")
    assert record["response"]["success"] is True
    assert record["at"].endswith("+00:00")


def test_rejected_requests_are_recorded_too(raw: httpx.Client, sandbox: SandboxServer, http: httpx.Client) -> None:
    base = sandbox.base_urls()
    raw.post(base["CONVERTLOOP_BASE_URL"] + "/people", json={"email": "a@example.com"}, auth=("sandbox-app", "bad"))
    raw.post(base["CONVERTLOOP_BASE_URL"] + "/people", content=b"{oops", auth=("sandbox-app", "x"))
    records = http.get("/_sandbox/requests", params={"vendor": "convertloop"}).json()
    assert [r["status"] for r in records] == [401, 401]
    assert records[0]["headers"]["Authorization"] == "Basic sandbox-app:****"
    assert records[1]["body"] is None
    assert records[1]["body_text"] == "{oops"


def test_filters_and_order(http: httpx.Client, loops: httpx.Client, customerio: httpx.Client) -> None:
    loops.put("/contacts/update", params={"source": "test"}, json={"email": "a@example.com"})
    customerio.put("/customers/1", json={"plan": "pro"})
    loops.post("/events/send", json={})
    everything = http.get("/_sandbox/requests").json()
    assert [r["vendor"] for r in everything] == ["loops", "customerio", "loops"]  # oldest first
    assert [r["id"] for r in everything] == sorted(r["id"] for r in everything)
    assert everything[0]["query"] == {"source": "test"}
    newest_first = http.get("/_sandbox/requests", params={"order": "desc"}).json()
    assert [r["id"] for r in newest_first] == [r["id"] for r in reversed(everything)]
    failed = http.get("/_sandbox/requests", params={"vendor": "loops", "status": 400}).json()
    assert [r["endpoint"] for r in failed] == ["/events/send"]
    since = http.get("/_sandbox/requests", params={"since": everything[0]["id"]}).json()
    assert len(since) == 2
    assert len(http.get("/_sandbox/requests", params={"limit": 1}).json()) == 1
    assert http.get("/_sandbox/requests", params={"endpoint": "/customers/1", "method": "put"}).json()[0]["body"] == {
        "plan": "pro"
    }
    assert http.get("/_sandbox/requests", params={"vendor": "nope"}).status_code == 400


def test_inspection_calls_are_not_recorded(http: httpx.Client) -> None:
    http.get("/_sandbox/")
    http.get("/_sandbox/requests")
    assert http.get("/_sandbox/requests").json() == []


def test_clear_requests(http: httpx.Client, loops: httpx.Client, customerio: httpx.Client) -> None:
    loops.put("/contacts/update", json={"email": "a@example.com"})
    customerio.put("/customers/1", json={})
    assert http.delete("/_sandbox/requests", params={"vendor": "loops"}).json() == {"cleared": 1}
    assert [r["vendor"] for r in http.get("/_sandbox/requests").json()] == ["customerio"]
    http.delete("/_sandbox/requests")
    assert http.get("/_sandbox/requests").json() == []


def test_html_page_lists_requests_newest_first(http: httpx.Client, loops: httpx.Client) -> None:
    loops.put("/contacts/update", json={"email": "first@example.com"})
    loops.put("/contacts/update", json={"email": "<second>@example.com"})
    page = http.get("/_sandbox/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.index("&lt;second&gt;@example.com") < html.index("first@example.com")
    assert "<second>" not in html  # escaped
    assert "Bearer ****" in html
    assert "sandbox-loops-key" not in html
    for vendor in ("convertloop", "loops", "customerio", "segmetrics"):
        assert f'id="{vendor}"' in html
    assert http.get("/_sandbox").status_code == 200
    only_loops = http.get("/_sandbox/", params={"vendor": "loops", "refresh": 2}).text
    assert 'id="customerio"' not in only_loops
    assert 'http-equiv="refresh"' in only_loops


def test_state_and_reset(sandbox: SandboxServer, http: httpx.Client, loops: httpx.Client) -> None:
    loops.put("/contacts/update", json={"email": "ann@example.com"})
    state = http.get("/_sandbox/state", params={"vendor": "loops"}).json()
    assert [c["email"] for c in state["loops"]["contacts"]] == ["ann@example.com"]
    http.delete("/_sandbox/state")
    assert http.get("/_sandbox/state").json()["loops"]["contacts"] == []
    assert loops.put("/contacts/update", json={"email": "ann@example.com"}).status_code == 200
    sandbox.add_fault("loops", status=500)
    assert http.post("/_sandbox/reset").json() == {"reset": True}
    assert http.get("/_sandbox/requests").json() == []
    assert http.get("/_sandbox/faults").json() == []
    assert loops.put("/contacts/update", json={"email": "ann@example.com"}).status_code == 200


def test_log_is_bounded() -> None:
    with SandboxServer(max_requests=3, loops_rate_limit=None) as server:
        url = server.base_urls()["LOOPS_BASE_URL"] + "/contacts/update"
        with httpx.Client(headers={"Authorization": "Bearer sandbox-loops-key"}) as client:
            for n in range(5):
                client.put(url, json={"email": f"u{n}@example.com"})
        records = server.requests()
    assert [r["body"]["email"] for r in records] == ["u2@example.com", "u3@example.com", "u4@example.com"]


def test_unknown_sandbox_endpoint(http: httpx.Client) -> None:
    assert http.get("/_sandbox/nope").status_code == 404
    assert http.put("/_sandbox/requests").status_code == 405

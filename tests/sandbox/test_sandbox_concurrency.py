"""The server is threaded: check-then-act rules must hold under concurrent requests."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from devstack.sandbox import SandboxServer


def test_concurrent_requests_respect_the_rate_limit(loops: httpx.Client) -> None:
    # The manual clock does not move, so exactly ten of these fit in the window.
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(
            pool.map(lambda _: loops.put("/contacts/update", json={"email": "a@example.com"}).status_code, range(25))
        )
    assert Counter(codes) == {200: 10, 429: 15}


def test_concurrent_reuse_of_an_idempotency_key_records_one_event(sandbox: SandboxServer, loops: httpx.Client) -> None:
    def send(_: int) -> int:
        body = {"email": "ann@example.com", "eventName": "invoice_paid"}
        return loops.post("/events/send", json=body, headers={"Idempotency-Key": "evt_9"}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(send, range(10)))
    assert Counter(codes) == {200: 1, 409: 9}
    assert len(sandbox.state("loops")["events"]) == 1


def test_concurrent_customerio_events_with_one_id_are_kept_once(
    sandbox: SandboxServer, customerio: httpx.Client
) -> None:
    event = {"name": "paid", "id": "01HV4Z3Y5S6T7U8V9W0X1Y2Z3A"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(lambda _: customerio.post("/customers/5/events", json=event).status_code, range(20)))
    assert set(codes) == {200}
    assert len(sandbox.state("customerio")["events"]) == 1
    assert len(sandbox.requests("customerio")) == 20

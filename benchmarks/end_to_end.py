"""End to end in `make dev`: webhook accepted → vendor called, through ``devstack.stack.Stack``.

The whole local stack of ``make dev`` (HTTP API, receivers and delivery functions in
their own Lambda-like processes, moto's server, SQS pollers with template.yaml's batch
size, batching window and maximum concurrency, and the vendor sandbox) receives signed
webhooks, half Stripe customer.created and half Typeform form_response, at a steady
rate well under the tightest vendor limit (so the figure is the pipeline's latency, not
a queue building up behind Loops' 10 req/s). For every (webhook, vendor) pair the
latency runs from the moment the HTTP API answered 200 to the sandbox's timestamp of the
first successful request that carries that webhook's person.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from benchmarks.common import (
    ROOT,
    BenchResult,
    Figure,
    body_of,
    delivery_source,
    log,
    payload_for,
    receiver_function,
    size,
    summary,
    unique_token,
)
from devstack.stack import DEV_PARAMETERS, wait_until
from devstack.support.signing import signed_headers

WEBHOOKS = size(200, 2)
WARMUP_WEBHOOKS = size(20, 0)
RATE_PER_SECOND = 5.0  # half of Loops' (and ConvertLoop's, SegMetrics') deployment-wide 10 req/s
DELIVERY_TIMEOUT_SECONDS = 120.0


def provider_of(n: int) -> str:
    return "stripe" if n % 2 == 0 else "typeform"


class Sender:
    """Sends signed webhooks to the stack on a fixed schedule and notes when each was accepted."""

    def __init__(self, stack: Any, token: str) -> None:
        import httpx

        self.urls = {provider: stack.route_url(receiver_function(provider)) for provider in ("stripe", "typeform")}
        self.token = token
        self.http = httpx.Client(timeout=30.0)
        self.accepted: dict[int, float] = {}
        self.round_trip_ms: list[float] = []
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def send(self, n: int) -> None:
        provider = provider_of(n)
        body = body_of(payload_for(provider, n, self.token))
        headers = signed_headers(provider, body)  # the stack's dev secrets are the documented test ones
        started = time.perf_counter()
        response = self.http.post(self.urls[provider], content=body, headers=headers)
        accepted_at = time.time()
        with self._lock:
            if response.status_code == 200:
                self.accepted[n] = accepted_at
                self.round_trip_ms.append((time.perf_counter() - started) * 1000)
            else:
                self.failures.append(f"{provider} {n}: {response.status_code} {response.text[:200]}")

    def send_at_rate(self, numbers: range, rate: float) -> None:
        """Open loop: webhook i leaves at start + i / rate, whatever the previous answers took."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            start = time.monotonic()
            for i, n in enumerate(numbers):
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # the arrival schedule of the load, not a measurement
                pool.submit(self.send, n)


class Deliveries:
    """First successful vendor request per (webhook, vendor), read incrementally from the sandbox log."""

    def __init__(self, sandbox: Any, token: str) -> None:
        self.log = sandbox.sandbox.log
        self.pattern = re.compile(rf"(?:bench|form){token}(\d{{8}})")
        self.first: dict[tuple[int, str], float] = {}
        self.statuses: dict[int, int] = {}
        self.last_id = 0

    def poll(self) -> None:
        for record in self.log.list(since=self.last_id):
            self.last_id = max(self.last_id, record.id)
            self.statuses[record.status] = self.statuses.get(record.status, 0) + 1
            if record.status >= 300:
                continue
            text = record.path + json.dumps(record.query) + json.dumps(record.body, ensure_ascii=False)
            match = self.pattern.search(text)
            if match:
                key = (int(match[1]), record.vendor)
                at = datetime.fromisoformat(record.at).timestamp()
                self.first[key] = min(at, self.first.get(key, at))


def run() -> BenchResult:
    from devstack.stack import Stack

    sys.stdout = sys.stderr  # nothing of ours goes to stdout; the stack logs to its sink (none here)
    token = unique_token()
    started = time.perf_counter()
    with Stack(template=ROOT / "template.yaml", log_sink=None) as stack:
        startup_s = time.perf_counter() - started
        assert stack.configuration is not None
        vendors = [vendor.name for vendor in stack.configuration.enabled_vendors]
        log(f"end_to_end: make-dev stack up in {startup_s:.1f} s; {WARMUP_WEBHOOKS} warm-up webhooks")
        sender = Sender(stack, token)
        sender.send_at_rate(range(WARMUP_WEBHOOKS), RATE_PER_SECOND)
        stack.wait_until_drained(timeout=60)
        stack.sandbox.clear_requests()
        sender.round_trip_ms.clear()  # the warm-up's answers include the receivers' cold starts
        before = {queue: (p.stats.batches, p.stats.messages) for queue, p in stack.pollers.items()}
        deliveries = Deliveries(stack.sandbox, token)

        log(f"end_to_end: {WEBHOOKS} webhooks at {RATE_PER_SECOND:g}/s")
        measured = range(WARMUP_WEBHOOKS, WARMUP_WEBHOOKS + WEBHOOKS)
        sender.send_at_rate(measured, RATE_PER_SECOND)
        expected = {(n, vendor) for n in measured for vendor in vendors}

        def delivered() -> bool:
            deliveries.poll()
            failed = {q: p.stats.failed_invocations for q, p in stack.pollers.items() if p.stats.failed_invocations}
            if failed:
                function = stack.pollers[next(iter(failed))].function
                tail = "\n".join(stack.logs(function)[-15:])
                raise RuntimeError(f"delivery invocations failed in the make-dev stack {failed}:\n{tail}")
            return expected <= deliveries.first.keys()

        # Waiting for completion; latencies come from the sandbox's timestamps.
        wait_until(delivered, DELIVERY_TIMEOUT_SECONDS, interval=0.5)
        stack.wait_until_drained(timeout=30)
        deliveries.poll()
        batches = {}
        for queue, poller in stack.pollers.items():
            b0, m0 = before[queue]
            batches[queue] = {"batches": poller.stats.batches - b0, "messages": poller.stats.messages - m0}
        dlq_counts = {logical: stack.queue_counts(logical)["visible"] for logical in stack.dlq_urls}

    if sender.failures:
        raise RuntimeError(f"webhooks refused: {sender.failures[:5]}")
    latencies: dict[str, list[float]] = {vendor: [] for vendor in vendors}
    for (n, vendor), at in deliveries.first.items():
        if n in sender.accepted and (n, vendor) in expected:
            latencies[vendor].append((at - sender.accepted[n]) * 1000)
    everything = [ms for values in latencies.values() for ms in values]
    per_webhook = [
        max(deliveries.first[(n, v)] for v in vendors) - sender.accepted[n]
        for n in measured
        if n in sender.accepted and all((n, v) in deliveries.first for v in vendors)
    ]
    missing = len(expected - deliveries.first.keys())
    overall = summary(everything)
    note = (
        f"{missing} of {len(expected)} deliveries not seen within {DELIVERY_TIMEOUT_SECONDS:.0f} s; " if missing else ""
    ) + (
        f"includes make dev's {DEV_PARAMETERS['DeliveryBatchingWindowSeconds']} s batching window on each vendor "
        f"queue (deployed: {delivery_source().batching_window_seconds:g} s, DeliveryBatchingWindowSeconds)"
    )
    label = f"End to end (make dev), accepted → vendor called, {{}}, {WEBHOOKS} webhooks x {len(vendors)} vendors"
    figures = [Figure(f"end_to_end.{q}", label.format(q), overall[q], "ms", note=note) for q in ("p50", "p99")]
    accept = summary(sender.round_trip_ms)
    figures.append(
        Figure("end_to_end.accept_p50", "End to end (make dev), webhook POST → 200, p50", accept["p50"], "ms")
    )
    details = {
        "webhooks": WEBHOOKS,
        "warmup_webhooks": WARMUP_WEBHOOKS,
        "rate_per_second": RATE_PER_SECOND,
        "stack_startup_s": startup_s,
        "per_vendor_ms": {vendor: summary(values) for vendor, values in latencies.items()},
        "all_vendors_done_ms": summary([s * 1000 for s in per_webhook]),
        "accept_round_trip_ms": accept,
        "sandbox_statuses": deliveries.statuses,
        "poller_batches": batches,
        "dlq_messages": dlq_counts,
    }
    return BenchResult(figures, details)

"""Delivery: a batch's calls run concurrently, and Loops is driven at its limit without 429s.

1. Batch vs one call: the real delivery handler (``functions/delivery/app.py``) in this
   process, with moto's server (its own process, so DynamoDB and SQS calls are I/O for the
   handler, as on AWS, instead of CPU work competing for the handler's GIL) and the vendor
   sandbox answering after 100 ms (latency injection). A batch of 10 records should take no
   longer than twice a batch of one,
   measured alternately in the same run. Run without pacing (the handler's concurrency
   alone), then with Customer.io's and ConvertLoop's pacing as template.yaml deploys it.
2. Loops burst: 300 actions on the Loops queue of a moto server, drained by two delivery
   "instances" (two processes, like Lambda's two execution environments at
   MaximumConcurrency 2) with VENDOR_RATE_LIMIT=10 and VENDOR_MAX_CONCURRENCY=2, against
   the sandbox's Loops, which enforces 10 requests per sliding second. Throughput and the
   share of 429 answers come from the sandbox's request log.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.common import (
    LAYER_DIR,
    MEMORY_LIMIT_MB,
    AwsCalls,
    BenchResult,
    BenchStack,
    CountingSink,
    Figure,
    Measured,
    aws_seconds,
    calls_by_operation,
    log,
    measure,
    operations,
    pacing,
    peak_overlap,
    reports,
    size,
    spawn_child,
    summary,
    unique_token,
    vendor_messages,
    vendor_records,
)
from devstack.aws import client
from devstack.stack import wait_until
from devstack.support.events import queue_arn
from devstack.support.handlers import forget_cold_start, load_function
from devstack.support.lambda_context import LambdaContext
from devstack.support.moto import MotoServer

VENDOR_LATENCY_MS = 100
BATCH = size(10, 3)
REPEATS = size(7, 1)
DEPLOYED_REPEATS = size(4, 1)
PACING_IDLE_SECONDS = size(1.1, 0.0)  # longer than the pacer's sliding window (1 s + 5 % headroom)
BATCH_TARGET = 2.0
BURST = size(300, 10)
THROUGHPUT_TARGET = 0.9
THROTTLED_TARGET = 5.0
BURST_TIMEOUT_SECONDS = 150.0


def _at(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(record["at"]).timestamp()


def peak_concurrency(records: list[dict[str, Any]]) -> int:
    """Most vendor requests in progress at once, from the sandbox log (answered at ``at`` after ``duration_ms``)."""
    return peak_overlap((_at(record) - record["duration_ms"] / 1000, _at(record)) for record in records)


class InProcessDelivery:
    """The delivery handler in this process, reconfigurable between runs (as a new deployment would be)."""

    def __init__(self, endpoint: str, sandbox: Any, aws: AwsCalls, sink: CountingSink) -> None:
        self.sandbox = sandbox
        self.aws = aws
        self.sink = sink
        self.stack = BenchStack(endpoint, sandbox.as_env())
        self.module: Any = None
        self.token = unique_token()
        self.serial = 0

    def configure(self, vendor: str, paced: bool) -> None:
        """``vendor``'s delivery function as deployed; unpaced: without VENDOR_RATE_LIMIT."""
        env = self.stack.delivery_env(vendor)
        for name in ("VENDOR_RATE_LIMIT", "VENDOR_MAX_CONCURRENCY"):
            os.environ.pop(name, None)
            if not paced:
                env.pop(name)
        os.environ.update(env)
        if self.module is None:
            self.module = load_function(Path(env["LAMBDA_TASK_ROOT"]).name)
        forget_cold_start()
        self.vendor = vendor
        self.sandbox.set_latency(vendor, VENDOR_LATENCY_MS)
        self.run(1)  # the cold start of this configuration, not measured

    def run(self, size: int, idle: bool = False) -> Run:
        """One invocation with ``size`` fresh records.

        ``idle``: first wait until the instance's pacing window is empty, as for a batch arriving after
        a quiet second; back-to-back runs would exceed the per-instance rate and measure the pacing
        doing its job. The wait is a precondition of the measurement, not part of it."""
        if idle:
            time.sleep(PACING_IDLE_SECONDS)
        event = {"Records": vendor_records(self.vendor, size, self.token, os.environ["QUEUE_URL"], self.serial)}
        self.serial += size
        self.sandbox.clear_requests()
        context = LambdaContext(f"bench-{self.vendor}-delivery")
        run = measure(self.aws, self.sink, self.module.lambda_handler, event, context)
        if run.response.get("batchItemFailures"):
            raise RuntimeError(f"delivery batch failed: {run.response}")
        requests = self.sandbox.requests(self.vendor)
        if len(requests) != size or any(r["status"] >= 300 for r in requests):
            raise RuntimeError(f"expected {size} successful vendor calls, got {[r['status'] for r in requests]}")
        return Run(run.ms, run.response, run.aws, run.log_bytes, peak_concurrency(requests))


@dataclass
class Run(Measured):
    vendor_concurrency: int  # most vendor calls in flight at once


def alternate(delivery: InProcessDelivery, repeats: int) -> dict[str, list[Run]]:
    """One call and a batch of BATCH, alternately."""
    runs: dict[str, list[Run]] = {"one": [], "ten": []}
    for repeat in range(repeats):
        for records in (1, BATCH) if repeat % 2 == 0 else (BATCH, 1):
            runs["one" if records == 1 else "ten"].append(delivery.run(records))
    return runs


def paced(delivery: InProcessDelivery, repeats: int, idle_single: bool) -> tuple[float, float, int]:
    """One call then a batch, ``repeats`` times, each batch after an idle pacing window (and each single
    call too with ``idle_single``): the median ms of each, and the most vendor calls in flight at once."""
    runs = [delivery.run(n, idle=n == BATCH or idle_single) for _ in range(repeats) for n in (1, BATCH)]
    one, batch = runs[0::2], runs[1::2]
    peak = max(r.vendor_concurrency for r in batch)
    return statistics.median(r.ms for r in one), statistics.median(r.ms for r in batch), peak


def batch_benchmark(sink: CountingSink) -> tuple[list[Figure], dict[str, Any]]:
    from devstack.sandbox import SandboxServer

    with (
        AwsCalls().installed() as aws,
        MotoServer() as moto,
        SandboxServer(host="127.0.0.1", port=0) as sandbox,
    ):
        delivery = InProcessDelivery(moto.endpoint, sandbox, aws, sink)
        delivery.configure("customerio", paced=False)
        unpaced = alternate(delivery, REPEATS)
        one_ms, ten_ms = (statistics.median(r.ms for r in unpaced[kind]) for kind in ("one", "ten"))
        log(f"delivery: unpaced batch of {BATCH} {ten_ms:.0f} ms, one call {one_ms:.0f} ms")
        with aws.stubbed():  # the same, with every AWS call answered at once: the handler's own concurrency
            stubbed = alternate(delivery, REPEATS)

        deployed: dict[str, dict[str, Any]] = {}
        for vendor, repeats in (("customerio", DEPLOYED_REPEATS), ("convertloop", 1)):
            # One call after a batch still fits Customer.io's 20 per second; not ConvertLoop's 2.
            idle_single = vendor == "convertloop"
            delivery.configure(vendor, paced=True)
            one, batch, peak = paced(delivery, repeats, idle_single)
            deployed[vendor] = {
                "pacing": pacing(vendor),
                "one_ms": one,
                "batch_ms": batch,
                "peak_concurrency": peak,
            }
            if vendor == "customerio":  # and with AWS answered at once, to tell pacing from moto
                with aws.stubbed():
                    one, batch, _ = paced(delivery, repeats, idle_single)
                deployed[vendor].update(aws_stubbed_one_ms=one, aws_stubbed_batch_ms=batch)
            log(f"delivery: {vendor} as deployed, batch {deployed[vendor]['batch_ms']:.0f} ms")

    peak = max(r.vendor_concurrency for r in unpaced["ten"])
    stub_one, stub_ten = (statistics.median(r.ms for r in stubbed[kind]) for kind in ("one", "ten"))
    aws_ms_per_call = {
        kind: 1000 * aws_seconds(calls) / len(calls) if (calls := [c for r in runs for c in r.aws]) else 0.0
        for kind, runs in unpaced.items()
    }
    if peak < BATCH:
        cause = (
            f"at most {peak} vendor calls were in flight at once, so a batch of {BATCH} takes "
            f"{-(-BATCH // max(peak, 1))} rounds of vendor latency"
        )
    else:
        cause = (
            f"all {BATCH} vendor calls overlapped; the rest is the emulator: moto's server answers DynamoDB one "
            f"request at a time, so the idempotency PutItem/UpdateItem took {aws_ms_per_call['ten']:.0f} ms each in "
            f"a batch against {aws_ms_per_call['one']:.0f} ms alone. With the AWS calls answered at once the batch "
            f"takes {stub_ten:.0f} ms against {stub_one:.0f} ms ({stub_ten / stub_one:.2f}x)"
        )
    cio, cl = deployed["customerio"], deployed["convertloop"]
    (rate, instances), (cl_rate, cl_instances) = cio["pacing"], cl["pacing"]
    title = f"Delivery, batch of {BATCH}"
    figures = [
        Figure(
            "delivery.batch10.unpaced",
            f"{title}, vendor at {VENDOR_LATENCY_MS} ms, no pacing (vs one call)",
            *(ten_ms, "ms", one_ms, "ratio_max", BATCH_TARGET, cause),
        ),
        Figure(
            "delivery.batch10.aws_stubbed",
            f"{title}, vendor at {VENDOR_LATENCY_MS} ms, AWS answered at once (vs one call)",
            *(stub_ten, "ms", stub_one),
            note="the handler's own concurrency, without the emulator's serialised DynamoDB",
        ),
        Figure(
            "delivery.batch10.customerio_deployed",
            f"{title}, Customer.io as deployed ({rate:g} req/s ÷ {instances} instances)",
            *(cio["batch_ms"], "ms", cio["one_ms"], "ratio_max", BATCH_TARGET),
            note=(
                f"pacing let at most {cio['peak_concurrency']} calls be in flight at once, although "
                f"{rate / instances:g} requests per second per instance would allow the whole batch"
                if cio["peak_concurrency"] < BATCH
                else f"all {BATCH} calls overlapped; as without pacing, the rest is moto's serialised DynamoDB: with "
                f"AWS answered at once the batch takes {cio['aws_stubbed_batch_ms']:.0f} ms against "
                f"{cio['aws_stubbed_one_ms']:.0f} ms"
            ),
        ),
        Figure(
            "delivery.batch10.convertloop_deployed",
            f"{title}, ConvertLoop as deployed ({cl_rate:g} req/s ÷ {cl_instances})",
            *(cl["batch_ms"], "ms", cl["one_ms"]),
            note=f"paced by design (the deployment-wide limit split over {cl_instances} instances); the wait is billed",
        ),
    ]
    records = BATCH * REPEATS
    batch_calls = [c for r in unpaced["ten"] for c in r.aws]
    details = {
        "vendor_latency_ms": VENDOR_LATENCY_MS,
        "unpaced": {
            "one_call_ms": summary([r.ms for r in unpaced["one"]]),
            "batch_ms": summary([r.ms for r in unpaced["ten"]]),
            "peak_vendor_concurrency": peak,
            "aws_ms_per_call": aws_ms_per_call,
            "aws_calls_per_record": len(batch_calls) / records,
            "calls_by_operation_per_record": calls_by_operation(operations(batch_calls), per=records),
            "log_bytes_per_record": sum(r.log_bytes for r in unpaced["ten"]) / records,
        },
        "aws_stubbed": {
            "one_call_ms": summary([r.ms for r in stubbed["one"]]),
            "batch_ms": summary([r.ms for r in stubbed["ten"]]),
            "peak_vendor_concurrency": max(r.vendor_concurrency for r in stubbed["ten"]),
        },
        "deployed": deployed,
    }
    return figures, details


# -- Loops burst ---------------------------------------------------------------------------


def loops_burst() -> tuple[list[Figure], dict[str, Any]]:
    from devstack.sandbox import SandboxServer
    from webhook_bridge.receiver.publisher import publish
    from webhook_bridge.vendors.catalog import spec_for

    limit, (rate, instances) = spec_for("loops").rate_limit_per_second, pacing("loops")
    with MotoServer() as moto, SandboxServer(host="127.0.0.1", port=0) as sandbox:
        stack = BenchStack(moto.endpoint, sandbox.as_env())
        env = stack.delivery_env("loops")
        queue = env["QUEUE_URL"]
        config = {"mode": "delivery_worker", "code_dir": env["LAMBDA_TASK_ROOT"], "layer_dir": str(LAYER_DIR)}
        config |= {"queue_url": queue, "queue_arn": queue_arn(queue)}
        workers = [spawn_child(config, env, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL) for _ in range(instances)]
        sqs = client("sqs", moto.endpoint, stack.template.region)
        try:
            for worker in workers:  # both instances warm and polling before the burst arrives
                assert worker.stdout is not None
                if json.loads(worker.stdout.readline() or '{"phase": "died"}')["phase"] != "ready":
                    raise RuntimeError("a Loops delivery instance did not start")
            publish(vendor_messages("loops", BURST, unique_token()), lambda vendor: queue, sqs)
            log(f"delivery: {BURST} Loops actions queued; {instances} instances draining at ≤ {rate:g} req/s")
            log_ = sandbox.sandbox.log  # the RecordedRequest objects: cheap to count (the sandbox shares our GIL)
            # Waiting for completion; the figures come from the sandbox's timestamps.
            wait_until(lambda: len(log_.list(vendor="loops", status=200)) >= BURST, BURST_TIMEOUT_SECONDS, 0.5)
        finally:
            for worker in workers:  # stop both, then collect what each reports
                assert worker.stdin is not None
                worker.stdin.close()
            outputs = [worker.stdout.read() if worker.stdout else "" for worker in workers]
            for worker in workers:
                worker.wait(timeout=30)
        stats = [report for output in outputs for report in reports(output) if report["phase"] == "stats"]
        records = sandbox.requests("loops")
        dlq = int(
            sqs.get_queue_attributes(QueueUrl=env["DLQ_URL"], AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
        )

    ok = [r for r in records if r["status"] < 300]
    throttled = [r for r in records if r["status"] == 429]
    distinct = {json.dumps(r["body"], sort_keys=True) for r in ok}
    times = sorted(_at(r) for r in ok)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    throughput = (len(times) - 1) / span if span else 0.0
    windows = most_in_a_second(_at(r) for r in records)
    handler_seconds = sum(s["handler_seconds"] for s in stats)
    sends_per_instance = [most_in_a_second(s["sends"]) for s in stats if s["sends"]]
    burst = f"Loops burst of {BURST}"
    figures = [
        Figure(
            "delivery.loops.throughput",
            f"{burst}, sustained throughput ({instances} instances, {rate:g} req/s ÷ {instances})",
            *(throughput, "req/s", limit, "ratio_min", THROUGHPUT_TARGET),
            note=f"{len(throttled)} requests were refused with 429, each spending a pacing slot and sending its "
            "message back to the queue for a second; the pacing target is half the limit per instance, less "
            "the pacer's headroom",
        ),
        Figure(
            "delivery.loops.throttled",
            f"{burst}, requests answered 429",
            *(100 * len(throttled) / len(records) if records else None, "%", None, "value_max", THROTTLED_TARGET),
            note=f"up to {max(sends_per_instance, default=0)} requests left one instance within 1 s (its share: "
            f"{rate / instances:g}) and up to {windows} reached Loops within 1 s (limit {limit:g})",
        ),
        Figure(
            "memory.delivery.loops_instance",
            f"Peak memory (peak RSS), Delivery, a Loops instance after the burst of {BURST}",
            *(max((s["peak_rss_mb"] for s in stats), default=None), "MB", None, "value_max", MEMORY_LIMIT_MB),
        ),
    ]
    details = {
        "requests": len(records),
        "distinct_delivered": len(distinct),
        "throttled_429": len(throttled),
        "other_errors": len(records) - len(ok) - len(throttled),
        "dlq_messages": dlq,
        "first_to_last_success_s": span,
        "max_requests_in_any_1s_window": windows,
        "limit_per_second": limit,
        "pacing": (rate, instances),
        "max_sends_per_instance_in_1s": max(sends_per_instance, default=None),
        "instances": [{k: v for k, v in s.items() if k != "sends"} for s in stats],
        "handler_seconds_per_message": handler_seconds / max(len(distinct), 1),
    }
    return figures, details


def most_in_a_second(moments: Iterable[float]) -> int:
    """Most moments within any window of one second."""
    return peak_overlap((moment, moment + 1.0) for moment in moments)


def run() -> BenchResult:
    sink = CountingSink()
    sys.stdout = sink  # the handlers' logs (counted for the cost estimate), before their Logger binds stdout
    batch_figures, batch_details = batch_benchmark(sink)
    burst_figures, burst_details = loops_burst()
    return BenchResult(batch_figures + burst_figures, {"batch": batch_details, "loops_burst": burst_details})

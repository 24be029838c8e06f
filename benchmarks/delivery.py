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

import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.common import (
    CHILD,
    LAYER_DIR,
    PYTHON,
    AwsCallCounter,
    BenchResult,
    BenchStack,
    CountingSink,
    Figure,
    calls_by_operation,
    log,
    summary,
    unique_token,
    vendor_messages,
    vendor_records,
)
from devstack.support.events import queue_arn
from devstack.support.handlers import forget_cold_start, load_function
from devstack.support.lambda_context import LambdaContext
from devstack.support.moto import MotoServer

VENDOR_LATENCY_MS = 100
BATCH = 10
REPEATS = 7
DEPLOYED_REPEATS = 4
PACING_IDLE_SECONDS = 1.1  # longer than the pacer's sliding window (1 s + 5 % headroom)
BATCH_TARGET = 2.0
BURST = 300
LOOPS_LIMIT = 10.0
THROUGHPUT_TARGET = 0.9
THROTTLED_TARGET = 5.0
BURST_TIMEOUT_SECONDS = 150.0


def _at(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(record["at"]).timestamp()


def peak_concurrency(records: list[dict[str, Any]]) -> int:
    """Most vendor requests in progress at once, from the sandbox log (answered at ``at`` after ``duration_ms``)."""
    edges = []
    for record in records:
        end = _at(record)
        edges.append((end - record["duration_ms"] / 1000, 1))
        edges.append((end, -1))
    edges.sort(key=lambda edge: (edge[0], edge[1]))
    current = peak = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


class InProcessDelivery:
    """The delivery handler in this process, reconfigurable between runs (as a new deployment would be)."""

    def __init__(self, endpoint: str, sandbox: Any, counter: AwsCallCounter, sink: CountingSink) -> None:
        self.endpoint = endpoint
        self.sandbox = sandbox
        self.counter = counter
        self.sink = sink
        self.log_bytes = 0
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
        self.run(1)  # the cold start of this configuration, not measured

    def run(self, size: int) -> tuple[float, list[dict[str, Any]], int]:
        """One invocation with ``size`` fresh records: (ms, the vendor requests it made, AWS calls)."""
        event = {"Records": vendor_records(self.vendor, size, self.token, os.environ["QUEUE_URL"], self.serial)}
        self.serial += size
        self.sandbox.clear_requests()
        calls_before, bytes_before = self.counter.total(), self.sink.bytes
        started = time.perf_counter()
        response = self.module.lambda_handler(event, LambdaContext(f"bench-{self.vendor}-delivery"))
        elapsed = (time.perf_counter() - started) * 1000
        calls = self.counter.total() - calls_before
        self.log_bytes = self.sink.bytes - bytes_before
        if response.get("batchItemFailures"):
            raise RuntimeError(f"delivery batch failed: {response}")
        requests = self.sandbox.requests(self.vendor)
        if len(requests) != size or any(r["status"] >= 300 for r in requests):
            raise RuntimeError(f"expected {size} successful vendor calls, got {[r['status'] for r in requests]}")
        return elapsed, requests, calls


def alternate(delivery: InProcessDelivery, repeats: int) -> dict[str, Any]:
    """One call and a batch of BATCH, alternately: their durations, vendor concurrency and AWS time per call."""
    runs: dict[str, Any] = {
        "one": [],
        "ten": [],
        "peaks": [],
        "calls": 0,
        "log_bytes": 0,
        "operations": collections.Counter(),
    }
    aws = {"one": [0.0, 0], "ten": [0.0, 0]}
    for repeat in range(repeats):
        for size in (1, BATCH) if repeat % 2 == 0 else (BATCH, 1):
            seconds_before, calls_before = delivery.counter.aws_seconds(), delivery.counter.total()
            operations_before = delivery.counter.snapshot()
            elapsed, requests, made = delivery.run(size)
            kind = "one" if size == 1 else "ten"
            aws[kind][0] += delivery.counter.aws_seconds() - seconds_before
            aws[kind][1] += delivery.counter.total() - calls_before
            runs[kind].append(elapsed)
            if size == BATCH:
                runs["peaks"].append(peak_concurrency(requests))
                runs["calls"] += made
                runs["operations"].update(delivery.counter.snapshot() - operations_before)
                runs["log_bytes"] += delivery.log_bytes
    runs["aws_ms_per_call"] = {kind: 1000 * sec / n if n else 0.0 for kind, (sec, n) in aws.items()}
    return runs


def idle_then_run(delivery: InProcessDelivery, size: int, idle: bool = True) -> tuple[float, list[dict[str, Any]], int]:
    """A run that finds the instance's pacing window empty, as a batch arriving after a quiet second does.

    Back-to-back runs would exceed the per-instance rate and measure the pacing doing its job.
    The wait is a precondition of the measurement, not part of it.
    """
    if idle:
        time.sleep(PACING_IDLE_SECONDS)
    return delivery.run(size)


def batch_benchmark(sink: CountingSink) -> tuple[list[Figure], dict[str, Any]]:
    from devstack.sandbox import SandboxServer

    counter = AwsCallCounter().install()
    try:
        with MotoServer() as moto, SandboxServer(host="127.0.0.1", port=0) as sandbox:
            delivery = InProcessDelivery(moto.endpoint, sandbox, counter, sink)
            vendor = "customerio"
            sandbox.set_latency(vendor, VENDOR_LATENCY_MS)
            delivery.configure(vendor, paced=False)
            counter.responses = {}
            unpaced = alternate(delivery, REPEATS)
            responses, counter.responses = counter.responses, None
            one_ms, ten_ms = statistics.median(unpaced["one"]), statistics.median(unpaced["ten"])
            log(f"delivery: unpaced batch of {BATCH} {ten_ms:.0f} ms, one call {one_ms:.0f} ms")
            # The same, with every AWS call answered at once: the handler's own concurrency.
            counter.stub = responses
            stubbed = alternate(delivery, REPEATS)
            counter.stub = None

            deployed: dict[str, dict[str, Any]] = {}
            for paced_vendor, repeats in (("customerio", DEPLOYED_REPEATS), ("convertloop", 1)):
                # One call after a batch still fits Customer.io's 20 per second; not ConvertLoop's 2.
                idle_single = paced_vendor == "convertloop"
                sandbox.set_latency(paced_vendor, VENDOR_LATENCY_MS)
                delivery.configure(paced_vendor, paced=True)
                runs = [
                    idle_then_run(delivery, size, idle=size == BATCH or idle_single)
                    for _ in range(repeats)
                    for size in (1, BATCH)
                ]
                deployed[paced_vendor] = {
                    "pacing": delivery.stack.pacing(paced_vendor),
                    "one_ms": statistics.median(r[0] for r in runs[0::2]),
                    "batch_ms": statistics.median(r[0] for r in runs[1::2]),
                    "peak_concurrency": max(peak_concurrency(r[1]) for r in runs[1::2]),
                }
                if paced_vendor == "customerio":  # and with AWS answered at once, to tell pacing from moto
                    counter.stub = responses
                    runs = [
                        idle_then_run(delivery, size, idle=size == BATCH or idle_single)
                        for _ in range(repeats)
                        for size in (1, BATCH)
                    ]
                    counter.stub = None
                    deployed[paced_vendor]["aws_stubbed_one_ms"] = statistics.median(r[0] for r in runs[0::2])
                    deployed[paced_vendor]["aws_stubbed_batch_ms"] = statistics.median(r[0] for r in runs[1::2])
                log(f"delivery: {paced_vendor} as deployed, batch {deployed[paced_vendor]['batch_ms']:.0f} ms")
    finally:
        counter.uninstall()

    peak = max(unpaced["peaks"])
    stub_one, stub_ten = statistics.median(stubbed["one"]), statistics.median(stubbed["ten"])
    aws_one, aws_ten = unpaced["aws_ms_per_call"]["one"], unpaced["aws_ms_per_call"]["ten"]
    if peak < BATCH:
        cause = (
            f"at most {peak} vendor calls were in flight at once, so a batch of {BATCH} takes "
            f"{-(-BATCH // max(peak, 1))} rounds of vendor latency"
        )
    else:
        cause = (
            f"all {BATCH} vendor calls overlapped; the rest is the emulator: moto's server answers DynamoDB one "
            f"request at a time, so the idempotency PutItem/UpdateItem took {aws_ten:.0f} ms each in a batch "
            f"against {aws_one:.0f} ms alone. With the AWS calls answered at once the batch takes "
            f"{stub_ten:.0f} ms against {stub_one:.0f} ms ({stub_ten / stub_one:.2f}x)"
        )
    figures = [
        Figure(
            key="delivery.batch10.unpaced",
            label=f"Delivery, batch of {BATCH}, vendor at {VENDOR_LATENCY_MS} ms, no pacing (vs one call)",
            value=ten_ms,
            unit="ms",
            baseline=one_ms,
            target=f"≤ {BATCH_TARGET:g}x",
            check="ratio_max",
            limit=BATCH_TARGET,
            note=cause,
        ),
        Figure(
            key="delivery.batch10.aws_stubbed",
            label=f"Delivery, batch of {BATCH}, vendor at {VENDOR_LATENCY_MS} ms, AWS answered at once (vs one call)",
            value=stub_ten,
            unit="ms",
            baseline=stub_one,
            note="the handler's own concurrency, without the emulator's serialised DynamoDB",
        ),
    ]
    cio = deployed["customerio"]
    rate, instances = cio["pacing"]
    figures.append(
        Figure(
            key="delivery.batch10.customerio_deployed",
            label=f"Delivery, batch of {BATCH}, Customer.io as deployed ({rate:g} req/s ÷ {instances} instances)",
            value=cio["batch_ms"],
            unit="ms",
            baseline=cio["one_ms"],
            target=f"≤ {BATCH_TARGET:g}x",
            check="ratio_max",
            limit=BATCH_TARGET,
            note=(
                f"pacing let at most {cio['peak_concurrency']} calls be in flight at once, although "
                f"{rate / instances:g} requests per second per instance would allow the whole batch"
                if cio["peak_concurrency"] < BATCH
                else (
                    f"all {BATCH} calls overlapped; as without pacing, the rest is moto's serialised DynamoDB: with "
                    f"AWS answered at once the batch takes {cio['aws_stubbed_batch_ms']:.0f} ms against "
                    f"{cio['aws_stubbed_one_ms']:.0f} ms"
                )
            ),
        )
    )
    cl = deployed["convertloop"]
    cl_rate, cl_instances = cl["pacing"]
    figures.append(
        Figure(
            key="delivery.batch10.convertloop_deployed",
            label=f"Delivery, batch of {BATCH}, ConvertLoop as deployed ({cl_rate:g} req/s ÷ {cl_instances})",
            value=cl["batch_ms"],
            unit="ms",
            baseline=cl["one_ms"],
            note=f"paced by design (the deployment-wide limit split over {cl_instances} instances); the wait is billed",
        )
    )
    details = {
        "vendor_latency_ms": VENDOR_LATENCY_MS,
        "unpaced": {
            "one_call_ms": summary(unpaced["one"]),
            "batch_ms": summary(unpaced["ten"]),
            "peak_vendor_concurrency": peak,
            "aws_ms_per_call": unpaced["aws_ms_per_call"],
            "aws_calls_per_record": unpaced["calls"] / (BATCH * REPEATS),
            "calls_by_operation_per_record": calls_by_operation(unpaced["operations"], per=BATCH * REPEATS),
            "log_bytes_per_record": unpaced["log_bytes"] / (BATCH * REPEATS),
        },
        "aws_stubbed": {
            "one_call_ms": summary(stubbed["one"]),
            "batch_ms": summary(stubbed["ten"]),
            "peak_vendor_concurrency": max(stubbed["peaks"]),
        },
        "deployed": deployed,
    }
    return figures, details


# -- Loops burst ---------------------------------------------------------------------------


def loops_burst() -> tuple[list[Figure], dict[str, Any]]:
    from devstack.sandbox import SandboxServer

    with (
        tempfile.TemporaryDirectory(prefix="bench-loops-") as workdir,
        MotoServer() as moto,
        SandboxServer(host="127.0.0.1", port=0) as sandbox,
    ):
        import boto3

        env = BenchStack(moto.endpoint, sandbox.as_env()).delivery_env("loops")
        queue = env["QUEUE_URL"]
        input_path = Path(workdir) / "none.json"
        input_path.write_text("[]", encoding="utf-8")
        config = {
            "mode": "delivery_worker",
            "input": str(input_path),
            "code_dir": env["LAMBDA_TASK_ROOT"],
            "layer_dir": str(LAYER_DIR),
            "queue_url": queue,
            "queue_arn": queue_arn(queue),
        }
        workers = [
            subprocess.Popen(  # noqa: S603 - our interpreter and our script
                [PYTHON, str(CHILD), json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                text=True,
            )
            for _ in range(2)
        ]
        ready_rss: list[float] = []
        try:
            for worker in workers:  # both instances warm and polling before the burst arrives
                assert worker.stdout is not None
                ready = json.loads(worker.stdout.readline() or '{"phase": "died"}')
                if ready["phase"] != "ready":
                    raise RuntimeError("a Loops delivery instance did not start")
                ready_rss.append(ready["peak_rss_mb"])
            sqs = boto3.client(
                "sqs",
                endpoint_url=moto.endpoint,
                region_name="us-east-1",
                aws_access_key_id="t",
                aws_secret_access_key="t",
            )
            from webhook_bridge.receiver.publisher import message_attributes

            messages = vendor_messages("loops", BURST, unique_token())
            for start in range(0, BURST, 10):
                entries = [
                    {
                        "Id": str(i),
                        "MessageBody": m.model_dump_json(),
                        "MessageAttributes": message_attributes(m, time.time()),
                    }
                    for i, m in enumerate(messages[start : start + 10])
                ]
                sqs.send_message_batch(QueueUrl=queue, Entries=entries)
            log(f"delivery: {BURST} Loops actions queued; two instances draining at ≤ 10 req/s")
            deadline = time.monotonic() + BURST_TIMEOUT_SECONDS
            log_ = sandbox.sandbox.log  # the RecordedRequest objects: cheap to count (the sandbox shares our GIL)
            while time.monotonic() < deadline and len(log_.list(vendor="loops", status=200)) < BURST:
                time.sleep(0.5)  # waiting for completion; the figures come from the sandbox's timestamps
        finally:
            stats = []
            for worker in workers:
                assert worker.stdin is not None and worker.stdout is not None
                worker.stdin.close()
            for worker in workers:
                assert worker.stdout is not None
                lines = [json.loads(line) for line in worker.stdout.read().splitlines() if line.strip()]
                stats.extend(line for line in lines if line.get("phase") == "stats")
                worker.wait(timeout=30)
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
    first_request = min(_at(r) - r["duration_ms"] / 1000 for r in records)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    throughput = (len(times) - 1) / span if span else 0.0
    windows = max_in_window(sorted(_at(r) for r in records), 1.0)
    handler_seconds = sum(s["handler_seconds"] for s in stats)
    sends_per_instance = [max_in_window(sorted(s["sends"]), 1.0) for s in stats if s["sends"]]
    figures = [
        Figure(
            key="delivery.loops.throughput",
            label=f"Loops burst of {BURST}, sustained throughput (2 instances, 10 req/s ÷ 2)",
            value=throughput,
            unit="req/s",
            baseline=LOOPS_LIMIT,
            target=f"≥ {THROUGHPUT_TARGET:.0%} of limit",
            check="ratio_min",
            limit=THROUGHPUT_TARGET,
            note=(
                f"{len(throttled)} requests were refused with 429, each spending a pacing slot and sending its "
                "message back to the queue for a second; the pacing target is half the limit per instance, less "
                "the pacer's headroom"
            ),
        ),
        Figure(
            key="delivery.loops.throttled",
            label=f"Loops burst of {BURST}, requests answered 429",
            value=100 * len(throttled) / len(records) if records else None,
            unit="%",
            target=f"≤ {THROTTLED_TARGET:g} %",
            check="value_max",
            limit=THROTTLED_TARGET,
            note=(
                f"up to {max(sends_per_instance, default=0)} requests left one instance within 1 s (its share: 5) "
                f"and up to {windows} reached Loops within 1 s (limit 10)"
            ),
        ),
        Figure(
            key="memory.delivery.loops_instance",
            label=f"Peak memory (peak RSS), Delivery, a Loops instance after the burst of {BURST}",
            value=max((s["peak_rss_mb"] for s in stats), default=None),
            unit="MB",
            target="≤ 128 MB",
            check="value_max",
            limit=128,
        ),
    ]
    details = {
        "requests": len(records),
        "succeeded": len(ok),
        "distinct_delivered": len(distinct),
        "throttled_429": len(throttled),
        "other_errors": len(records) - len(ok) - len(throttled),
        "dlq_messages": dlq,
        "first_to_last_success_s": span,
        "burst_start_to_last_success_s": times[-1] - first_request if times else None,
        "max_requests_in_any_1s_window": windows,
        "max_sends_per_instance_in_1s": max(sends_per_instance, default=None),
        "instances": [{k: v for k, v in s.items() if k not in ("sends", "batch_times")} for s in stats],
        "instance_peak_rss_mb_ready": ready_rss,
        "handler_seconds_per_message": handler_seconds / max(len(distinct), 1),
    }
    return figures, details


def max_in_window(times: list[float], window: float) -> int:
    best = start = 0
    for end, moment in enumerate(times):
        while times[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def run() -> BenchResult:
    sink = CountingSink()
    sys.stdout = sink  # the handlers' logs (counted for the cost estimate), before their Logger binds stdout
    batch_figures, batch_details = batch_benchmark(sink)
    burst_figures, burst_details = loops_burst()
    return BenchResult(batch_figures + burst_figures, {"batch": batch_details, "loops_burst": burst_details})

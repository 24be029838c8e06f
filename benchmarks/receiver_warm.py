"""Receiver, warm: the real Stripe / Typeform handler vs a bare boto3 replay of the same AWS calls.

Both run in this process against moto in-process (``mock_aws``), interleaved webhook by
webhook so that noise from the machine falls on both alike. The real handler gets an API
Gateway event with a signed body and goes through signature check, parsing, dedupe
(powertools idempotency on DynamoDB), mapping and ``SendMessageBatch``. The baseline gets
the same kind of event, checks the HMAC, ``json.loads`` the body, then makes exactly the
AWS calls the real handler made for a probe webhook, with the same parameters (ids
substituted so that every webhook writes new items), through plain boto3 clients.
"""

from __future__ import annotations

import collections
import cProfile
import hashlib
import json
import os
import pstats
import sys
import time
from typing import Any

from benchmarks.common import (
    ROOT,
    WEBHOOK_NAMES,
    AwsCall,
    AwsCalls,
    BenchResult,
    BenchStack,
    CountingSink,
    Figure,
    aws_wall_seconds,
    body_of,
    calls_by_operation,
    log,
    measure,
    payload_for,
    peak_overlap,
    receiver_function,
    size,
    summary,
    unique_token,
    webhook_ids,
)
from devstack.support.events import webhook_event
from devstack.support.handlers import load_function
from devstack.support.lambda_context import LambdaContext
from devstack.support.signing import signature_matches

WARMUP = size(20, 1)
ITERATIONS = size(300, 2)
MIN_ITERATIONS = size(200, 2)  # on a loaded machine the loop stops here once TIME_BUDGET_SECONDS has passed
TIME_BUDGET_SECONDS = 40.0
STUB_ITERATIONS = size(150, 1)
PROFILE_ITERATIONS = size(80, 1)
WARM_TARGET = 1.5


class BareReceiver:
    """The floor: HMAC check, ``json.loads``, then the recorded AWS calls through plain boto3."""

    def __init__(
        self, provider: str, script: list[tuple[str, str, dict[str, Any]]], probe_ids: list[str], idempotency_table: str
    ) -> None:
        import boto3
        from botocore import xform_name

        self.provider = provider
        clients = {service: boto3.client(service) for service in {service for service, _, _ in script}}
        self.methods = [getattr(clients[service], xform_name(operation)) for service, operation, _ in script]
        self.template = json.dumps([params for _, _, params in script])
        self.probe_ids = probe_ids
        # powertools keys the idempotency record by a hash of the event id: substitute it too.
        self.probe_hashes = [
            params["Item"]["id"]["S"].rsplit("#", 1)[1]
            for service, operation, params in script
            if operation == "PutItem" and params.get("TableName") == idempotency_table
        ]

    def params_for(self, new_ids: list[str]) -> list[dict[str, Any]]:
        """The probe's call parameters with this webhook's ids (same lengths, so same sizes)."""
        text = self.template
        for old, new in zip(self.probe_ids, new_ids, strict=True):
            text = text.replace(old, new)
        for old in self.probe_hashes:
            text = text.replace(old, hashlib.md5(new_ids[0].encode(), usedforsecurity=False).hexdigest())
        params: list[dict[str, Any]] = json.loads(text)
        return params

    def __call__(self, event: dict[str, Any], calls: list[dict[str, Any]]) -> dict[str, Any]:
        body = event["body"].encode("utf-8")
        if not signature_matches(self.provider, body, event["headers"][f"{self.provider}-signature"]):
            return {"statusCode": 401}
        payload = json.loads(body)
        for method, params in zip(self.methods, calls, strict=True):
            method(**params)
        event_id = payload.get("id") or payload.get("event_id")
        return {"statusCode": 200, "body": json.dumps({"event_id": event_id, "status": "accepted"})}


def check(response: dict[str, Any]) -> None:
    if response["statusCode"] != 200 or json.loads(response["body"])["status"] != "accepted":
        raise RuntimeError(f"a webhook was not accepted: {response}")


def sends(calls: list[AwsCall]) -> list[tuple[float, float]]:
    return [(started, ended) for _, operation, started, ended in calls if operation == "SendMessageBatch"]


def short_name(filename: str, function: str) -> str:
    parts = filename.replace("\\", "/").split("/")
    for anchor in ("site-packages", "python", "functions"):
        if anchor in parts:
            parts = parts[parts.index(anchor) + 1 :]
            break
    else:
        parts = parts[-2:]
    return f"{'/'.join(parts)}:{function}" if filename not in ("~", "") else function


def profile_top(run_once: Any, iterations: int, top: int = 12) -> list[dict[str, Any]]:
    """The handler's own hottest functions (AWS stubbed out), by self time, ms per webhook."""
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(iterations):
        run_once(n)
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, _, function), (_, calls, self_time, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "benchmarks" in filename:
            continue  # the harness (stubbed AWS calls), not the handler
        rows.append((self_time, cumulative, calls, short_name(filename, function)))
    rows.sort(reverse=True)
    return [
        {"function": name, "self_ms": round(s * 1000 / iterations, 3), "cum_ms": round(c * 1000 / iterations, 3)}
        for s, c, _, name in rows[:top]
    ]


def run(provider: str) -> BenchResult:
    sink = CountingSink()
    sys.stdout = sink  # before the handler module creates its Logger (it binds sys.stdout then)
    from moto import mock_aws

    token = unique_token()
    with mock_aws(), AwsCalls().installed() as aws:
        stack = BenchStack(endpoint=None)
        function = receiver_function(provider)
        os.environ.update(stack.env(function))
        spec = stack.template.functions[function]
        handler = load_function(spec.code_dir.name).lambda_handler
        context = LambdaContext(os.environ["AWS_LAMBDA_FUNCTION_NAME"])

        def event(n: int) -> dict[str, Any]:
            return webhook_event(provider, body_of(payload_for(provider, n, token)))

        def accept(event: dict[str, Any]) -> None:
            check(handler(event, context))

        accept(event(0))
        mark, aws.recorded = len(aws.done), []
        accept(event(1))
        script, aws.recorded = aws.recorded, None
        sends_at_once = peak_overlap(sends(aws.done[mark:]))
        baseline = BareReceiver(provider, script, webhook_ids(provider, 1, token), os.environ["IDEMPOTENCY_TABLE"])

        total = WARMUP + ITERATIONS
        real_events = [event(10 + i) for i in range(total)]
        base_inputs = [
            (event(n), baseline.params_for(webhook_ids(provider, n, token))) for n in range(500_000, 500_000 + total)
        ]
        log(f"receiver_warm {provider}: {len(script)} AWS calls per webhook; {total} webhooks each, interleaved")

        times: dict[str, list[float]] = {"real": [], "base": []}
        own: dict[str, list[float]] = {"real": [], "base": []}
        calls = {"real": 0, "base": 0}
        log_bytes = 0
        perf = time.perf_counter
        loop_started, loop_mark = perf(), len(aws.done)
        done = 0
        for i in range(total):
            if i - WARMUP >= MIN_ITERATIONS and perf() - loop_started > TIME_BUDGET_SECONDS:
                break
            done = max(0, i + 1 - WARMUP)
            for variant in ("real", "base") if i % 2 == 0 else ("base", "real"):
                is_real = variant == "real"
                invoke, args = (handler, (real_events[i], context)) if is_real else (baseline, base_inputs[i])
                run = measure(aws, sink, invoke, *args)
                check(run.response)
                if is_real:
                    sends_at_once = max(sends_at_once, peak_overlap(sends(run.aws)))
                if i < WARMUP:
                    continue
                times[variant].append(run.ms)
                own[variant].append(run.ms - aws_wall_seconds(run.aws) * 1000)
                calls[variant] += len(run.aws)
                log_bytes += run.log_bytes if is_real else 0

        operation_seconds: dict[tuple[str, str], float] = collections.defaultdict(float)
        for service, operation, started_at, ended_at in aws.done[loop_mark:]:
            operation_seconds[(service, operation)] += ended_at - started_at
        operation_calls = collections.Counter((service, operation) for service, operation, _ in script)
        # The handler's own work, with every AWS call answered at once.
        stub_events = [event(3_000_000 + n) for n in range(STUB_ITERATIONS + PROFILE_ITERATIONS)]
        stubbed = []
        with aws.stubbed():
            for stub_event in stub_events[:STUB_ITERATIONS]:
                started = perf()
                handler(stub_event, context)
                stubbed.append((perf() - started) * 1000)
            profile = profile_top(lambda n: handler(stub_events[STUB_ITERATIONS + n], context), PROFILE_ITERATIONS)

    real, base = summary(times["real"]), summary(times["base"])
    real_own, base_own = summary(own["real"]), summary(own["base"])
    calls_per_webhook = calls["real"] / done
    label = WEBHOOK_NAMES[provider]
    cause = (
        f"the handler's own work ({real_own['p50']:.1f} ms at p50 outside AWS calls, vs {base_own['p50']:.2f} ms "
        "for the baseline): see the profile in docs/benchmarks.md"
    )
    figures = [
        Figure(
            f"receiver_warm.{provider}.{q}",
            f"Receiver warm, {label}, {q}",
            *(real[q], "ms", base[q], "ratio_max", WARM_TARGET, cause),
        )
        for q in ("p50", "p99")
    ]
    calls_label = f"AWS calls per webhook, {label}"
    figures.append(
        Figure(f"receiver_warm.{provider}.calls", calls_label, calls_per_webhook, "calls", calls["base"] / done)
    )
    details = {
        "handler_file": f"{spec.code_dir.relative_to(ROOT)}/{spec.handler.split('.')[0]}.py",
        "iterations": done,
        "warmup": WARMUP,
        "real_ms": real,
        "baseline_ms": base,
        "real_own_ms": real_own,
        "baseline_own_ms": base_own,
        "stubbed_aws_ms": summary(stubbed),
        "calls_per_webhook": calls_per_webhook,
        "calls_by_operation": calls_by_operation(operation_calls),
        # Real and baseline make the same calls: mean ms per call over both, in the timed loop.
        "ms_per_call": {
            f"{sv}:{op}": round(operation_seconds[(sv, op)] * 1000 / (2 * (done + WARMUP) * n), 3)
            for (sv, op), n in operation_calls.items()
        },
        "write_items": [
            {"operation": o, "table": p.get("TableName"), "bytes": len(json.dumps(p.get("Item", p.get("Key", {}))))}
            for s, o, p in script
            if s == "dynamodb"
        ],
        "sqs_request_bytes": [len(json.dumps(p)) for s, o, p in script if o == "SendMessageBatch"],
        "sqs_sends_in_flight_at_once": sends_at_once,  # most at once in any webhook of the run
        "messages_per_webhook": sum(len(p["Entries"]) for s, o, p in script if o == "SendMessageBatch"),
        "log_bytes_per_webhook": log_bytes / done,
        "webhook_bytes": len(real_events[0]["body"].encode()),
        "profile_top": profile,
    }
    return BenchResult(figures, details)

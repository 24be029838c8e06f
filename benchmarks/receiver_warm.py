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
import hmac
import json
import os
import pstats
import sys
import time
from typing import Any

from benchmarks.common import (
    AwsCallCounter,
    BenchResult,
    BenchStack,
    CountingSink,
    Figure,
    body_of,
    calls_by_operation,
    log,
    payload_for,
    peak_overlap,
    receiver_function,
    summary,
    unique_token,
)
from devstack.support.events import webhook_event
from devstack.support.handlers import load_function
from devstack.support.lambda_context import LambdaContext
from devstack.support.signing import TEST_SECRETS

WARMUP = 20
ITERATIONS = 300
MIN_ITERATIONS = 200  # on a loaded machine the loop stops here once TIME_BUDGET_SECONDS has passed
TIME_BUDGET_SECONDS = 40.0
STUB_ITERATIONS = 150
PROFILE_ITERATIONS = 80
WARM_TARGET = 1.5
LABEL = {"stripe": "Stripe customer.created", "typeform": "Typeform form_response"}


def ids_of(provider: str, payload: dict[str, Any]) -> list[str]:
    """The strings that make a webhook distinct, as they appear in the AWS calls (emails case-folded)."""
    if provider == "stripe":
        customer = payload["data"]["object"]
        return [payload["id"], customer["id"], customer["email"].casefold()]
    response = payload["form_response"]
    email = next(a["email"] for a in response["answers"] if a.get("type") == "email")
    return [payload["event_id"], response["token"], email.casefold()]


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

    def params_for(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """The probe's call parameters with this webhook's ids (same lengths, so same sizes)."""
        text = self.template
        new_ids = ids_of(self.provider, payload)
        for old, new in zip(self.probe_ids, new_ids, strict=True):
            text = text.replace(old, new)
        for old in self.probe_hashes:
            text = text.replace(old, hashlib.md5(new_ids[0].encode(), usedforsecurity=False).hexdigest())
        params: list[dict[str, Any]] = json.loads(text)
        return params

    def __call__(self, event: dict[str, Any], calls: list[dict[str, Any]]) -> dict[str, Any]:
        body = event["body"].encode("utf-8")
        secret = TEST_SECRETS[self.provider]
        if self.provider == "stripe":
            parts = dict(part.split("=", 1) for part in event["headers"]["stripe-signature"].split(","))
            expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, parts["v1"]) or abs(time.time() - int(parts["t"])) > 300:
                return {"statusCode": 401}
        else:
            import base64

            digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
            expected = "sha256=" + base64.b64encode(digest).decode()
            if not hmac.compare_digest(expected, event["headers"]["typeform-signature"]):
                return {"statusCode": 401}
        payload = json.loads(body)
        for method, params in zip(self.methods, calls, strict=True):
            method(**params)
        return {"statusCode": 200, "body": json.dumps({"event_id": payload.get("id") or payload.get("event_id")})}


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

    counter = AwsCallCounter().install()
    token = unique_token()
    with mock_aws():
        stack = BenchStack(endpoint=None)
        function = receiver_function(provider)
        os.environ.update(stack.env(function))
        handler = load_function(stack.template.functions[function].code_dir.name).lambda_handler
        context = LambdaContext(os.environ["AWS_LAMBDA_FUNCTION_NAME"])

        def invoke(n: int) -> dict[str, Any]:
            response: dict[str, Any] = handler(
                webhook_event(provider, body_of(payload_for(provider, n, token))), context
            )
            return response

        cold = invoke(0)
        probe_payload = payload_for(provider, 1, token)
        counter.responses = {}
        with counter.recording() as script:
            probe = handler(webhook_event(provider, body_of(probe_payload)), context)
        responses, counter.responses = counter.responses, None
        sends_at_once = peak_overlap([(a, b) for _, op, a, b in counter.intervals if op == "SendMessageBatch"])
        for response in (cold, probe):
            if response["statusCode"] != 200 or json.loads(response["body"])["status"] != "accepted":
                raise RuntimeError(f"{provider} receiver did not accept the probe webhook: {response}")
        baseline = BareReceiver(provider, script, ids_of(provider, probe_payload), os.environ["IDEMPOTENCY_TABLE"])

        total = WARMUP + ITERATIONS
        real_events = [webhook_event(provider, body_of(payload_for(provider, 10 + i, token))) for i in range(total)]
        base_payloads = [payload_for(provider, 500_000 + i, token) for i in range(total)]
        base_events = [webhook_event(provider, body_of(p)) for p in base_payloads]
        base_calls = [baseline.params_for(p) for p in base_payloads]
        log(f"receiver_warm {provider}: {len(script)} AWS calls per webhook; {total} webhooks each, interleaved")

        operation_seconds_before = collections.Counter(counter.seconds_by_operation)
        times: dict[str, list[float]] = {"real": [], "base": []}
        own: dict[str, list[float]] = {"real": [], "base": []}
        calls = {"real": 0, "base": 0}
        log_bytes = 0
        perf = time.perf_counter
        loop_started = perf()
        done = 0
        for i in range(total):
            if i - WARMUP >= MIN_ITERATIONS and perf() - loop_started > TIME_BUDGET_SECONDS:
                break
            done = max(0, i + 1 - WARMUP)
            for variant in ("real", "base") if i % 2 == 0 else ("base", "real"):
                calls_before, aws_before, bytes_before = counter.total(), counter.aws_wall_seconds(), sink.bytes
                if variant == "real":
                    counter.intervals, counter.track_intervals = [], True
                    started = perf()
                    response = handler(real_events[i], context)
                    elapsed = perf() - started
                    counter.track_intervals = False
                    sqs = [(a, b) for _, op, a, b in counter.intervals if op == "SendMessageBatch"]
                    sends_at_once = max(sends_at_once, peak_overlap(sqs))
                    if response["statusCode"] != 200 or json.loads(response["body"])["status"] != "accepted":
                        raise RuntimeError(f"webhook {i} not accepted: {response}")
                else:
                    started = perf()
                    response = baseline(base_events[i], base_calls[i])
                    elapsed = perf() - started
                    if response["statusCode"] != 200:
                        raise RuntimeError(f"baseline webhook {i} refused: {response}")
                if i < WARMUP:
                    continue
                times[variant].append(elapsed * 1000)
                own[variant].append((elapsed - (counter.aws_wall_seconds() - aws_before)) * 1000)
                calls[variant] += counter.total() - calls_before
                if variant == "real":
                    log_bytes += sink.bytes - bytes_before

        operation_seconds = collections.Counter(counter.seconds_by_operation)
        operation_seconds.subtract(operation_seconds_before)
        operation_calls = {(sv, op): n for (sv, op), n in collections.Counter((s, o) for s, o, _ in script).items()}
        # The handler's own work, with every AWS call answered from the probe's responses.
        counter.stub = responses
        stub_events = [
            webhook_event(provider, body_of(payload_for(provider, 3_000_000 + n, token)))
            for n in range(STUB_ITERATIONS + PROFILE_ITERATIONS)
        ]
        stubbed = []
        for event in stub_events[:STUB_ITERATIONS]:
            started = perf()
            handler(event, context)
            stubbed.append((perf() - started) * 1000)
        profile = profile_top(lambda n: handler(stub_events[STUB_ITERATIONS + n], context), PROFILE_ITERATIONS)
        counter.stub = None
    counter.uninstall()

    real, base = summary(times["real"]), summary(times["base"])
    real_own, base_own = summary(own["real"]), summary(own["base"])
    calls_per_webhook = calls["real"] / done
    label = LABEL[provider]
    cause = (
        f"the handler's own work ({real_own['p50']:.1f} ms at p50 outside AWS calls, vs {base_own['p50']:.2f} ms "
        "for the baseline): see the profile in docs/benchmarks.md"
    )
    figures = [
        Figure(
            key=f"receiver_warm.{provider}.{q}",
            label=f"Receiver warm, {label}, {q}",
            value=real[q],
            unit="ms",
            baseline=base[q],
            target=f"≤ {WARM_TARGET}x",
            check="ratio_max",
            limit=WARM_TARGET,
            note=cause,
        )
        for q in ("p50", "p99")
    ]
    figures.append(
        Figure(
            key=f"receiver_warm.{provider}.calls",
            label=f"AWS calls per webhook, {label}",
            value=calls_per_webhook,
            unit="calls",
            baseline=calls["base"] / done,
        )
    )
    details = {
        "provider": provider,
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

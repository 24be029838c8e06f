"""What a million webhooks cost on AWS at list prices, from the figures measured in this run.

Prices are us-east-1 list prices as assumed for 2026 (check the AWS pricing pages before
relying on them); free tiers are ignored. Inputs come from the other benchmarks:

- receiver: mean warm duration (in-process moto, ``receiver_warm``), AWS calls and item
  sizes per webhook, SQS messages per webhook, bytes logged per webhook;
- delivery: one Lambda invocation per message under steady traffic (the one-call
  invocation of ``delivery`` with the vendor at 100 ms), AWS calls and log bytes per
  message; for bursts, the billed seconds per message of the paced deliveries;
- memory: the configured MemorySize (template.yaml), which is what Lambda bills.
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.common import BenchResult, Figure, memory_mb

PRICES = {
    "api_gateway_http_per_million": 1.00,  # HTTP API, requests up to 512 KB each
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_per_million_requests": 0.20,
    "sqs_standard_per_million_requests": 0.40,  # each 64 KB chunk of a payload is one request
    "dynamodb_per_million_wru": 0.625,  # on-demand
    "dynamodb_per_million_rru": 0.125,
    "cloudwatch_logs_per_gb_ingested": 0.50,  # not in the list; shown separately
}
PRICE_DATE = "as of 2026 (assumed list prices, us-east-1; verify on aws.amazon.com/pricing)"
LAMBDA_REPORT_LINE_BYTES = 350  # START / END / REPORT lines Lambda writes per invocation (approximate)


def _wru(item_bytes: float) -> int:
    return max(1, math.ceil(item_bytes / 1024))


def _sqs_requests(payload_bytes: float) -> int:
    return max(1, math.ceil(payload_bytes / (64 * 1024)))


def receiver_side(warm: dict[str, Any], mean_ms: float) -> dict[str, float]:
    """Cost per webhook of the receiver: API Gateway, Lambda, SQS sends, DynamoDB writes, logs."""
    gb = memory_mb() / 1024
    writes = sum(_wru(item["bytes"]) for item in warm["write_items"] if item["operation"] != "GetItem")
    reads = sum(1 for item in warm["write_items"] if item["operation"] == "GetItem")
    sends = sum(_sqs_requests(size) for size in warm["sqs_request_bytes"])
    log_bytes = warm["log_bytes_per_webhook"] + LAMBDA_REPORT_LINE_BYTES
    return {
        "api_gateway": PRICES["api_gateway_http_per_million"] / 1e6,
        "lambda_requests": PRICES["lambda_per_million_requests"] / 1e6,
        "lambda_duration": math.ceil(mean_ms) / 1000 * gb * PRICES["lambda_gb_second_arm64"],
        "sqs_send": sends * PRICES["sqs_standard_per_million_requests"] / 1e6,
        "dynamodb": writes * PRICES["dynamodb_per_million_wru"] / 1e6
        + reads * PRICES["dynamodb_per_million_rru"] / 1e6,
        "logs": log_bytes / 1024**3 * PRICES["cloudwatch_logs_per_gb_ingested"],
    }


def delivery_side(
    messages: int, invocation_ms: float, per_invocation: float, calls_per_message: float, log_bytes: float
):
    """Cost per webhook of delivering ``messages`` (one per vendor): Lambda, SQS receive/delete, DynamoDB, logs.

    ``per_invocation`` messages share an invocation (and one ReceiveMessage, one DeleteMessageBatch).
    """
    gb = memory_mb() / 1024
    invocations = messages / per_invocation
    return {
        "lambda_requests": invocations * PRICES["lambda_per_million_requests"] / 1e6,
        "lambda_duration": invocations * math.ceil(invocation_ms) / 1000 * gb * PRICES["lambda_gb_second_arm64"],
        "sqs_receive_delete": 2 * invocations * PRICES["sqs_standard_per_million_requests"] / 1e6,
        "dynamodb": messages * calls_per_message * PRICES["dynamodb_per_million_wru"] / 1e6,
        "logs": (messages * log_bytes + invocations * LAMBDA_REPORT_LINE_BYTES)
        / 1024**3
        * PRICES["cloudwatch_logs_per_gb_ingested"],
    }


def per_million(parts: dict[str, float]) -> dict[str, float]:
    return {name: round(value * 1e6, 4) for name, value in parts.items()}


def run(results: dict[str, dict[str, Any]]) -> BenchResult:
    figures: list[Figure] = []
    details: dict[str, Any] = {"prices": PRICES, "price_date": PRICE_DATE, "memory_mb": memory_mb(), "scenarios": {}}
    delivery = results.get("delivery", {}).get("details", {})
    batch = delivery.get("batch", {})
    unpaced = batch.get("unpaced")
    for provider in ("stripe", "typeform"):
        warm = results.get(f"receiver_warm:{provider}", {}).get("details")
        if not warm or not unpaced:
            continue
        one_call_ms = unpaced["one_call_ms"]["mean"]
        calls_per_message = unpaced["aws_calls_per_record"]
        log_per_message = unpaced.get("log_bytes_per_record", 0.0)
        messages = warm["messages_per_webhook"]
        steady = {
            "receiver": receiver_side(warm, warm["real_ms"]["mean"]),
            "delivery": delivery_side(messages, one_call_ms, 1, calls_per_message, log_per_message),
        }
        floor = {
            "receiver": receiver_side(warm, warm["baseline_ms"]["mean"]),
            "delivery": delivery_side(messages, one_call_ms, 1, calls_per_message, log_per_message),
        }
        # Bursts: full batches of 10, each vendor paced as deployed; billed time per message as measured.
        burst_seconds = _burst_seconds_per_message(delivery)
        burst_delivery: dict[str, float] = {}
        for seconds in burst_seconds.values():
            part = delivery_side(1, seconds * 1000 * 10, 10, calls_per_message, log_per_message)
            for name, value in part.items():
                burst_delivery[name] = burst_delivery.get(name, 0.0) + value
        burst = {"receiver": steady["receiver"], "delivery": burst_delivery}

        def total(scenario: dict[str, dict[str, float]], *, logs: bool) -> float:
            return sum(v for side in scenario.values() for k, v in side.items() if logs or k != "logs") * 1e6

        details["scenarios"][provider] = {
            "steady": {side: per_million(parts) for side, parts in steady.items()},
            "floor": {side: per_million(parts) for side, parts in floor.items()},
            "burst": {side: per_million(parts) for side, parts in burst.items()},
            "burst_seconds_per_message": burst_seconds,
            "totals": {
                "steady": total(steady, logs=False),
                "steady_with_logs": total(steady, logs=True),
                "floor": total(floor, logs=False),
                "burst": total(burst, logs=False),
                "burst_with_logs": total(burst, logs=True),
            },
            "inputs": {
                "receiver_mean_ms": warm["real_ms"]["mean"],
                "baseline_mean_ms": warm["baseline_ms"]["mean"],
                "delivery_one_call_mean_ms": one_call_ms,
                "messages_per_webhook": messages,
                "aws_calls_per_webhook": warm["calls_per_webhook"],
                "dynamodb_calls_per_message": calls_per_message,
            },
        }
        label = {"stripe": "Stripe customer.created", "typeform": "Typeform form_response"}[provider]
        totals = details["scenarios"][provider]["totals"]
        figures.append(
            Figure(
                key=f"cost.{provider}.steady",
                label=f"Cost per million webhooks, {label}, steady traffic (list prices)",
                value=totals["steady"],
                unit="$",
                baseline=totals["floor"],
                note="baseline: the same calls with the bare receiver's duration; logs and X-Ray not included",
            )
        )
        figures.append(
            Figure(
                key=f"cost.{provider}.burst",
                label=f"Cost per million webhooks, {label}, bursts (full batches, paced as deployed)",
                value=totals["burst"],
                unit="$",
                baseline=totals["floor"],
                note="pacing waits inside the delivery functions are billed Lambda time",
            )
        )
    return BenchResult(figures, details)


def _burst_seconds_per_message(delivery: dict[str, Any]) -> dict[str, float]:
    """Billed Lambda seconds per message when batches are full and each vendor is paced as deployed."""
    batch = delivery.get("batch", {})
    deployed = batch.get("deployed", {})
    seconds: dict[str, float] = {}
    if "customerio" in deployed:
        seconds["customerio"] = deployed["customerio"]["batch_ms"] / 1000 / 10
    if "convertloop" in deployed:
        # SegMetrics is deployed with the same pacing as ConvertLoop (10 req/s over 5 instances).
        seconds["convertloop"] = seconds["segmetrics"] = deployed["convertloop"]["batch_ms"] / 1000 / 10
    burst = delivery.get("loops_burst", {})
    if burst.get("handler_seconds_per_message"):
        seconds["loops"] = burst["handler_seconds_per_message"]
    return seconds

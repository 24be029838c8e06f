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

import collections
import math
from typing import Any

from benchmarks.common import WEBHOOK_NAMES, BenchResult, Figure, delivery_source, memory_mb, pacing
from webhook_bridge.vendors.catalog import specs

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
COST_TARGET = 9.0  # $ per million webhooks (issue 14)
# The volume: a million webhooks a month, i.e. this many messages a second on each vendor queue.
MESSAGES_PER_QUEUE_PER_SECOND = 1e6 / (30 * 86400)
FULL_BATCH = float(delivery_source().batch_size)  # records per invocation at the most
SNS_PER_MILLION_REQUESTS = 0.50  # Publish / PublishBatch, 64 KB chunks; SNS → SQS deliveries are free
LAMBDA_REPORT_LINE_BYTES = 350  # START / END / REPORT lines Lambda writes per invocation (approximate)


def _wru(item_bytes: float) -> int:
    return max(1, math.ceil(item_bytes / 1024))


def _sqs_requests(payload_bytes: float) -> int:
    return max(1, math.ceil(payload_bytes / (64 * 1024)))


def _lambda(invocations: float, ms: float) -> dict[str, float]:
    """Lambda's request and duration lines: each invocation billed by the ms started, at the configured memory."""
    return {
        "lambda_requests": invocations * PRICES["lambda_per_million_requests"] / 1e6,
        "lambda_duration": invocations * math.ceil(ms) / 1000 * memory_mb() / 1024 * PRICES["lambda_gb_second_arm64"],
    }


def _dynamodb(writes: float, reads: float) -> float:
    return (writes * PRICES["dynamodb_per_million_wru"] + reads * PRICES["dynamodb_per_million_rru"]) / 1e6


def _logs(log_bytes: float) -> float:
    return log_bytes / 1024**3 * PRICES["cloudwatch_logs_per_gb_ingested"]


def receiver_side(warm: dict[str, Any], mean_ms: float) -> dict[str, float]:
    """Cost per webhook of the receiver: API Gateway, Lambda, SQS sends, DynamoDB writes, logs."""
    writes = sum(_wru(item["bytes"]) for item in warm["write_items"] if item["operation"] != "GetItem")
    reads = sum(1 for item in warm["write_items"] if item["operation"] == "GetItem")
    sends = sum(_sqs_requests(size) for size in warm["sqs_request_bytes"])
    return {
        "api_gateway": PRICES["api_gateway_http_per_million"] / 1e6,
        **_lambda(1, mean_ms),
        "sqs_send": sends * PRICES["sqs_standard_per_million_requests"] / 1e6,
        "dynamodb": _dynamodb(writes, reads),
        "logs": _logs(warm["log_bytes_per_webhook"] + LAMBDA_REPORT_LINE_BYTES),
    }


DYNAMODB_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})


def dynamodb_per_record(unpaced: dict[str, Any]) -> tuple[float, float]:
    """(writes, reads) per delivered record; items are small (1 WRU, 1 RRU each)."""
    operations = unpaced["calls_by_operation_per_record"]
    dynamodb = {name.split(":", 1)[1]: n for name, n in operations.items() if name.startswith("dynamodb:")}
    reads = sum(n for operation, n in dynamodb.items() if operation in DYNAMODB_READS)
    return sum(dynamodb.values()) - reads, reads


def delivery_side(
    messages: int, invocation_ms: float, per_invocation: float, per_record: tuple[float, float], log_bytes: float
) -> dict[str, float]:
    """Cost per webhook of delivering ``messages`` (one per vendor): Lambda, SQS receive/delete, DynamoDB, logs.

    ``per_invocation`` messages share an invocation (and one ReceiveMessage, one DeleteMessageBatch).
    """
    invocations = messages / per_invocation
    return {
        **_lambda(invocations, invocation_ms),
        "sqs_receive_delete": 2 * invocations * PRICES["sqs_standard_per_million_requests"] / 1e6,
        "dynamodb": messages * _dynamodb(*per_record),
        "logs": _logs(messages * log_bytes + invocations * LAMBDA_REPORT_LINE_BYTES),
    }


def batch_ms(size: float, one_call_ms: float, batch10_ms: float) -> float:
    """Handler time of a batch of ``size`` records, between the two measured points (1 and 10)."""
    return one_call_ms + (min(size, 10) - 1) / 9 * (batch10_ms - one_call_ms)


def records_per_invocation(window_s: float) -> float:
    """Records an event source mapping hands over under steady traffic: the first one, and what
    arrives while its batching window is open (at most a batch of 10)."""
    return min(FULL_BATCH, 1 + MESSAGES_PER_QUEUE_PER_SECOND * window_s)


# The fewest DynamoDB operations that keep the guarantees, per webhook: per vendor message, a
# claim before the call and its completion after it (no vendor document promises to drop a
# repeated request, so exactly once cannot rest on the vendor, and a claim that is never
# completed either blocks a retry after a crash or lets a duplicate through once it lapses);
# one write of the newest state of the customer; one read of it per message after the call,
# to know whether a newer state must follow. Not even the receiver's claim on the event id:
# the deliveries' claims would also catch a provider's retry (at the price of its sends).
FLOOR_WRITES_PER_MESSAGE, FLOOR_STATE_WRITES, FLOOR_READS_PER_MESSAGE = 2, 1, 1


def guarantee_floor(warm: dict[str, Any], unpaced: dict[str, Any]) -> dict[str, float]:
    """$ per webhook of the cheapest bridge that keeps the guarantees: the floor's DynamoDB
    operations, every other line at its cheapest (the bare receiver's duration, one SNS
    publish, full delivery batches, no logs)."""
    messages = warm["messages_per_webhook"]
    receiver = receiver_side(warm, warm["baseline_ms"]["mean"])
    receiver.update(
        sqs_send=SNS_PER_MILLION_REQUESTS / 1e6,
        dynamodb=_dynamodb(FLOOR_STATE_WRITES, 0),
        logs=0.0,
    )
    batch = batch_ms(FULL_BATCH, unpaced["one_call_ms"]["mean"], unpaced["batch_ms"]["mean"])
    delivery = delivery_side(messages, batch, FULL_BATCH, (FLOOR_WRITES_PER_MESSAGE, FLOOR_READS_PER_MESSAGE), 0.0)
    delivery["logs"] = 0.0
    return {f"receiver: {k}": v for k, v in receiver.items()} | {f"delivery: {k}": v for k, v in delivery.items()}


def candidates(
    warm: dict[str, Any], unpaced: dict[str, Any], burst_seconds: dict[str, float]
) -> dict[str, dict[str, float]]:
    """$ per million webhooks of the options issue 14 lists, modelled from this run's measurements.

    Only what each option changes is recomputed; everything else is the steady-traffic figure.
    None of these is deployed; ``docs/benchmarks.md`` says which would keep the guarantees."""
    one_call_ms, batch10_ms = unpaced["one_call_ms"]["mean"], unpaced["batch_ms"]["mean"]
    calls, log_bytes = dynamodb_per_record(unpaced), unpaced["log_bytes_per_record"]
    messages = warm["messages_per_webhook"]
    receiver = receiver_side(warm, warm["real_ms"]["mean"])

    def delivery_at(window_s: float) -> dict[str, float]:
        size = records_per_invocation(window_s)
        return delivery_side(messages, batch_ms(size, one_call_ms, batch10_ms), size, calls, log_bytes)

    sns = dict(receiver, sqs_send=SNS_PER_MILLION_REQUESTS / 1e6 * _sqs_requests(sum(warm["sqs_request_bytes"])))
    # Pacing outside the function (MaximumConcurrency + SQS delays): a full batch bills its calls, not its waits.
    unslept = delivery_side(1, batch10_ms, FULL_BATCH, calls, log_bytes)
    deployed = delivery_source().batching_window_seconds
    rows: dict[str, tuple[dict[str, float], dict[str, float], float]] = {
        f"batching window {w:g} s{' (deployed)' if w == deployed else ''}": (
            receiver,
            delivery_at(w),
            records_per_invocation(w),
        )
        for w in sorted({0, 1, 5, 10, 20, 60, deployed})
    }
    rows["SNS fan-out (one PublishBatch, not a SendMessageBatch per queue)"] = (sns, delivery_at(0), 1.0)
    rows["SNS fan-out and a 20 s batching window"] = (sns, delivery_at(20), records_per_invocation(20))
    rows["bursts: pacing without sleeping in Lambda"] = (
        receiver,
        {k: v * len(burst_seconds) for k, v in unslept.items()},
        FULL_BATCH,
    )
    return {
        name: {
            "total": total({"receiver": rx, "delivery": dx}, logs=False),
            "dynamodb": (rx["dynamodb"] + dx["dynamodb"]) * 1e6,
            "records_per_invocation": size,
        }
        for name, (rx, dx, size) in rows.items()
    }


def total(scenario: dict[str, dict[str, float]], *, logs: bool) -> float:
    """$ per million webhooks of a scenario's sides (each $ per webhook), with or without the logs line."""
    return sum(v for side in scenario.values() for k, v in side.items() if logs or k != "logs") * 1e6


def per_million(parts: dict[str, float]) -> dict[str, float]:
    return {name: round(value * 1e6, 4) for name, value in parts.items()}


def run(results: dict[str, dict[str, Any]]) -> BenchResult:
    figures: list[Figure] = []
    details: dict[str, Any] = {
        "prices": PRICES,
        "price_date": PRICE_DATE,
        "memory_mb": memory_mb(),
        "batching_window_s": delivery_source().batching_window_seconds,
        "scenarios": {},
    }
    delivery = results.get("delivery", {}).get("details", {})
    unpaced = delivery.get("batch", {}).get("unpaced")
    for provider, label in WEBHOOK_NAMES.items():
        warm = results.get(f"receiver_warm:{provider}", {}).get("details")
        if not warm or not unpaced:
            continue
        one_call_ms = unpaced["one_call_ms"]["mean"]
        calls_per_message = dynamodb_per_record(unpaced)
        log_per_message = unpaced["log_bytes_per_record"]
        messages = warm["messages_per_webhook"]
        # As deployed: the batching window decides how many records share an invocation.
        per_invocation = records_per_invocation(delivery_source().batching_window_seconds)
        invocation_ms = batch_ms(per_invocation, one_call_ms, unpaced["batch_ms"]["mean"])
        delivered = delivery_side(messages, invocation_ms, per_invocation, calls_per_message, log_per_message)
        steady = {"receiver": receiver_side(warm, warm["real_ms"]["mean"]), "delivery": delivered}
        floor = {"receiver": receiver_side(warm, warm["baseline_ms"]["mean"]), "delivery": delivered}
        # Bursts: full batches of 10, each vendor paced as deployed; billed time per message as measured.
        burst_seconds = _burst_seconds_per_message(delivery)
        burst_delivery: dict[str, float] = collections.defaultdict(float)
        for seconds in burst_seconds.values():
            for name, value in delivery_side(
                1, seconds * 1000 * FULL_BATCH, FULL_BATCH, calls_per_message, log_per_message
            ).items():
                burst_delivery[name] += value
        burst = {"receiver": steady["receiver"], "delivery": dict(burst_delivery)}

        modelled = candidates(warm, unpaced, burst_seconds)
        totals = {
            "steady": total(steady, logs=False),
            "steady_with_logs": total(steady, logs=True),
            "floor": total(floor, logs=False),
            "burst": total(burst, logs=False),
        }
        floor_parts = guarantee_floor(warm, unpaced)
        details["scenarios"][provider] = {
            "candidates": modelled,
            "steady": {side: per_million(parts) for side, parts in steady.items()},
            "burst_seconds_per_message": burst_seconds,
            "totals": totals,
            "delivery_calls_by_operation_per_record": unpaced["calls_by_operation_per_record"],
            "guarantee_floor": per_million(floor_parts),
        }
        for scenario, what, note in (
            ("steady", "steady traffic (list prices)", "baseline: the same calls with the bare receiver's duration"),
            ("burst", "bursts (full batches, paced as deployed)", "pacing waits in the delivery functions are billed"),
        ):
            figures.append(
                Figure(
                    f"cost.{provider}.{scenario}",
                    f"Cost per million webhooks, {label}, {what}",
                    *(totals[scenario], "$", totals["floor"], "value_max", COST_TARGET),
                    note=f"{note}; logs and X-Ray not included",
                )
            )
        steady_options = {name: row for name, row in modelled.items() if not name.startswith("bursts")}
        best_name, best = min(steady_options.items(), key=lambda item: item[1]["total"])
        figures += [
            Figure(
                f"cost.{provider}.guarantee_floor",
                f"Cost per million webhooks, {label}, the floor under the guarantees",
                *(sum(floor_parts.values()) * 1e6, "$", totals["floor"]),
                note="a claim and a completion per vendor message, one state write per webhook, everything "
                "else at its cheapest modelled: no design that keeps exactly once goes below it",
            ),
            Figure(
                f"cost.{provider}.best_candidate",
                f"Cost per million webhooks, {label}, cheapest option modelled ({best_name})",
                *(best["total"], "$", totals["floor"]),
                note=f"not deployed; DynamoDB alone is ${best['dynamodb']:.2f} of it",
            ),
        ]
    return BenchResult(figures, details)


def _burst_seconds_per_message(delivery: dict[str, Any]) -> dict[str, float]:
    """Billed Lambda seconds per message when batches are full and each vendor is paced as deployed:
    as measured for the vendor itself or one deployed with the same pacing (SegMetrics as ConvertLoop)."""
    seconds: dict[str, float] = {}
    for d in delivery.get("batch", {}).get("deployed", {}).values():
        same = [v.name for v in specs() if pacing(v.name) == tuple(d["pacing"])]
        seconds |= dict.fromkeys(same, d["batch_ms"] / 1000 / FULL_BATCH)
    burst = delivery.get("loops_burst", {})
    if burst.get("handler_seconds_per_message"):
        seconds["loops"] = burst["handler_seconds_per_message"]
    return seconds

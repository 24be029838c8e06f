"""A Lambda-like execution environment for the subprocess benchmarks: ``python child.py '<json>'``.

Run by path, with the function's environment, like Lambda's runtime: only the standard
library is imported before the handler; ``sys.path`` is the function's code directory
and the layer's ``python/`` (then site-packages, standing in for the runtime's boto3).
The protocol is one JSON line per report on a private copy of stdout; the handler's own
stdout (its logs) goes to /dev/null, as it would go to CloudWatch.

Modes (``mode`` in the JSON):

- ``receiver``: load ``app.py``, answer ``events[0]`` (report ``cold``), then answer the
  remaining events (report ``warm``);
- ``baseline``: the floor: ``import boto3, hashlib, hmac, json``, check the HMAC, parse
  the body, one ``SendMessageBatch``; report ``cold``;
- ``floor``: the Stripe receiver's own AWS calls through bare boto3 (``receiver_floor``); report ``cold``;
- ``libraries``: the baseline's work behind powertools and pydantic (``libraries_floor``); report ``cold``;
- ``delivery``: load the delivery ``app.py``, run ``batches[0]`` (report ``cold``), then
  the remaining batches (report ``warm``);
- ``delivery_worker``: a delivery instance fed like Lambda's SQS event source mapping
  (batches of up to 10, what succeeded deleted); until stdin closes (report ``stats``).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any


def ru_maxrss_mb() -> float:
    """ru_maxrss; on Linux it also keeps the RSS of the image before exec, i.e. of the parent that forked us."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def peak_rss_mb() -> float:
    """Peak resident set of this process image since exec (VmHWM), what the function itself used."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return ru_maxrss_mb()


def memory() -> dict[str, float]:
    return {"peak_rss_mb": peak_rss_mb(), "ru_maxrss_mb": ru_maxrss_mb()}


def context() -> Any:
    """Lambda's context object (imported after the handler: what the handler's cold start loads comes first)."""
    from devstack.support.lambda_context import LambdaContext

    memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    return LambdaContext(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench"), memory_limit_in_mb=memory)


def load_handler(code_dir: str, layer_dir: str) -> Any:
    sys.path[0:1] = [code_dir, layer_dir]  # drop this script's directory: Lambda has /var/task, /opt/python
    from devstack.support.handlers import load_function

    return load_function(os.path.basename(code_dir)).lambda_handler


def stripe_payload(event: dict[str, Any], secret: str) -> dict[str, Any] | None:
    """The body of a Stripe-signed API Gateway event, or None when the signature does not match."""
    from devstack.support.signing import signature_matches

    body = event["body"].encode("utf-8")
    if not signature_matches("stripe", body, event["headers"]["stripe-signature"], secret):
        return None
    payload: dict[str, Any] = json.loads(body)
    return payload


def baseline(event: dict[str, Any], queue_url: str, secret: str) -> dict[str, Any]:
    import boto3

    payload = stripe_payload(event, secret)
    if payload is None:
        return {"statusCode": 401}
    boto3.client("sqs").send_message_batch(
        QueueUrl=queue_url, Entries=[{"Id": "0", "MessageBody": json.dumps({"event_id": payload["id"]})}]
    )
    return {"statusCode": 200, "body": json.dumps({"event_id": payload["id"], "status": "accepted"})}


def libraries_floor(event: dict[str, Any], queue_url: str, secret: str) -> dict[str, Any]:
    """The baseline's work behind the toolkit the project's handlers are built on, and none
    of the bridge's code: powertools' Logger, Metrics and HTTP resolver route the request,
    a pydantic model reads the event. A receiver that keeps those libraries starts no faster."""
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from pydantic import BaseModel

    class Event(BaseModel):
        id: str
        type: str

    logger, metrics = Logger(service="floor"), Metrics(namespace="Floor", service="floor")
    app = APIGatewayHttpResolver()

    @app.post("/webhooks/stripe")
    def receive() -> dict[str, Any]:
        answer = baseline(app.current_event.raw_event, queue_url, secret)
        Event.model_validate_json(app.current_event.body or "{}")
        return json.loads(answer.get("body") or "{}")

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(lambda_event: dict[str, Any], lambda_context: Any) -> dict[str, Any]:
        return app.resolve(lambda_event, lambda_context)

    result: dict[str, Any] = handler(event, context())
    return result


def receiver_floor(event: dict[str, Any], secret: str) -> dict[str, Any]:
    """The Stripe receiver's AWS work for customer.created and nothing else, through bare boto3:
    the secret read, the idempotency record, the identity fact, one send per vendor queue (at
    once), the record completed (with the trace's receipt). No receiver cold start can go below it."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3

    session = boto3.session.Session()
    secrets, dynamodb, sqs = (session.client(name) for name in ("secretsmanager", "dynamodb", "sqs"))
    secrets.get_secret_value(SecretId=os.environ["SECRET_ID"])
    payload = stripe_payload(event, secret)
    if payload is None:
        return {"statusCode": 401}
    table, state = os.environ["IDEMPOTENCY_TABLE"], os.environ["STATE_TABLE"]
    key = {"id": {"S": f"floor#{payload['id']}"}}
    dynamodb.put_item(TableName=table, Item={**key, "status": {"S": "INPROGRESS"}})
    dynamodb.put_item(TableName=state, Item={"pk": {"S": f"floor#{payload['id']}"}})
    urls = [url for name, url in os.environ.items() if name.endswith("_QUEUE_URL")]  # one per vendor
    entries = [{"Id": "0", "MessageBody": json.dumps(payload)[:1000]}]
    with ThreadPoolExecutor(len(urls)) as pool:
        list(pool.map(lambda url: sqs.send_message_batch(QueueUrl=url, Entries=entries), urls))
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "COMPLETED"}},
    )
    return {"statusCode": 200}


def delivery_worker(handler: Any, config: dict[str, Any], report: Any) -> None:
    """One delivery instance fed like Lambda's SQS event source mapping, until stdin closes.

    As with Lambda's pollers, receiving the next batch and deleting the last one happen
    beside the function, not in it: the next batch is received while the handler runs, what
    succeeded is deleted while the next one runs, and the handler is invoked back to back.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    import httpx

    from devstack.support.events import sqs_batch

    sqs, queue_url = boto3.client("sqs"), config["queue_url"]

    def receive() -> list[dict[str, Any]]:
        attributes = {"MessageAttributeNames": ["All"], "MessageSystemAttributeNames": ["All"]}
        return sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **attributes).get(
            "Messages", []
        )

    def delete(batch: list[dict[str, Any]]) -> None:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)

    sends: list[float] = []  # when each vendor request left, to tell the pacer's bursts from the vendor's view
    original_send = httpx.Client.send

    def timed_send(client: Any, request: Any, **kwargs: Any) -> Any:
        sends.append(time.time())
        return original_send(client, request, **kwargs)

    httpx.Client.send = timed_send  # type: ignore[method-assign,assignment]
    stop = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    handler_seconds = 0.0
    report({"phase": "ready"})
    with ThreadPoolExecutor(1) as receiver, ThreadPoolExecutor(1) as deleter:
        ahead = receiver.submit(receive)  # one batch received ahead of the handler
        while not stop.is_set():
            messages, ahead = ahead.result(), receiver.submit(receive)
            if not messages:
                continue
            started = time.perf_counter()
            response = handler(sqs_batch(messages, config["queue_arn"]), context())
            handler_seconds += time.perf_counter() - started
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
            if succeeded := [m for m in messages if m["MessageId"] not in failed]:
                deleter.submit(delete, succeeded)
    report({"phase": "stats", "handler_seconds": handler_seconds, "sends": sends, "peak_rss_mb": peak_rss_mb()})


def count_clients(created: dict[str, list[str]]) -> None:
    """Note every botocore Session and client the handler builds (wrapping botocore's own methods)."""
    import botocore.session

    session_init = botocore.session.Session.__init__
    create_client = botocore.session.Session.create_client

    def counted_init(self: Any, *args: Any, **kwargs: Any) -> None:
        created["sessions"].append(str(id(self)))
        session_init(self, *args, **kwargs)

    def counted_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        session = str(id(self))
        index = created["sessions"].index(session) if session in created["sessions"] else len(created["sessions"])
        created["clients"].append(f"{index}:{service_name}")
        return create_client(self, service_name, *args, **kwargs)

    botocore.session.Session.__init__ = counted_init  # type: ignore[method-assign]
    botocore.session.Session.create_client = counted_client  # type: ignore[method-assign]


def main() -> None:
    config = json.loads(sys.argv[1])
    # devstack (the context, the signer) from this checkout, after everything the function itself imports.
    sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    protocol = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the handler's logs

    def report(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    mode = config["mode"]
    inputs = []
    if "input" in config:  # not for a delivery_worker, which reads its queue
        with open(config["input"], encoding="utf-8") as file:
            inputs = json.load(file)
    if mode in ("baseline", "floor", "libraries"):
        sys.path.pop(0)
        secret, queue_url = config["secret"], config["queue_url"]
        floors = {
            "baseline": lambda: baseline(inputs[0], queue_url, secret),
            "floor": lambda: receiver_floor(inputs[0], secret),
            "libraries": lambda: libraries_floor(inputs[0], queue_url, secret),
        }
        report({"phase": "cold", "status": floors[mode]()["statusCode"], **memory()})
        return
    created: dict[str, list[str]] = {"sessions": [], "clients": []}
    if config.get("count_clients"):  # memory runs only: which botocore sessions and clients get built
        count_clients(created)
    snapstart = None
    if config.get("restored"):  # SnapStart emulated: the hooks run as Lambda's runtime runs them
        from devstack.support.snapstart import SnapStartRuntime

        snapstart = SnapStartRuntime()
        sys.modules["snapshot_restore_py"] = snapstart.module
    loaded = time.perf_counter()
    handler = load_handler(config["code_dir"], config["layer_dir"])
    init_ms = (time.perf_counter() - loaded) * 1000
    if snapstart is not None:
        snapstart.snapshot()
        report({"phase": "snapshot"})
        sys.stdin.readline()  # the parent's go: the restore, from which the first answer is timed
        snapstart.restore()
    if mode == "delivery_worker":
        delivery_worker(handler, config, report)
        return

    def invoke(event: dict[str, Any]) -> tuple[Any, int | None]:
        """The response and its status (a delivery batch with failures counts as a 500)."""
        response = handler(event, context())
        if mode == "delivery":
            return response, 500 if response.get("batchItemFailures") else 200
        return response, response.get("statusCode")

    started = time.perf_counter()
    first, status = invoke(inputs[0])
    first_ms = (time.perf_counter() - started) * 1000
    cold = {"phase": "cold", "status": status, "response": first, "init_ms": init_ms, "first_ms": first_ms}
    report({**cold, **memory(), "botocore_sessions": len(created["sessions"]), "clients": created["clients"]})
    durations, statuses = [], []
    for event in inputs[1:]:
        started = time.perf_counter()
        statuses.append(invoke(event)[1])
        durations.append((time.perf_counter() - started) * 1000)
    if len(inputs) > 1:
        report({"phase": "warm", "n": len(durations), "durations_ms": durations, "statuses": statuses})
        report({"phase": "memory", **memory()})


if __name__ == "__main__":
    main()

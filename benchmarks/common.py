"""What the benchmarks share: figures, statistics, webhooks, Lambda-like environments, moto, AWS call counting."""

from __future__ import annotations

import base64
import collections
import copy
import hashlib
import hmac
import json
import math
import os
import platform
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from webhook_bridge.vendors.catalog import spec_for, specs

ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = ROOT / "layers" / "shared" / "python"
FUNCTIONS_DIR = ROOT / "functions"
FIXTURES_DIR = ROOT / "tests" / "fixtures"
CHILD = Path(__file__).resolve().parent / "child.py"
PYTHON = sys.executable

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
IDEMPOTENCY_TABLE = "bench-IdempotencyTable"
STATE_TABLE = "bench-StateTable"
STRIPE_SECRET = "whsec_bench_webhook_bridge"
TYPEFORM_SECRET = "typeform_bench_webhook_bridge"
VENDORS = tuple(spec.name for spec in specs())
MEMORY_MB = 512  # template.yaml, Globals.Function.MemorySize: what Lambda bills
# The deployed pacing per vendor: (VENDOR_RATE_LIMIT, VENDOR_MAX_CONCURRENCY), as each spec declares it.
DEPLOYED_PACING = {spec.name: (spec.rate_limit_per_second, spec.max_concurrency) for spec in specs()}


# -- figures ---------------------------------------------------------------------------


@dataclass
class Figure:
    """One line of the table: a value, its same-run baseline, and the target it is held to.

    ``check`` says how the target applies: ``ratio_max`` (value / baseline ≤ limit),
    ``value_max`` (value ≤ limit), ``value_min`` (value ≥ limit), ``ratio_min``, or ""
    for a figure reported for information.
    """

    key: str
    label: str
    value: float | None
    unit: str
    baseline: float | None = None
    target: str = ""
    check: str = ""
    limit: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def status(self) -> str:
        if not self.check:
            return "info"
        if self.value is None or self.limit is None:
            return "GAP"
        measured = self.ratio if self.check.startswith("ratio") else self.value
        if measured is None:
            return "GAP"
        ok = measured <= self.limit if self.check.endswith("max") else measured >= self.limit
        return "PASS" if ok else "GAP"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "status": self.status}


@dataclass
class BenchResult:
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"figures": [f.to_json() for f in self.figures], "details": self.details}


def figure_from_json(data: Mapping[str, Any]) -> Figure:
    names = Figure.__dataclass_fields__
    return Figure(**{k: v for k, v in data.items() if k in names})


class CountingSink:
    """stdout for the handlers (Lambda ships it to CloudWatch Logs): counts the bytes, keeps none."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8"))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def log(message: str) -> None:
    """Progress, on stderr (stdout of a benchmark process belongs to the handlers' logs)."""
    sys.stderr.write(f"  [{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


# -- statistics ------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "mean": sum(values) / len(values) if values else math.nan,
        "min": min(values) if values else math.nan,
        "max": max(values) if values else math.nan,
    }


# -- webhooks --------------------------------------------------------------------------


def load_fixture(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES_DIR / relative).read_text(encoding="utf-8"))
    return data


STRIPE_FIXTURE = "stripe/2025-09-30.clover/customer.created.json"
TYPEFORM_FIXTURE = "typeform/form_response.json"


def unique_token() -> str:
    """Six lowercase hex characters, so every run's ids differ from the last run's."""
    return uuid.uuid4().hex[:6]


def stripe_customer_created(n: int, token: str) -> dict[str, Any]:
    """The customer.created fixture as a distinct event of a distinct customer (fixed-width ids)."""
    payload = copy.deepcopy(_STRIPE)
    payload["id"] = f"evt_bench{token}{n:08d}"
    customer = payload["data"]["object"]
    customer["id"] = f"cus_bench{token}{n:08d}"
    customer["email"] = f"bench{token}{n:08d}@example.com"
    payload["created"] = customer["created"] = int(time.time())
    return payload


def typeform_form_response(n: int, token: str) -> dict[str, Any]:
    """The form_response fixture as a distinct submission by a distinct person (fixed-width ids)."""
    payload = copy.deepcopy(_TYPEFORM)
    payload["event_id"] = f"01BENCH{token.upper()}{n:08d}"
    response = payload["form_response"]
    response["token"] = f"tok{token}{n:08d}"
    for answer in response["answers"]:
        if answer.get("type") == "email":
            answer["email"] = f"form{token}{n:08d}@example.com"
    return payload


def payload_for(provider: str, n: int, token: str) -> dict[str, Any]:
    return stripe_customer_created(n, token) if provider == "stripe" else typeform_form_response(n, token)


def body_of(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def stripe_signature(body: bytes, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def typeform_signature(body: bytes, secret: str = TYPEFORM_SECRET) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


SIGNATURE_HEADER = {"stripe": "stripe-signature", "typeform": "typeform-signature"}


def api_event(provider: str, body: bytes) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) event for a signed webhook, as the receivers get it."""
    path = f"/webhooks/{provider}"
    signature = stripe_signature(body) if provider == "stripe" else typeform_signature(body)
    request_id = uuid.uuid4().hex[:16]
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json; charset=utf-8",
            "content-length": str(len(body)),
            "host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)" if provider == "stripe" else "Typeform",
            "x-amzn-trace-id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            SIGNATURE_HEADER[provider]: signature,
        },
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench",
            },
            "requestId": request_id,
            "routeKey": f"POST {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": body.decode("utf-8"),
        "isBase64Encoded": False,
    }


_STRIPE = load_fixture(STRIPE_FIXTURE)
_TYPEFORM = load_fixture(TYPEFORM_FIXTURE)


# -- Lambda-like environments ----------------------------------------------------------


FUNCTION_NAMES = {
    "stripe_webhook": "StripeWebhookFunction",
    "typeform_webhook": "TypeformWebhookFunction",
    "delivery": "DeliveryFunction",
}


@dataclass(frozen=True)
class Resources:
    """Queues, DLQs and secrets created for a benchmark (names as CloudFormation would give them)."""

    queues: Mapping[str, str]
    dlqs: Mapping[str, str]
    secrets: Mapping[str, str]  # function or vendor → secret id


def aws_env(endpoint: str | None) -> dict[str, str]:
    env = {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def function_env(
    function: str,
    resources: Resources,
    *,
    endpoint: str | None,
    vendor: str | None = None,
    vendor_env: Mapping[str, str] | None = None,
    pacing: tuple[float, int] | None = None,
) -> dict[str, str]:
    """The environment template.yaml and Lambda give ``function`` (secrets through ``SECRET_ID``)."""
    name = f"bench-{FUNCTION_NAMES[function]}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        # template.yaml Globals
        "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
        "STATE_TABLE": STATE_TABLE,
        "POWERTOOLS_SERVICE_NAME": "webhook-bridge",
        "POWERTOOLS_METRICS_NAMESPACE": "WebhookBridge",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "LOG_LEVEL": "INFO",
        "BRIDGE_XRAY_SDK": "false",  # template.yaml's XRaySdk parameter, default
        # No X-Ray daemon here (devstack forces the same); see docs/benchmarks.md.
        "POWERTOOLS_TRACE_DISABLED": "true",
        # What Lambda sets in every execution environment.
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "LAMBDA_TASK_ROOT": str(FUNCTIONS_DIR / function),
        "_HANDLER": "app.lambda_handler",
        "TZ": "UTC",
        **aws_env(endpoint),
    }
    if function in ("stripe_webhook", "typeform_webhook"):
        env.update(
            SECRET_ID=resources.secrets[function],
            ENABLED_VENDORS=",".join(VENDORS),
            BRIDGE_MAPPING="",
            MAX_BODY_BYTES="1048576",
        )
        env.update({f"{spec_for(v).env_prefix}_QUEUE_URL": resources.queues[v] for v in VENDORS})
    else:
        assert vendor is not None
        env.update(
            VENDOR=vendor,
            QUEUE_URL=resources.queues[vendor],
            DLQ_URL=resources.dlqs[vendor],
            SECRET_ID=resources.secrets[vendor],
        )
        if pacing is not None:
            env.update(VENDOR_RATE_LIMIT=f"{pacing[0]:g}", VENDOR_MAX_CONCURRENCY=str(pacing[1]))
        # Base URLs only: credentials come from the secret, as on AWS.
        env.update({k: v for k, v in (vendor_env or {}).items() if k.endswith("_BASE_URL")})
    return env


def vendor_secret_values(vendor_env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Each vendor's Secrets Manager JSON, as template.yaml lays it out."""
    return {spec.name: {k: vendor_env.get(k, "bench-" + k.lower()) for k in spec.secret_keys} for spec in specs()}


def create_resources(endpoint: str | None, vendor_env: Mapping[str, str] | None = None) -> Resources:
    """Tables, queues (with their DLQs) and secrets, in moto (in-process when ``endpoint`` is None)."""
    import boto3

    kwargs: dict[str, Any] = {"region_name": REGION}
    if endpoint:
        kwargs.update(endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
    dynamodb = boto3.client("dynamodb", **kwargs)
    sqs = boto3.client("sqs", **kwargs)
    secretsmanager = boto3.client("secretsmanager", **kwargs)
    for table, key in ((IDEMPOTENCY_TABLE, "id"), (STATE_TABLE, "pk")):
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    queues, dlqs = {}, {}
    for vendor in VENDORS:
        logical = spec_for(vendor).logical_id
        dlq = sqs.create_queue(QueueName=f"bench-{logical}DeadLetterQueue")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
        queues[vendor] = sqs.create_queue(
            QueueName=f"bench-{logical}Queue",
            Attributes={"VisibilityTimeout": "900", "RedrivePolicy": redrive},
        )["QueueUrl"]
        dlqs[vendor] = dlq
    secrets = {}
    values: dict[str, dict[str, str]] = {
        "stripe_webhook": {"STRIPE_WEBHOOK_SECRET": STRIPE_SECRET},
        "typeform_webhook": {"TYPEFORM_WEBHOOK_SECRET": TYPEFORM_SECRET},
        **vendor_secret_values(vendor_env or {}),
    }
    for owner, value in values.items():
        secrets[owner] = secretsmanager.create_secret(Name=f"bench-{owner}", SecretString=json.dumps(value))["ARN"]
    return Resources(queues=queues, dlqs=dlqs, secrets=secrets)


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def load_function(function: str) -> Any:
    """A function's app.py under its own module name, as devstack's worker loads it."""
    import importlib.util

    for path in (str(LAYER_DIR),):
        if path not in sys.path:
            sys.path.insert(0, path)
    name = f"fn_{function}_app"
    spec = importlib.util.spec_from_file_location(name, FUNCTIONS_DIR / function / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def reset_function_caches() -> None:
    """Forget what a cold start built, so the next invocation reads the (new) configuration."""
    from webhook_bridge.delivery.factory import build_processor
    from webhook_bridge.receiver import publisher
    from webhook_bridge.receiver.factory import build_receiver
    from webhook_bridge.settings import delivery_settings, receiver_settings
    from webhook_bridge.state import dynamodb as state_dynamodb
    from webhook_bridge.state import identity_store, invoice_memory
    from webhook_bridge.vendors import registry

    for cached in (
        build_processor,
        build_receiver,
        delivery_settings,
        receiver_settings,
        publisher.sqs_client,
        state_dynamodb.dynamodb_client,
        identity_store,
        invoice_memory,
    ):
        cached.cache_clear()
    registry.forget_client()


class LambdaContext:
    """What the handlers read from Lambda's context object."""

    def __init__(self, function_name: str = "bench-function", memory_mb: int = MEMORY_MB) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = str(memory_mb)
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000  # every invocation starts with the whole timeout ahead of it


# -- SQS records -----------------------------------------------------------------------


def queue_arn(queue_url: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:" + queue_url.rsplit("/", 1)[-1]


def message_attributes(source_event_type: str, enqueued_at: float | None = None) -> dict[str, Any]:
    """The attributes the receiver's publisher puts on every message (SendMessage shape)."""
    stamp = time.time() if enqueued_at is None else enqueued_at
    return {
        "enqueued_at": {"DataType": "Number", "StringValue": f"{stamp:.3f}"},
        "source_event_type": {"DataType": "String", "StringValue": source_event_type},
    }


def sqs_record(message: Mapping[str, Any], queue_url: str) -> dict[str, Any]:
    """One record of Lambda's SQS event from a ReceiveMessage result (as devstack's poller builds it)."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn(queue_url),
        "awsRegion": REGION,
    }


def synthetic_record(body: str, queue_url: str, source_event_type: str = "customer.created") -> dict[str, Any]:
    """A record as if received from ``queue_url`` (for handlers invoked without a queue round trip)."""
    now_ms = str(int(time.time() * 1000))
    message = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": base64.b64encode(os.urandom(48)).decode(),
        "Body": body,
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now_ms,
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": now_ms,
        },
        "MessageAttributes": message_attributes(source_event_type),
        "MD5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
    }
    return sqs_record(message, queue_url)


def vendor_message_bodies(vendor: str, count: int, token: str, start: int = 0) -> list[str]:
    """SQS bodies for ``vendor``: customer.created of distinct customers, mapped by the real Stripe mapping."""
    from webhook_bridge.actions import VendorMessage
    from webhook_bridge.mapping_config import MappingContext
    from webhook_bridge.providers.stripe.mapper import map_stripe_event
    from webhook_bridge.vendors.catalog import Vendor

    context = MappingContext.in_memory()
    bodies = []
    for n in range(start, start + count):
        for action in map_stripe_event(stripe_customer_created(n, token), context):
            bodies.append(VendorMessage(vendor=Vendor(vendor), action=action).model_dump_json())
    return bodies[:count]


# -- AWS call accounting ---------------------------------------------------------------


class AwsCallCounter:
    """Counts every botocore API call of this process (and records them while ``recording``).

    Wraps ``botocore.client.BaseClient._make_api_call``, the one method every client
    operation goes through, so nothing a handler does with boto3 escapes the count.
    """

    def __init__(self) -> None:
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self.recorded: list[tuple[str, str, dict[str, Any]]] | None = None
        self.intervals: list[tuple[str, str, float, float]] = []  # (service, operation, start, end) while recording
        self.track_intervals = False  # keep intervals outside ``recording()`` too
        self.seconds = 0.0  # spent inside API calls (moto included), for the own-time split
        self.seconds_by_operation: collections.Counter[tuple[str, str]] = collections.Counter()
        self.covered = 0.0  # wall time with at least one call in flight (calls may overlap)
        self._in_flight = 0
        self._busy_since = 0.0
        self.responses: dict[tuple[str, str], Any] | None = None  # first response per operation, when kept
        self.stub: dict[tuple[str, str], Any] | None = None  # canned responses: no AWS at all
        self._lock = threading.Lock()
        self._original: Callable[..., Any] | None = None

    def install(self) -> AwsCallCounter:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call
        counter = self

        def counted(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            with counter._lock:
                counter.counts[(service, operation_name)] += 1
                if counter.recorded is not None:
                    counter.recorded.append((service, operation_name, copy.deepcopy(api_params)))
                stub = counter.stub
            if stub is not None:
                return dict(stub[(service, operation_name)])  # handlers only read responses
            started = time.perf_counter()
            with counter._lock:
                if not counter._in_flight:
                    counter._busy_since = started
                counter._in_flight += 1
            try:
                response = original(client, operation_name, api_params)
            finally:
                ended = time.perf_counter()
                with counter._lock:
                    counter._in_flight -= 1
                    if not counter._in_flight:
                        counter.covered += ended - counter._busy_since
                    counter.seconds += ended - started
                    counter.seconds_by_operation[(service, operation_name)] += ended - started
                    if counter.recorded is not None or counter.track_intervals:
                        counter.intervals.append((service, operation_name, started, ended))
            if counter.responses is not None:
                counter.responses.setdefault((service, operation_name), copy.deepcopy(response))
            return response

        self._original = original
        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
        return self

    def uninstall(self) -> None:
        import botocore.client

        if self._original is not None:
            botocore.client.BaseClient._make_api_call = self._original  # type: ignore[method-assign]
            self._original = None

    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def aws_seconds(self) -> float:
        """Seconds inside API calls, summed over calls (overlapping calls count twice)."""
        with self._lock:
            return self.seconds

    def aws_wall_seconds(self) -> float:
        """Wall-clock seconds during which at least one API call was in flight."""
        with self._lock:
            return self.covered

    def snapshot(self) -> collections.Counter[tuple[str, str]]:
        with self._lock:
            return collections.Counter(self.counts)

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
        calls: list[tuple[str, str, dict[str, Any]]] = []
        with self._lock:
            self.recorded = calls
            self.intervals = []
        try:
            yield calls
        finally:
            with self._lock:
                self.recorded = None


def peak_overlap(intervals: Sequence[tuple[float, float]]) -> int:
    """Most intervals open at the same moment."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    current = peak = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def calls_by_operation(counts: Mapping[tuple[str, str], int], per: int = 1) -> dict[str, float]:
    return {f"{service}:{operation}": n / per for (service, operation), n in sorted(counts.items())}


# -- moto server -----------------------------------------------------------------------

_MOTO_MAIN = """
import json, logging, os, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
sys.stdout.write(json.dumps({"port": server.get_host_and_port()[1]}) + "\\n")
sys.stdout.flush()
sys.stdin.read()
os._exit(0)
"""


class MotoServer:
    """moto's ThreadedMotoServer on 127.0.0.1 in its own process (stopped by closing its stdin)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> MotoServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed code
            [PYTHON, "-c", _MOTO_MAIN],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("moto server did not start")
        self.port = int(json.loads(line)["port"])
        return self

    def __exit__(self, *exc: object) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the machine -----------------------------------------------------------------------


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def machine_facts() -> dict[str, Any]:
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()  # noqa: S607
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())

    def version(package: str) -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as metadata_version

        try:
            return metadata_version(package)
        except PackageNotFoundError:
            return "-"

    return {
        "nproc": nproc,
        "cpu_model": cpu_model,
        "memory": memory,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": {
            p: version(p) for p in ("boto3", "botocore", "moto", "aws-lambda-powertools", "pydantic", "httpx")
        },
    }

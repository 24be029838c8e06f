"""What the benchmarks share: figures, statistics, webhooks, Lambda-like environments, AWS call counting."""

from __future__ import annotations

import collections
import copy
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
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devstack.aws import create_resources
from devstack.environment import function_environment, resolve_configuration, store_secrets
from devstack.stack import DEV_PARAMETERS
from devstack.support.events import queue_arn, sqs_message, sqs_record
from devstack.support.signing import TEST_SECRETS
from devstack.template import Template, load_template

if TYPE_CHECKING:
    from webhook_bridge.actions import VendorMessage


ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = ROOT / "layers" / "shared" / "python"
FUNCTIONS_DIR = ROOT / "functions"
FIXTURES_DIR = ROOT / "tests" / "fixtures"
CHILD = Path(__file__).resolve().parent / "child.py"
PYTHON = sys.executable
# The stack's dev defaults (devstack): what the benchmarks sign with and the functions verify.
STRIPE_SECRET = TEST_SECRETS["stripe"]


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


_STRIPE = load_fixture(STRIPE_FIXTURE)
_TYPEFORM = load_fixture(TYPEFORM_FIXTURE)


# -- Lambda-like environments, from template.yaml as devstack reads it -----------------


@cache
def template() -> Template:
    return load_template(ROOT / "template.yaml", parameter_defaults=DEV_PARAMETERS)


@cache
def deployed_template() -> Template:
    """template.yaml with its own defaults, as `sam deploy` would: what the cost model prices."""
    return load_template(ROOT / "template.yaml")


def delivery_batching_window_seconds() -> float:
    """The vendor queues' MaximumBatchingWindowInSeconds as deployed."""
    deployed = deployed_template()
    windows = {
        source.batching_window_seconds
        for source in deployed.event_sources
        if "VENDOR" in deployed.functions[source.function].raw_environment
    }
    (window,) = windows  # one parameter sets every vendor's
    return window


def memory_mb() -> int:
    """template.yaml's MemorySize of the receivers: what Lambda bills."""
    return template().functions[receiver_function("stripe")].memory_mb


def receiver_function(provider: str) -> str:
    """The logical id of the function behind ``POST /webhooks/<provider>``."""
    return next(route.function for route in template().routes if route.path == f"/webhooks/{provider}")


@dataclass
class BenchStack:
    """template.yaml's queues and tables in moto (in this process when ``endpoint`` is None), and each
    function's environment as ``make dev`` derives it, its secrets behind ``SECRET_ID`` as on AWS.

    ``sandbox_env``: the vendor sandbox's base URLs and credentials; every vendor is enabled."""

    endpoint: str | None
    sandbox_env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.template = template()
        self.resources = create_resources(self.template, self.endpoint)
        self.configuration = resolve_configuration({}, self.sandbox_env)
        self._envs: dict[str, dict[str, str]] = {}

    def delivery_function(self, vendor: str) -> str:
        """The logical id of ``vendor``'s delivery function."""
        return next(f for f in self.template.functions if self._template_env(f).get("VENDOR") == vendor)

    def vendors(self) -> list[str]:
        return [env["VENDOR"] for f in self.template.functions if "VENDOR" in (env := self._template_env(f))]

    def env(self, function: str) -> dict[str, str]:
        """The function's environment (its secret is stored in Secrets Manager on the first call)."""
        if function not in self._envs:
            template_env = self._template_env(function)
            env = function_environment(
                self.template.functions[function],
                template_env=template_env,
                configuration=self.configuration,
                endpoint=self.endpoint,
                region=self.template.region,
                # Not the developer's PYTHON* settings (PYTHONUNBUFFERED would slow the handlers' logging).
                process_env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
                use_process_env=False,
            )
            store_secrets(env, template_env["SECRET_ID"], self.endpoint, self.template.region)
            self._envs[function] = env
        return dict(self._envs[function])

    def delivery_env(self, vendor: str) -> dict[str, str]:
        return self.env(self.delivery_function(vendor))

    def pacing(self, vendor: str) -> tuple[float, int]:
        """(VENDOR_RATE_LIMIT, VENDOR_MAX_CONCURRENCY) as template.yaml deploys ``vendor``."""
        env = self._template_env(self.delivery_function(vendor))
        return float(env["VENDOR_RATE_LIMIT"]), int(env["VENDOR_MAX_CONCURRENCY"])

    def _template_env(self, function: str) -> dict[str, str]:
        return self.template.environment(function, self.template.physical_resources(self.resources.physical()))


def vendor_messages(vendor: str, count: int, token: str, start: int = 0) -> list[VendorMessage]:
    """Messages for ``vendor``: customer.created of distinct customers, mapped by the real Stripe mapping."""
    from webhook_bridge.actions import VendorMessage
    from webhook_bridge.mapping_config import MappingContext
    from webhook_bridge.providers.stripe.mapper import map_stripe_event

    context = MappingContext.in_memory()
    messages = []
    for n in range(start, start + count):
        for action in map_stripe_event(stripe_customer_created(n, token), context):
            messages.append(VendorMessage.model_validate({"vendor": vendor, "action": action}))
    return messages[:count]


def vendor_records(vendor: str, count: int, token: str, queue_url: str, start: int = 0) -> list[dict[str, Any]]:
    """SQS records of ``vendor_messages``, as the event source hands them to the delivery function."""
    from webhook_bridge.receiver.publisher import message_attributes

    return [
        sqs_record(sqs_message(m.model_dump_json(), message_attributes(m, time.time())), queue_arn(queue_url))
        for m in vendor_messages(vendor, count, token, start)
    ]


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

"""What the benchmarks share: figures, statistics, webhooks, Lambda-like environments, AWS call timing."""

from __future__ import annotations

import collections
import copy
import json
import math
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from devstack.aws import create_resources
from devstack.environment import function_environment, resolve_configuration, store_secrets
from devstack.stack import DEV_PARAMETERS
from devstack.support.events import queue_arn, sqs_message, sqs_record
from devstack.template import SqsEventSource, Template, load_template

if TYPE_CHECKING:
    from webhook_bridge.actions import VendorMessage


T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = ROOT / "layers" / "shared" / "python"
CHILD = Path(__file__).resolve().parent / "child.py"
PYTHON = sys.executable
# ``python -m benchmarks --smoke`` sets BENCH_SMOKE=1 for its jobs: the smallest sizes that still
# produce every figure (tests/benchmarks runs them); figures measured so are not worth reading.
SMOKE = os.environ.get("BENCH_SMOKE") == "1"
MEMORY_LIMIT_MB = 128  # every function's peak memory target
WEBHOOK_NAMES = {"stripe": "Stripe customer.created", "typeform": "Typeform form_response"}  # what each receiver is fed


def size(full: T, smoke: T) -> T:
    return smoke if SMOKE else full


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
    check: str = ""
    limit: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def target(self) -> str:
        if not self.check or self.limit is None:
            return ""
        if self.check == "ratio_min":
            return f"≥ {self.limit:.0%} of limit"
        sign = "≤" if self.check.endswith("max") else "≥"
        if self.check.startswith("ratio"):
            return f"{sign} {self.limit:g}x"
        return f"{sign} ${self.limit:g}" if self.unit == "$" else f"{sign} {self.limit:g} {self.unit}"

    @property
    def status(self) -> str:
        if not self.check:
            return "info"
        measured = self.ratio if self.check.startswith("ratio") else self.value
        if measured is None or self.limit is None:
            return "GAP"
        ok = measured <= self.limit if self.check.endswith("max") else measured >= self.limit
        return "PASS" if ok else "GAP"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "target": self.target, "ratio": self.ratio, "status": self.status}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Figure:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class BenchResult:
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"figures": [f.to_json() for f in self.figures], "details": self.details}


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
        **{f"p{q}": percentile(values, q) for q in (50, 90, 99)},
        "mean": sum(values) / len(values) if values else math.nan,
        "min": min(values) if values else math.nan,
        "max": max(values) if values else math.nan,
    }


def peak_overlap(intervals: Iterable[tuple[float, float]]) -> int:
    """Most intervals open at the same moment (one that ends as another starts does not overlap it)."""
    edges = sorted(edge for start, end in intervals for edge in ((start, 1), (end, -1)))
    current = peak = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


# -- webhooks --------------------------------------------------------------------------


def _fixture(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "tests" / "fixtures" / relative).read_text(encoding="utf-8"))
    return data


_STRIPE = _fixture("stripe/2025-09-30.clover/customer.created.json")
_TYPEFORM = _fixture("typeform/form_response.json")


def unique_token() -> str:
    """Six lowercase hex characters, so every run's ids differ from the last run's."""
    return uuid.uuid4().hex[:6]


def webhook_ids(provider: str, n: int, token: str) -> list[str]:
    """What makes webhook ``n`` distinct: its event id, its person's id and email. Fixed width and
    lowercase, so they appear in the AWS calls as they are (the bridge case-folds emails)."""
    if provider == "stripe":
        return [f"evt_bench{token}{n:08d}", f"cus_bench{token}{n:08d}", f"bench{token}{n:08d}@example.com"]
    return [f"01BENCH{token.upper()}{n:08d}", f"tok{token}{n:08d}", f"form{token}{n:08d}@example.com"]


def stripe_customer_created(n: int, token: str) -> dict[str, Any]:
    """The customer.created fixture as a distinct event of a distinct customer."""
    payload = copy.deepcopy(_STRIPE)
    customer = payload["data"]["object"]
    payload["id"], customer["id"], customer["email"] = webhook_ids("stripe", n, token)
    payload["created"] = customer["created"] = int(time.time())
    return payload


def typeform_form_response(n: int, token: str) -> dict[str, Any]:
    """The form_response fixture as a distinct submission by a distinct person."""
    payload = copy.deepcopy(_TYPEFORM)
    response = payload["form_response"]
    payload["event_id"], response["token"], email = webhook_ids("typeform", n, token)
    for answer in response["answers"]:
        if answer.get("type") == "email":
            answer["email"] = email
    return payload


def payload_for(provider: str, n: int, token: str) -> dict[str, Any]:
    return stripe_customer_created(n, token) if provider == "stripe" else typeform_form_response(n, token)


def body_of(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def spawn_child(config: Mapping[str, Any], env: Mapping[str, str], *python: str, **popen: Any) -> subprocess.Popen[str]:
    """``child.py`` with ``config``, in the function environment ``env``; its reports come as JSON lines on stdout."""
    command = [PYTHON, *python, str(CHILD), json.dumps(config)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True, **popen)  # noqa: S603 - our script


def reports(output: str) -> list[dict[str, Any]]:
    """The JSON lines a child reported."""
    return [json.loads(line) for line in output.splitlines() if line.strip()]


# -- Lambda-like environments, from template.yaml as devstack reads it -----------------


@cache
def template(deployed: bool = False) -> Template:
    """template.yaml with make dev's defaults, or (``deployed``) with its own, as `sam deploy` would."""
    return load_template(ROOT / "template.yaml", parameter_defaults=None if deployed else DEV_PARAMETERS)


def delivery_function(vendor: str) -> str:
    """The logical id of ``vendor``'s delivery function."""
    return template().delivery_source(vendor).function


def pacing(vendor: str) -> tuple[float, int]:
    """(VENDOR_RATE_LIMIT, VENDOR_MAX_CONCURRENCY) as template.yaml deploys ``vendor``."""
    env = template().environment(delivery_function(vendor))
    return float(env["VENDOR_RATE_LIMIT"]), int(env["VENDOR_MAX_CONCURRENCY"])


def delivery_source() -> SqsEventSource:
    """The vendor queues' event source mapping as deployed (one set of parameters sets every vendor's)."""
    deployed = template(deployed=True)
    sources = [s for s in deployed.event_sources if "VENDOR" in deployed.functions[s.function].raw_environment]
    (_,) = {(s.batch_size, s.batching_window_seconds) for s in sources}
    return sources[0]


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

    def env(self, function: str) -> dict[str, str]:
        """The function's environment (its secret is stored in Secrets Manager on the first call)."""
        if function not in self._envs:
            template_env = self.template.environment(
                function, self.template.physical_resources(self.resources.physical())
            )
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
        return self.env(delivery_function(vendor))


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

# (service, operation, started, ended): one botocore API call, timed with time.perf_counter().
AwsCall = tuple[str, str, float, float]


class AwsCalls:
    """Every botocore API call of this process, in order of completion, with its interval.

    Wraps ``botocore.client.BaseClient._make_api_call``, the one method every client operation
    goes through, so nothing a handler does with boto3 escapes. The first response of each
    operation is kept; inside ``stubbed()`` every call is answered with it at once (no AWS at all).
    ``recorded``, while not None, collects each call's parameters (in order of start).
    """

    def __init__(self) -> None:
        self.done: list[AwsCall] = []
        self.recorded: list[tuple[str, str, dict[str, Any]]] | None = None
        self.responses: dict[tuple[str, str], Any] = {}
        self._stubbed = False

    @contextmanager
    def installed(self) -> Iterator[AwsCalls]:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call

        def timed(client: Any, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            if self.recorded is not None:
                self.recorded.append((service, operation, copy.deepcopy(params)))
            started = time.perf_counter()
            try:
                if self._stubbed:
                    return dict(self.responses[(service, operation)])  # handlers only read responses
                response = original(client, operation, params)
                if (service, operation) not in self.responses:
                    self.responses[(service, operation)] = copy.deepcopy(response)
                return response
            finally:
                self.done.append((service, operation, started, time.perf_counter()))

        botocore.client.BaseClient._make_api_call = timed  # type: ignore[method-assign]
        try:
            yield self
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]

    @contextmanager
    def stubbed(self) -> Iterator[None]:
        self._stubbed = True
        try:
            yield
        finally:
            self._stubbed = False


@dataclass
class Measured:
    ms: float
    response: Any
    aws: list[AwsCall]  # the AWS calls it made
    log_bytes: int  # what it wrote to stdout


def measure(aws: AwsCalls, sink: CountingSink, function: Callable[..., Any], *args: Any) -> Measured:
    """``function(*args)`` timed, with what it asked of AWS and what it logged."""
    mark, logged = len(aws.done), sink.bytes
    started = time.perf_counter()
    response = function(*args)
    ms = (time.perf_counter() - started) * 1000
    return Measured(ms, response, aws.done[mark:], sink.bytes - logged)


def aws_seconds(calls: Sequence[AwsCall]) -> float:
    """Seconds inside API calls, summed over calls (overlapping calls count twice)."""
    return sum(ended - started for _, _, started, ended in calls)


def aws_wall_seconds(calls: Sequence[AwsCall]) -> float:
    """Wall-clock seconds during which at least one of ``calls`` was in flight."""
    covered, reached = 0.0, -math.inf
    for _, _, started, ended in sorted(calls, key=lambda call: call[2]):
        covered += max(0.0, ended - max(started, reached))
        reached = max(reached, ended)
    return covered


def calls_by_operation(counts: Mapping[tuple[str, str], float], per: int = 1) -> dict[str, float]:
    return {f"{service}:{operation}": n / per for (service, operation), n in sorted(counts.items())}


def operations(calls: Iterable[AwsCall]) -> collections.Counter[tuple[str, str]]:
    return collections.Counter((service, operation) for service, operation, _, _ in calls)


# -- the machine -----------------------------------------------------------------------


def loadavg() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def machine_facts() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")

    def installed(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "-"

    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu_model": models[0] if models else "unknown",
        "memory": f"{memory / 1024**3:.1f} GiB",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": {
            p: installed(p) for p in ("boto3", "botocore", "moto", "aws-lambda-powertools", "pydantic", "httpx")
        },
    }

"""The whole local stack as one object: ``with Stack() as stack: ...``.

Used by ``python -m devstack`` (``make dev``), by tests and by benchmarks. Start-up
order: read the template, bind the HTTP port (fail fast if taken), start moto and
create the queues and tables, start the vendor sandbox for vendors without
credentials, start each function's first execution environment, start the SQS
pollers, then serve HTTP. Stop runs the other way round, letting invocations in
progress finish.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

from devstack.aws import (
    AwsResources,
    client,
    create_resources,
)
from devstack.environment import (
    Configuration,
    function_environment,
    resolve_configuration,
    store_secrets,
    vendors_without_credentials,
)
from devstack.functions import FunctionRuntime, InvocationResult, LogSink, stderr_sink
from devstack.http_api import HttpApi
from devstack.intrinsics import PhysicalResource
from devstack.poller import DEFAULT_MAXIMUM_CONCURRENCY, LAMBDA_WAIT_TIME_SECONDS, SqsPoller, register_event_source
from devstack.state import remove_state, write_state
from devstack.support.moto import MotoServer
from devstack.template import Template, load_template

log = logging.getLogger("devstack")

# The optional Stripe EventBridge consumer runs locally too; `devstack.send eventbridge` feeds it.
DEV_PARAMETERS = {
    "StripeEventSourceName": "aws.partner/stripe.com/ed_test_webhook_bridge",
    # Deployed, the window saves invocations; on a laptop it would only make every try wait.
    "DeliveryBatchingWindowSeconds": "1",
}
HTTP_CONCURRENCY = 4  # execution environments per HTTP-triggered function
LOG_LINES_KEPT = 1000


def find_template(start: Path | None = None) -> Path:
    """template.yaml in the current directory or a parent, else next to the devstack package."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / "template.yaml").is_file():
            return directory / "template.yaml"
    return Path(__file__).resolve().parent.parent / "template.yaml"


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Check ``condition`` until it holds or ``timeout`` passes; True if it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class Stack:
    """The local stack. Hermetic by default: the developer's shell configuration is only
    used with ``use_process_env=True`` (what ``python -m devstack`` does), so tests never
    pick up real vendor credentials by accident.

    Secrets reach the functions through the environment, unless ``secrets_manager=True``:
    then, as on AWS, each function with a ``SECRET_ID`` reads them from (emulated) Secrets
    Manager, where :meth:`add_aws_fault` can make them unavailable."""

    def __init__(
        self,
        port: int = 0,
        env_overrides: Mapping[str, str] | None = None,
        *,
        template: Template | str | Path | None = None,
        parameter_overrides: Mapping[str, Any] | None = None,
        use_process_env: bool = False,
        sandbox: bool = True,
        enforce_timeouts: bool = True,
        reload: bool = False,
        poll_wait_seconds: int = LAMBDA_WAIT_TIME_SECONDS,
        state_file: str | Path | None = None,
        log_sink: LogSink | None = stderr_sink,
        secrets_manager: bool = False,
    ) -> None:
        self._secrets_manager = secrets_manager
        self._template_arg = template
        self._parameter_overrides = dict(parameter_overrides or {})
        self._port = port
        self._env_overrides = dict(env_overrides or {})
        self._use_process_env = use_process_env
        self._want_sandbox = sandbox
        self._enforce_timeouts = enforce_timeouts
        self._reload = reload
        self._poll_wait_seconds = poll_wait_seconds
        self._state_file = Path(state_file) if state_file else None
        self._user_sink = log_sink
        self._logs: dict[str, collections.deque[str]] = collections.defaultdict(
            lambda: collections.deque(maxlen=LOG_LINES_KEPT)
        )
        self._logs_lock = threading.Lock()

        self.template: Template | None = None
        self.configuration: Configuration | None = None
        self.sandbox: Any = None  # devstack.sandbox.SandboxServer when some vendor has no credentials
        self.resources: AwsResources | None = None
        self.runtimes: dict[str, FunctionRuntime] = {}
        self.pollers: dict[str, SqsPoller] = {}  # by queue logical id
        self.function_envs: dict[str, dict[str, str]] = {}
        self._moto: MotoServer | None = None
        self._api: HttpApi | None = None
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        template = self._load_template()
        self.template = template
        source = {**(os.environ if self._use_process_env else {}), **self._env_overrides}
        self._api = HttpApi(template.routes, self._submit, account_id=template.account_id, port=self._port)
        self._moto = MotoServer(log_sink=self._sink).start()
        self.resources = create_resources(template, self._moto.endpoint)

        sandbox_env = None
        if self._want_sandbox and vendors_without_credentials(source):
            self.sandbox = _start_sandbox()
            sandbox_env = {**self.sandbox.base_urls(), **self.sandbox.credentials.as_env()}
        self.configuration = resolve_configuration(source, sandbox_env)
        for warning in self.configuration.warnings:
            log.warning(warning)

        physical = self._physical_resources()
        for logical_id, spec in template.functions.items():
            template_env = template.environment(logical_id, physical)
            env = function_environment(
                spec,
                template_env=template_env,
                configuration=self.configuration,
                endpoint=self._moto.endpoint,
                region=template.region,
                process_env=os.environ,
                use_process_env=self._use_process_env,
                overrides=self._env_overrides,
            )
            if self._secrets_manager and template_env.get("SECRET_ID"):
                store_secrets(env, template_env["SECRET_ID"], self._moto.endpoint, template.region)
            self.function_envs[logical_id] = env
            runtime = FunctionRuntime(
                spec,
                env,
                max_concurrency=self._concurrency(logical_id),
                log_sink=self._sink,
                enforce_timeout=self._enforce_timeouts,
                reload=self._reload,
            )
            self.runtimes[logical_id] = runtime
            runtime.start()

        for runtime in self.runtimes.values():
            runtime.wait_started()

        lambda_client, iam = client("lambda", self._moto.endpoint, template.region), self.client("iam")
        for source_spec in template.event_sources:
            queue = self.resources.queues[source_spec.queue]
            mapping = register_event_source(
                lambda_client, iam, template.functions[source_spec.function].name, queue.arn, source_spec.batch_size
            )
            function = self.runtimes[source_spec.function]
            self.pollers[source_spec.queue] = SqsPoller(
                function=source_spec.function,
                # No botocore retries: the poller backs off on its own, and once moto has stopped an
                # idle poller ends at its first failed receive (botocore's jittered retries would
                # keep it alive and drawing from the process's shared random state).
                sqs=client("sqs", self._moto.endpoint, template.region, max_pool_connections=50, max_attempts=1),
                queue_url=queue.url,
                queue_arn=queue.arn,
                region=template.region,
                invoke=function.invoke,
                batch_size=source_spec.batch_size,
                batching_window_seconds=source_spec.batching_window_seconds,
                max_concurrency=source_spec.maximum_concurrency,
                report_batch_item_failures=source_spec.report_batch_item_failures,
                wait_time_seconds=self._poll_wait_seconds,
                enabled=mapping,
            ).start()

        self._api.start()
        if self._state_file is not None:
            write_state(self._state_file, self.state())

    def stop(self) -> None:
        """Stop accepting work, let invocations in progress finish, then shut everything down."""
        if self._stopped:
            return
        self._stopped = True
        if self._state_file is not None:
            remove_state(self._state_file, os.getpid())
        if self._api is not None:
            self._api.stop()
            self._api = None
        for poller in self.pollers.values():
            poller.stop(timeout=0)  # signal all first, then wait for each
        for poller in self.pollers.values():
            poller.stop()
        for runtime in self.runtimes.values():
            runtime.stop()
        if self.sandbox is not None:
            self.sandbox.stop()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    # -- wiring ------------------------------------------------------------------------

    def _load_template(self) -> Template:
        if isinstance(self._template_arg, Template):
            return self._template_arg
        path = Path(self._template_arg) if self._template_arg else find_template()
        return load_template(path, parameter_overrides=self._parameter_overrides, parameter_defaults=DEV_PARAMETERS)

    def _physical_resources(self) -> dict[str, PhysicalResource]:
        assert self.template is not None and self.resources is not None and self._api is not None
        physical = self.template.physical_resources(self.resources.physical())
        for api in self.template.apis:
            physical[api] = PhysicalResource(physical[api].ref, {"ApiEndpoint": self.api_url})
        return physical

    def _concurrency(self, function: str) -> int:
        """Execution environments a function may have: its pollers, plus HTTP concurrency if routed."""
        assert self.template is not None
        sources = (s for s in self.template.event_sources if s.function == function)
        total = sum(s.maximum_concurrency or DEFAULT_MAXIMUM_CONCURRENCY for s in sources)
        if any(route.function == function for route in self.template.routes):
            total += HTTP_CONCURRENCY
        return max(1, total)

    def _submit(self, function: str, event: dict[str, Any]) -> Future[InvocationResult]:
        return self.runtimes[function].submit(event)

    def _sink(self, source: str, line: str) -> None:
        with self._logs_lock:
            self._logs[source].append(line)
        if self._user_sink is not None:
            self._user_sink(source, line)

    # -- what tests and tools use ------------------------------------------------------

    @property
    def api_url(self) -> str:
        if self._api is None:
            raise RuntimeError("stack not started")
        return self._api.url

    @property
    def port(self) -> int:
        return int(self.api_url.rsplit(":", 1)[1])

    @property
    def aws_endpoint(self) -> str:
        if self._moto is None:
            raise RuntimeError("stack not started")
        return self._moto.endpoint

    @property
    def region(self) -> str:
        assert self.template is not None
        return self.template.region

    @property
    def queue_urls(self) -> dict[str, str]:
        """Every queue (DLQs included) by logical id."""
        assert self.resources is not None
        return {logical_id: q.url for logical_id, q in self.resources.queues.items()}

    @property
    def dlq_urls(self) -> dict[str, str]:
        """Dead-letter queues by their own logical id."""
        assert self.resources is not None
        targets = {q.dead_letter_queue for q in self.resources.queues.values() if q.dead_letter_queue}
        return {logical_id: q.url for logical_id, q in self.resources.queues.items() if logical_id in targets}

    def route_url(self, function: str) -> str:
        """URL of the (first) route served by ``function``, e.g. ``.../webhooks/stripe``."""
        assert self.template is not None
        return self.api_url + next(r.path for r in self.template.routes if r.function == function)

    def client(self, service: str) -> Any:
        """A boto3 client for the emulated AWS."""
        return client(service, self.aws_endpoint, self.region)

    def add_aws_fault(
        self, target: str, code: str, *, status: int = 400, count: int = 1, body_contains: str = ""
    ) -> None:
        """Make the next ``count`` AWS requests to ``target`` (e.g. ``DynamoDB_20120810.PutItem``)
        whose body holds ``body_contains`` fail with ``code`` (see devstack.aws_faults)."""
        if self._moto is None:
            raise RuntimeError("stack not started")
        self._moto.add_fault(target, code, status=status, count=count, body_contains=body_contains)

    def clear_aws_faults(self) -> None:
        if self._moto is not None:
            self._moto.clear_faults()

    def logs(self, source: str) -> list[str]:
        """Recent output of a function (by logical id), or of ``moto``."""
        with self._logs_lock:
            return list(self._logs.get(source, ()))

    def queue_counts(self, logical_id: str) -> dict[str, int]:
        """ApproximateNumberOfMessages (visible), …NotVisible (in flight) and …Delayed."""
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=self.queue_urls[logical_id],
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return {
            "visible": int(attributes["ApproximateNumberOfMessages"]),
            "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            "delayed": int(attributes["ApproximateNumberOfMessagesDelayed"]),
        }

    def wait_until_drained(self, timeout: float = 30.0) -> bool:
        """True once every polled queue is empty and no invocation runs (DLQs may hold messages)."""

        def drained() -> bool:
            if any(p.stats.in_flight for p in self.pollers.values()):
                return False
            return all(not any(self.queue_counts(q).values()) for q in self.pollers)

        return wait_until(drained, timeout, interval=0.1)

    def state(self) -> dict[str, Any]:
        """What ``.devstack/state.json`` holds: what ``devstack.send`` needs to reach this stack."""
        return {
            "pid": os.getpid(),
            "api_url": self.api_url,
            "aws": {"endpoint": self.aws_endpoint, "region": self.region},
            "queue_urls": self.queue_urls,
        }


def _start_sandbox() -> Any:
    # Imported here: the sandbox is only needed when some vendor has no credentials.
    from devstack.sandbox import SandboxCredentials, SandboxServer

    return SandboxServer(host="127.0.0.1", port=0, credentials=SandboxCredentials()).start()

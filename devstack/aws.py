"""Emulated AWS for the local stack: a moto server and the template's queues and tables."""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
from botocore.config import Config

from devstack.aws_faults import FAULTS_PATH
from devstack.functions import LogSink, stderr_sink
from devstack.intrinsics import PhysicalResource
from devstack.template import QueueSpec, TableSpec, Template

log = logging.getLogger("devstack.aws")

# moto accepts any credentials; fixed dummy values keep every client on the same account.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
START_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class QueueInfo:
    logical_id: str
    name: str
    url: str
    arn: str
    dead_letter_queue: str | None = None  # logical id
    max_receive_count: int | None = None
    visibility_timeout: int = 30


@dataclass(frozen=True)
class TableInfo:
    logical_id: str
    name: str
    arn: str
    partition_key: str
    ttl_attribute: str | None = None


@dataclass(frozen=True)
class SecretInfo:
    logical_id: str
    name: str
    arn: str


@dataclass(frozen=True)
class AwsResources:
    endpoint: str
    region: str
    queues: Mapping[str, QueueInfo] = field(default_factory=dict)
    tables: Mapping[str, TableInfo] = field(default_factory=dict)
    secrets: Mapping[str, SecretInfo] = field(default_factory=dict)

    def physical(self) -> dict[str, PhysicalResource]:
        """Local values for the template's !Ref/!GetAtt (queue URLs point at moto)."""
        physical = {
            q.logical_id: PhysicalResource(q.url, {"Arn": q.arn, "QueueName": q.name, "QueueUrl": q.url})
            for q in self.queues.values()
        }
        for t in self.tables.values():
            physical[t.logical_id] = PhysicalResource(t.name, {"Arn": t.arn, "StreamArn": f"{t.arn}/stream/local"})
        for s in self.secrets.values():  # Ref of a secret is its ARN
            physical[s.logical_id] = PhysicalResource(s.arn, {"Arn": s.arn, "Name": s.name})
        return physical

    def seen_from(self, endpoint: str) -> AwsResources:
        """The same resources for a client that reaches moto at ``endpoint`` (moto puts the
        host it was called on into queue URLs), e.g. a container on a Docker network."""
        queues = {lid: replace(q, url=endpoint + q.url.removeprefix(self.endpoint)) for lid, q in self.queues.items()}
        return replace(self, endpoint=endpoint, queues=queues)


def client(service: str, endpoint: str, region: str, *, max_pool_connections: int = 10, max_attempts: int = 3) -> Any:
    """A boto3 client for the emulator, independent of the user's AWS profile and environment."""
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY, region_name=region
    )
    config = Config(
        max_pool_connections=max_pool_connections, retries={"mode": "standard", "max_attempts": max_attempts}
    )
    return session.client(service, endpoint_url=endpoint, config=config)


class MotoServer:
    """moto's server in a child process on 127.0.0.1 (``port=0``: a free port)."""

    def __init__(self, port: int = 0, *, log_sink: LogSink = stderr_sink) -> None:
        self.requested_port = port
        self.port: int | None = None
        self._log_sink = log_sink
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("moto server not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-m", "devstack.moto_server", str(self.requested_port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # Ctrl-C goes to the stack, which stops moto last
        )
        threading.Thread(target=self._pump_logs, name="moto:logs", daemon=True).start()
        ready: queue.Queue[bytes] = queue.Queue()
        stdout = self._process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: ready.put(stdout.readline()), name="moto:ready", daemon=True).start()
        try:
            line = ready.get(timeout=START_TIMEOUT_SECONDS)
        except queue.Empty:
            line = b""
        if not line:
            self.stop()
            raise RuntimeError(f"moto server did not start on 127.0.0.1:{self.requested_port} (port in use?)")
        self.port = int(json.loads(line)["port"])
        return self

    def add_fault(self, target: str, code: str, *, status: int = 400, count: int = 1, body_contains: str = "") -> None:
        """Fail the next ``count`` requests to ``target`` (X-Amz-Target) whose body holds ``body_contains``."""
        spec = {"target": target, "code": code, "status": status, "count": count, "body_contains": body_contains}
        self._control("POST", json.dumps(spec).encode())

    def clear_faults(self) -> None:
        self._control("DELETE")

    def _control(self, method: str, body: bytes | None = None) -> None:
        request = urllib.request.Request(f"{self.endpoint}{FAULTS_PATH}", data=body, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own local moto
            response.read()

    def _pump_logs(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        with self._process.stderr as stderr:
            for raw in stderr:
                self._log_sink("moto", raw.decode("utf-8", "replace").rstrip("\r\n"))

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()  # read once, for the port; the log pump closes stderr


def store_secret(endpoint: str, region: str, name: str, values: Mapping[str, str]) -> str:
    """A Secrets Manager secret holding ``values`` as JSON, as the template's secrets do; its ARN."""
    secrets = client("secretsmanager", endpoint, region)
    arn: str = secrets.create_secret(Name=name, SecretString=json.dumps(dict(values)))["ARN"]
    return arn


def create_resources(
    template: Template, endpoint: str, *, secret_values: Mapping[str, str] | None = None
) -> AwsResources:
    """Create the template's queues (DLQs first, with RedrivePolicy) and tables in moto; with
    ``secret_values``, also its secrets, each holding its own names from those values."""
    sqs = client("sqs", endpoint, template.region)
    dynamodb = client("dynamodb", endpoint, template.region)
    queues: dict[str, QueueInfo] = {}
    for spec in _dead_letter_queues_first(template.queues):
        queues[spec.logical_id] = _create_queue(sqs, spec, queues)
    tables = {spec.logical_id: _create_table(dynamodb, spec) for spec in template.tables.values()}
    secrets: dict[str, SecretInfo] = {}
    if secret_values is not None:
        for secret in template.secrets.values():
            values = {key: secret_values.get(key, "") for key in secret.keys}
            arn = store_secret(endpoint, template.region, secret.name, values)
            secrets[secret.logical_id] = SecretInfo(logical_id=secret.logical_id, name=secret.name, arn=arn)
    return AwsResources(endpoint=endpoint, region=template.region, queues=queues, tables=tables, secrets=secrets)


def _dead_letter_queues_first(queues: Mapping[str, QueueSpec]) -> list[QueueSpec]:
    ordered: list[QueueSpec] = []
    visiting: set[str] = set()

    def visit(spec: QueueSpec) -> None:
        if spec in ordered:
            return
        if spec.logical_id in visiting:
            raise ValueError(f"redrive cycle through {spec.logical_id}")
        visiting.add(spec.logical_id)
        if spec.dead_letter_queue:
            visit(queues[spec.dead_letter_queue])
        ordered.append(spec)

    for spec in queues.values():
        visit(spec)
    return ordered


def _create_queue(sqs: Any, spec: QueueSpec, created: Mapping[str, QueueInfo]) -> QueueInfo:
    attributes = spec.attributes()
    if spec.dead_letter_queue:
        target = created[spec.dead_letter_queue]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": target.arn, "maxReceiveCount": spec.max_receive_count}
        )
    url = sqs.create_queue(QueueName=spec.name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return QueueInfo(
        logical_id=spec.logical_id,
        name=spec.name,
        url=url,
        arn=arn,
        dead_letter_queue=spec.dead_letter_queue,
        max_receive_count=spec.max_receive_count,
        visibility_timeout=spec.visibility_timeout,
    )


def _create_table(dynamodb: Any, spec: TableSpec) -> TableInfo:
    request: dict[str, Any] = {
        "TableName": spec.name,
        "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, kind in spec.key_schema],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in spec.attribute_definitions
        ],
        "BillingMode": spec.billing_mode,
        **spec.extra,
    }
    if "StreamSpecification" in request:  # CloudFormation omits StreamEnabled; the API needs it
        request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
    description = dynamodb.create_table(**request)["TableDescription"]
    if spec.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=spec.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
        )
    return TableInfo(
        logical_id=spec.logical_id,
        name=spec.name,
        arn=description["TableArn"],
        partition_key=spec.partition_key,
        ttl_attribute=spec.ttl_attribute,
    )

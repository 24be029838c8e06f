"""Emulated AWS for the local stack: the template's queues and tables in moto (``devstack.support.moto``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
from botocore.config import Config

from devstack.intrinsics import PhysicalResource
from devstack.template import QueueSpec, SecretSpec, TableSpec, Template

log = logging.getLogger("devstack.aws")

# moto accepts any credentials; fixed dummy values keep every client on the same account.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"


# The template's resources as created in moto: what the template says, and where they are.
@dataclass(frozen=True)
class QueueInfo(QueueSpec):
    url: str = ""
    arn: str = ""


@dataclass(frozen=True)
class TableInfo(TableSpec):
    arn: str = ""


@dataclass(frozen=True)
class SecretInfo(SecretSpec):
    arn: str = ""


@dataclass(frozen=True)
class AwsResources:
    endpoint: str | None  # None: moto inside this process (``mock_aws``)
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
            physical[t.logical_id] = PhysicalResource(t.name, {"Arn": t.arn})
        for s in self.secrets.values():  # Ref of a secret is its ARN
            physical[s.logical_id] = PhysicalResource(s.arn, {"Arn": s.arn, "Name": s.name})
        return physical

    def seen_from(self, endpoint: str) -> AwsResources:
        """The same resources for a client that reaches moto at ``endpoint`` (moto puts the
        host it was called on into queue URLs), e.g. a container on a Docker network."""
        queues = {
            lid: replace(q, url=endpoint + q.url.removeprefix(self.endpoint or "")) for lid, q in self.queues.items()
        }
        return replace(self, endpoint=endpoint, queues=queues)


def client(
    service: str, endpoint: str | None, region: str, *, max_pool_connections: int = 10, max_attempts: int = 3
) -> Any:
    """A boto3 client for the emulator (``endpoint`` None: ``mock_aws`` in this process), independent
    of the user's AWS profile and environment."""
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY, region_name=region
    )
    config = Config(
        max_pool_connections=max_pool_connections, retries={"mode": "standard", "max_attempts": max_attempts}
    )
    return session.client(service, endpoint_url=endpoint, config=config)


def store_secret(endpoint: str | None, region: str, name: str, values: Mapping[str, str]) -> str:
    """A Secrets Manager secret holding ``values`` as JSON, as the template's secrets do; its ARN."""
    secrets = client("secretsmanager", endpoint, region)
    arn: str = secrets.create_secret(Name=name, SecretString=json.dumps(dict(values)))["ARN"]
    return arn


def create_resources(
    template: Template, endpoint: str | None, *, secret_values: Mapping[str, str] | None = None
) -> AwsResources:
    """Create the template's queues (DLQs first, with RedrivePolicy) and tables in moto; with
    ``secret_values``, also its secrets, each holding its own names from those values."""
    sqs = client("sqs", endpoint, template.region)
    dynamodb = client("dynamodb", endpoint, template.region)
    queues: dict[str, QueueInfo] = {}
    # Dead-letter queues first: a RedrivePolicy names its target's ARN (the template refuses chains).
    for spec in sorted(template.queues.values(), key=lambda queue: queue.dead_letter_queue is not None):
        queues[spec.logical_id] = _create_queue(sqs, spec, queues)
    tables = {spec.logical_id: _create_table(dynamodb, spec) for spec in template.tables.values()}
    secrets: dict[str, SecretInfo] = {}
    if secret_values is not None:
        for secret in template.secrets.values():
            values = {key: secret_values.get(key, "") for key in secret.keys}
            arn = store_secret(endpoint, template.region, secret.name, values)
            secrets[secret.logical_id] = SecretInfo(**vars(secret), arn=arn)
    return AwsResources(endpoint=endpoint, region=template.region, queues=queues, tables=tables, secrets=secrets)


def _create_queue(sqs: Any, spec: QueueSpec, created: Mapping[str, QueueInfo]) -> QueueInfo:
    attributes = spec.attributes()
    if spec.dead_letter_queue:
        target = created[spec.dead_letter_queue]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": target.arn, "maxReceiveCount": spec.max_receive_count}
        )
    url = sqs.create_queue(QueueName=spec.name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return QueueInfo(**vars(spec), url=url, arn=arn)


def _create_table(dynamodb: Any, spec: TableSpec) -> TableInfo:
    description = dynamodb.create_table(
        TableName=spec.name,
        KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind in spec.key_schema],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": kind} for name, kind in spec.attribute_definitions
        ],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    if spec.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=spec.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
        )
    return TableInfo(**vars(spec), arn=description["TableArn"])

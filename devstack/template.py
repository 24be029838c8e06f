"""template.yaml as a small model the local stack runs from.

Nothing about routes, queues or functions is hard-coded in the runner: it serves what the
template declares. Values that depend on deployment (queue URLs, API endpoints) are resolved
later against ``PhysicalResource`` entries supplied by the local AWS emulation; everything else
(names, parameters, conditions, Globals) is resolved here.

Only what template.yaml uses is supported: anything else the local stack would have to run
differently from AWS (other event types, path parameters, FIFO queues, provisioned tables…)
is refused with a :class:`TemplateError` rather than silently ignored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

from devstack.intrinsics import PhysicalResource, Resolver, TemplateError, to_env_value
from devstack.language_extensions import ForEachError, expand

__all__ = ["TemplateError"]

DEFAULT_STACK_NAME = "webhook-bridge"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account

# Defaults documented by AWS; used when the template leaves them out.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_SQS_BATCH_SIZE = 10
DEFAULT_VISIBILITY_TIMEOUT = 30
DEFAULT_RETENTION_SECONDS = 345_600
HTTP_API_MAX_TIMEOUT_MS = 30_000

# Resources the local stack does not run, and properties it would run differently from AWS.
_UNSUPPORTED_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Api", "AWS::Serverless::SimpleTable")
_UNSUPPORTED_PROPERTIES = {
    "AWS::Serverless::Function": ("PackageType", "ImageUri", "InlineCode", "ReservedConcurrentExecutions"),
    "AWS::SQS::Queue": ("FifoQueue", "DelaySeconds", "ReceiveMessageWaitTimeSeconds"),
    "AWS::DynamoDB::Table": ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"),
    "AWS::Serverless::HttpApi": ("DefinitionBody", "DefinitionUri", "StageName", "Auth", "CorsConfiguration"),
    "SQS": ("FilterCriteria", "Enabled"),
}


@dataclass(frozen=True)
class Route:
    """One HTTP API route, e.g. ``POST /webhooks/stripe`` → ``StripeWebhookFunction``."""

    method: str  # upper case
    path: str  # a literal path: "/webhooks/stripe"
    function: str  # logical id
    api_id: str  # the API's id, as API Gateway puts it in the event
    timeout_ms: int = HTTP_API_MAX_TIMEOUT_MS

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str  # physical FunctionName
    arn: str
    code_dir: Path
    handler: str  # "app.lambda_handler"
    timeout_seconds: float
    memory_mb: int
    layer_dirs: tuple[Path, ...]  # ContentUri of local layers; Lambda mounts them at /opt
    raw_environment: Mapping[str, Any]  # Globals merged, intrinsics unresolved


@dataclass(frozen=True)
class SqsEventSource:
    function: str  # logical id
    queue: str  # logical id of the queue
    batch_size: int = DEFAULT_SQS_BATCH_SIZE
    batching_window_seconds: float = 0
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
    message_retention_seconds: int = DEFAULT_RETENTION_SECONDS
    dead_letter_queue: str | None = None  # logical id of the redrive target
    max_receive_count: int | None = None
    redrive_allow_policy: str | None = None  # JSON

    def attributes(self) -> dict[str, str]:
        """CreateQueue attributes, except RedrivePolicy (it needs the DLQ's ARN)."""
        attributes = {
            "VisibilityTimeout": str(self.visibility_timeout),
            "MessageRetentionPeriod": str(self.message_retention_seconds),
        }
        if self.redrive_allow_policy:
            attributes["RedriveAllowPolicy"] = self.redrive_allow_policy
        return attributes


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    key_schema: tuple[tuple[str, str], ...]  # (attribute, HASH|RANGE)
    attribute_definitions: tuple[tuple[str, str], ...]  # (attribute, S|N|B)
    ttl_attribute: str | None = None

    @property
    def partition_key(self) -> str:
        return next(name for name, kind in self.key_schema if kind == "HASH")


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    name: str
    keys: tuple[str, ...]  # the names in its SecretString's JSON: what functions read from it


@dataclass(frozen=True)
class Template:
    path: Path
    stack_name: str
    region: str
    account_id: str
    parameters: Mapping[str, Any]
    functions: Mapping[str, FunctionSpec]
    routes: tuple[Route, ...]
    event_sources: tuple[SqsEventSource, ...]
    queues: Mapping[str, QueueSpec]
    tables: Mapping[str, TableSpec]
    apis: tuple[str, ...]  # logical ids of the HttpApis
    secrets: Mapping[str, SecretSpec] = field(default_factory=dict)
    _resources: Mapping[str, Any] = field(default_factory=dict, repr=False)
    _mappings: Mapping[str, Any] = field(default_factory=dict, repr=False)
    _conditions: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def physical_resources(
        self, overrides: Mapping[str, PhysicalResource] | None = None
    ) -> dict[str, PhysicalResource]:
        """What each resource would resolve to once deployed; ``overrides`` carry the local values."""
        physical = {lid: _default_physical(self, lid, resource) for lid, resource in self._resources.items()}
        return physical | dict(overrides or {})

    def resolver(self, resources: Mapping[str, PhysicalResource] | None = None) -> Resolver:
        region, account, stack = self.region, self.account_id, self.stack_name
        pseudo = {"AWS::Region": region, "AWS::AccountId": account, "AWS::StackName": stack}
        return Resolver(
            parameters=self.parameters,
            pseudo=pseudo | {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"},
            resources=resources if resources is not None else self.physical_resources(),
            mappings=self._mappings,
            conditions=self._conditions,
        )

    def delivery_source(self, vendor: str) -> SqsEventSource:
        """The event source of ``vendor``'s delivery function: the one whose VENDOR is ``vendor``
        (a plain string once Fn::ForEach is expanded, so nothing needs resolving)."""
        return next(s for s in self.event_sources if self.functions[s.function].raw_environment.get("VENDOR") == vendor)

    def environment(self, function: str, resources: Mapping[str, PhysicalResource] | None = None) -> dict[str, str]:
        """The function's Environment.Variables (Globals merged), resolved to strings."""
        variables = _resolve(self.resolver(resources), self.functions[function].raw_environment, function)
        return {str(name): to_env_value(value) for name, value in variables.items()}

    def with_queue_overrides(
        self, *, visibility_timeout: int | None = None, max_receive_count: int | None = None
    ) -> Template:
        """A copy with shorter timings, e.g. so a test sees redrive to the DLQ in seconds."""
        changed = {}
        for logical_id, queue in self.queues.items():
            updates: dict[str, Any] = {}
            if visibility_timeout is not None:
                updates["visibility_timeout"] = visibility_timeout
            if max_receive_count is not None and queue.dead_letter_queue:
                updates["max_receive_count"] = max_receive_count
            changed[logical_id] = replace(queue, **updates)
        return replace(self, queues=changed)

    def with_event_source_overrides(self, **updates: Any) -> Template:
        """A copy where every SQS event source gets ``updates`` (batch_size, maximum_concurrency…)."""
        return replace(self, event_sources=tuple(replace(source, **updates) for source in self.event_sources))


# -- loading ------------------------------------------------------------------


def load_template(
    path: str | Path,
    *,
    parameter_overrides: Mapping[str, Any] | None = None,
    parameter_defaults: Mapping[str, Any] | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
    region: str = DEFAULT_REGION,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> Template:
    path = Path(path).resolve()
    document, problems = decode(str(path))
    if document is None or problems:
        details = "; ".join(str(p) for p in problems) or "empty template"
        raise TemplateError(f"cannot parse {path}: {details}")
    try:
        document = expand(document)
    except ForEachError as error:
        raise TemplateError(f"{path}: {error}") from error
    # Defaults the local stack picks for itself, for the parameters this template declares.
    declared = document.get("Parameters") or {}
    overrides = {k: v for k, v in (parameter_defaults or {}).items() if k in declared}
    skeleton = Template(
        path=path,
        stack_name=stack_name,
        region=region,
        account_id=account_id,
        parameters=_parameter_values(declared, overrides | dict(parameter_overrides or {})),
        functions={},
        routes=(),
        event_sources=(),
        queues={},
        tables={},
        apis=(),
        _mappings=document.get("Mappings") or {},
        _conditions=document.get("Conditions") or {},
    )
    if set(document.get("Globals") or {}) - {"Function"}:
        raise TemplateError("only Globals.Function is supported locally")
    return _Loader(skeleton, document).load()


class _Loader:
    """Reads the resources, once their names, ARNs and the conditions are known."""

    def __init__(self, skeleton: Template, document: Mapping[str, Any]) -> None:
        self.path = skeleton.path
        self.function_globals = (document.get("Globals") or {}).get("Function") or {}
        resolver = skeleton.resolver({})
        self.resources = {
            str(lid): resource
            for lid, resource in (document.get("Resources") or {}).items()
            if "Condition" not in resource or _resolve(resolver, {"Condition": resource["Condition"]}, str(lid))
        }
        self.template = replace(skeleton, _resources=self.resources)
        self.physical = self.template.physical_resources()
        self.resolver = self.template.resolver(self.physical)
        self.by_ref = {p.ref: lid for lid, p in self.physical.items()}
        self.by_arn = {p.attributes["Arn"]: lid for lid, p in self.physical.items() if "Arn" in p.attributes}

    def load(self) -> Template:
        for logical_id, resource in self.resources.items():
            if resource.get("Type") in _UNSUPPORTED_TYPES:
                raise TemplateError(f"{logical_id}: {resource['Type']} is not run locally")
        queues = {lid: self._queue(lid, props) for lid, props in self._of_type("AWS::SQS::Queue")}
        for queue in queues.values():
            if queue.dead_letter_queue and queues[queue.dead_letter_queue].dead_letter_queue:
                raise TemplateError(f"{queue.logical_id}: its dead-letter queue has a dead-letter queue of its own")
        functions: dict[str, FunctionSpec] = {}
        routes: list[Route] = []
        sources: list[SqsEventSource] = []
        for logical_id, props in self._of_type("AWS::Serverless::Function"):
            functions[logical_id] = self._function(logical_id, props)
            for event_name, event in (props.get("Events") or {}).items():
                where = f"{logical_id}.{event_name}"
                event_props = self._resolve(event.get("Properties") or {}, where)
                if event.get("Type") == "HttpApi":
                    routes.append(self._route(logical_id, event_props, where))
                elif event.get("Type") == "SQS":
                    sources.append(self._sqs_source(logical_id, event_props, where, queues))
                else:
                    raise TemplateError(f"{where}: {event.get('Type')} events are not run locally")
        for route in routes:
            if [r.route_key for r in routes].count(route.route_key) > 1:
                raise TemplateError(f"route {route.route_key} is declared twice")
        return replace(
            self.template,
            functions=functions,
            routes=tuple(routes),
            event_sources=tuple(sources),
            queues=queues,
            tables={lid: self._table(lid, props) for lid, props in self._of_type("AWS::DynamoDB::Table")},
            apis=tuple(lid for lid, _ in self._of_type("AWS::Serverless::HttpApi")),
            secrets={lid: self._secret(lid, props) for lid, props in self._of_type("AWS::SecretsManager::Secret")},
        )

    def _of_type(self, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        """The resources of ``resource_type`` and their properties (Globals merged into functions)."""
        found = []
        for logical_id, resource in self.resources.items():
            if resource.get("Type") == resource_type:
                props = resource.get("Properties") or {}
                if resource_type == "AWS::Serverless::Function":
                    props = merge_globals(self.function_globals, props)
                _refuse_unsupported(resource_type, props, logical_id)
                found.append((logical_id, props))
        return found

    def _resolve(self, value: Any, where: str) -> Any:
        return _resolve(self.resolver, value, where)

    def _queue(self, logical_id: str, raw: Mapping[str, Any]) -> QueueSpec:
        props = self._resolve(raw, logical_id)
        dlq, max_receive = None, None
        if redrive := props.get("RedrivePolicy"):
            redrive = json.loads(redrive) if isinstance(redrive, str) else redrive
            target = str(redrive.get("deadLetterTargetArn", ""))
            if (dlq := self.by_arn.get(target)) is None:
                raise TemplateError(f"{logical_id}: dead-letter queue {target} is not declared in the template")
            max_receive = int(redrive["maxReceiveCount"])
        allow = props.get("RedriveAllowPolicy")
        return QueueSpec(
            logical_id=logical_id,
            name=self.physical[logical_id].attributes["QueueName"],
            visibility_timeout=int(props.get("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT)),
            message_retention_seconds=int(props.get("MessageRetentionPeriod", DEFAULT_RETENTION_SECONDS)),
            dead_letter_queue=dlq,
            max_receive_count=max_receive,
            redrive_allow_policy=json.dumps(allow) if isinstance(allow, dict) else allow,
        )

    def _table(self, logical_id: str, raw: Mapping[str, Any]) -> TableSpec:
        props = self._resolve(raw, logical_id)
        if props.get("BillingMode") != "PAY_PER_REQUEST":
            raise TemplateError(f"{logical_id}: only BillingMode PAY_PER_REQUEST tables are run locally")
        ttl = props.get("TimeToLiveSpecification") or {}
        return TableSpec(
            logical_id=logical_id,
            name=self.physical[logical_id].ref,
            key_schema=tuple((k["AttributeName"], k["KeyType"]) for k in props.get("KeySchema", [])),
            attribute_definitions=tuple(
                (a["AttributeName"], a["AttributeType"]) for a in props.get("AttributeDefinitions", [])
            ),
            ttl_attribute=ttl.get("AttributeName") if _truthy(ttl.get("Enabled", False)) else None,
        )

    def _secret(self, logical_id: str, raw: Mapping[str, Any]) -> SecretSpec:
        secret_string = self._resolve(raw.get("SecretString"), logical_id)
        try:
            document = json.loads(secret_string) if isinstance(secret_string, str) else None
        except ValueError:
            document = None
        keys = tuple(str(key) for key in document) if isinstance(document, dict) else ()
        return SecretSpec(logical_id=logical_id, name=self.physical[logical_id].attributes["Name"], keys=keys)

    def _function(self, logical_id: str, props: Mapping[str, Any]) -> FunctionSpec:
        code_uri = self._resolve(props.get("CodeUri"), logical_id)
        if not isinstance(code_uri, str):
            raise TemplateError(f"{logical_id}: CodeUri must be a local directory")
        layer_dirs: list[Path] = []
        for layer in self._resolve(props.get("Layers") or [], logical_id):
            layer_id = self.by_ref.get(str(layer)) or self.by_arn.get(str(layer)) or ""
            content = (self.resources.get(layer_id, {}).get("Properties") or {}).get("ContentUri")
            if not isinstance(content, str):
                raise TemplateError(f"{logical_id}: layer {layer} is not a local layer of this template")
            if (directory := (self.path.parent / content).resolve()) not in layer_dirs:
                layer_dirs.append(directory)  # two layers may be built from one directory
        return FunctionSpec(
            logical_id=logical_id,
            name=self.physical[logical_id].ref,
            arn=self.physical[logical_id].attributes["Arn"],
            code_dir=(self.path.parent / code_uri).resolve(),
            handler=str(self._resolve(props.get("Handler", ""), logical_id)),
            timeout_seconds=float(self._resolve(props.get("Timeout", DEFAULT_TIMEOUT_SECONDS), logical_id)),
            memory_mb=int(self._resolve(props.get("MemorySize", DEFAULT_MEMORY_MB), logical_id)),
            layer_dirs=tuple(layer_dirs),
            raw_environment=dict((props.get("Environment") or {}).get("Variables") or {}),
        )

    def _route(self, function: str, props: Mapping[str, Any], where: str) -> Route:
        api = self.by_ref.get(str(props.get("ApiId")), "")
        if self.resources.get(api, {}).get("Type") != "AWS::Serverless::HttpApi":
            raise TemplateError(f"{where}: ApiId must name an HttpApi of this template")
        version = str(props.get("PayloadFormatVersion", "2.0"))
        if version != "2.0":
            raise TemplateError(f"{where}: payload format {version} is not supported locally (2.0 only)")
        path, method = str(props.get("Path", "")), str(props.get("Method", "ANY")).upper()
        if not path.startswith("/") or "{" in path or method == "ANY":
            raise TemplateError(f"{where}: only a Method and a literal Path are supported locally")
        timeout = min(int(props.get("TimeoutInMillis", HTTP_API_MAX_TIMEOUT_MS)), HTTP_API_MAX_TIMEOUT_MS)
        return Route(method, path, function, self.physical[api].ref, timeout)

    def _sqs_source(
        self, function: str, props: Mapping[str, Any], where: str, queues: Mapping[str, QueueSpec]
    ) -> SqsEventSource:
        _refuse_unsupported("SQS", props, where)
        queue = self.by_arn.get(str(props.get("Queue", "")), "")
        if queue not in queues:
            raise TemplateError(f"{where}: queue {props.get('Queue')} is not declared in the template")
        scaling = props.get("ScalingConfig") or {}
        return SqsEventSource(
            function=function,
            queue=queue,
            batch_size=int(props.get("BatchSize", DEFAULT_SQS_BATCH_SIZE)),
            batching_window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            maximum_concurrency=int(scaling["MaximumConcurrency"]) if "MaximumConcurrency" in scaling else None,
        )


# -- helpers ------------------------------------------------------------------


def _resolve(resolver: Resolver, value: Any, where: str) -> Any:
    try:
        return resolver.resolve(value)
    except TemplateError as error:
        raise TemplateError(f"{where}: {error}") from error


def _refuse_unsupported(kind: str, props: Mapping[str, Any], where: str) -> None:
    for name in _UNSUPPORTED_PROPERTIES.get(kind, ()):
        if name in props:
            raise TemplateError(f"{where}: {name} is not supported locally")


def _parameter_values(declared: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"unknown parameter override(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if spec.get("Type") not in ("String", "Number"):
            raise TemplateError(f"parameter {name}: only String and Number parameters are supported locally")
        if name not in overrides and "Default" not in spec:
            raise TemplateError(f"parameter {name} has no default: give it a value")
        values[str(name)] = to_env_value(overrides.get(name, spec.get("Default")))  # a Ref to one is a string
    return values


def merge_globals(global_props: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rules: maps merge (resource wins), lists concatenate, scalars are replaced."""
    merged = dict(global_props)
    for key, value in props.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict) and not _is_intrinsic(value):
            merged[key] = merge_globals(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged[key] = current + value
        else:
            merged[key] = value
    return merged


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    return len(value) == 1 and (next(iter(value)) == "Ref" or str(next(iter(value))).startswith("Fn::"))


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _default_physical(template: Template, logical_id: str, resource: Mapping[str, Any]) -> PhysicalResource:
    """Names and ARNs as CloudFormation would make them (without its random suffix)."""
    region, account, generated = template.region, template.account_id, f"{template.stack_name}-{logical_id}"
    kind = str(resource.get("Type", ""))
    props = resource.get("Properties") or {}

    def name_from(prop: str, default: str) -> str:
        try:
            return str(template.resolver({}).resolve(props[prop])) if prop in props else default
        except TemplateError:  # a name made of other resources' values: CloudFormation's own then
            return default

    if kind == "AWS::SQS::Queue":
        name = name_from("QueueName", generated[:75])
        url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        return PhysicalResource(
            url, {"Arn": f"arn:aws:sqs:{region}:{account}:{name}", "QueueName": name, "QueueUrl": url}
        )
    if kind == "AWS::DynamoDB::Table":
        name = name_from("TableName", generated)
        return PhysicalResource(name, {"Arn": f"arn:aws:dynamodb:{region}:{account}:table/{name}"})
    if kind == "AWS::Serverless::Function":
        name = name_from("FunctionName", generated[:64])
        return PhysicalResource(name, {"Arn": f"arn:aws:lambda:{region}:{account}:function:{name}"})
    if kind == "AWS::Serverless::HttpApi":  # a stable 10-character id shaped like API Gateway's
        api_id = hashlib.sha256(f"{template.stack_name}/{logical_id}".encode()).hexdigest()[:10]
        return PhysicalResource(api_id, {"ApiEndpoint": f"https://{api_id}.execute-api.{region}.amazonaws.com"})
    if kind == "AWS::Serverless::LayerVersion":
        return PhysicalResource(f"arn:aws:lambda:{region}:{account}:layer:{name_from('LayerName', generated)}:1")
    service = kind.split("::")[1].lower() if kind.count("::") == 2 else "local"
    arn = f"arn:aws:{service}:{region}:{account}:{generated}"
    if kind == "AWS::SecretsManager::Secret":  # Ref of a secret is its ARN
        return PhysicalResource(arn, {"Arn": arn, "Name": generated})
    return PhysicalResource(generated, {"Arn": arn})

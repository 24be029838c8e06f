"""template.yaml as a small model the local stack runs from.

Nothing about routes, queues or functions is hard-coded in the runner: it serves
what the template declares. Values that depend on deployment (queue URLs, API
endpoints) are resolved later against ``PhysicalResource`` entries supplied by the
local AWS emulation; everything else (names, parameters, conditions, Globals) is
resolved here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

from devstack.intrinsics import NO_VALUE, PhysicalResource, Resolver, UnresolvableError, to_env_value
from devstack.language_extensions import ForEachError, expand

log = logging.getLogger("devstack.template")

DEFAULT_STACK_NAME = "webhook-bridge"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account
IMPLICIT_HTTP_API = "ServerlessHttpApi"  # SAM's name for the API of HttpApi events without ApiId
DEFAULT_ROUTE = "$default"

# Defaults documented by AWS; used when the template leaves them out.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_SQS_BATCH_SIZE = 10
DEFAULT_VISIBILITY_TIMEOUT = 30
DEFAULT_RETENTION_SECONDS = 345_600
HTTP_API_MAX_TIMEOUT_MS = 30_000

_SQS_ATTRIBUTE_PROPERTIES = {
    "DelaySeconds": "DelaySeconds",
    "MaximumMessageSize": "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
    "ContentBasedDeduplication": "ContentBasedDeduplication",
    "DeduplicationScope": "DeduplicationScope",
    "FifoThroughputLimit": "FifoThroughputLimit",
    "RedriveAllowPolicy": "RedriveAllowPolicy",
}


class TemplateError(ValueError):
    """The template cannot be parsed or uses something the local stack cannot run."""


@dataclass(frozen=True)
class Route:
    """One HTTP API route, e.g. ``POST /webhooks/stripe`` → ``StripeWebhookFunction``."""

    method: str  # upper case, or "ANY"
    path: str  # "/webhooks/stripe", "/items/{id}", "/{proxy+}", or "$default"
    function: str  # logical id
    api: str  # logical id of the HttpApi
    timeout_ms: int = HTTP_API_MAX_TIMEOUT_MS
    payload_format_version: str = "2.0"

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str  # physical FunctionName
    code_dir: Path
    handler: str  # "app.lambda_handler"
    runtime: str
    timeout_seconds: float
    memory_mb: int
    layer_dirs: tuple[Path, ...]  # ContentUri of local layers; Lambda mounts them at /opt
    raw_environment: Mapping[str, Any]  # Globals merged, intrinsics unresolved
    reserved_concurrency: int | None = None


@dataclass(frozen=True)
class SqsEventSource:
    function: str  # logical id
    event_name: str
    queue: str  # logical id of the queue
    batch_size: int = DEFAULT_SQS_BATCH_SIZE
    batching_window_seconds: float = 0
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency
    enabled: bool = True
    filter_patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    fifo: bool = False
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
    message_retention_seconds: int = DEFAULT_RETENTION_SECONDS
    dead_letter_queue: str | None = None  # logical id of the redrive target
    max_receive_count: int | None = None
    extra_attributes: Mapping[str, str] = field(default_factory=dict)

    def attributes(self) -> dict[str, str]:
        """CreateQueue attributes, except RedrivePolicy (it needs the DLQ's ARN)."""
        attributes = {
            "VisibilityTimeout": str(self.visibility_timeout),
            "MessageRetentionPeriod": str(self.message_retention_seconds),
            **self.extra_attributes,
        }
        if self.fifo:
            attributes["FifoQueue"] = "true"
        return attributes


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    key_schema: tuple[tuple[str, str], ...]  # (attribute, HASH|RANGE)
    attribute_definitions: tuple[tuple[str, str], ...]  # (attribute, S|N|B)
    ttl_attribute: str | None = None
    billing_mode: str = "PAY_PER_REQUEST"
    extra: Mapping[str, Any] = field(default_factory=dict)  # GSIs, LSIs, throughput, streams

    @property
    def partition_key(self) -> str:
        return next(name for name, kind in self.key_schema if kind == "HASH")


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    name: str
    keys: tuple[str, ...]  # the names in its SecretString's JSON: what functions read from it


@dataclass(frozen=True)
class HttpApiSpec:
    logical_id: str
    stage_name: str = DEFAULT_ROUTE  # "$default": no stage prefix in the URL


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
    apis: Mapping[str, HttpApiSpec]
    secrets: Mapping[str, SecretSpec] = field(default_factory=dict)
    # What the local stack skips (other event types, remote code…), for the banner.
    notes: tuple[str, ...] = ()
    _resources: Mapping[str, Any] = field(default_factory=dict, repr=False)
    _mappings: Mapping[str, Any] = field(default_factory=dict, repr=False)
    _conditions: Mapping[str, bool] = field(default_factory=dict, repr=False)

    @property
    def root(self) -> Path:
        return self.path.parent

    # -- resolution -----------------------------------------------------------

    def pseudo_parameters(self) -> dict[str, Any]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }

    def physical_resources(
        self, overrides: Mapping[str, PhysicalResource] | None = None
    ) -> dict[str, PhysicalResource]:
        """What each resource would resolve to once deployed; ``overrides`` carry the local values."""
        physical = {
            logical_id: _default_physical(self, logical_id, resource)
            for logical_id, resource in self._resources.items()
        }
        if IMPLICIT_HTTP_API in self.apis and IMPLICIT_HTTP_API not in physical:
            physical[IMPLICIT_HTTP_API] = _default_physical(
                self, IMPLICIT_HTTP_API, {"Type": "AWS::Serverless::HttpApi"}
            )
        physical.update(overrides or {})
        return physical

    def resolver(self, resources: Mapping[str, PhysicalResource] | None = None) -> Resolver:
        return Resolver(
            parameters=self.parameters,
            pseudo=self.pseudo_parameters(),
            resources=resources if resources is not None else self.physical_resources(),
            mappings=self._mappings,
            evaluated_conditions=self._conditions,
        )

    def environment(self, function: str, resources: Mapping[str, PhysicalResource] | None = None) -> dict[str, str]:
        """The function's Environment.Variables (Globals merged), resolved to strings."""
        resolver = self.resolver(resources)
        env: dict[str, str] = {}
        for name, raw in self.functions[function].raw_environment.items():
            try:
                value = resolver.resolve(raw)
            except UnresolvableError as error:
                log.warning("%s: environment variable %s left empty: %s", function, name, error)
                value = ""
            if value is not NO_VALUE:
                env[str(name)] = to_env_value(value)
        return env

    # -- conveniences -----------------------------------------------------------

    def event_sources_for(self, function: str) -> tuple[SqsEventSource, ...]:
        return tuple(source for source in self.event_sources if source.function == function)

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
    overrides.update(parameter_overrides or {})
    return _Loader(document, path, overrides, stack_name, region, account_id).load()


class _Loader:
    def __init__(
        self,
        document: Mapping[str, Any],
        path: Path,
        parameter_overrides: dict[str, Any],
        stack_name: str,
        region: str,
        account_id: str,
    ) -> None:
        self.document = document
        self.path = path
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.notes: list[str] = []
        self.parameters = _parameter_values(document.get("Parameters") or {}, parameter_overrides, self.notes)
        self.globals = document.get("Globals") or {}
        self.mappings = document.get("Mappings") or {}
        self.conditions = self._evaluate_conditions(document.get("Conditions") or {})
        self.resources = self._active_resources(document.get("Resources") or {})

    def load(self) -> Template:
        # A first model with names only: enough to resolve names, ARNs and logical references.
        skeleton = Template(
            path=self.path,
            stack_name=self.stack_name,
            region=self.region,
            account_id=self.account_id,
            parameters=self.parameters,
            functions={},
            routes=(),
            event_sources=(),
            queues={},
            tables={},
            apis={},
            _resources=self.resources,
            _mappings=self.mappings,
            _conditions=self.conditions,
        )
        self.physical = skeleton.physical_resources()
        self.resolver = skeleton.resolver(self.physical)
        self.by_ref = {p.ref: logical_id for logical_id, p in self.physical.items()}
        self.by_arn = {
            p.attributes["Arn"]: logical_id for logical_id, p in self.physical.items() if "Arn" in p.attributes
        }

        queues = {lid: self._queue(lid, r) for lid, r in self._of_type("AWS::SQS::Queue")}
        tables = {lid: self._table(lid, r) for lid, r in self._of_type("AWS::DynamoDB::Table")}
        tables |= {lid: self._simple_table(lid, r) for lid, r in self._of_type("AWS::Serverless::SimpleTable")}
        apis = {lid: self._api(lid, r) for lid, r in self._of_type("AWS::Serverless::HttpApi")}
        secrets = {lid: self._secret(lid, r) for lid, r in self._of_type("AWS::SecretsManager::Secret")}
        functions: dict[str, FunctionSpec] = {}
        routes: list[Route] = []
        sources: list[SqsEventSource] = []
        for logical_id, resource in self._of_type("AWS::Serverless::Function"):
            spec = self._function(logical_id, resource)
            if spec is None:
                continue
            functions[logical_id] = spec
            for event_name, event in (self._function_properties(resource).get("Events") or {}).items():
                self._event(spec, str(event_name), event, routes, sources, apis, queues)
        for logical_id, _ in self._of_type("AWS::Lambda::Function"):
            self.notes.append(f"{logical_id}: plain AWS::Lambda::Function is not run locally (use SAM's)")
        _check_unique_routes(routes)
        return replace(
            skeleton,
            functions=functions,
            routes=tuple(routes),
            event_sources=tuple(sources),
            queues=queues,
            tables=tables,
            apis=apis,
            secrets=secrets,
            notes=tuple(self.notes),
        )

    # -- sections -------------------------------------------------------------

    def _evaluate_conditions(self, definitions: Mapping[str, Any]) -> dict[str, bool]:
        resolver = Resolver(
            parameters=self.parameters,
            pseudo={"AWS::Region": self.region, "AWS::AccountId": self.account_id, "AWS::StackName": self.stack_name},
            resources={},
            mappings=self.mappings,
            conditions=definitions,
        )
        return {name: resolver.condition(name) for name in definitions}

    def _active_resources(self, resources: Mapping[str, Any]) -> dict[str, Any]:
        active = {}
        for logical_id, resource in resources.items():
            condition = resource.get("Condition")
            if condition is not None and not self.conditions.get(condition, False):
                continue
            active[str(logical_id)] = resource
        return active

    def _of_type(self, resource_type: str) -> list[tuple[str, Mapping[str, Any]]]:
        return [(lid, r) for lid, r in self.resources.items() if r.get("Type") == resource_type]

    def _resolve(self, value: Any, what: str) -> Any:
        try:
            return self.resolver.resolve(value)
        except UnresolvableError as error:
            raise TemplateError(f"{what}: {error}") from error

    # -- resources ------------------------------------------------------------

    def _queue(self, logical_id: str, resource: Mapping[str, Any]) -> QueueSpec:
        props = self._resolve(resource.get("Properties") or {}, logical_id)
        dlq, max_receive = None, None
        redrive = props.get("RedrivePolicy")
        if isinstance(redrive, str):
            redrive = json.loads(redrive)
        if redrive:
            target = str(redrive.get("deadLetterTargetArn", ""))
            dlq = self.by_arn.get(target)
            if dlq is None:
                raise TemplateError(f"{logical_id}: dead-letter queue {target} is not declared in the template")
            max_receive = int(redrive["maxReceiveCount"])
        extra = {}
        for prop, attribute in _SQS_ATTRIBUTE_PROPERTIES.items():
            if prop in props:
                value = props[prop]
                extra[attribute] = json.dumps(value) if isinstance(value, dict) else to_env_value(value)
        return QueueSpec(
            logical_id=logical_id,
            name=self.physical[logical_id].attributes["QueueName"],
            fifo=_truthy(props.get("FifoQueue", False)),
            visibility_timeout=int(props.get("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT)),
            message_retention_seconds=int(props.get("MessageRetentionPeriod", DEFAULT_RETENTION_SECONDS)),
            dead_letter_queue=dlq,
            max_receive_count=max_receive,
            extra_attributes=extra,
        )

    def _table(self, logical_id: str, resource: Mapping[str, Any]) -> TableSpec:
        props = self._resolve(resource.get("Properties") or {}, logical_id)
        ttl = props.get("TimeToLiveSpecification") or {}
        extra = {
            key: props[key]
            for key in (
                "GlobalSecondaryIndexes",
                "LocalSecondaryIndexes",
                "ProvisionedThroughput",
                "StreamSpecification",
            )
            if key in props
        }
        return TableSpec(
            logical_id=logical_id,
            name=self.physical[logical_id].ref,
            key_schema=tuple((k["AttributeName"], k["KeyType"]) for k in props.get("KeySchema", [])),
            attribute_definitions=tuple(
                (a["AttributeName"], a["AttributeType"]) for a in props.get("AttributeDefinitions", [])
            ),
            ttl_attribute=ttl.get("AttributeName") if _truthy(ttl.get("Enabled", False)) else None,
            billing_mode=str(
                props.get("BillingMode") or ("PROVISIONED" if "ProvisionedThroughput" in props else "PAY_PER_REQUEST")
            ),
            extra=extra,
        )

    def _simple_table(self, logical_id: str, resource: Mapping[str, Any]) -> TableSpec:
        props = self._resolve(resource.get("Properties") or {}, logical_id)
        key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        kind = {"String": "S", "Number": "N", "Binary": "B"}[key.get("Type", "String")]
        return TableSpec(
            logical_id=logical_id,
            name=self.physical[logical_id].ref,
            key_schema=((key["Name"], "HASH"),),
            attribute_definitions=((key["Name"], kind),),
            billing_mode="PAY_PER_REQUEST",
        )

    def _secret(self, logical_id: str, resource: Mapping[str, Any]) -> SecretSpec:
        secret_string = self._resolve(resource.get("Properties") or {}, logical_id).get("SecretString")
        try:
            document = json.loads(secret_string) if isinstance(secret_string, str) else None
        except ValueError:
            document = None
        keys = tuple(str(key) for key in document) if isinstance(document, dict) else ()
        return SecretSpec(logical_id=logical_id, name=self.physical[logical_id].attributes["Name"], keys=keys)

    def _api(self, logical_id: str, resource: Mapping[str, Any]) -> HttpApiSpec:
        props = self._resolve(
            merge_globals(self.globals.get("HttpApi") or {}, resource.get("Properties") or {}), logical_id
        )
        if "DefinitionBody" in props or "DefinitionUri" in props:
            self.notes.append(f"{logical_id}: OpenAPI definitions are ignored; routes come from HttpApi events")
        for unsupported in ("Auth", "CorsConfiguration", "DefaultRouteSettings", "RouteSettings"):
            if unsupported in props:
                self.notes.append(f"{logical_id}: {unsupported} is not emulated locally")
        return HttpApiSpec(logical_id=logical_id, stage_name=str(props.get("StageName", DEFAULT_ROUTE)))

    def _function_properties(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        return merge_globals(self.globals.get("Function") or {}, resource.get("Properties") or {})

    def _function(self, logical_id: str, resource: Mapping[str, Any]) -> FunctionSpec | None:
        props = self._function_properties(resource)
        code_uri = self._resolve(props.get("CodeUri"), logical_id)
        if not isinstance(code_uri, str):
            self.notes.append(f"{logical_id}: CodeUri is not a local directory; not run locally")
            return None
        if props.get("PackageType") == "Image":
            self.notes.append(f"{logical_id}: container image functions are not run locally")
            return None
        layer_dirs = []
        for layer in self._resolve(props.get("Layers") or [], logical_id):
            layer_id = self.by_ref.get(str(layer)) or self.by_arn.get(str(layer))
            content = self.resources.get(layer_id or "", {}).get("Properties", {}).get("ContentUri")
            if isinstance(content, str):
                directory = (self.path.parent / content).resolve()
                if directory not in layer_dirs:  # two layers may be built from one directory
                    layer_dirs.append(directory)
            else:
                self.notes.append(f"{logical_id}: layer {layer} is not a local layer; its code must be installed")
        reserved = props.get("ReservedConcurrentExecutions")
        return FunctionSpec(
            logical_id=logical_id,
            name=self.physical[logical_id].ref,
            code_dir=(self.path.parent / code_uri).resolve(),
            handler=str(self._resolve(props.get("Handler", ""), logical_id)),
            runtime=str(self._resolve(props.get("Runtime", ""), logical_id)),
            timeout_seconds=float(self._resolve(props.get("Timeout", DEFAULT_TIMEOUT_SECONDS), logical_id)),
            memory_mb=int(self._resolve(props.get("MemorySize", DEFAULT_MEMORY_MB), logical_id)),
            layer_dirs=tuple(layer_dirs),
            raw_environment=dict((props.get("Environment") or {}).get("Variables") or {}),
            reserved_concurrency=int(self._resolve(reserved, logical_id)) if reserved is not None else None,
        )

    def _event(
        self,
        function: FunctionSpec,
        event_name: str,
        event: Mapping[str, Any],
        routes: list[Route],
        sources: list[SqsEventSource],
        apis: dict[str, HttpApiSpec],
        queues: Mapping[str, QueueSpec],
    ) -> None:
        kind = event.get("Type")
        props = self._resolve(event.get("Properties") or {}, f"{function.logical_id}.{event_name}")
        where = f"{function.logical_id}.{event_name}"
        if kind == "HttpApi":
            api = IMPLICIT_HTTP_API
            if "ApiId" in props:
                api = self.by_ref.get(str(props["ApiId"]), "")
                if api not in apis:
                    raise TemplateError(f"{where}: ApiId does not name an HttpApi of this template")
            else:
                apis.setdefault(IMPLICIT_HTTP_API, HttpApiSpec(IMPLICIT_HTTP_API))
            version = str(props.get("PayloadFormatVersion", "2.0"))
            if version != "2.0":
                raise TemplateError(f"{where}: payload format {version} is not supported locally (2.0 only)")
            path = str(props.get("Path", DEFAULT_ROUTE))
            method = str(props.get("Method", "ANY")).upper()
            timeout = min(int(props.get("TimeoutInMillis", HTTP_API_MAX_TIMEOUT_MS)), HTTP_API_MAX_TIMEOUT_MS)
            routes.append(Route(method, path, function.logical_id, api, timeout))
        elif kind == "SQS":
            queue = self.by_arn.get(str(props.get("Queue", "")), "")
            if queue not in queues:
                self.notes.append(f"{where}: queue {props.get('Queue')} is not declared in the template; not polled")
                return
            scaling = props.get("ScalingConfig") or {}
            filters = (props.get("FilterCriteria") or {}).get("Filters") or []
            if filters:
                self.notes.append(f"{where}: FilterCriteria are not applied locally; every message is delivered")
            sources.append(
                SqsEventSource(
                    function=function.logical_id,
                    event_name=event_name,
                    queue=queue,
                    batch_size=int(props.get("BatchSize", DEFAULT_SQS_BATCH_SIZE)),
                    batching_window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                    maximum_concurrency=int(scaling["MaximumConcurrency"]) if "MaximumConcurrency" in scaling else None,
                    enabled=_truthy(props.get("Enabled", True)),
                    filter_patterns=tuple(str(f.get("Pattern", "")) for f in filters),
                )
            )
        else:
            self.notes.append(f"{where}: {kind} events are not emulated locally")


# -- helpers ------------------------------------------------------------------


def _parameter_values(declared: Mapping[str, Any], overrides: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"unknown parameter override(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            value = overrides[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            notes.append(f"parameter {name} has no default; it resolves to an empty string locally")
            value = ""
        if str(spec.get("Type", "")).startswith("CommaDelimitedList") or str(spec.get("Type", "")).startswith("List<"):
            value = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
        elif not isinstance(value, list):
            value = to_env_value(value)  # Ref to a parameter is always a string
        values[str(name)] = value
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


def _check_unique_routes(routes: list[Route]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for route in routes:
        key = (route.api, route.route_key)
        if key in seen:
            raise TemplateError(f"route {route.route_key} is declared by {seen[key]} and {route.function}")
        seen[key] = route.function


def _api_id(stack_name: str, logical_id: str) -> str:
    """A stable 10-character id shaped like API Gateway's."""
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).hexdigest()
    return "".join(c for c in digest if c.isalpha() or c.isdigit())[:10]


def _default_physical(template: Template, logical_id: str, resource: Mapping[str, Any]) -> PhysicalResource:
    """Names and ARNs as CloudFormation would make them (without its random suffix)."""
    region, account, stack = template.region, template.account_id, template.stack_name
    kind = str(resource.get("Type", ""))
    props = resource.get("Properties") or {}
    resolver = Resolver(
        parameters=template.parameters,
        pseudo=template.pseudo_parameters(),
        resources={},
        mappings=template._mappings,
        evaluated_conditions=template._conditions,
    )

    def name_from(prop: str, default: str) -> str:
        if prop not in props:
            return default
        try:
            return str(resolver.resolve(props[prop]))
        except UnresolvableError:
            return default

    generated = f"{stack}-{logical_id}"
    if kind == "AWS::SQS::Queue":
        fifo = _truthy(props.get("FifoQueue", False))
        name = name_from("QueueName", generated[:75] + (".fifo" if fifo else ""))
        arn = f"arn:aws:sqs:{region}:{account}:{name}"
        url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        return PhysicalResource(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})
    if kind in ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
        name = name_from("TableName", generated)
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        return PhysicalResource(name, {"Arn": arn, "StreamArn": f"{arn}/stream/local"})
    if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
        name = name_from("FunctionName", generated[:64])
        return PhysicalResource(name, {"Arn": f"arn:aws:lambda:{region}:{account}:function:{name}"})
    if kind == "AWS::Serverless::HttpApi":
        api_id = _api_id(stack, logical_id)
        return PhysicalResource(api_id, {"ApiEndpoint": f"https://{api_id}.execute-api.{region}.amazonaws.com"})
    if kind in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
        name = name_from("LayerName", generated)
        return PhysicalResource(f"arn:aws:lambda:{region}:{account}:layer:{name}:1")
    if kind in ("AWS::SNS::Topic", "AWS::SecretsManager::Secret", "AWS::Serverless::StateMachine"):
        service = kind.split("::")[1].lower()
        arn = f"arn:aws:{service}:{region}:{account}:{generated}"
        return PhysicalResource(arn, {"Arn": arn, "TopicArn": arn, "TopicName": generated, "Name": generated})
    service = kind.split("::")[1].lower() if kind.count("::") == 2 else "local"
    return PhysicalResource(generated, {"Arn": f"arn:aws:{service}:{region}:{account}:{generated}"})

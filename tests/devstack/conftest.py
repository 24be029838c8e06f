"""Stub projects (template + tiny handlers in a tmp dir) and a shared moto server."""

from __future__ import annotations

import json
import shutil
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.aws import client
from devstack.functions import FunctionRuntime, LogSink
from devstack.stack import wait_until
from devstack.support.moto import MotoServer
from devstack.template import FunctionSpec

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_TEMPLATE = FIXTURES / "template.yaml"
REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_TEMPLATE = REPO_ROOT / "template.yaml"

# Echoes what it received; forwards the raw body to the vendors' queues like a receiver.
RECEIVER_STUB = """
import base64, json, os
import boto3

sqs = boto3.client("sqs")

def lambda_handler(event, context):
    raw = base64.b64decode(event["body"]) if event.get("isBase64Encoded") else event.get("body", "").encode()
    for name in ("CONVERTLOOP_QUEUE_URL", "LOOPS_QUEUE_URL"):
        if os.environ.get(name) and raw:
            sqs.send_message(QueueUrl=os.environ[name], MessageBody=raw.decode("utf-8", "replace"))
    env = {k: os.environ.get(k) for k in ("VENDOR", "STRIPE_WEBHOOK_SECRET", "LOOPS_API_KEY", "LOOPS_BASE_URL",
                                          "SECRET_ID", "AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME", "API_URL")}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"event": event, "env": env, "module": __name__}),
    }
"""

# Writes each batch it got to $STUB_OUT (a line: its VENDOR and the bodies, in order); reports
# bodies containing "fail" as failed items, and raises when a body contains "raise".
DELIVERY_STUB = """
import json, os

def lambda_handler(event, context):
    bodies = [record["body"] for record in event["Records"]]
    with open(os.environ["STUB_OUT"], "a", encoding="utf-8") as out:
        out.write(json.dumps({"vendor": os.environ.get("VENDOR"), "bodies": bodies}) + "\\n")
    if any("raise" in body for body in bodies):
        raise RuntimeError("delivery stub asked to raise")
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if "fail" in r["body"]]}
"""


def write_code(directory: Path, source: str, name: str = "app.py") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def batches(path: Path) -> list[list[str]]:
    """The bodies of each batch :data:`DELIVERY_STUB` got, in the order it got them."""
    return [line["bodies"] for line in read_jsonl(path)]


def stub_project(root: Path) -> Path:
    """The fixture template next to stub handlers in ``root``: a runnable copy of the project's shape."""
    shutil.copy(FIXTURE_TEMPLATE, root / "template.yaml")
    write_code(root / "functions" / "stripe_webhook", RECEIVER_STUB)
    write_code(root / "functions" / "typeform_webhook", RECEIVER_STUB)
    write_code(root / "functions" / "delivery", DELIVERY_STUB)
    (root / "layers" / "shared" / "python").mkdir(parents=True)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return stub_project(tmp_path)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer(0, log_sink=lambda source, line: None).start()
    yield server
    server.stop()


@pytest.fixture
def sqs(moto: MotoServer) -> Any:
    return client("sqs", moto.endpoint, "us-east-1")


@pytest.fixture
def unique() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def runtime_factory(tmp_path: Path) -> Iterator[Any]:
    """Build FunctionRuntimes for stub handlers; all are stopped at the end of the test."""
    runtimes: list[FunctionRuntime] = []

    def make(
        source: str,
        *,
        env: dict[str, str] | None = None,
        name: str = "StubFunction",
        code_dir: str = "fn",
        timeout: float = 10,
        max_concurrency: int = 2,
        log_sink: LogSink = lambda source, line: None,
        **kwargs: Any,
    ) -> FunctionRuntime:
        directory = tmp_path / code_dir
        write_code(directory, source)
        arn = f"arn:aws:lambda:us-east-1:123456789012:function:local-{name}"
        spec = FunctionSpec(name, f"local-{name}", arn, directory, "app.lambda_handler", timeout, 128, (), {})
        runtime = FunctionRuntime(spec, env or {}, max_concurrency=max_concurrency, log_sink=log_sink, **kwargs)
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        runtime.stop(timeout=1)


__all__ = ["batches", "read_jsonl", "stub_project", "wait_until", "write_code"]
